"""The gallery page and its assets, shipped inside the package."""

import hashlib
import importlib.resources

import falcon

from lenslet.errors import NotFound
from lenslet.resources.http import not_modified

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
                 ".ico": "image/x-icon"}
# The page revalidates every load so upgrades show at once; assets keep a few minutes.
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"


def load_page_files():
    files = {}
    for entry in importlib.resources.files("lenslet").joinpath("static").iterdir():
        kind = CONTENT_TYPES.get("." + entry.name.rpartition(".")[2])
        if entry.is_file() and kind and not entry.name.startswith("."):
            data = entry.read_bytes()
            files[entry.name] = (data, kind, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')
    return files


class StaticResource:
    """GET / and /static/{name}: the gallery page and its assets."""

    def __init__(self):
        # A fixed table: nothing outside it can be named, so no path traversal.
        self.files = load_page_files()

    def on_get(self, req, resp):
        self._send(req, resp, "index.html", PAGE_CACHE)

    def on_get_asset(self, req, resp, name):
        if name == "index.html":
            raise falcon.HTTPMovedPermanently("/")
        self._send(req, resp, name, ASSET_CACHE)

    on_head = on_get
    on_head_asset = on_get_asset

    def _send(self, req, resp, name, cache):
        if name not in self.files:
            raise NotFound("no such file in the gallery page", name=name)
        data, kind, etag = self.files[name]
        resp.etag, resp.cache_control = etag, [cache]
        if not_modified(req.get_header("If-None-Match"), None, etag, 0):
            resp.status = falcon.HTTP_304
            return
        resp.content_type, resp.data = kind, data


SHARED = "/s"
PAGES = frozenset(("/", SHARED))


def is_page(path):
    """Tell whether a path names the page or its assets, which hold no gallery data."""
    return path in PAGES or path.startswith("/static/")


def add_page(app):
    """Serve the gallery page at the root, never under /api."""
    page = StaticResource()
    app.add_route("/", page)
    app.add_route(SHARED, page)  # a share link, /s#<key>
    app.add_route("/static/{name}", page, suffix="asset")
