"""A library lenslet only reads, and a state root that holds everything lenslet writes (LENSLET_STATE)."""

import os

from lenslet.errors import BadPath, BadRequest, Conflict, Forbidden, Foreign, LensletError, NotAFolder, NotFound
from lenslet.layout import (
    FOLDER_SIDECAR,
    MOUNTS,
    POINTER_FILE,
    STATE,
    THUMB,
    is_lenslets,
    is_made,
    is_state,
    is_xmp,
    join,
    name_of,
    parent,
    split_lenslets,
)
from lenslet.storage.base import Verbs, version_of
from lenslet.storage.local import LocalStorage, is_utf8

LIBRARY_READ_ONLY = ("the library is read-only: lenslet keeps its own files in the state root (LENSLET_STATE) "
                     "and never adds, moves or removes a file of the library")

# Answers instead of NotFound where nothing is kept.
_NONE_KEPT = {"exists": False, "is_file": False, "read_versioned": (None, None), "read_small": (None, None)}


def _reading(verb):
    """A reading verb, asked of where its key is kept (see StateRooted._read)."""
    return lambda self, key, *args, **kwargs: self._read(verb, key, *args, **kwargs)


def _writing(verb, making=True):
    """A writing verb, of lenslet's files only (see StateRooted._writable)."""
    def write(self, key, *args, **kwargs):
        storage, kept = self._writable(key, making)
        return getattr(storage, verb)(kept, *args, **kwargs)
    return write


class StateRooted:
    """Send lenslet's own files to the state root, and all else to the library."""

    def __init__(self, library, state, xmp_words=False):
        self.library = library
        self.state = state
        self.identity, self.backend, self.folder_mtimes = library.identity, library.backend, library.folder_mtimes
        self.stat_image = library.stat  # asked past the routing
        self.links = library.backend == "local"  # a bucket has no links
        self.readonly = state.readonly
        self.xmp_words = xmp_words  # LENSLET_WORDS=both or xmp: lenslet may write XMP sidecars in the library
        # A bucket's lock leases are objects: kept where lenslet may write.
        self.locks = library if library.backend == "local" else state

    def __repr__(self):
        return f"StateRooted({self.library!r}, state={self.state!r})"

    # Asked of a storage beyond its verbs.
    root = property(lambda self: getattr(self.library, "root", None))
    state_root = property(lambda self: self.state.state_root)
    lock_dir = property(lambda self: getattr(self.locks, "lock_dir", None))

    def _at(self, key):
        """(storage, key) of what key names: lenslet's file in the state root, anything else in the library."""
        return (self.state, self._kept(key)) if is_lenslets(key) else (self.library, key)

    def _kept(self, key):
        """Where the state root keeps lenslet's file key: below its folder's real path, so a folder link shares it."""
        folder, _, name = key.rpartition("/")
        if name.endswith(THUMB) or is_state(key):
            return key
        real = self._real_folder(folder)
        if real == folder:
            return key
        # Kept at the link's own path already: it stays there.
        try:
            kept_here = self.state.exists(key)
        except NotAFolder:
            kept_here = False
        return key if kept_here else join(real, name)

    def _real_folder(self, folder):
        """The library's key of what folder opens, or folder itself (a link out, a folder gone)."""
        if not folder or not self.links:
            return folder
        try:
            real = self.library.real_key(folder)
        except LensletError:
            return folder
        return folder if real is None or is_state(real) or not is_utf8(real) else real

    def _browsed(self, key):
        """The storage of a browse path (never lenslet's own file, whatever its name)."""
        return self.state if is_state(key) else self.library

    def _library_folder(self, key):
        try:
            found = self.library.stat(key)
        except (NotFound, BadPath):
            return None
        return found if found.is_dir else None

    def _folder_there(self, key):
        """Refuse a write of lenslet's file where its library folder is gone or a library folder holds its name."""
        if is_state(key):
            return
        if self._library_folder(key) is not None:
            kept = self._kept(key)
            if self._kept_file(kept) is not None:
                self._drop_made(kept)
            raise Foreign("a folder of the library holds this name; lenslet never writes in its place", path=key)
        folder = parent(key)
        if folder and not self.library.stat(folder).is_dir:
            raise NotFound("no such folder in the library", path=folder)
        self._clear_way(parent(self._kept(key)))

    def _clear_way(self, folder):
        """Remove lenslet's remakeable files in the way of library folders made since (disk only)."""
        if self.state.backend != "local":
            return
        on_the_way = []
        while folder:
            on_the_way.append(folder)
            folder = parent(folder)
        for folder in reversed(on_the_way):
            if is_lenslets(folder) and self._kept_file(folder) is not None and not self._drop_made(folder):
                raise Foreign("the state root keeps a photo's words at this folder's name; lenslet keeps "
                              "nothing for the folder until one of the two is renamed", path=folder)

    def _kept_file(self, key):
        """The state root's Stat of the file at key, or None."""
        try:
            found = self.state.stat(key)
        except (NotFound, BadPath, NotAFolder):
            return None
        return None if found.is_dir else found

    def _drop_made(self, key):
        """Remove a file lenslet made in the state root; False for a person's words."""
        if not is_made(name_of(key), at_root=not parent(key)):
            return False
        try:
            self.state.delete(key)
        except NotFound:
            pass
        except LensletError:
            if self._kept_file(key) is not None:
                raise
            # removed meanwhile: the way is clear
        return True

    # -- reading

    def list_folder(self, key):
        """The library folder's entries, with lenslet's files taken from the state root."""
        if is_state(key):
            return self.state.list_folder(key)
        # A folder is never lenslet's file, whatever its name; only the state folder is.
        named_like_ours, entries = split_lenslets(self.library.list_folder(key))
        folders = {entry.name for entry in named_like_ours if entry.is_dir and entry.name != STATE}
        entries += [entry for entry in named_like_ours if entry.name in folders]
        real = self._real_folder(key)
        kept = self._kept_in(real)
        if real != key:  # a folder link: what is kept at its own path comes first
            own = self._kept_in(key)
            names = {entry.name for entry in own}
            kept = own + [entry for entry in kept if entry.name not in names]
        if folders:  # a library folder beats a file lenslet made at its name; a photo's words stay
            kept = [entry for entry in kept if entry.name not in folders or not is_made(entry.name, not key)]
        return entries + kept

    def _kept_in(self, folder):
        try:
            kept = self.state.list_folder(folder)
        except (NotFound, BadRequest, Conflict):
            # none kept yet, or no folder of lenslet's there
            return []
        return [entry for entry in split_lenslets(kept)[0] if not entry.is_dir]

    def list_names(self, key, prefix=""):
        storage, key = self._at(key)
        return storage.list_names(key, prefix)

    def watch(self):
        return self.library.watch()

    def has_subfolders(self, key):
        return self.library.has_subfolders(key)

    def _read(self, verb, key, *args, **kwargs):
        """Ask a reading verb of where key is kept."""
        storage, kept = self._at(key)
        try:
            return getattr(storage, verb)(kept, *args, **kwargs)
        except NotAFolder:
            if storage is self.library:
                raise
            if verb in _NONE_KEPT:
                return _NONE_KEPT[verb]
            raise NotFound("nothing is kept for it: what holds its folder's place in the state root is no folder "
                           "of lenslet's (a photo's words, a link)", path=key) from None

    def stat(self, key):
        if not is_lenslets(key) or is_state(key):
            return self._browsed(key).stat(key)
        try:
            found = self.state.stat(self._kept(key))
        except (NotFound, NotAFolder):
            found = None
        # At a name lenslet uses for a file, a library folder wins (as in list_folder).
        there = self._library_folder(key)
        if there is not None:
            return there
        if found is None:
            raise NotFound("no such file or folder", path=key)
        return found

    def folder_version(self, key):
        """The library folder's mtime, and the time of its settings in the state root (a picked cover)."""
        try:
            kept = self.state.stat(self._kept(join(key, FOLDER_SIDECAR)))
        except (NotFound, NotAFolder, BadRequest, Conflict):
            kept = None  # none picked
        return (self.library.stat(key).mtime,) + ((kept.mtime, kept.size) if kept is not None else ())

    def identity_of(self, key):
        return self._browsed(key).identity_of(key)

    stat_file = _reading("stat_file")

    def first_file(self, folder, names):
        # In one asking of the library where it keeps them all (another tool's XMP), or a name at a time.
        if any(is_lenslets(join(folder, name)) for name in names):
            return Verbs.first_file(self, folder, names)
        return self.library.first_file(folder, names)

    exists = _reading("exists")
    is_file = _reading("is_file")
    read = _reading("read")
    read_with_stat = _reading("read_with_stat")
    open_with_stat = _reading("open_with_stat")
    read_versioned = _reading("read_versioned")
    read_small = _reading("read_small")
    read_fresh = _reading("read_fresh")
    open = _reading("open")
    open_seekable = _reading("open_seekable")
    open_head = _reading("open_head")
    open_range = _reading("open_range")

    # -- writing: lenslet's files only

    def _writable(self, key, making=True):
        """(storage, key) for a write of lenslet's file; making: it needs its library folder."""
        if not is_lenslets(key):
            if self.xmp_words and is_xmp(name_of(key)):
                return self.library, key
            raise Forbidden(LIBRARY_READ_ONLY, path=key, reason="library-read-only")
        if making:
            self._folder_there(key)
        return self.state, self._kept(key)

    write = _writing("write")
    create = _writing("create")
    overwrite = _writing("overwrite")
    replace_if = _writing("replace_if")
    update = _writing("update")
    write_stream = _writing("write_stream")
    delete = _writing("delete", making=False)
    delete_if = _writing("delete_if", making=False)

    def sync(self, keys):
        self.state.sync([self._kept(key) for key in keys if is_lenslets(key)])

    def rename(self, src, dst, resume=False, durable=True):
        _, src = self._writable(src, making=False)
        storage, dst = self._writable(dst)
        storage.rename(src, dst, resume, durable)

    def make_folder(self, key):
        if not is_state(key):
            raise Forbidden(LIBRARY_READ_ONLY, path=key, reason="library-read-only")
        self.state.make_folder(key)

    def remove_folder(self, key):
        if not is_state(key):
            raise Forbidden(LIBRARY_READ_ONLY, path=key, reason="library-read-only")
        self.state.remove_folder(key)

    def same(self, a, b):
        storage, a = self._at(a)
        return storage.same(a, self._at(b)[1])

    # -- folders gone from the library

    def left_behind(self, folder=""):
        """{folder: file names} of state-root folders whose library folder is gone; empty ones with no sidecar go."""
        found, stack = {}, [folder]
        while stack:
            key = stack.pop()
            try:
                entries = self.state.list_folder(key)
            except LensletError:
                continue
            if key and is_pointer_folder(self.library, key):
                continue  # a pointer folder: what lies below is its target's
            stack.extend(join(key, entry.name) for entry in entries if entry.is_dir and join(key, entry.name) != STATE)
            if not key or self._library_folder(key) is not None:
                continue
            names = [entry.name for entry in entries if not entry.is_dir]
            if any(not is_made(name, at_root=False) for name in names) or any(entry.is_dir for entry in entries):
                found[key] = names
            else:
                self._sweep(key, names)
        return found

    def grafted(self, target, place):
        """A pointer folder's target as a read-only gallery, lenslet's files for it kept below place."""
        self._clear_way(place)
        return StateRooted(target, beneath(self.state, place), self.xmp_words)

    def mount_state(self, place):
        return mount_state_of(self.state, place)

    def _sweep(self, key, names):
        try:
            for name in names:
                if is_made(name, at_root=False):
                    self.state.delete(join(key, name))
            self.state.remove_folder(key)
        except LensletError:
            pass  # the next deep scan looks again

    # -- locks

    def lock_images(self, keys):
        return self.locks.lock_images(keys)

    def edits_under_way(self, folder):
        return self.locks.edits_under_way(folder)

    # -- names

    def real_key(self, key):
        return self._browsed(key).real_key(key)

    def key_of(self, other, key):
        return self.library.key_of(getattr(other, "library", other), key)

    def derived_key(self, key):
        return key  # already in the state root, at the image's own key

    def derived_at(self, key):
        return self.state, key

    def root_file_key(self, name):
        key = self.state.root_file_key(name)
        if key == name and self._library_folder(name) is not None:
            return join(STATE, name)  # a library folder holds the name
        return key

    def accel_path(self, key):
        return None if is_lenslets(key) else self.library.accel_path(key)

    def presign(self, key, seconds=300, content_type=None):
        storage, key = self._at(key)
        return storage.presign(key, seconds, content_type)

    def probe(self):
        """The library's report (never writable), and whether the state root can be written."""
        report, kept = dict(self.library.probe(), writable=False), self.state.probe()
        report["state"] = {name: kept[name] for name in ("backend", "readable", "writable", "unavailable", "diskFull")
                           if name in kept}
        return report


def beneath(state, place):
    """The part of a state root below place, as a storage of its own."""
    if state.backend == "local":
        path = os.path.join(state.root, *place.split("/"))
        try:
            in_the_way = not state.stat(place).is_dir
        except NotFound:
            in_the_way = False
        except NotAFolder:
            in_the_way = True  # a link on the way, never followed
        grafted = None if in_the_way else LocalStorage(path, state_dir=mount_state_of(state, place), state_tree=True)
        if grafted is None or grafted.root != path:  # or a link put there meanwhile
            raise Foreign("a link or file holds this pointer folder's place in the state root; lenslet never "
                          "follows nor writes through it", path=place)
        return grafted
    from lenslet.storage.s3 import S3Storage
    return S3Storage(state.bucket, join(state.prefix.rstrip("/"), place), state.endpoint or "", state.region or "",
                     state_root=mount_state_of(state, place))


def mount_state_of(state, place):
    return os.path.join(state.state_root, name_of(MOUNTS), version_of(place.encode("utf-8", "surrogateescape")))


def is_pointer_folder(library, key):
    try:
        return library.exists(join(key, POINTER_FILE))
    except LensletError:
        return False
