import falcon

from .. import __version__
from ..tasks import read_health, worker_status


class HealthResource:
    """GET /health: version, storage and worker status."""

    def __init__(self, config, storage):
        self.config = config
        self.storage = storage

    def on_get(self, req, resp):
        storage = self.storage.probe()
        worker = worker_status(self.storage, self.config.heartbeat)
        ok = storage["readable"] and worker["alive"]
        resp.media = {"status": "ok" if ok else "degraded", "version": __version__,
                      "storage": storage, "worker": worker, "report": read_health(self.storage),
                      "readonly": self.config.readonly}
        if not storage["readable"]:
            resp.status = falcon.HTTP_503
