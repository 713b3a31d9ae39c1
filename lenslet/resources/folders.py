import falcon

from lenslet.storage import clean_path

MAX_PAGE = 1_000_000  # a page number past any folder's (a million pages of LENSLET_PAGE_SIZE)


class FoldersResource:
    """GET /folders?path=&page=: the folder's manifest page."""

    def __init__(self, folders):
        self.folders = folders

    def on_get(self, req, resp):
        path = clean_path(req.get_param("path"))
        page = req.get_param_as_int("page", min_value=0, max_value=MAX_PAGE, default=0)
        resp.data = self.folders.page(path, page)
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = ["no-cache"]
