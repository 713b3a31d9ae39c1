"""WebDAV at /dav: the library as a drive for phones' backup apps, rclone and desktops, through lenslet's own
upload, move, trash and listing, so every rule of the API holds here too."""

from urllib.parse import unquote, urlsplit

import falcon

from lenslet.dav import conditions, xml_bodies
from lenslet.dav.locks import timeout_of
from lenslet.errors import BadRequest, Forbidden, LensletError, NotFound, PreconditionFailed, UnsupportedMedia
from lenslet.layout import TRASH, in_trash, is_image, mime_of, name_of, parent
from lenslet.recent import Recent
from lenslet.resources.bodies import CHUNK, body_of, has_body, read_body
from lenslet.resources.file import send_original
from lenslet.resources.guard import access_of, principal_of
from lenslet.resources.http import etag_for, etag_of
from lenslet.storage import clean_path
from lenslet.storage.paths import not_reserved

METHODS = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK"
MAX_XML = 64 * 1024
XML = "application/xml; charset=utf-8"
KEPT_ANSWERS = 16
KEPT_ANSWERS_BYTES = 16 << 20  # a web process's kept answers together: a 10,000-photo folder's fits in a third
KEPT_ENTRY_BYTES = 1024  # a kept answer weighs at most this an entry: a folder's properties, not a flood of others
READS = frozenset(("GET", "HEAD", "PROPFIND", "OPTIONS"))
# What desktops write beside every file they copy; taken and not kept, never listed.
DESKTOP_FILES = frozenset((".DS_Store", "Thumbs.db", "desktop.ini", ".localized"))
MAX_DESKTOP_FILE = 16 << 20  # a folder's icon and Finder's notes weigh far less


def desktop_file(raw):
    name = name_of(raw.rstrip("/"))
    return name in DESKTOP_FILES or name.startswith("._")


def no_reserved_name(req, resp, resource, params):
    """Refuse a write to a name lenslet gives its own files (a sidecar, a thumbnail, a listing); a read finds none."""
    written = () if req.method in READS else (params.get("path", ""),)
    for raw in (*written, (destination(req) or "").removeprefix("/dav")):
        if raw.strip("/") != TRASH and not desktop_file(raw):  # the trash at the root keeps its own answers
            not_reserved(raw.strip("/"))


def destination(req):
    """Return the Destination header's path, decoded, or None."""
    header = req.get_header("Destination")
    return None if header is None else unquote(urlsplit(header).path, errors="surrogateescape")


@falcon.before(no_reserved_name)
class DavResource:
    """Every WebDAV method on /dav and /dav/{path}."""

    def __init__(self, tree, listings, files, locks, accel_redirect):
        self.tree, self.listings, self.files, self.locks = tree, listings, files, locks
        self.accel = accel_redirect
        # (folder, asked) -> (its listing's key, its children's responses)
        self.answers = Recent(KEPT_ANSWERS, KEPT_ANSWERS_BYTES, weigh=lambda kept: len(kept[1]))

    # -- reads

    def on_options(self, req, resp, path=""):
        resp.set_header("DAV", "1, 2")
        resp.set_header("MS-Author-Via", "DAV")
        resp.set_header("Allow", METHODS)
        resp.content_length = 0

    def on_propfind(self, req, resp, path=""):
        depth = req.get_header("Depth", default="infinity").strip().lower()
        if depth not in ("0", "1"):
            resp.status, resp.content_type = falcon.HTTP_403, XML
            resp.data = xml_bodies.finite_depth()
            return
        asked = xml_bodies.asked_properties(xml_bodies.parse(read_body(req, MAX_XML)))
        if desktop_file(path):
            raise NotFound("no such file", path=path)
        path, access = _outside_the_trash(clean_path(path)), access_of(req)
        if self._is_image(path):
            place, stat = self.tree.locate_image(access.see(path))
            answer = xml_bodies.responses([xml_bodies.entry(path, name_of(path), False, stat.size, stat.mtime,
                                                            mime_of(path), etag_for(stat.mtime, stat.size),
                                                            self._own_locks(path, asked))], asked)
        else:
            stat = self._folder(path, access)
            own = xml_bodies.entry(path, name_of(path) or "lenslet", True, mtime=stat.mtime,
                                   locks=self._own_locks(path, asked))
            answer = xml_bodies.responses([own], asked)
            if depth == "1":
                answer += self._children(path, access, asked)
        resp.status, resp.content_type = falcon.HTTP_207, XML
        resp.data = xml_bodies.multistatus(answer, asked=asked)
        resp.cache_control = ["no-store"]

    def _children(self, path, access, asked):
        """Return the responses of a folder's subfolders and items, kept while its listing is unchanged."""
        key, dirs, items = self.listings.whole_seen(path, access)
        memo_key = (path, None if asked is None else tuple(asked))
        locks_of = self._child_locks(path) if asked is not None and ("DAV:", "lockdiscovery") in asked else None
        known = self.answers.get(memo_key) if key is not None and locks_of is None else None
        if known is not None and known[0] == key:
            return known[1]
        entries = []
        for folder in dirs:
            if isinstance(folder, dict) and (path or folder.get("name") != TRASH):
                name = folder.get("name", "")
                entries.append(xml_bodies.entry(_join(path, name), name, True, mtime=folder.get("mtime") or 0,
                                                locks=locks_of(name) if locks_of else ""))
        for item in items:
            if isinstance(item, dict):
                name, size, mtime = item.get("name", ""), item.get("size") or 0, item.get("mtime") or 0
                entries.append(xml_bodies.entry(_join(path, name), name, False, size, mtime, mime_of(name) or "",
                                                etag_for(mtime, size), locks_of(name) if locks_of else ""))
        answer = xml_bodies.responses(entries, asked, brief=True)
        if key is not None and locks_of is None and len(answer) <= KEPT_ENTRY_BYTES * max(1, len(entries)):
            self.answers.put(memo_key, (key, answer))
        return answer

    def on_get(self, req, resp, path=""):
        path = _outside_the_trash(clean_path(path))
        if not self._is_image(path):
            self._folder(path, access_of(req))
            raise falcon.HTTPMethodNotAllowed(["OPTIONS", "PROPFIND", "MKCOL", "DELETE", "MOVE", "COPY"],
                                              description="a folder: list it with PROPFIND")
        send_original(req, resp, self.tree, path, self.accel, True)

    on_head = on_get

    # -- writes

    def on_put(self, req, resp, path=""):
        if desktop_file(path):
            self._folder_above(req, path)
            body = body_of(req, MAX_DESKTOP_FILE)
            while body.read(CHUNK):
                pass  # a desktop's own note beside a file: taken, not kept
            resp.status = falcon.HTTP_201
            return
        path = self._writable_image(req, path)
        body = body_of(req, *self.files.body_limit(path))
        if req.content_length == 0:
            resp.status = falcon.HTTP_201  # Windows reserves a name empty, then sends the file
            return
        done = self.files.put(path, body)
        resp.status = falcon.HTTP_201 if done == "created" else falcon.HTTP_204

    def on_mkcol(self, req, resp, path=""):
        if has_body(req):
            raise UnsupportedMedia("MKCOL takes no body")
        self._folder_above(req, path)
        path = self._checked(req, path)
        if not path or self._exists(path):
            raise falcon.HTTPMethodNotAllowed(["OPTIONS", "PROPFIND", "DELETE", "MOVE", "COPY"],
                                              description="something is there already")
        self.files.make_folder(path)
        resp.status = falcon.HTTP_201

    def on_delete(self, req, resp, path=""):
        if desktop_file(path):
            resp.status = falcon.HTTP_204
            return
        path = self._checked(req, path)
        if self._is_image(path):
            self.tree.locate_image(path)
            self.files.trash([path])
        else:
            self.files.trash_folder(path)
        resp.status = falcon.HTTP_204

    def on_move(self, req, resp, path=""):
        src, dest, overwrite = self._source_and_destination(req, path)
        existed = self._exists(dest)
        if overwrite:
            self.files.move_over(src, dest)
        else:
            self.files.move(src, to=dest)
        resp.status = falcon.HTTP_204 if existed else falcon.HTTP_201

    def on_copy(self, req, resp, path=""):
        src, dest, overwrite = self._source_and_destination(req, path)
        if self._is_image(src):
            photo_name(dest)  # a copy keeps the name asked for, or is not made
        existed = self._exists(dest)
        if existed and self._is_image(src) != self._is_image(dest):  # Overwrite: T over the other kind: trashed first
            if self._is_image(dest):
                self.files.trash([dest])
            else:
                self.files.trash_folder(dest)
        if req.get_header("Depth", default="infinity").strip() == "0" and not self._is_image(src):
            self.files.make_folder(dest)  # a folder without what it holds
        else:
            self.files.copy(src, dest, "replace" if overwrite else "fail")
        resp.status = falcon.HTTP_204 if existed else falcon.HTTP_201

    def on_proppatch(self, req, resp, path=""):
        names = xml_bodies.set_properties(xml_bodies.parse(read_body(req, MAX_XML)))
        path = self._checked(req, path, below=False)
        if not self._exists(path):
            raise NotFound("no such file or folder", path=path)
        resp.status, resp.content_type = falcon.HTTP_207, XML
        resp.data = xml_bodies.patched(path, not self._is_image(path), names)

    def on_lock(self, req, resp, path=""):
        data = read_body(req, MAX_XML)
        path = self._checked(req, path, locks=False)
        user = _person(req)
        seconds = timeout_of(req.get_header("Timeout"))
        if data.strip():
            depth = "0" if req.get_header("Depth", default="infinity").strip() == "0" else "infinity"
            owner = xml_bodies.lock_owner(xml_bodies.parse(data))
            if not self._exists(path):
                self._folder_above(req, path)
                resp.status = falcon.HTTP_201  # the name is kept for its locker; an empty PUT or the file fills it
            record = self.locks.lock(path, user, depth, owner, seconds)
        else:  # a refresh names its lock in If, through any path the lock holds
            record = self.locks.refresh(path, conditions.tokens_in(req.get_header("If")), user, seconds)
        resp.set_header("Lock-Token", f"<{record['token']}>")
        resp.content_type = XML
        resp.data = xml_bodies.lock_discovery(record, seconds, self._lock_root(record))

    def on_unlock(self, req, resp, path=""):
        path = self._checked(req, path, locks=False, asked=False)
        token = (req.get_header("Lock-Token") or "").strip().strip("<>")
        self.locks.unlock(path, token, _person(req))
        resp.status = falcon.HTTP_204

    # -- helpers

    def _checked(self, req, path, locks=True, below=True, asked=True):
        """Return a path the principal may change where the request's conditions hold (on its own path: asked) and,
        with locks, every lock that holds it (with below, or a path inside it) is theirs and named in the If header."""
        path = access_of(req).change(clean_path(path))
        if path == TRASH or path.startswith(TRASH + "/"):
            raise Forbidden("the trash is changed in the gallery's page, not over WebDAV", path=path)
        if asked:
            conditions.check(req.get_header("If-Match"), req.get_header("If-None-Match"), req.get_header("If"),
                             lambda tag: self._state(req, path, tag))
        if locks:
            self.locks.check(path, _person(req), conditions.tokens_in(req.get_header("If")), below)
        return path

    def _state(self, req, path, tag=None):
        """Return what an If condition is held against: (the ETag, "" for a folder, None for nothing there; the tokens
        of the locks that hold it) of a path, or of an If header's tagged URL."""
        try:
            path = path if tag is None else access_of(req).see(clean_path(_dav_path(tag)))
            tokens = {record["token"] for record in self.locks.holding(path)}
        except LensletError:
            return None, set()  # not a path of this door, or not this person's: nothing there
        try:
            if self._is_image(path):
                return etag_of(self.tree.locate_image(path)[1]), tokens
            return ("" if self.tree.is_folder(path) else None), tokens
        except LensletError:
            return None, tokens

    def _own_locks(self, path, asked):
        """Return the lockdiscovery of a path, when asked (allprop asks it)."""
        if asked is not None and ("DAV:", "lockdiscovery") not in asked:
            return ""
        return self._discovery(self.locks.holding(path))

    def _discovery(self, records):
        now = self.locks.clock()
        return "".join(xml_bodies.active_lock(record, max(1, int(record["expires"] - now)), self._lock_root(record))
                       for record in records)

    def _child_locks(self, folder):
        """Return name -> the lockdiscovery of a folder's child, the folder's locks read once."""
        place = self.tree.opened(folder)
        above = [record for record in self.locks.holding(folder) if record["depth"] == "infinity"]
        own = {name_of(record["path"]): record for record in self.locks.below(place) if parent(record["path"]) == place}
        return lambda name: self._discovery(above + ([own[name]] if name in own else []))

    def _lock_root(self, record):
        return xml_bodies.href(record["path"], not self._is_image(record["path"]))

    def _writable_image(self, req, path):
        photo_name(clean_path(path))  # first, so a path out of sight answers as a missing one
        self._folder_above(req, path)
        return self._checked(req, path, below=False)

    def _folder_above(self, req, path):
        """Refuse a path whose folder is missing or out of sight alike, as WebDAV says (409)."""
        folder = clean_path(parent(path.rstrip("/")))  # the name may be a desktop's own, which no path names
        try:
            if not in_trash(folder):  # the trash answers for itself
                self._folder(folder, access_of(req))
        except NotFound:
            raise falcon.HTTPConflict(description=f"the folder {folder or '/'} is missing: make it first "
                                                  "(MKCOL)") from None

    def _source_and_destination(self, req, path):
        where = urlsplit(req.get_header("Destination", required=True))
        if where.netloc and where.netloc.lower() != (req.get_header("Host") or "").lower():
            raise falcon.HTTPBadGateway(description="the Destination is on another server")
        dest = destination(req)
        if not (dest == "/dav" or dest.startswith("/dav/")):
            raise BadRequest("the Destination is a /dav/ path of this server")
        overwrite = (req.get_header("Overwrite") or "T").strip().upper() != "F"
        if desktop_file(path) or desktop_file(dest):
            raise Forbidden("a desktop's own files are not kept: there is nothing to move")
        self._folder_above(req, dest[5:])
        dest = self._checked(req, dest[5:], asked=False)
        src = self._checked(req, path, locks=req.method == "MOVE")
        if not src or not dest:
            raise Forbidden("the root is neither moved nor replaced")
        if src == dest:
            raise Forbidden("the Destination is the source itself", path=src)
        if self._exists(dest) and not overwrite:
            raise PreconditionFailed("something is at the Destination and Overwrite is F", path=dest)
        return src, dest, overwrite

    def _folder(self, path, access):
        """Return the stat of a folder the principal sees; anything else answers as missing."""
        place = self.tree.locate(access.folder(path))
        stat = place.storage.stat(place.key)
        if not stat.is_dir:
            raise NotFound("no such file or folder", path=path)  # lenslet's own files are not shown
        return stat

    def _is_image(self, path):
        if not path or not is_image(name_of(path)):
            return False
        try:
            return not self.tree.is_folder(path)
        except LensletError:
            return True  # missing: said so as an image

    def _exists(self, path):
        try:
            place = self.tree.locate(path, is_file=True)
            place.storage.stat(place.key)
        except NotFound:
            return False
        return True


def photo_name(path):
    if not is_image(name_of(path)):
        raise UnsupportedMedia("lenslet keeps photos (JPEG, PNG, WebP, AVIF, GIF, HEIC or a camera's raw file) "
                               "and videos (MP4, MOV, M4V, WebM, MKV, AVI, MTS), by their own extension", path=path)


def _outside_the_trash(path):
    if path == TRASH or path.startswith(TRASH + "/"):
        raise NotFound("the trash is not shown over WebDAV: open it in the gallery's page", path=path)
    return path


def _person(req):
    """A lock belongs to a person by their id, never by a name another may get."""
    principal = principal_of(req)
    return principal.user_id or f"{principal.kind}:{principal.name}"


def _dav_path(url):
    """Return the path a /dav/ URL names (an If header's resource tag)."""
    where = unquote(urlsplit(url).path, errors="surrogateescape")
    if not (where == "/dav" or where.startswith("/dav/")):
        raise BadRequest("not a /dav/ URL")
    return where[5:]


def _join(folder, name):
    return f"{folder}/{name}" if folder else name

