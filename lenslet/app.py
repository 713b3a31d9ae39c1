"""The Falcon application: routes, JSON handling and error mapping, wired once."""

import logging
import time

import falcon
import falcon.media
import orjson

from lenslet import metrics
from lenslet.catalog import Catalog
from lenslet.config import Config
from lenslet.errors import Forbidden, LensletError, Misdirected, Unauthorized, UriTooLong
from lenslet.files.operations import Files, recover
from lenslet.images.previews import Previews
from lenslet.images.thumbs import Thumbs
from lenslet.items import Items
from lenslet.people.access import Access, Identities
from lenslet.people.share_links import Shares
from lenslet.people.throttle import Throttle
from lenslet.people.users import OPEN
from lenslet.people.users_file import Directory
from lenslet.resources import MAX_QUERY_STRING, sites
from lenslet.resources.file import FileResource
from lenslet.resources.folders import FoldersResource
from lenslet.resources.health import HealthResource
from lenslet.resources.item import ItemResource
from lenslet.resources.metrics import MetricsResource
from lenslet.resources.openapi import OpenApiResource
from lenslet.resources.operations import (
    DeleteResource,
    ExportIntentResource,
    FolderResource,
    MoveResource,
    RestoreResource,
    TrashResource,
)
from lenslet.resources.preview import PreviewResource
from lenslet.resources.search import SearchResource, SuggestResource
from lenslet.resources.shares import MeResource, ShareResource, SharesResource, UnlockResource
from lenslet.resources.static import add_page, is_page
from lenslet.resources.thumb import ThumbResource
from lenslet.search.searcher import Searcher
from lenslet.storage import open_storage
from lenslet.tree.tree import Tree

log = logging.getLogger("lenslet")

# The API is served at the root and again under /api for front ends that expect it.
PREFIXES = ("", "/api")
READS = frozenset(("GET", "HEAD", "OPTIONS"))
SHARE_HEADER = "X-Lenslet-Share"
# What a share link opens: its folder's listings, the sidecars, thumbnails, the viewer's previews,
# the originals when it allows downloads, who it is, and /health without its details (the page's
# rules). Nothing else (no search, no tags, no health details).
SHARE_ROUTES = frozenset(("/folders", "/item", "/thumb", "/preview", "/file", "/me", "/health"))
# Read by anyone, credentials or not: /health without its details, as everyone who may load the page
# (anyone) needs its rules, and a health probe (a load balancer, a container's check) holds no token.
ANYONE_READS = frozenset(("/health",))
SELF_CHECKED = frozenset(("/shares/unlock",))
METRICS_PATHS = frozenset(prefix + "/metrics" for prefix in PREFIXES)


def create_app(config=None, storage=None, clock=time.time):
    """Build the WSGI app; gunicorn calls this as lenslet.app:create_app().

    clock is the wall clock every part reads (tests pass a later one).
    """
    config = config or Config.from_env()
    storage = storage or open_storage(config)

    tree = Tree(config, storage)
    directory = Directory(config.users) if config.users else None
    if directory is not None:
        directory.check()  # a broken users file stops the start, saying why
    shares = Shares(storage, config.share_max_days, clock)
    identities = Identities(config.token, directory, shares, Throttle(time.monotonic))
    middleware = [Guard(config, identities, tree)]
    if config.metrics:
        metrics.check(config)
        metrics.enable("web")
        middleware.insert(0, Measure())  # outermost: refused and failed requests count too
    if config.cors_origins:
        # Before the guard, so preflights get their CORS headers; answers carry them too.
        middleware.insert(0, falcon.CORSMiddleware(
            allow_origins="*" if "*" in config.cors_origins else list(config.cors_origins),
            expose_headers=["ETag", "Retry-After", "Content-Range", "Accept-Ranges", "Last-Modified"]))
    app = falcon.App(middleware=middleware)
    json_handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.add_error_handler(LensletError, _lenslet_error)
    app.set_error_serializer(_json_error)

    searcher = Searcher(storage)
    # One catalog (and the listings it keeps) and one Thumbs serve the reads and the changes, so a
    # listing right after an upload or a move is the one the operation rebuilt.
    catalog = Catalog(tree, config, clock)
    folders = catalog.listings
    thumbs = Thumbs(tree, config, clock, hash_found=catalog.hash_found)
    files = Files(tree, catalog, thumbs, config)
    _recover_moves(storage, config, clock)
    routes = {
        "/health": HealthResource(config, storage, clock),
        "/folders": FoldersResource(folders),
        "/item": ItemResource(Items(tree, catalog, config)),
        "/thumb": ThumbResource(thumbs),
        "/preview": PreviewResource(Previews(tree, config, thumbs, clock)),
        "/file": FileResource(tree, config.accel_redirect, config.s3_stream, files),
        "/search": SearchResource(searcher),
        "/search/suggest": SuggestResource(searcher),
        "/openapi.json": OpenApiResource(),
        "/move": MoveResource(files),
        "/trash": TrashResource(files),
        "/restore": RestoreResource(files),
        "/delete": DeleteResource(files),
        "/folder": FolderResource(files),
        "/export-intent": ExportIntentResource(),
        "/me": MeResource(),
        "/shares": SharesResource(shares),
        "/shares/{share_id}": ShareResource(shares),
        "/shares/unlock": UnlockResource(identities, client_address),
    }
    routes["/metrics"] = MetricsResource(config, storage, clock)  # a 404 that says why while off
    for prefix in PREFIXES:
        for route, resource in routes.items():
            app.add_route(prefix + route, resource)
    add_page(app)
    return app


def _recover_moves(storage, config, clock):
    """Finish or undo moves a killed process left half done, before serving anything."""
    if config.readonly:
        return
    try:
        recover(storage, clock)
    except LensletError as ex:
        log.error("cannot settle interrupted moves yet: %s", ex.description)


class Guard:
    """Refuse what the settings forbid, before any resource runs: a Host not answered to
    (DNS rebinding), writes from another site (CSRF), writes in read-only mode, overlong query
    strings; then find who asks (a user's token, a share link, LENSLET_TOKEN, or nobody) and
    refuse what they may not do. req.context.access then holds their scope for the resources."""

    def __init__(self, config, identities, tree):
        self.readonly = config.readonly
        self.token = bool(config.token)
        self.token_reads = config.token_reads
        self.metrics_token = bool(config.metrics_token)
        self.hosts = frozenset(name.lower().rstrip(".") for name in config.hosts)
        self.write_origins = sites.origin_keys(config.cors_origins)
        self.identities = identities
        self.tree = tree

    def process_request(self, req, resp):
        host = req.get_header("Host")
        if not sites.host_allowed(host, self.hosts):
            raise Misdirected(f"lenslet does not answer to the host {host[:200]!r}: add its name to LENSLET_HOSTS "
                              "(IP addresses and localhost are always answered)", setting="LENSLET_HOSTS")
        if len(req.query_string) > MAX_QUERY_STRING:
            raise UriTooLong(f"the query string is longer than {MAX_QUERY_STRING} characters")
        if req.method == "OPTIONS" or (req.method in READS and is_page(req.path)):
            return  # CORS preflights carry no credentials; the page holds no data and asks for the token
        if self.metrics_token and req.path in METRICS_PATHS:
            return  # a scraper holds the metrics token, not the gallery's (checked by the resource)
        write = req.method not in READS
        if write:
            # Before the token: a token does not make another site's request the user's.
            foreign = sites.foreign_write(req.get_header("Origin"), req.get_header("Sec-Fetch-Site"), host,
                                          self.write_origins)
            if foreign:
                raise Forbidden(f"a write from another site is refused ({foreign}); writes come from this "
                                "gallery's own pages, scripts, or the origins in LENSLET_CORS_ORIGINS",
                                setting="LENSLET_CORS_ORIGINS")
        route = _route(req.path)
        if route in SELF_CHECKED:
            return  # POST /shares/unlock holds its own credentials (a share key and its password)
        if write and self.readonly:
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)")
        principal = self._principal(req, write, route)
        if principal.share is not None:
            if write or route not in SHARE_ROUTES:
                raise Forbidden("a share link shows its folder or image (listings, thumbnails, the viewer), "
                                "nothing else")
            if route == "/file" and not principal.share["allowDownload"]:
                raise Forbidden("this share link does not allow downloading originals")
        elif write and not principal.can_write:
            raise Forbidden(f"{principal.name} may look but not change anything (role view)")
        req.context.principal = principal
        req.context.access = Access(principal, self.tree)

    def _principal(self, req, write, route):
        """Who asks: a Principal, or Unauthorized when the request needs credentials it lacks."""
        address = client_address(req)
        share = req.get_header(SHARE_HEADER)
        if share is not None:
            return self.identities.from_share(share, address)
        needed = self.identities.users or (self.token and (write or self.token_reads))
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and given.strip():
            return self.identities.from_token(given.strip(), address, needed)
        if not needed:
            return OPEN
        if not write and route in ANYONE_READS:
            return self.identities.nobody()
        if self.identities.users:
            raise Unauthorized("sign in: send Authorization: Bearer <your token> (lenslet user add gives one), "
                               "or open a share link")
        raise Unauthorized("this request needs Authorization: Bearer <LENSLET_TOKEN>")


def client_address(req):
    """Whom failed attempts are counted against: the peer, or, when the peer is a proxy on this machine
    (loopback: nginx), the address that proxy appended last to X-Forwarded-For (earlier ones are the
    client's to forge). A request from elsewhere is never believed about where it comes from."""
    peer = req.remote_addr or "unknown"
    forwarded = req.get_header("X-Forwarded-For")
    if forwarded and sites.is_loopback(peer):
        last = forwarded.rpartition(",")[2].strip()
        if sites.is_address(last) or sites.is_address(f"[{last}]"):
            return last
    return peer


def _route(path):
    """A request path without the /api prefix."""
    return path[4:] if path.startswith("/api/") else path


class Measure:
    """Count every request by route and status, with its latency (LENSLET_METRICS)."""

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is None:
            return  # an earlier middleware refused the request before this one saw it
        route = req.uri_template or "unmatched"  # a template, never the raw path: bounded labels
        metrics.request(route, req.method, resp.status_code, time.perf_counter() - started)


def _lenslet_error(req, resp, ex, params):
    if ex.status >= 500:
        log.error("%s %s: %s", req.method, req.relative_uri, ex.description)
    resp.status = falcon.code_to_http_status(ex.status)
    # A responder may have set the image's type already (GET /file): the error is JSON.
    resp.content_type = falcon.MEDIA_JSON
    resp.media = ex.to_dict()
    if getattr(ex, "retry_after", None) is not None:
        resp.set_header("Retry-After", str(ex.retry_after))
    if isinstance(ex, Unauthorized):
        resp.set_header("WWW-Authenticate", 'Bearer realm="lenslet"')


def _json_error(req, resp, ex):
    # Falcon's own errors (unknown route, wrong method, bad query parameter, ...) are JSON
    # too, whatever Accept says, and like lenslet's they always say what went wrong.
    body = ex.to_dict()
    if not body.get("description"):
        body["description"] = _describe(req, resp, ex)
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


def _describe(req, resp, ex):
    if isinstance(ex, falcon.HTTPRouteNotFound):
        return f"no endpoint at {req.path}; /openapi.json lists them"
    if isinstance(ex, falcon.HTTPMethodNotAllowed):
        return f"{req.path} does not accept {req.method}; it accepts {resp.get_header('Allow')}"
    if ex.status_code >= 500:
        return "lenslet failed to answer; its log says why"
    return ex.title
