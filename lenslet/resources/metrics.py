from lenslet import health, jobs, metrics
from lenslet.errors import Forbidden, LensletError, NotFound, Unauthorized
from lenslet.resources import sites


class MetricsResource:
    """GET /metrics: Prometheus text exposition for every lenslet process."""

    def __init__(self, config, storage, clock):
        self.on, self.token, self.heartbeat = config.metrics, config.metrics_token.encode(), config.heartbeat
        self.storage, self.clock = storage, clock

    def on_get(self, req, resp):
        if not self.on:
            raise NotFound("metrics are off: set LENSLET_METRICS=true to serve them here")
        if self.token:
            if not sites.bearer_matches(req.get_header("Authorization"), self.token):
                raise Unauthorized("GET /metrics needs Authorization: Bearer <LENSLET_METRICS_TOKEN>")
        elif not req.context.principal.admin:
            raise Forbidden("GET /metrics is for admins (or the holder of LENSLET_METRICS_TOKEN)")
        backlog = dict.fromkeys(sorted(set(jobs.PRIORITY)), 0)
        try:
            backlog.update(jobs.backlog(self.storage))
        except LensletError:
            backlog = {}  # storage down: the other counts still answer
        workers = health.worker_status(self.storage, self.heartbeat, self.clock)["workers"]
        resp.data = metrics.render(backlog, workers)
        resp.content_type = metrics.CONTENT_TYPE
        resp.cache_control = ["no-store"]
