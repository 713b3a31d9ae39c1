"""Share links: records, keys, expiry and passwords, kept in the state folder and read at each use so a revoke takes
effect everywhere at once."""

import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time
from datetime import datetime, timezone

import orjson

from lenslet.errors import BadRequest, Forbidden, Foreign, LensletError, NotFound, PreconditionFailed, TooLarge
from lenslet.formats import records
from lenslet.formats.records import iso
from lenslet.layout import SHARE_UPLOADS, SHARES, in_trash, is_image, join, name_of
from lenslet.people.access import Scope, inside, parent_of
from lenslet.people.users import TOKEN_ADMIN
from lenslet.storage.paths import is_clean

log = logging.getLogger("lenslet")

FORMAT = 1
ID = re.compile(r"^[0-9a-f]{16}$")  # a share's id, and an album's
SECRET = re.compile(r"^[A-Za-z0-9_-]{43}$")
PROOF = re.compile(r"^[0-9a-f]{64}$")
HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
KINDS = ("folder", "image", "images", "album")  # images: several of one folder; album: an album's images now
MAX_IMAGES = 1000
DAY = 86400.0
DEFAULT_EXPIRY = 7 * DAY
MAX_PASSWORD = 1024
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}  # makes each password guess slow
UPLOAD_CAPS = ("maxFiles", "maxBytes")
MAX_GUEST = 100  # characters of a guest's name
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY, "w": 7 * DAY}
_DURATION = re.compile(r"^\s*(\d{1,9}(?:\.\d{1,6})?)\s*([smhdw]?)\s*$")


class BadShare(ValueError):
    pass


def duration(text):
    """Parse a duration such as 7d, 12h, 30m, 2w or bare seconds into seconds."""
    match = _DURATION.match(text if isinstance(text, str) else str(text))
    if not match:
        raise ValueError(f"{str(text)[:40]!r} is not a duration: write 7d, 12h, 30m, 2w or seconds")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]


def secret_hash(secret):
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def split_key(key):
    """Return (id, secret, proof or None) of a share key, or None if it is not one."""
    if not isinstance(key, str) or len(key) > 200:
        return None
    parts = key.strip().split(".")
    if len(parts) not in (2, 3) or not ID.match(parts[0]) or not SECRET.match(parts[1]):
        return None
    if len(parts) == 3 and not PROOF.match(parts[2]):
        return None
    return parts[0], parts[1], parts[2] if len(parts) == 3 else None


def seconds_of(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def password_hash(password, salt=None):
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 1024 * 1024, **SCRYPT)
    return {"salt": salt.hex(), "hash": digest.hex(), **SCRYPT}


def password_matches(record, password):
    stored = record["password"]
    if stored is None or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return False
    again = password_hash(password, bytes.fromhex(stored["salt"]))
    return hmac.compare_digest(again["hash"], stored["hash"])


def proof_of(record, secret):
    """Return the proof that unlocks a passworded share: an HMAC keyed by its password hash, cheap to check."""
    return hmac.new(bytes.fromhex(record["password"]["hash"]), secret.encode(), hashlib.sha256).hexdigest()


def new_share(path, kind, by, now, expires_in, allow_download=True, password=None, identity=None, by_user=True,
              images=None, album=None, maker_id=None, details=False, upload=None):
    """Return a new share's record and its link key, shown once; identity pins the very
    folder or images, so another file given the name opens nothing."""
    share_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    record = {"v": FORMAT, "id": share_id, "path": path, "kind": kind, "createdBy": by, "createdAt": iso(now),
              "expires": iso(now + expires_in), "allowDownload": bool(allow_download),
              "secretHash": secret_hash(secret), "password": password_hash(password) if password else None,
              "identity": identity, "maker": "user" if by_user else "server", "details": bool(details)}
    if kind == "images":
        record["images"] = list(images)
    if kind == "album":
        record["album"] = album
    if maker_id:
        record["makerId"] = maker_id
    if upload is not None:
        record["upload"] = upload
    return record, f"{share_id}.{secret}"


def upload_of(body, kind="folder"):
    """Read what a new link lets guests add: None (nothing), or its caps, folder and whether photos show; a folder's
    link names a subfolder of it, an album's the gallery's folder its uploads land in."""
    if body.get("allowUpload", False) is False:
        return None
    if body["allowUpload"] is not True:
        raise BadRequest("allowUpload is true or false", field="allowUpload")
    upload = {"showPhotos": body.get("showPhotos", True), "folder": body.get("uploadFolder") or ""}
    if not isinstance(upload["showPhotos"], bool):
        raise BadRequest("showPhotos is true or false", field="showPhotos")
    for cap in UPLOAD_CAPS:
        value = upload[cap] = body.get(cap)
        if value is not None and (type(value) is not int or not 1 <= value <= 2 ** 53):
            raise BadRequest(f"{cap} is a whole number of at least 1, or null for no cap", field=cap)
    if not _upload_shaped(upload, kind):
        raise BadRequest("uploadFolder is one folder's name, made in the shared folder" if kind == "folder" else
                         "an album's link names the folder its uploads land in (uploadFolder)", field="uploadFolder")
    return upload


def _upload_shaped(upload, kind):
    return isinstance(upload, dict) and set(upload) == {"showPhotos", "folder", *UPLOAD_CAPS} \
        and isinstance(upload["showPhotos"], bool) and _upload_folder_shaped(upload["folder"], kind) \
        and all(upload[cap] is None or (type(upload[cap]) is int and upload[cap] >= 1) for cap in UPLOAD_CAPS)


def _upload_folder_shaped(folder, kind):
    """A folder's link names one subfolder of it, or none; an album's names a folder of the gallery."""
    if kind == "folder" and folder == "":
        return True
    return isinstance(folder, str) and is_clean(folder) and not in_trash(folder) \
        and not any(part.startswith(".") for part in folder.split("/")) and (kind == "album" or "/" not in folder)


def upload_folder(record):
    """Return the folder a link's uploads land in."""
    return join(record["path"], record["upload"]["folder"]) if record["upload"]["folder"] else record["path"]


def guest_name(raw):
    """Return a guest's name as given, cleaned, or raise BadRequest."""
    name = " ".join("".join(ch for ch in raw if ch.isprintable()).split()) if isinstance(raw, str) else ""
    if not 1 <= len(name) <= MAX_GUEST:
        raise BadRequest(f"say who you are: guest is a name of 1 to {MAX_GUEST} characters", field="guest")
    return name


def counted(data, share_id):
    """Return a link's upload counts {"files", "bytes"} from their file's bytes (None: none yet)."""
    if data is None:
        return {"files": 0, "bytes": 0}
    count = records.object_of(data, FORMAT, share_id, BadShare, "a link's upload count")
    if not all(type(count.get(name)) is int and count[name] >= 0 for name in ("files", "bytes")):
        raise BadShare("no files and bytes counted")
    return {"files": count["files"], "bytes": count["bytes"]}


# Maker names of older shares made by the server, not a user.
SERVER_NAMES = ("cli", "api", "token")


def made_by_user(record):
    """Whether a share was made by a user of the users file, so its reach follows theirs."""
    maker = record.get("maker")
    return maker == "user" if maker is not None else record["createdBy"] not in SERVER_NAMES


def reach(record, maker_scope):
    """Return the Scope a share opens now, given what its maker may see now, or None."""
    path = record["path"]
    if record["kind"] in ("images", "album"):
        seen = [image for image in record["images"] if maker_scope.allows(image)]
        # An emptied album still opens; a set of images all gone does not.
        return Scope(images=seen) if seen or record["kind"] == "album" else None
    if maker_scope.allows(path):
        return Scope([path]) if record["kind"] == "folder" else Scope(images=[path])
    inside_it = [folder for folder in maker_scope.folders if record["kind"] == "folder" and inside(folder, path)]
    return Scope(inside_it) if inside_it else None


def dumps(record):
    return orjson.dumps(record, option=orjson.OPT_INDENT_2)


def loads(data, share_id):
    """Parse and check a share file's bytes, or raise BadShare."""
    record = records.object_of(data, FORMAT, share_id, BadShare, "a share")
    if record.get("kind") not in KINDS or not (is_clean(record.get("path")) or
                                               (record.get("kind") != "image" and record.get("path") == "")):
        raise BadShare("no kind (folder, image or images) and clean path")
    if not isinstance(record.get("secretHash"), str) or not HASH.match(record["secretHash"]):
        raise BadShare("no secretHash")
    if not isinstance(record.get("allowDownload"), bool) or not isinstance(record.get("createdBy"), str):
        raise BadShare("no allowDownload or createdBy")
    if not isinstance(record.get("details", False), bool):
        raise BadShare("details of another shape")
    try:
        seconds_of(record.get("expires"))
        seconds_of(record.get("createdAt"))
    except (TypeError, ValueError):
        raise BadShare("no expires and createdAt times") from None
    identity = record.get("identity")  # absent in older records, which follow their path
    if record["kind"] == "album":
        if record["path"] != "" or not ID.match(str(record.get("album"))) or "images" in record or identity is not None:
            raise BadShare("an album's share of another shape")
    elif record["kind"] == "images":
        images = record.get("images")
        if not isinstance(images, list) or not 2 <= len(images) <= MAX_IMAGES or len(set(images)) != len(images) \
                or not all(is_clean(image) and parent_of(image) == record["path"] and is_image(name_of(image))
                           for image in images):
            raise BadShare(f"no list of 2 to {MAX_IMAGES} images of its folder")
        if identity is not None and not (isinstance(identity, list) and len(identity) == len(images)
                                         and all(map(_identity_shaped, identity))):
            raise BadShare("identities of another shape")
    elif "images" in record or "album" in record:
        raise BadShare("images in a share of one folder or image")
    elif identity is not None and not _identity_shaped(identity):
        raise BadShare("an identity of another shape")
    if "upload" in record and (record["kind"] not in ("folder", "album")
                               or not _upload_shaped(record["upload"], record["kind"])):
        raise BadShare("an upload of another shape")
    if record.get("maker", "user") not in ("user", "server"):
        raise BadShare("a maker of another kind")
    if "makerId" in record and not ID.match(str(record["makerId"])):
        raise BadShare("a makerId that is no user's id")
    stored = record.get("password")
    if stored is not None and not (isinstance(stored, dict) and all(
            isinstance(stored.get(name), str) and re.fullmatch(r"[0-9a-f]{32,128}", stored[name])
            for name in ("salt", "hash")) and all(stored.get(name) == value for name, value in SCRYPT.items())):
        raise BadShare("a password of another shape")
    return record


def _identity_shaped(identity):
    return isinstance(identity, list) and len(identity) <= 8 and all(
        isinstance(part, (str, int, float)) and not isinstance(part, bool) for part in identity)


def opens(record, secret, proof, now):
    """Return whether a key opens a live share: 'ok', 'expired', 'locked' or 'wrong'."""
    if not hmac.compare_digest(secret_hash(secret).encode(), record["secretHash"].encode()):
        return "wrong"
    if now >= seconds_of(record["expires"]):
        return "expired"
    if record["password"] is not None and (proof is None or not hmac.compare_digest(proof, proof_of(record, secret))):
        return "locked" if proof is None else "wrong"
    return "ok"


def shown(record, now):
    """Return a share as GET /shares lists it, never its hashes."""
    fields = ("id", "path", "kind", "createdBy", "createdAt", "expires", "allowDownload")
    listed = {**{name: record[name] for name in fields}, "password": record["password"] is not None,
              "expired": now >= seconds_of(record["expires"]), "details": record.get("details") is True}
    if record["kind"] == "images":
        listed["images"] = list(record["images"])
    if record["kind"] == "album":
        listed["album"] = record["album"]
    listed["allowUpload"] = "upload" in record
    if "upload" in record:
        listed["upload"] = dict(record["upload"])
    return listed


def images_of(paths):
    """Check the paths of a share of several images: two or more images of one folder."""
    if not isinstance(paths, list) or len(paths) > MAX_IMAGES or not all(map(is_clean, paths)) or len(set(paths)) < 2:
        raise BadRequest(f"paths is a list of 2 to {MAX_IMAGES} image paths (one image: path)", field="paths")
    paths = sorted(set(paths))
    if len({parent_of(path) for path in paths}) != 1:
        raise BadRequest("the images shared together are of one folder: share each folder's own", field="paths")
    for path in paths:
        if in_trash(path) or not is_image(name_of(path)):
            raise BadRequest("only images are shared together", path=path)
    return paths


def kind_of(path, is_folder):
    """Return "folder" or "image" for a share of path, or raise BadRequest."""
    if in_trash(path):
        raise BadRequest("images in the trash are not shared", path=path)
    if is_folder:
        return "folder"
    if not is_image(name_of(path)):
        raise BadRequest("only folders and images are shared", path=path)
    return "image"


def share_key(share_id):
    return join(SHARES, share_id + ".json")


def count_key(share_id):
    return join(SHARE_UPLOADS, share_id + ".json")


def made_by(principal, record):
    """Whether a share is the principal's own."""
    return principal.is_maker(record.get("makerId"), record["createdBy"])


class Shares:
    def __init__(self, storage, max_days=90.0, clock=time.time, identify=None, album_images=None):
        self.storage, self.max_expiry, self.clock = storage, max_days * DAY, clock
        self.identify = identify  # path -> what is there; None: shares follow paths
        self.album_images = album_images  # (album id, maker) -> (paths, {path: hash}), None: gone

    def make(self, principal, path, kind, expires_in=None, allow_download=True, password=None, images=None,
             album=None, details=False, upload=None):
        """Make a share the principal may make; return (the record as listed, its key)."""
        if not principal.can_write or principal.share is not None:
            raise Forbidden("only edit and admin users share folders and images")
        if kind not in KINDS:
            kind = "image" if is_image(path.rpartition("/")[2]) else "folder"
        expires_in = DEFAULT_EXPIRY if expires_in is None else expires_in
        if not 60 <= expires_in <= self.max_expiry:
            raise BadRequest(f"a share lasts from a minute to {self.max_expiry / DAY:g} days "
                             "(LENSLET_SHARE_MAX_DAYS)", field="expires")
        if upload is not None and kind not in ("folder", "album"):
            raise BadRequest("guests add photos through a link of a folder or an album", field="allowUpload")
        if password is not None and (not isinstance(password, str) or not 1 <= len(password) <= MAX_PASSWORD):
            raise BadRequest(f"a password has 1 to {MAX_PASSWORD} characters", field="password")
        now, identity = self.clock(), None
        if self.identify is not None and kind != "album":
            identity = [self.identify(image) for image in images] if kind == "images" else self.identify(path)
        by_user = principal.kind == "user" and principal.name != TOKEN_ADMIN
        record, key = new_share(path, kind, principal.name, now, expires_in, allow_download, password, identity,
                                by_user, images, album, principal.user_id or None, details, upload)
        self.storage.create(share_key(record["id"]), dumps(record))
        log.info("share %s of %s made by %s until %s", record["id"], f"album {album}" if album else path or "/",
                 principal.name, record["expires"])
        return shown(record, now), key

    def read(self, share_id):
        """Return (record, version) of a share, or (None, None) if there is no valid one."""
        try:
            data, version = self.storage.read_versioned(share_key(share_id))
            return (None, None) if data is None else (loads(data, share_id), version)
        except (Foreign, BadShare) as ex:
            log.error("%s is not a share lenslet made (%s): it opens nothing", share_key(share_id),
                      getattr(ex, "description", ex))
            return None, None

    def as_now(self, record, maker):
        """Return the share as what it names is now, or None; a file renamed into its place never counts."""
        if record["kind"] == "album":
            held = None if self.album_images is None else self.album_images(record["album"], maker)
            return None if held is None else {**record, "images": held[0], "hashes": held[1]}
        if record.get("identity") is None or self.identify is None:
            return record  # an older share: it follows its path
        if record["kind"] == "images":
            kept = [image for image, identity in zip(record["images"], record["identity"], strict=True)
                    if self._is(image, identity)]
            return {**record, "images": kept} if kept else None
        return record if self._is(record["path"], record["identity"]) else None

    def _is(self, path, identity):
        try:
            return self.identify(path) == identity
        except LensletError:
            return False

    def open(self, key):
        """Return (verdict, record) for a link's key: ok, expired, locked, wrong or unknown."""
        parts = split_key(key)
        record = None if parts is None else self.read(parts[0])[0]
        if record is None:
            return "unknown", None
        _, secret, proof = parts
        return opens(record, secret, proof, self.clock()), record

    def unlock(self, key, password):
        """Return the key with the proof of password, or None if wrong."""
        verdict, record = self.open(key)
        if verdict not in ("ok", "locked"):
            return None
        if record["password"] is None:
            return key
        if not password_matches(record, password):
            return None
        share_id, secret, _ = split_key(key)
        return f"{share_id}.{secret}.{proof_of(record, secret)}"

    def listed(self, principal):
        """Return the shares a principal may see, newest first."""
        try:
            names = self.storage.list_names(SHARES)
        except NotFound:
            return []
        now, found = self.clock(), []
        for name in names:
            if not name.endswith(".json"):
                continue
            record, _ = self.read(name[:-5])
            if record is not None and (principal.admin or made_by(principal, record)):
                found.append(shown(record, now))
                if "upload" in record:
                    found[-1]["uploaded"] = self.uploads(record["id"])
        return sorted(found, key=lambda share: (share["createdAt"], share["id"]), reverse=True)

    def revoke(self, principal, share_id):
        """Remove a share; another's answers as missing unless the principal is an admin."""
        missing = NotFound("no such share", id=share_id[:40])
        if not ID.match(share_id):
            raise missing
        record, version = self.read(share_id)
        if record is None or not (principal.admin or made_by(principal, record)):
            raise missing
        try:
            self.storage.delete_if(share_key(share_id), version)
        except (NotFound, PreconditionFailed):
            raise missing from None  # another revoke won the race
        log.info("share %s of %s revoked by %s", share_id, record["path"] or "/", principal.name)
        with contextlib.suppress(LensletError):
            self.storage.delete(count_key(share_id))
        return {"ok": True, "id": share_id}

    def uploads(self, share_id):
        """Return what guests added through a link: {"files", "bytes"}; a count lenslet cannot read as none."""
        try:
            return counted(self.storage.read_versioned(count_key(share_id))[0], share_id)
        except (Foreign, BadShare):
            return {"files": 0, "bytes": 0}

    def receive(self, record, size, store):
        """Count an upload of size bytes against a link's caps before it is stored, so two guests never pass a cap
        together; store(check) stores it, calling check() once the bytes are in, and a failed one is not counted."""
        self._count(record, 1, size)
        try:
            return store(lambda: self._still_open(record["id"]))
        except BaseException:
            self._count(record, -1, -size)
            raise

    def _count(self, record, files, size):
        caps = record["upload"]

        def change(data, version):
            try:
                count = counted(data, record["id"])
            except BadShare:
                log.error("%s is not a count lenslet made: the link takes nothing until it is removed",
                          count_key(record["id"]))
                raise Forbidden("this link's upload count cannot be read: its maker must look at it") from None
            count = {"v": FORMAT, "id": record["id"], "files": max(0, count["files"] + files),
                     "bytes": max(0, count["bytes"] + size)}
            if files > 0 and caps["maxFiles"] is not None and count["files"] > caps["maxFiles"]:
                raise Forbidden(f"this link takes {caps['maxFiles']} files, and has them all", cap="maxFiles")
            if files > 0 and caps["maxBytes"] is not None and count["bytes"] > caps["maxBytes"]:
                raise TooLarge(f"this link takes {caps['maxBytes']} bytes in all: this file is more than is left",
                               cap="maxBytes", limit=caps["maxBytes"])
            return orjson.dumps(count)

        self.storage.update(count_key(record["id"]), change)

    def _still_open(self, share_id):
        record = self.read(share_id)[0]
        if record is None or "upload" not in record or self.clock() >= seconds_of(record["expires"]):
            raise NotFound("the link was revoked or expired while the file was sent: it was not kept")
