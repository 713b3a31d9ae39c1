import falcon

from lenslet.errors import BadRequest
from lenslet.formats import covers, query
from lenslet.resources import access_of, read_json
from lenslet.resources.http import not_modified
from lenslet.resources.search import MAX_OFFSET
from lenslet.search.searcher import MAX_LIMIT
from lenslet.storage import clean_path

MAX_PAGE = 1_000_000  # past any folder's last page
CHECKING = "X-Lenslet-Checking"  # the answer may be a moment behind its folder: ask again


class FoldersResource:
    """GET /folders?path=&page=: a folder's listing page, or a filtered, sorted slice of it;
    PATCH /folders?path= {"cover": name or null}: pick or clear the folder's cover."""

    def __init__(self, folders):
        self.folders = folders

    def on_get(self, req, resp):
        self.folders.checked_meanwhile()  # clear what another request of this thread left
        access = access_of(req)
        path = access.folder(clean_path(req.get_param("path")))
        page = req.get_param_as_int("page", min_value=0, max_value=MAX_PAGE, default=0)
        params = {name: req.get_param(name) for name in query.PARAMS}
        resp.cache_control = ["no-cache"]
        if any(params.values()) or req.has_param("offset") or req.has_param("limit"):
            if page:
                raise BadRequest("page pages the stored manifest; a sorted or filtered listing pages by offset "
                                 "and limit", param="page")
            asked = query.parse(params)
            limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_LIMIT, default=100)
            offset = req.get_param_as_int("offset", min_value=0, max_value=MAX_OFFSET, default=0)
            data = access.listing_shown(self.folders.view_seen(path, asked, offset, limit, access))
            resp.data, resp.content_type = data, falcon.MEDIA_JSON
            self.say_if_checked_meanwhile(resp)
            return
        data, etag = self.folders.page_seen(path, page, access)
        shown = access.listing_shown(data)
        data, etag = shown, (etag if shown is data else None)
        if not self.say_if_checked_meanwhile(resp) and etag is not None:
            resp.etag = etag
            if not_modified(req.get_header("If-None-Match"), None, etag, 0):
                resp.status = falcon.HTTP_304
                return
        resp.data, resp.content_type = data, falcon.MEDIA_JSON

    def say_if_checked_meanwhile(self, resp):
        """Mark an answer uncacheable when the folder was rechecked meanwhile, so the page asks again."""
        if not self.folders.checked_meanwhile():
            return False
        resp.set_header(CHECKING, "1")
        resp.cache_control = ["no-store"]
        return True

    def on_patch(self, req, resp):
        path, body = access_of(req).change(clean_path(req.get_param("path"))), read_json(req)
        resp.media = self.folders.set_cover(path, covers.check_pick(body))
