"""Share links kept in the state folder, one file each (`.lenslet/shares/<id>.json`), so every web
process and every host on one bucket agree. A link is read from storage each time it is used: an
expired or revoked one answers 404 at once everywhere."""

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
    """Whether a share is the principal's own (by the maker's id; a record without one by name)."""
    return principal.is_maker(record.get("makerId"), record["createdBy"])


class Shares:
    """Make, find, list and revoke share links."""

    def __init__(self, storage, max_days=90.0, clock=time.time, identify=None, album_images=None):
        self.storage = storage
        self.max_expiry = max_days * shares.DAY
        self.clock = clock
        self.identify = identify  # a browse path -> what is there (Tree.identity); None: shares follow paths
        self.album_images = album_images  # (album id, its maker now) -> (paths, {path: hash}) it holds now, None: gone

    def make(self, principal, path, kind, expires_in=None, allow_download=True, password=None, images=None,
             album=None, details=False):
        """A new share of a folder, an image, images of one folder (images, path their folder) or an album (its
        id; path "") the principal may change: (the record as listed, its key)."""
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
        """(record, version) of a share, or (None, None) when there is none (or its file is not a share's:
        a FIFO, a link or a folder in its place is never opened, a forged record opens nothing)."""
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
        """The share as what it names is now (None: nothing of it any more): the very folder or image that was
        shared, not another one given its name since (moved, renamed or trashed, it opens nothing; back, it
        does); of several images, those still there; of an album, what it holds now (nothing once it is removed;
        a smart album's, what its search finds for maker, the Principal the share's reach follows now)."""
        if record["kind"] == "album":
            held = None if self.album_images is None else self.album_images(record["album"], maker)
            return None if held is None else {**record, "images": held[0], "hashes": held[1]}
        if record.get("identity") is None or self.identify is None:
            return record  # a share of the last release: it follows its path, as it always did
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
        """(verdict, record) for a link's key: verdict ok, expired, locked, wrong or unknown."""
        parts = shares.split_key(key)
        if parts is None:
            return "unknown", None
        share_id, secret, proof = parts
        record, _ = self.read(share_id)
        if record is None:
            return "unknown", None
        return shares.opens(record, secret, proof, self.clock()), record

    def unlock(self, key, password):
        """The key with its proof for the right password (a share without one: the key as it is); None else."""
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
        """The shares a principal may see (their own; an admin's: all), newest first."""
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
        """Remove a share; another's (unless an admin's) answers as a missing one."""
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
