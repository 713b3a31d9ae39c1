"""The gallery page and its assets, shipped inside the package."""

import functools
import hashlib
import importlib.resources
import json
import re

import falcon

from lenslet.errors import NotFound
from lenslet.resources.compress import SMALLEST, gzip_bytes, gzip_etag, is_text, takes_gzip
from lenslet.resources.http import IMMUTABLE, not_modified, vary_also

CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
                 ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
                 ".ico": "image/x-icon", ".webmanifest": "application/manifest+json", ".json": "application/json"}
# The page revalidates every load so upgrades show at once; assets keep a few minutes, or for good when named
# with the page's version (as the page and its modules name the scripts and styles, bar the service worker).
PAGE_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=300"
OWN_URL = re.compile(rb'"((?:/static/|\./)(?!sw\.js)[\w.-]+\.(?:js|css))"')


SERVICE_WORKER = "sw.js"
VENDOR = "vendor"  # libraries the page uses as they were published (the map's Leaflet), with their licences


def page_entries(folder, prefix=""):
    """Yield (name, file) of the page's files: the folder's own, and those of each library in vendor/."""
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_file():
            yield prefix + entry.name, entry
        elif entry.is_dir() and (entry.name == VENDOR if not prefix else prefix == f"{VENDOR}/"):
            yield from page_entries(entry, f"{prefix}{entry.name}/")


@functools.cache  # the package's own files: read once a process, however many apps it makes
def load_page_files():
    files = {}
    for name, entry in page_entries(importlib.resources.files("lenslet").joinpath("static")):
        kind = CONTENT_TYPES.get("." + name.rpartition(".")[2])
        if kind:
            files[name] = (entry.read_bytes(), kind)
    # The service worker names the page's other files and their version, so a release that changes any
    # of them changes it too, and browsers fetch the new files.
    # Libraries are fetched when first used (Leaflet when the map opens), not with every release.
    shell = sorted(name for name in files if name not in (SERVICE_WORKER, "index.html")
                   and not name.startswith(VENDOR + "/"))
    version = hashlib.sha256(b"".join(name.encode() + files[name][0] for name in shell)).hexdigest()[:20]
    worker, kind = files[SERVICE_WORKER]
    files[SERVICE_WORKER] = (worker.replace(b"__VERSION__", version.encode()).replace(
        b"__SHELL__", json.dumps(["/static/" + name for name in shell]).encode()), kind)
    # Another release names them with another version, so a browser never keeps an old one.
    for name in ["index.html"] + [name for name in shell if name.endswith(".js")]:
        files[name] = (OWN_URL.sub(rb'"\1?v=' + version.encode() + b'"', files[name][0]), files[name][1])
    return {name: (data, kind, '"' + hashlib.sha256(data).hexdigest()[:20] + '"')
            for name, (data, kind) in files.items()}, version


class StaticResource:
    """GET / and /static/{name}: the gallery page and its assets."""

    def __init__(self):
        # A fixed table: nothing outside it can be named, so no path traversal.
        self.files, self.version = load_page_files()
        self.gzipped = {}  # name: the file gzipped once, at its first request

    def on_get(self, req, resp):
        self._send(req, resp, "index.html", PAGE_CACHE)

    def on_get_asset(self, req, resp, name):
        if name == "index.html":
            raise falcon.HTTPMovedPermanently("/")
        if name == SERVICE_WORKER:
            resp.set_header("Service-Worker-Allowed", "/")  # it serves the whole page, not /static/ alone
            self._send(req, resp, name, PAGE_CACHE)
            return
        self._send(req, resp, name, IMMUTABLE if req.get_param("v") == self.version else ASSET_CACHE)

    def on_get_vendor(self, req, resp, library, name):
        self._send(req, resp, f"{VENDOR}/{library}/{name}", ASSET_CACHE)

    on_head = on_get
    on_head_asset = on_get_asset
    on_head_vendor = on_get_vendor

    def _send(self, req, resp, name, cache):
        if name not in self.files:
            raise NotFound("no such file in the gallery page", name=name)
        data, kind, etag = self.files[name]
        resp.etag, resp.cache_control = etag, [cache]
        compressible = is_text(kind) and len(data) >= SMALLEST
        if compressible:
            resp.set_header("Vary", vary_also(resp.get_header("Vary"), ["Accept-Encoding"]))
        if not_modified(req.get_header("If-None-Match"), None, etag, 0):
            resp.status = falcon.HTTP_304
            return
        resp.content_type, resp.data = kind, data
        if compressible and takes_gzip(req.get_header("Accept-Encoding")):
            if name not in self.gzipped:
                self.gzipped[name] = gzip_bytes(data)
            resp.data, resp.etag = self.gzipped[name], gzip_etag(etag)
            resp.set_header("Content-Encoding", "gzip")


SHARED = "/s"
PAGES = frozenset(("/", SHARED))
SHARE_TARGET = "/share-target"  # where another app's "Share" posts photos (the manifest's share_target)


class ShareTargetResource:
    """POST /share-target reaching the server: the page's service worker was not there to keep the files."""

    def on_post(self, req, resp):
        raise falcon.HTTPSeeOther("/?shared=lost")


def is_page(path):
    """Tell whether a path names the page or its assets, which hold no gallery data."""
    return path in PAGES or path.startswith("/static/")


def add_page(app):
    """Serve the gallery page at the root, never under /api."""
    page = StaticResource()
    app.add_route("/", page)
    app.add_route(SHARED, page)  # a share link, /s#<key>
    app.add_route(SHARE_TARGET, ShareTargetResource())
    app.add_route("/static/{name}", page, suffix="asset")
    app.add_route(f"/static/{VENDOR}/{{library}}/{{name}}", page, suffix="vendor")
