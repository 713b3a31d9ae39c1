"""The Falcon application: routes, JSON handling and error mapping, wired once."""

import logging
import time

import falcon
import falcon.media
import orjson

from lenslet import metrics
from lenslet.albums.store import Albums
from lenslet.catalog import Catalog
from lenslet.config import Config
from lenslet.dav.locks import Locks
from lenslet.errors import ConfigError, LensletError, Unauthorized
from lenslet.files.archive import Archive
from lenslet.files.operations import Files, recover
from lenslet.images.previews import Previews
from lenslet.images.thumbs import Thumbs
from lenslet.items import Items
from lenslet.layout import url_settings
from lenslet.people.access import NOBODY, Access
from lenslet.people.first_admin import SetupCode
from lenslet.people.identities import Identities
from lenslet.people.sessions import Sessions
from lenslet.people.shares import Shares
from lenslet.people.throttle import Throttle
from lenslet.people.users import Directory
from lenslet.resources import operations
from lenslet.resources.albums import AlbumResource, AlbumsResource
from lenslet.resources.compress import Compress
from lenslet.resources.dav import DavResource
from lenslet.resources.file import FileResource
from lenslet.resources.folders import FoldersResource
from lenslet.resources.guard import Guard, Private, Unrunnable, client_address, is_dav
from lenslet.resources.health import HealthResource
from lenslet.resources.item import DatesResource, ItemResource, RotateResource
from lenslet.resources.map import MapPhotosResource, MapResource
from lenslet.resources.metrics import MetricsResource
from lenslet.resources.openapi import OpenApiResource
from lenslet.resources.people import PeopleRenameResource, PeopleResource
from lenslet.resources.places import PlaceNamesResource
from lenslet.resources.preview import FaceResource, PreviewResource
from lenslet.resources.search import SearchResource, SuggestResource
from lenslet.resources.session import SessionResource, SetupResource
from lenslet.resources.shares import GuestUploadResource, MeResource, ShareResource, SharesResource, UnlockResource
from lenslet.resources.static import add_page
from lenslet.resources.thumb import ThumbResource
from lenslet.resources.timeline import OnThisDayResource, TimelineMonthsResource, TimelineResource
from lenslet.resources.users import (
    AppPasswordResource,
    AppPasswordsResource,
    OwnPasswordResource,
    UserResource,
    UsersResource,
)
from lenslet.resources.zip import ZipResource
from lenslet.search.clusters import PlacesMap
from lenslet.search.faces import Faces
from lenslet.search.searcher import Searcher
from lenslet.search.timeline import Timeline
from lenslet.storage import open_storage
from lenslet.tree.tree import Tree

log = logging.getLogger("lenslet")
DAY = 86400.0


def create_app(config=None, storage=None, clock=time.time):
    """Build the WSGI app; gunicorn calls this as lenslet.app:create_app()."""
    config = config or Config.from_env()
    storage = storage or open_storage(config)

    tree = Tree(config, storage)
    directory = Directory(config.users) if config.users else None
    if directory is not None:
        directory.check()  # a broken users file stops the start, saying why
    elif config.proxy_user_header:
        raise ConfigError("LENSLET_PROXY_USER_HEADER names people of the users file: set LENSLET_USERS too",
                          setting="LENSLET_PROXY_USER_HEADER")
    searcher = Searcher(storage, heartbeat=config.heartbeat)
    # one catalog and one Thumbs for reads and changes, so a listing after a change is fresh
    catalog = Catalog(tree, config, clock)
    albums = Albums(storage, searcher, catalog.listings, tree, clock)
    # a smart album's share runs its search as its maker, within the maker's scope
    shares = Shares(storage, config.share_max_days, clock, identify=tree.identity,
                    album_images=lambda album_id, maker: albums.images_now(album_id, Access(maker, opened=tree.opened)))
    longest = config.session_max_days * DAY  # seconds a session lasts at most
    sessions = Sessions(storage, config.session_idle_days * DAY, longest, clock)
    identities = Identities(config.token, directory, shares, Throttle(storage, clock), sessions, SetupCode(storage),
                            config.proxy_create == "view", config.proxy_user_header, config.proxy_addresses)
    _tell_setup_code(identities, config)
    thumbs = Thumbs(tree, config, clock, note_hashes=True)
    previews = Previews(tree, config, thumbs, clock)
    large_thumbs = Previews(tree, config, thumbs, clock, large=True) if config.thumb_size_large else None
    items = Items(tree, catalog, config)
    files = Files(tree, catalog, thumbs, config)
    timeline = Timeline(searcher)
    places = PlacesMap(timeline)
    faces = Faces(timeline)
    guard = Guard(config, identities, items.trash_origin, tree.opened, albums.is_image_at)
    middleware = [Compress(), Unrunnable(), items.turns, guard]
    if config.users or config.token:
        middleware.append(Private())
    if config.metrics:
        metrics.check(config)
        metrics.enable("web")
        middleware.insert(0, Measure())  # outermost: refused and failed requests count too
    if config.cors_origins:
        # before the guard, so preflights get their CORS headers
        middleware.insert(0, falcon.CORSMiddleware(
            allow_origins="*" if "*" in config.cors_origins else list(config.cors_origins),
            expose_headers=["ETag", "Retry-After", "Content-Range", "Accept-Ranges", "Last-Modified"]))
    router = ApiRouter()
    app = falcon.App(middleware=middleware, router=router)
    json_handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    app.req_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = json_handler
    app.add_error_handler(LensletError, _lenslet_error)
    app.set_error_serializer(_json_error)

    if not config.readonly:  # finish or undo moves a killed process left half done, before serving anything
        try:
            recover(storage, clock)
        except LensletError as ex:
            log.error("cannot settle interrupted moves yet: %s", ex.description)
    routes = {
        "/health": HealthResource(config, storage, clock, {
            "thumb": url_settings(thumbs.settings), "preview": url_settings(previews.settings),
            **({"large": url_settings(large_thumbs.settings)} if large_thumbs else {})}),
        "/folders": FoldersResource(catalog.listings),
        "/item": ItemResource(items),
        "/item/rotate": RotateResource(items),
        "/dates": DatesResource(items),
        "/thumb": ThumbResource(thumbs, tree, config.accel_redirect, large_thumbs),
        "/preview": PreviewResource(previews, config.accel_redirect),
        "/face": FaceResource(previews),
        "/file": FileResource(tree, config.accel_redirect, config.s3_stream, files, previews),
        "/zip": ZipResource(tree, Archive(catalog.listings, tree.opened, config.zip_max_files, config.zip_max_bytes),
                            albums, previews),
        "/search": SearchResource(searcher),
        "/search/suggest": SuggestResource(searcher),
        "/timeline": TimelineResource(timeline),
        "/timeline/months": TimelineMonthsResource(timeline),
        "/on-this-day": OnThisDayResource(timeline, clock),
        "/map": MapResource(places),
        "/map/photos": MapPhotosResource(places),
        "/people": PeopleResource(faces),
        "/people/rename": PeopleRenameResource(faces, items),
        "/places": PlaceNamesResource(),
        "/openapi.json": OpenApiResource(),
        "/move": operations.MoveResource(files),
        "/trash": operations.TrashResource(files),
        "/duplicates": operations.DuplicatesResource(searcher),
        "/duplicates/trash": operations.DuplicatesTrashResource(files),
        "/similar": operations.SimilarResource(searcher, config.similar_threshold),
        "/restore": operations.RestoreResource(files),
        "/delete": operations.DeleteResource(files),
        "/folder": operations.FolderResource(files),
        "/export-intent": operations.ExportIntentResource(),
        "/me": MeResource(),
        "/me/password": OwnPasswordResource(identities, longest),
        "/albums": AlbumsResource(albums),
        "/albums/{album_id}": AlbumResource(albums),
        "/shares": SharesResource(shares, tree, files, albums),
        "/shares/{share_id}": ShareResource(shares),
        "/shares/unlock": UnlockResource(identities, client_address),
        "/shares/upload": GuestUploadResource(shares, files, albums, lambda record: Access(
            identities.maker_of(record) or NOBODY, opened=tree.opened)),
        "/session": SessionResource(identities, longest),
        "/setup": SetupResource(identities, longest),
        "/users": UsersResource(directory),
        "/users/{name}": UserResource(directory, identities, longest),
        "/me/app-passwords": AppPasswordsResource(identities, clock),
        "/me/app-passwords/{password_id}": AppPasswordResource(identities),
        "/metrics": MetricsResource(config, storage, clock),  # a 404 that says why while off
    }
    for route, resource in routes.items():
        app.add_route(route, resource)
    router.api_routes = frozenset(routes)
    dav = DavResource(tree, catalog.listings, files, Locks(storage, clock, tree.opened), config.accel_redirect)
    app.add_route("/dav", dav)
    app.add_route("/dav/{path:path}", dav)
    add_page(app)
    return app


class ApiRouter(falcon.routing.CompiledRouter):
    """Falcon's router, finding the API under /api too: each route added once (adding one costs a millisecond)."""

    api_routes = frozenset()

    def find(self, uri, req=None):
        if not uri.startswith("/api/"):
            return super().find(uri, req)
        found = super().find(uri[4:], req)
        if found is None or found[3] not in self.api_routes:
            return None
        resource, methods, params, route = found
        return resource, methods, params, "/api" + route  # the route as asked, as metrics name it


def _tell_setup_code(identities, config):
    """While the users file holds nobody, say in the log how the page makes the first admin."""
    if not identities.needs_first_admin():
        return
    try:
        code = identities.setup.code()
    except LensletError as ex:
        log.error("nobody is in %s, and no setup code can be made: %s (lenslet user add makes a user)",
                  config.users, ex.description)
        return
    log.warning("nobody is in %s yet: open the gallery and make the first admin with the setup code %s "
                "(or: lenslet user add NAME --role admin --folders '' --password)", config.users, code)


class Measure:
    """Count every request by route and status, with its latency (LENSLET_METRICS)."""

    def process_request(self, req, resp):
        req.context.started = time.perf_counter()

    def process_response(self, req, resp, resource, req_succeeded):
        started = getattr(req.context, "started", None)
        if started is None:
            return  # refused by an earlier middleware
        route = req.uri_template or "unmatched"  # a template, never the raw path: bounded labels
        metrics.request(route, req.method, resp.status_code, time.perf_counter() - started)


def _lenslet_error(req, resp, ex, params):
    if ex.status >= 500:
        log.error("%s %s: %s", req.method, req.relative_uri, ex.description)
    resp.status = falcon.code_to_http_status(ex.status)
    # drop what a responder set already: the same uncached JSON whichever step refused, so no scope leaks
    resp.content_type = falcon.MEDIA_JSON
    resp.cache_control = ["no-store"]
    for header in ("ETag", "Last-Modified", "Accept-Ranges", "Content-Range", "X-Lenslet-Checking"):
        resp.delete_header(header)
    resp.media = ex.to_dict()
    if getattr(ex, "retry_after", None) is not None:
        resp.set_header("Retry-After", str(ex.retry_after))
    if isinstance(ex, Unauthorized):
        scheme = 'Basic realm="lenslet", charset="UTF-8"' if is_dav(req.path) else 'Bearer realm="lenslet"'
        resp.set_header("WWW-Authenticate", scheme)


def _json_error(req, resp, ex):
    # Falcon's own errors are JSON too, whatever Accept says, and always say what went wrong
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
