"""The browse tree: the root storage plus the trees that pointer folders graft into it."""

import os
import threading
import time
from typing import NamedTuple

from lenslet.errors import BadRequest, BrokenPointer, Conflict, Forbidden, NotFound, PointerLoop, UnsupportedMedia
from lenslet.layout import MOUNTS, POINTER_FILE, is_internal, join, mime_of, name_of
from lenslet.storage import LocalStorage, real_folder, version_of
from lenslet.tree import pointers


class Place(NamedTuple):
    """Where a browse path lives: a storage, the key inside it, and the browse path of its root."""

    storage: object
    key: str
    prefix: str
    readonly: bool


class Tree:
    # Pointer files are rarely placed: a folder's pointer is trusted this long.
    POINTER_TTL = 1.0
    POINTER_TTL_REMOTE = 60.0

    def __init__(self, config, storage, clock=time.monotonic):
        self.root = storage
        self.allowed = tuple(filter(None, (real_folder(path) for path in config.pointer_roots)))
        self.buckets = set(config.pointer_buckets)
        self.mounts = {}
        self.pointers = {}  # (identity, folder) -> (expires, pointer or None)
        self.clock = clock
        self.lock = threading.Lock()

    def locate(self, key, is_file=False):
        """Follow pointer folders along a browse path to its Place; is_file: the last part names a file."""
        storage, prefix, rest, readonly = self.root, "", key, self.root.readonly
        chain, seen = [], {self.root.identity}
        while True:
            parts = rest.split("/") if rest else []
            # The root of a pointer's target may itself be a pointer.
            for depth in range(0 if chain else 1, len(parts) + (0 if is_file else 1)):
                folder = "/".join(parts[:depth])
                pointer = self._pointer_at(storage, folder, join(prefix, folder))
                if pointer is not None:
                    break
            else:
                return Place(storage, rest, prefix, readonly)
            here = join(prefix, folder)
            chain.append(here or "/")
            target = self._mount(pointer, here)
            if target.identity in seen or len(chain) > pointers.MAX_DEPTH:
                raise PointerLoop("pointer folders lead in a circle or too deep", chain=chain)
            seen.add(target.identity)
            storage, prefix, rest = target, here, "/".join(parts[depth:])
            readonly = readonly or pointer["readonly"]

    def locate_image(self, path, writing=False):
        """Return (Place, Stat) of the image at a browse path, refusing what is not one."""
        name = name_of(path)
        if not path or is_internal(name):
            raise NotFound("no such image", path=path)  # lenslet's own files are never items
        if mime_of(name) is None:
            raise UnsupportedMedia("not an image path (JPEG, PNG, WebP, AVIF, GIF, HEIC or a camera's raw file)",
                                   path=path)
        place = self.locate(path, is_file=True)
        if writing and place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        stat = place.storage.stat_image(place.key)
        if stat.is_dir:
            raise BadRequest("is a folder, not an image", path=path)
        return place, stat

    def opened(self, path):
        """The browse path of what storage opens for path, links and pointers followed: access is decided on it."""
        place = self.locate(path)
        key = place.storage.real_key(place.key)
        if place.storage is self.root:
            return key
        inner = self.root.key_of(place.storage, key)
        return join(place.prefix, key) if inner is None else inner

    def identity(self, path):
        """What the item at a browse path is, whatever path reaches it (a share is bound to it)."""
        place = self.locate(path)
        found = list(place.storage.identity_of(place.key))
        if not place.storage.folder_mtimes:
            stat = place.storage.stat(place.key)
            if not stat.is_dir:
                found += [stat.size, stat.mtime]
        return found

    def is_folder(self, path):
        place = self.locate(path)
        return place.storage.stat(place.key).is_dir

    def forget_pointer(self, storage, folder):
        """Drop what is known of a folder's pointer file, so the next look reads it afresh."""
        self.pointers.pop((storage.identity, folder), None)

    def _pointer_at(self, storage, folder, where):
        now = self.clock()
        cached = self.pointers.get((storage.identity, folder))
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            data = storage.read(join(folder, POINTER_FILE))
        except (NotFound, BadRequest):
            data = None
        except Conflict as ex:  # a FIFO or a link holds the name
            raise BrokenPointer(ex.description, path=where) from None
        try:
            pointer = pointers.parse(data, where) if data is not None else None
        except BadRequest as ex:
            raise BrokenPointer(ex.description, path=where) from None
        if len(self.pointers) > 10_000:
            self.pointers.clear()
        ttl = self.POINTER_TTL if storage.folder_mtimes else self.POINTER_TTL_REMOTE
        self.pointers[(storage.identity, folder)] = (now + ttl, pointer)
        return pointer

    def _mount(self, pointer, where):
        if pointer["type"] == "s3":
            return self._mount_s3(pointer, where)
        real = real_folder(pointer["path"])
        if real is None:
            raise BrokenPointer("pointer target is not a folder", path=where, target=pointer["path"])
        pointers.check_local_target(real, self.allowed, where)
        if getattr(self.root, "grafted", None) is not None:
            kept = getattr(self.root.state, "root", None)  # a state root on disk
            if kept is not None and os.path.commonpath((kept, real)) in (kept, real):
                # it would show lenslet's own files as a tree
                raise Forbidden("pointer target overlaps the state root (LENSLET_STATE)", path=where, target=real)
            return self._grafted((real, where), lambda: LocalStorage(
                real, state_dir=self.root.mount_state(where), readonly=not self.root.xmp_words, create=False,
                lock_dir=self.root.lock_dir))
        # A read-only target keeps its state under ours.
        state = os.path.join(self.root.state_root, name_of(MOUNTS), version_of(real.encode())) \
            if pointer["readonly"] else None
        # One lock folder for the gallery: an image reached by two paths has one lock.
        return self._mounted((real, pointer["readonly"]), lambda: LocalStorage(
            real, state_dir=state, readonly=pointer["readonly"], lock_dir=getattr(self.root, "lock_dir", None)))

    def _mount_s3(self, pointer, where):
        if pointer["bucket"] not in self.buckets:
            raise Forbidden("pointer target bucket is not in LENSLET_POINTER_BUCKETS", path=where,
                            target=pointer["bucket"])
        from lenslet.storage.s3 import S3Storage  # boto3 only when a tree uses S3
        ident = (pointer["bucket"], pointer["prefix"], pointer["endpoint"], pointer["region"])
        if getattr(self.root, "grafted", None) is not None:
            return self._grafted((ident, where), lambda: S3Storage(*ident, state_root=self.root.mount_state(where)))
        if pointer["readonly"]:
            raise BrokenPointer("read-only S3 pointer targets are not supported yet (but under a state root, "
                                "LENSLET_STATE)", path=where)
        state = os.path.join(self.root.state_root, name_of(MOUNTS))
        return self._mounted(ident, lambda: S3Storage(*ident, state_root=state))

    def _grafted(self, ident, target):
        """One read-only mount per pointer place, with lenslet's files kept in the state root below it."""
        return self._mounted(ident, lambda: self.root.grafted(target(), ident[1]))

    def _mounted(self, ident, make):
        with self.lock:
            mount = self.mounts.get(ident)
            if mount is None:
                mount = self.mounts[ident] = make()
            return mount
