import falcon

from lenslet.manifest import covers
from lenslet.resources import read_json
from lenslet.storage import clean_path


class FoldersResource:
    """GET /folders?path=&page=: the folder's manifest page, with counts and covers;
    PATCH /folders?path= {"cover": name or null}: pick the folder's cover, or clear the pick."""

    def __init__(self, folders):
        self.folders = folders

    def on_get(self, req, resp):
        path = clean_path(req.get_param("path"))
        page = req.get_param_as_int("page", min_value=0, max_value=1_000_000, default=0)
        resp.data = self.folders.page(path, page)
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = ["no-cache"]

    def on_patch(self, req, resp):
        path, body = clean_path(req.get_param("path")), read_json(req)
        resp.media = self.folders.set_cover(path, covers.check_pick(body))
