import falcon

from lenslet import __version__, health, layout

# read by the page, never copied into it
PAGE_RULES = {"trash": layout.TRASH, "images": dict(layout.EXTENSIONS), "videos": dict(layout.VIDEOS)}


class HealthResource:
    """GET /health: version and page rules; storage and worker status for admins."""

    def __init__(self, config, storage, clock, image_settings):
        self.config, self.storage, self.clock = config, storage, clock
        self.image_settings = image_settings  # the last part of each URL version

    def on_get(self, req, resp):
        # What the page needs, for anyone: nothing about the photos.
        page = {"version": __version__, "readonly": self.config.readonly, "libraryReadonly": bool(self.config.state),
                "rules": PAGE_RULES, "imageSettings": self.image_settings,
                "map": {"tiles": self.config.map_tiles, "attribution": self.config.map_attribution}}
        if not req.context.principal.admin:
            # The details are for admins; others learn only that it answers.
            resp.media = {"status": "ok", **page}
            return
        storage = self.storage.probe()
        worker = health.worker_status(self.storage, self.config.heartbeat, self.clock)
        ok = storage["readable"] and worker["alive"] and not storage.get("diskFull")
        resp.media = {"status": "ok" if ok else "degraded", **page,
                      "storage": storage, "worker": worker, "report": health.read_report(self.storage),
                      "rejected": health.rejected_files(self.storage)}
        if not storage["readable"]:
            resp.status = falcon.HTTP_503
