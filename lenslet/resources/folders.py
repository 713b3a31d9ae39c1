import falcon

from lenslet.resources import access_of
from lenslet.storage import clean_path


class FoldersResource:
    """GET /folders?path=&page=: the folder's manifest page."""

    def __init__(self, folders):
        self.folders = folders

    def on_get(self, req, resp):
        access = access_of(req)
        path = access.folder(clean_path(req.get_param("path")))
        page = req.get_param_as_int("page", min_value=0, max_value=1_000_000, default=0)
        resp.data = access.listing(path, self.folders.page(path, page), lambda other: self.folders.page(path, other))
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = ["no-cache"]
