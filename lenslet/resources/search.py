from lenslet.errors import BadRequest
from lenslet.formats.query import PARAMS, parse
from lenslet.resources.guard import access_of
from lenslet.resources.timeline import sees_of
from lenslet.search.searcher import MAX_LIMIT
from lenslet.storage import clean_path

MAX_QUERY = 1000
MAX_OFFSET = 10_000_000


class SearchResource:
    """GET /search?q=&path=&limit=&offset=: items whose name, tags or notes hold every term."""

    def __init__(self, searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        query, path = req.get_param("q") or "", clean_path(req.get_param("path"))
        if len(query) > MAX_QUERY:
            raise BadRequest(f"q is longer than {MAX_QUERY} characters")
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_LIMIT, default=100)
        offset = req.get_param_as_int("offset", min_value=0, max_value=MAX_OFFSET, default=0)
        asked = parse({name: req.get_param(name) for name in PARAMS}, query)
        access = access_of(req)
        access.check_filters(asked)
        total, items = access.found(path, *self.searcher.search_in(asked.text, path, access.search_folders(path),
                                                                   offset, limit, asked))
        resp.media = {"q": query, "path": path, "offset": offset, "limit": limit, "total": total, "items": items}
        resp.cache_control = ["no-cache"]


class SuggestResource:
    """GET /search/suggest?q=: tags and name words starting with q, with their counts."""

    def __init__(self, searcher):
        self.searcher = searcher

    def on_get(self, req, resp):
        prefix = req.get_param("q") or ""
        if len(prefix) > MAX_QUERY:
            raise BadRequest(f"q is longer than {MAX_QUERY} characters")
        resp.media = dict(self.searcher.suggest(prefix, access_of(req).search_folders(""), sees_of(req)), q=prefix)
