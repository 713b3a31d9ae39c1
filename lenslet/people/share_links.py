"""Keep share links in the state folder, read at each use so a revoke takes effect everywhere at once."""

import logging
import time

from lenslet.errors import BadRequest, Forbidden, Foreign, LensletError, NotFound, PreconditionFailed
from lenslet.layout import SHARES, is_image, join
from lenslet.people import shares
from lenslet.people.users import TOKEN_ADMIN

log = logging.getLogger("lenslet")


def share_key(share_id):
    return join(SHARES, share_id + ".json")


def made_by(principal, record):
    """Whether a share is the principal's own."""
    return principal.is_maker(record.get("makerId"), record["createdBy"])


class Shares:
    def __init__(self, storage, max_days=90.0, clock=time.time, identify=None, album_images=None):
        self.storage = storage
        self.max_expiry = max_days * shares.DAY
        self.clock = clock
        self.identify = identify  # path -> what is there; None: shares follow paths
        self.album_images = album_images  # (album id, maker) -> (paths, {path: hash}), None: gone

    def make(self, principal, path, kind, expires_in=None, allow_download=True, password=None, images=None,
             album=None, details=False):
        """Make a share the principal may make; return (the record as listed, its key)."""
        if not principal.can_write or principal.share is not None:
            raise Forbidden("only edit and admin users share folders and images")
        if kind not in shares.KINDS:
            kind = "image" if is_image(path.rpartition("/")[2]) else "folder"
        expires_in = shares.DEFAULT_EXPIRY if expires_in is None else expires_in
        if not 60 <= expires_in <= self.max_expiry:
            raise BadRequest(f"a share lasts from a minute to {self.max_expiry / shares.DAY:g} days "
                             "(LENSLET_SHARE_MAX_DAYS)", field="expires")
        if password is not None and (not isinstance(password, str) or not 1 <= len(password) <= shares.MAX_PASSWORD):
            raise BadRequest(f"a password has 1 to {shares.MAX_PASSWORD} characters", field="password")
        now = self.clock()
        identity = None
        if self.identify is not None and kind != "album":
            identity = [self.identify(image) for image in images] if kind == "images" else self.identify(path)
        by_user = principal.kind == "user" and principal.name != TOKEN_ADMIN
        record, key = shares.make(path, kind, principal.name, now, expires_in, allow_download, password, identity,
                                  by_user, images, album, principal.user_id or None, details)
        self.storage.create(share_key(record["id"]), shares.dumps(record))
        log.info("share %s of %s made by %s until %s", record["id"], f"album {album}" if album else path or "/",
                 principal.name, record["expires"])
        return shares.shown(record, now), key

    def read(self, share_id):
        """Return (record, version) of a share, or (None, None) if there is no valid one."""
        try:
            data, version = self.storage.read_versioned(share_key(share_id))
        except Foreign as ex:
            log.error("%s is not a share lenslet made (%s): it opens nothing", share_key(share_id), ex.description)
            return None, None
        if data is None:
            return None, None
        try:
            return shares.loads(data, share_id), version
        except shares.BadShare as ex:
            log.error("%s is not a share lenslet made (%s): it opens nothing", share_key(share_id), ex)
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
        parts = shares.split_key(key)
        if parts is None:
            return "unknown", None
        share_id, secret, proof = parts
        record, _ = self.read(share_id)
        if record is None:
            return "unknown", None
        return shares.opens(record, secret, proof, self.clock()), record

    def unlock(self, key, password):
        """Return the key with the proof of password, or None if wrong."""
        verdict, record = self.open(key)
        if verdict not in ("ok", "locked"):
            return None
        if record["password"] is None:
            return key
        if not shares.password_matches(record, password):
            return None
        share_id, secret, _ = shares.split_key(key)
        return f"{share_id}.{secret}.{shares.proof_of(record, secret)}"

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
                found.append(shares.shown(record, now))
        return sorted(found, key=lambda share: (share["createdAt"], share["id"]), reverse=True)

    def revoke(self, principal, share_id):
        """Remove a share; another's answers as missing unless the principal is an admin."""
        missing = NotFound("no such share", id=share_id[:40])
        if not shares.ID.match(share_id):
            raise missing
        record, version = self.read(share_id)
        if record is None or not (principal.admin or made_by(principal, record)):
            raise missing
        try:
            self.storage.delete_if(share_key(share_id), version)
        except (NotFound, PreconditionFailed):
            raise missing from None  # another revoke won the race
        except LensletError:
            raise
        log.info("share %s of %s revoked by %s", share_id, record["path"] or "/", principal.name)
        return {"ok": True, "id": share_id}
