import falcon

from lenslet import __version__, health, layout

# What the gallery page must agree with the server on, read by the page at start, never copied into it.
PAGE_RULES = {"trash": layout.TRASH, "images": dict(layout.EXTENSIONS)}


class HealthResource:
    """GET /health: version, storage and worker status."""

    def __init__(self, config, storage, clock):
        self.config = config
        self.storage = storage
        self.clock = clock

    def on_get(self, req, resp):
        if not req.context.principal.admin:
            # The details (worker, files it could not read, the storage) are for admins; others learn it answers.
            resp.media = {"status": "ok", "version": __version__}
            return
        storage = self.storage.probe()
        worker = health.worker_status(self.storage, self.config.heartbeat, self.clock)
        ok = storage["readable"] and worker["alive"] and not storage.get("diskFull")
        resp.media = {"status": "ok" if ok else "degraded", "version": __version__,
                      "storage": storage, "worker": worker, "report": health.read_report(self.storage),
                      "rejected": health.rejected_files(self.storage),
                      "readonly": self.config.readonly, "rules": PAGE_RULES}
        if not storage["readable"]:
            resp.status = falcon.HTTP_503
