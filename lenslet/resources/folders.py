import falcon

from lenslet.errors import BadRequest
from lenslet.formats import covers, query
from lenslet.resources.bodies import read_json
from lenslet.resources.guard import access_of
from lenslet.resources.http import not_modified
from lenslet.resources.search import MAX_OFFSET
from lenslet.search.searcher import MAX_LIMIT
from lenslet.storage import clean_path

MAX_PAGE = 1_000_000  # past any folder's last page
CHECKING = "X-Lenslet-Checking"  # the answer may be a moment behind its folder: ask again


def view_of(req, page):
    """Return (query, offset, limit) of a sorted or filtered listing, or None for a stored page."""
    params = {name: req.get_param(name) for name in query.PARAMS}
    if not (any(params.values()) or req.has_param("offset") or req.has_param("limit")):
        return None
    if page:
        raise BadRequest("page pages the stored manifest; a sorted or filtered listing pages by offset and limit",
                         param="page")
    asked = query.parse(params)
    limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_LIMIT, default=100)
    return asked, req.get_param_as_int("offset", min_value=0, max_value=MAX_OFFSET, default=0), limit


class FoldersResource:
    """GET /folders?path=&page=: a folder's listing page, or a filtered, sorted slice of it;
    PATCH /folders?path= {"cover": name or null}: pick or clear the folder's cover."""

    def __init__(self, folders):
        self.folders = folders

    def on_get(self, req, resp):
        access = access_of(req)
        path = access.folder(clean_path(req.get_param("path")))
        page = req.get_param_as_int("page", min_value=0, max_value=MAX_PAGE, default=0)
        data, etag, checked = self.folders.shown(path, page, access, view_of(req, page))
        resp.cache_control = ["no-cache"]
        if checked:  # the answer may be behind its folder: not kept, and the page asks again
            resp.set_header(CHECKING, "1")
            resp.cache_control = ["no-store"]
        elif etag is not None:
            resp.etag = etag
            if not_modified(req.get_header("If-None-Match"), None, etag, 0):
                resp.status = falcon.HTTP_304
                return
        resp.data, resp.content_type = data, falcon.MEDIA_JSON

    def on_patch(self, req, resp):
        path, body = access_of(req).change(clean_path(req.get_param("path"))), read_json(req)
        resp.media = self.folders.set_cover(path, covers.check_pick(body))
