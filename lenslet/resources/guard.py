"""The request guard: refuse what the settings forbid, then find who asks."""

import base64

from lenslet.errors import BadRequest, Forbidden, Misdirected, Unauthorized, UriTooLong
from lenslet.people.access import OPEN, Access
from lenslet.resources import sites
from lenslet.resources.http import vary_also
from lenslet.resources.static import SHARE_TARGET, is_page
from lenslet.storage.state_root import LIBRARY_READ_ONLY

MAX_QUERY_STRING = 4096
PREFIXES = ("", "/api")  # the API is also served under /api
READS = frozenset(("GET", "HEAD", "OPTIONS"))
SHARE_HEADER = "X-Lenslet-Share"
CREDENTIAL_HEADERS = ("Cookie", "Authorization", SHARE_HEADER)  # what an answer to a credential varies on
# What a share link may open.
SHARE_ROUTES = frozenset(("/folders", "/item", "/thumb", "/preview", "/file", "/zip", "/me", "/health"))
SHARED_ALBUM = "/albums/"  # an album's share link opens that album
GUEST_UPLOAD = "/shares/upload"  # where a link that takes uploads adds a guest's photo
# What a link that takes uploads but shows no photos opens.
UPLOAD_ONLY_ROUTES = frozenset(("/me", "/health", GUEST_UPLOAD))
# Open to anyone: a health probe holds no token.
ANYONE_READS = frozenset(("/health",))
# Routes that check their own credentials; the cross-site write check still comes first.
SELF_CHECKED = frozenset(("/shares/unlock", "/session", "/setup"))
# Over TLS the `__Host-` prefix stops a neighbouring subdomain from planting its own session.
COOKIE, TLS_COOKIE = "lenslet-session", "__Host-lenslet-session"
# Writes to the library's files, refused at once when the library is read-only (LENSLET_STATE).
FILE_OPERATIONS = frozenset((("/file", "POST"), ("/file", "PUT"), ("/move", "POST"), ("/trash", "POST"),
                             ("/restore", "POST"), ("/delete", "POST"), ("/folder", "POST"), ("/folder", "DELETE"),
                             ("/duplicates/trash", "POST"), (GUEST_UPLOAD, "PUT")))
OWN_WRITES = frozenset((("/me/password", "PUT"), ("/me/app-passwords", "POST")))  # also a view user's
OWN_PREFIX = "/me/app-passwords/"  # DELETE: revoke one of your app passwords
DAV = "/dav"
DAV_READS = READS | {"PROPFIND"}
# A request carrying any of these came through a proxy, which must then say https.
PROXY_HEADERS = ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP", "Forwarded")
METRICS_PATHS = frozenset(prefix + "/metrics" for prefix in PREFIXES)


def access_of(req):
    return req.context.access


def principal_of(req):
    return req.context.principal


class Guard:
    """Refuse what the settings forbid, then find who asks and set req.context.access."""

    def __init__(self, config, identities, origin_of, opened, is_image_at):
        self.readonly = config.readonly
        self.library_readonly = bool(config.state)
        self.token = bool(config.token)
        self.token_reads = config.token_reads
        self.metrics_token = bool(config.metrics_token)
        self.hosts = frozenset(name.lower().rstrip(".") for name in config.hosts)
        self.write_origins = sites.origin_keys(config.cors_origins)
        self.identities, self.users = identities, identities.users
        # Items.trash_origin, Tree.opened and Albums.is_image_at
        self.origin_of, self.opened, self.is_image_at = origin_of, opened, is_image_at

    def process_request(self, req, resp):
        host = req.get_header("Host")
        if not sites.host_allowed(host, self.hosts):
            raise Misdirected(f"lenslet does not answer to the host {host[:200]!r}: add its name to LENSLET_HOSTS "
                              "(IP addresses and localhost are always answered)", setting="LENSLET_HOSTS")
        if req.path.startswith("//"):  # the router would take //dav/ for /dav/, past the door's own rules
            raise BadRequest("a path starts with a single slash")
        if len(req.query_string) > MAX_QUERY_STRING:
            raise UriTooLong(f"the query string is longer than {MAX_QUERY_STRING} characters")
        if is_dav(req.path):
            return self._dav(req, host)
        if req.method == "OPTIONS" or (req.method in READS and is_page(req.path)):
            return  # CORS preflights carry no credentials; the page holds no data
        if self.metrics_token and req.path in METRICS_PATHS:
            return  # the resource checks the metrics token
        write = req.method not in READS
        if write:
            origin = req.get_header("Origin")
            if req.path == SHARE_TARGET and origin == "null":
                origin = None  # the share sheet's POST names no page (Sec-Fetch-Site: none); a form names its site
            # Before the token: a token does not make another site's request the user's.
            foreign = sites.foreign_write(origin, req.get_header("Sec-Fetch-Site"), host, self.write_origins)
            if foreign:
                raise Forbidden(f"a write from another site is refused ({foreign}); writes come from this "
                                "gallery's own pages, scripts, or the origins in LENSLET_CORS_ORIGINS",
                                setting="LENSLET_CORS_ORIGINS")
        if req.path == SHARE_TARGET:
            return  # a share reaching the server keeps nothing: the service worker keeps shares
        route = req.path[4:] if req.path.startswith("/api/") else req.path  # without the /api prefix
        if route in SELF_CHECKED:
            return
        if write and self.readonly:
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)")
        if write and self.library_readonly and (route, req.method) in FILE_OPERATIONS:
            raise Forbidden(LIBRARY_READ_ONLY, reason="library-read-only", setting="LENSLET_STATE")
        principal = self._principal(req, write, route)
        if principal.share is not None:
            upload = principal.share.get("upload")
            if upload is not None and not upload["showPhotos"] and route not in UPLOAD_ONLY_ROUTES:
                raise Forbidden("this share link takes photos and videos but shows none")
            guest_upload = upload is not None and (route, req.method) == (GUEST_UPLOAD, "PUT")
            if not guest_upload and (write or not (route in SHARE_ROUTES or route.startswith(SHARED_ALBUM))):
                raise Forbidden("a share link shows its folder or image (listings, thumbnails, the viewer), "
                                "and takes uploads only when its maker allowed them")
            if route in ("/file", "/zip") and not principal.share["allowDownload"]:
                raise Forbidden("this share link does not allow downloading originals")
        elif write and not principal.can_write and (route, req.method) not in OWN_WRITES \
                and not route.startswith(OWN_PREFIX):
            raise Forbidden(f"{principal.name} may look but not change anything (role view)")
        elif write and req.context.get("session") and not (req.get_header("Origin")
                                                           or req.get_header("Sec-Fetch-Site")):
            # A browser sends its cookie with any request, so a cookie-signed write must name its origin.
            raise Forbidden("a write signed by a session cookie must say where it comes from (Origin): the gallery's "
                            "page does; scripts send Authorization: Bearer <token>")
        req.context.principal = principal
        req.context.access = Access(principal, self.origin_of, self.opened, self.is_image_at)

    def _dav(self, req, host):
        """Let a WebDAV client in: Basic with an app password, over TLS or from loopback; never a browser page."""
        if req.method == "OPTIONS":
            return  # what the door can do, to anyone
        foreign = sites.foreign_write(req.get_header("Origin"), req.get_header("Sec-Fetch-Site"), host, ())
        if foreign:
            raise Forbidden(f"WebDAV is for WebDAV clients, not another site's page ({foreign})")
        write = req.method not in DAV_READS
        if write and self.readonly:
            raise Forbidden("lenslet is read-only (LENSLET_READONLY)")
        if write and self.library_readonly:
            raise Forbidden(LIBRARY_READ_ONLY, reason="library-read-only", setting="LENSLET_STATE")
        principal = self._dav_principal(req)
        if write and not principal.can_write:
            raise Forbidden(f"{principal.name} may look but not change anything (role view)")
        req.context.principal = principal
        req.context.access = Access(principal, self.origin_of, self.opened, self.is_image_at)

    def _dav_principal(self, req):
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            if self.users or self.token:
                raise Unauthorized("WebDAV signs in with your name and an app password made in the gallery's page "
                                   "(HTTP Basic)")
            return OPEN
        if not (over_tls(req) or from_this_machine(req)):
            raise Forbidden("a WebDAV password is sent over HTTPS only: serve lenslet behind a TLS proxy that says "
                            "X-Forwarded-Proto: https")
        try:
            name, colon, password = base64.b64decode(given.strip(), validate=True).decode("utf-8").partition(":")
        except ValueError:  # binascii.Error and UnicodeDecodeError too
            colon = ""
        if not colon:
            raise Unauthorized("the Authorization header is not Basic name:password in base64")
        if self.users:
            return self.identities.from_app_password(name, password, client_address(req))
        if self.token:
            return self.identities.from_token(password, client_address(req), True)
        return OPEN

    def _principal(self, req, write, route):
        """Return who asks, or raise Unauthorized when needed credentials are missing."""
        address = client_address(req)
        share = req.get_header(SHARE_HEADER)
        if share is not None:
            return self.identities.from_share(share, address)
        needed = self.users or (self.token and (write or self.token_reads))
        scheme, _, given = (req.get_header("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and given.strip():
            return self.identities.from_token(given.strip(), address, needed)
        proxied = self.identities.proxied_name(req.remote_addr, req.get_header)
        if proxied:
            # The browser sends the proxy's own cookie with any request, as it sends lenslet's.
            req.context.session = req.context.proxy = True
            return self.identities.from_proxy(proxied, address)
        session = session_token(req)
        if session is not None:
            principal = self.identities.from_session(session)
            if principal is not None:
                req.context.session = True
                return principal
        if not needed:
            return OPEN
        if not write and route in ANYONE_READS:
            return self.identities.nobody()
        if self.users:
            if self.identities.needs_first_admin():
                raise Unauthorized("nobody is in the users file yet: make the first admin with the setup code lenslet "
                                   "printed in its log (POST /setup), or lenslet user add", signIn="setup")
            raise Unauthorized("sign in: POST /session with your name and password, send Authorization: Bearer "
                               "<your token> (lenslet user add gives one), or open a share link", signIn="password")
        raise Unauthorized("this request needs Authorization: Bearer <LENSLET_TOKEN>")


class Private:
    """Make an answer to a request with credentials private, so no shared cache hands it on."""

    def process_response(self, req, resp, resource, req_succeeded):
        if not (req.get_header("Authorization") or req.get_header(SHARE_HEADER) or session_token(req)
                or req.context.get("session")):
            return
        parts = [part.strip() for part in (resp.get_header("Cache-Control") or "").split(",") if part.strip()]
        parts = [part for part in parts if part.lower() != "public"]
        if not any(part.lower() in ("private", "no-store") for part in parts):
            parts.insert(0, "private")
        resp.set_header("Cache-Control", ", ".join(parts))
        resp.set_header("Vary", vary_also(resp.get_header("Vary"), CREDENTIAL_HEADERS))


class Unrunnable:
    """Keep a browser from running what people uploaded: no answer sniffed, pictures and videos sandboxed."""

    def process_response(self, req, resp, resource, req_succeeded):
        resp.set_header("X-Content-Type-Options", "nosniff")
        if (resp.content_type or "").startswith(("image/", "video/", "audio/")):
            resp.set_header("Content-Security-Policy", "sandbox")


def is_dav(path):
    return path == DAV or path.startswith(DAV + "/")


def client_address(req):
    """Return the client's address; X-Forwarded-For is believed only from a loopback proxy."""
    peer = req.remote_addr or "unknown"
    forwarded = req.get_header("X-Forwarded-For")
    if forwarded and sites.is_loopback(peer):
        last = forwarded.rpartition(",")[2].strip()
        if sites.is_address(last) or sites.is_address(f"[{last}]"):
            return last
    return peer


def over_tls(req):
    """Tell whether the browser used TLS; X-Forwarded-Proto is believed only from a loopback proxy."""
    if req.scheme == "https":
        return True
    told = req.get_header("X-Forwarded-Proto")
    return bool(told) and sites.is_loopback(req.remote_addr or "") and \
        told.rpartition(",")[2].strip().lower() == "https"


def from_this_machine(req):
    """Tell whether a program on this machine sent the request itself, not a proxy passing on another's."""
    return sites.is_loopback(req.remote_addr or "") and not any(req.get_header(name) for name in PROXY_HEADERS)


def cookie_name(req):
    return TLS_COOKIE if over_tls(req) else COOKIE


def session_token(req):
    """Return the session token in the request's cookie, or None."""
    values = req.get_cookie_values(cookie_name(req))
    return values[0] if values else None
