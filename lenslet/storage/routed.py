"""A library lenslet only reads, and a state root that holds everything lenslet writes (LENSLET_STATE).

`StateRooted` has the verbs of every storage and sends each key to one of two: a key lenslet
owns (layout.is_lenslets: its state folder, sidecars, thumbnails, listing pages, the rollup and
report, a folder's own settings) to the state root, at the library's relative path; every other
key (images, folders, other tools' XMP, pointer files) to the library, which refuses every
write. A folder is never lenslet's file, whatever its name (a library folder `export.json/` is the
library's). So no caller above storage knows there are two: a listing lists the library's folder and
finds its sidecars and thumbnails beside the images as ever (list_folder merges the two), a
folder's time is the library's (an edit, which writes only in the state root, never moves it),
and the locks of an image are named by its file in the library.
"""

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
from lenslet.storage.base import version_of
from lenslet.storage.local import LocalStorage

# What a file operation on the library answers (upload, move, trash, delete, new folder).
LIBRARY_READ_ONLY = ("the library is read-only: lenslet keeps its own files in the state root (LENSLET_STATE) "
                     "and never adds, moves or removes a file of the library")


# What the reading verbs that tell "none" without an error answer for a key nothing is kept for (_read).
_NONE_KEPT = {"exists": False, "read_versioned": (None, None), "read_small": (None, None)}


class StateRooted:
    """A library read through one storage, lenslet's own files kept in another."""

    library_readonly = True

    def __init__(self, library, state, xmp_words=False):
        self.library = library
        self.state = state
        # Asked at every read (caches are keyed by the identity; a thumbnail's place asks readonly): values, not
        # properties, as they never change.
        self.identity, self.backend, self.folder_mtimes = library.identity, library.backend, library.folder_mtimes
        self.stat_image = library.stat  # an image is the library's: asked past the routing (Storage.stat_image)
        self.links = library.backend == "local"  # where a folder may be a link (a bucket's keys are what they say)
        self.readonly = state.readonly
        # LENSLET_WORDS=both or xmp: what people write goes to the XMP sidecars beside the photos, the one kind of
        # file lenslet then writes in the library (conditionally: sidecar/store.py's mirror_to_xmp).
        self.xmp_words = xmp_words
        # Locks name an image by its file where files have names of their own (a disk); a bucket's
        # leases are objects, written where lenslet may write.
        self.locks = library if library.backend == "local" else state

    def __repr__(self):
        return f"StateRooted({self.library!r}, state={self.state!r})"

    # What the rest of lenslet asks of a storage beyond its verbs.
    root = property(lambda self: getattr(self.library, "root", None))
    state_root = property(lambda self: self.state.state_root)
    lock_dir = property(lambda self: getattr(self.locks, "lock_dir", None))
    reserved = property(lambda self: getattr(self.library, "reserved", []))

    def _at(self, key):
        """(storage, key) of what key names: lenslet's file in the state root (where _kept says), anything else
        in the library."""
        return (self.state, self._kept(key)) if is_lenslets(key) else (self.library, key)

    def _kept(self, key):
        """Where the state root keeps lenslet's file key: below its library folder's real path, so that a folder
        link inside the library (`best -> trips`) leads to the folder's words, listing and cover, as beside the
        images; unless the file is kept at the link's own path already. A thumbnail, a cache read at every
        view, is kept at its own path (one walk fewer)."""
        folder, _, name = key.rpartition("/")
        if name.endswith(THUMB) or is_state(key):
            return key
        real = self._real_folder(folder)
        if real == folder:
            return key
        # What was kept at the link's own path before (by an earlier version, or before another program renamed
        # the folder and left this link at its old name) is read and written where it is: never hidden.
        try:
            kept_here = self.state.exists(key)
        except NotAFolder:
            kept_here = False  # (a file of lenslet's on its way, _clear_way, or a link: nothing kept here)
        return key if kept_here else join(real, name)

    def _real_folder(self, folder):
        """The library's key of what folder opens; folder itself for a link out of the library or a folder gone
        (what lenslet kept for it stays at its own path, as ever), and in a bucket, where a key is what it says."""
        if not folder or not self.links:
            return folder
        try:
            real = self.library.real_key(folder)
        except LensletError:
            return folder
        if real is None or is_state(real) or not _utf8(real):
            return folder  # (nor into lenslet's state folder, nor to a name no listing of the state root shows)
        return real

    def _browsed(self, key):
        """The storage of a browse path (a folder or an image, never lenslet's own file, whatever its name: a
        library folder `export.json/`), the verbs that are asked only of one use (what a share is bound to,
        what access is decided on)."""
        return self.state if is_state(key) else self.library

    def _library_folder(self, key):
        """The library's stat of key when a folder is there, else None (a link out of the library is none)."""
        try:
            found = self.library.stat(key)
        except (NotFound, BadPath):
            return None
        return found if found.is_dir else None

    def _folder_there(self, key):
        """Refuse a write of lenslet's file for a library folder that is gone (moved or removed meanwhile by
        another program): it would make a ghost folder in the state root holding only lenslet's files. And one
        where a library folder has the name (`_index.json/`): as beside the images, the folder is kept (and what
        lenslet made at that name before the folder came, never to be read again, goes)."""
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
        """A library folder made at a name where the state root keeps a file lenslet made before it came
        (`_rollup.json/` made after a rollup, `trips/_index.json/`): that file is lenslet's, made again where it
        can be (root_file_key; a listing in a folder's place stays in memory), and gives the folder's files their
        place. A file of a person's words there (those of a photo `trip.jpg`, where `trip.jpg.json/` came) is
        kept, and the write refused. Only on a disk: in a bucket a file's key and a folder's never meet."""
        if self.state.backend != "local":
            return
        on_the_way = []
        while folder:
            on_the_way.append(folder)
            folder = parent(folder)
        for folder in reversed(on_the_way):  # from the top: a file there stands in the way of everything below
            if is_lenslets(folder) and self._kept_file(folder) is not None and not self._drop_made(folder):
                raise Foreign("the state root keeps a photo's words at this folder's name; lenslet keeps "
                              "nothing for the folder until one of the two is renamed", path=folder)

    def _kept_file(self, key):
        """The state root's Stat of the file at key; None when there is none (nothing, a folder, a file on its way)."""
        try:
            found = self.state.stat(key)
        except (NotFound, BadPath, NotAFolder):
            return None
        return None if found.is_dir else found

    def _drop_made(self, key):
        """Remove the file lenslet made at key in the state root (a listing page, the rollup, the report: made
        again where it can be); False, and nothing removed, where the file is no such one (a photo's words)."""
        if not is_made(name_of(key), at_root=not parent(key)):
            return False
        try:
            self.state.delete(key)
        except NotFound:
            pass  # (another process removed it)
        except LensletError:
            if self._kept_file(key) is not None:
                raise
            # (another writer removed it and made the folder's place meanwhile: the way is clear)
        return True

    # -- reading -----------------------------------------------------------

    def list_folder(self, key):
        """The library folder's entries, lenslet's files among them taken from the state root (never the
        library's own files of those names: in this layout they are not lenslet's)."""
        if is_state(key):
            return self.state.list_folder(key)
        # By name, a name being a key of its own (is_lenslets): the same answer but for a hidden `.lenslet`. A
        # folder is never lenslet's file, whatever its name (`export.json/`): only lenslet's state folder is.
        named_like_ours, entries = split_lenslets(self.library.list_folder(key))
        # Only a folder named like lenslet's file can share a name with one kept (both told by split_lenslets).
        folders = {entry.name for entry in named_like_ours if entry.is_dir and entry.name != STATE}
        entries += [entry for entry in named_like_ours if entry.name in folders]
        real = self._real_folder(key)
        kept = self._kept_in(real)
        if real != key:  # a folder link: what is kept at its own path comes first (_kept)
            own = self._kept_in(key)
            names = {entry.name for entry in own}
            kept = own + [entry for entry in kept if entry.name not in names]
        if folders:  # a library folder named like a file lenslet made before it came (`_index.json/`) is the one;
            # a photo's words at its name (`trip.jpg.json/`) are kept, and listed with their photo
            kept = [entry for entry in kept if entry.name not in folders or not is_made(entry.name, not key)]
        return entries + kept

    def _kept_in(self, folder):
        """lenslet's files the state root keeps in folder."""
        try:
            kept = self.state.list_folder(folder)
        except (NotFound, BadRequest, Conflict):
            # None kept yet, or what holds the folder's place in the state root is no folder of lenslet's (a
            # stray file, a link: never followed): the library's folder is listed as it is all the same.
            return []
        return [entry for entry in split_lenslets(kept)[0] if not entry.is_dir]

    def list_names(self, key, prefix=""):
        storage, key = self._at(key)
        return storage.list_names(key, prefix)

    def watch(self):
        return self.library.watch()

    def has_subfolders(self, key):
        return self.library.has_subfolders(key)

    def _read(self, verb, key, *args):
        """Ask a reading verb of where key is kept. A file of lenslet's on its way in the state root (a photo's
        words where the library has made a folder of that name since: _clear_way) keeps nothing for it."""
        storage, kept = self._at(key)
        try:
            return getattr(storage, verb)(kept, *args)
        except NotAFolder:
            if storage is self.library:
                raise
            if verb in _NONE_KEPT:
                return _NONE_KEPT[verb]
            raise NotFound("nothing is kept for it: what holds its folder's place in the state root is no folder "
                           "of lenslet's (a photo's words, a link)", path=key) from None

    def stat(self, key):
        if not is_lenslets(key) or is_state(key):
            storage, key = self._at(key)
            return storage.stat(key)
        try:
            found = self.state.stat(self._kept(key))
        except (NotFound, NotAFolder):
            found = None
        # lenslet keeps no folder but its state folder, so at a file's name of its own (`export.json`) a folder is
        # the library's (and a folder of the state root there only holds lenslet's files for it); so is one made
        # where lenslet kept a file before (`_rollup.json/` after a rollup), as its listing shows (list_folder).
        there = self._library_folder(key)
        if there is not None:
            return there
        if found is None:
            raise NotFound("no such file or folder", path=key)
        return found

    def stat_file(self, key):
        return self._read("stat_file", key)

    def folder_version(self, key):
        """The library folder's mtime and the time of its own settings kept in the state root: a cover picked
        there moves no folder of the library (so other processes would keep showing the old one)."""
        try:
            kept = self.state.stat(self._kept(join(key, FOLDER_SIDECAR)))
        except (NotFound, NotAFolder, BadRequest, Conflict):
            kept = None  # none picked (or what holds its folder's place is no folder of lenslet's)
        return (self.library.stat(key).mtime,) + ((kept.mtime, kept.size) if kept is not None else ())

    def exists(self, key):
        return self._read("exists", key)

    def identity_of(self, key):
        return self._browsed(key).identity_of(key)

    def read(self, key):
        return self._read("read", key)

    def read_with_stat(self, key):
        return self._read("read_with_stat", key)

    def open_with_stat(self, key):
        return self._read("open_with_stat", key)

    def read_versioned(self, key):
        return self._read("read_versioned", key)

    def read_small(self, key, limit):
        return self._read("read_small", key, limit)

    def read_fresh(self, key, known):
        return self._read("read_fresh", key, known)

    def open(self, key):
        return self._read("open", key)

    def open_seekable(self, key):
        return self._read("open_seekable", key)

    def open_head(self, key, *args):
        return self._read("open_head", key, *args)

    def open_range(self, key, start, length):
        return self._read("open_range", key, start, length)

    # -- writing: lenslet's files only -----------------------------------------

    def _writable(self, key, making=True):
        """(the state root, where it keeps key), for a write of lenslet's file (making: one that may make it, which
        needs its library folder; a removal never does, so what a folder the library lost held can go)."""
        if not is_lenslets(key):
            if self.xmp_words and is_xmp(name_of(key)):
                return self.library, key
            raise Forbidden(LIBRARY_READ_ONLY, path=key, reason="library-read-only")
        if making:
            self._folder_there(key)
        return self.state, self._kept(key)

    def write(self, key, data, durable=True):
        storage, key = self._writable(key)
        storage.write(key, data, durable)

    def create(self, key, data, durable=True):
        storage, key = self._writable(key)
        storage.create(key, data, durable)

    def overwrite(self, key, data):
        storage, key = self._writable(key)
        storage.overwrite(key, data)

    def replace_if(self, key, data, version):
        storage, key = self._writable(key)
        return storage.replace_if(key, data, version)

    def update(self, key, change, durable=True):
        storage, key = self._writable(key)
        return storage.update(key, change, durable)

    def write_stream(self, key, stream, limit, replace=False, head=b""):
        storage, key = self._writable(key)
        return storage.write_stream(key, stream, limit, replace, head)

    def delete(self, key):
        storage, key = self._writable(key, making=False)
        storage.delete(key)

    def delete_if(self, key, version):
        storage, key = self._writable(key, making=False)
        storage.delete_if(key, version)

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

    # -- folders another program moved or removed in the library ------------------

    def left_behind(self, folder=""):
        """{folder key: names of its files} of the state root's folders at or below folder whose library folder
        is gone (another program renamed, moved or removed it): their sidecars are orphans, to be re-attached
        to their images by content hash wherever they are now, and reported until then. A folder left with
        no sidecar loses what lenslet can make again (thumbnails, listing pages) and goes, if empty."""
        found, stack = {}, [folder]
        while stack:
            key = stack.pop()
            try:
                entries = self.state.list_folder(key)
            except LensletError:
                continue
            if key and self._grafted_at(key):
                continue  # a pointer folder: what lies below it is its target tree's (grafted), never left behind
            stack.extend(join(key, entry.name) for entry in entries if entry.is_dir and join(key, entry.name) != STATE)
            if not key or self._library_folder(key) is not None:
                continue
            names = [entry.name for entry in entries if not entry.is_dir]
            if any(is_sidecar_or_kept(name) for name in names) or any(entry.is_dir for entry in entries):
                found[key] = names
            else:
                self._sweep(key, names)
        return found

    def grafted(self, target, place):
        """A pointer folder's target tree (a storage) as a gallery under a state root keeps it: only read, as the
        library is, and everything lenslet writes for it kept in this state root below the pointer folder's
        own place (place: its key in the library), so the target stays as it is."""
        self._clear_way(place)  # a pointer folder made where lenslet kept a file before: as any library folder
        return StateRooted(target, beneath(self.state, place), self.xmp_words)

    def mount_state(self, place):
        """The local state folder of a pointer target grafted at place (previews, large thumbnails): this state
        root's, or the local one a state root in a bucket keeps."""
        return mount_state_of(self.state, place)

    def _grafted_at(self, key):
        try:
            return self.library.exists(join(key, POINTER_FILE))
        except LensletError:
            return False

    def _sweep(self, key, names):
        try:
            for name in names:
                if is_made(name, at_root=False):
                    self.state.delete(join(key, name))
            self.state.remove_folder(key)
        except LensletError:
            pass  # something else is in it, or it went meanwhile: looked at again on the next deep scan

    # -- locks ----------------------------------------------------------------

    def lock_images(self, keys):
        return self.locks.lock_images(keys)

    def edits_under_way(self, folder):
        return self.locks.edits_under_way(folder)

    # -- names -------------------------------------------------------------------

    def real_key(self, key):
        return self._browsed(key).real_key(key)

    def key_of(self, other, key):
        return self.library.key_of(getattr(other, "library", other), key)

    def derived_key(self, key):
        return key  # lenslet's files are in the state root already, at the image's own key

    def derived_at(self, key):
        return self.state, key

    def root_file_key(self, name):
        key = self.state.root_file_key(name)
        if key == name and self._library_folder(name) is not None:
            return join(STATE, name)  # a library folder holds the name: kept in the state folder, as beside the images
        return key

    def accel_path(self, key):
        return None if is_lenslets(key) else self.library.accel_path(key)

    def presign(self, key, seconds=300, content_type=None):
        storage, key = self._at(key)
        return storage.presign(key, seconds, content_type)

    def probe(self):
        """The library's report (readable; never writable), and whether the state root can be written."""
        report = dict(self.library.probe())
        kept = self.state.probe()
        report["writable"] = False
        report["state"] = {"backend": kept["backend"], "readable": kept["readable"], "writable": kept["writable"]}
        for problem in ("unavailable", "diskFull"):
            if problem in kept:
                report["state"][problem] = kept[problem]
        return report


def beneath(state, place):
    """The part of a state root below place, as a storage of its own (for a pointer target grafted there)."""
    if state.backend == "local":
        path = os.path.join(state.root, *place.split("/"))
        try:
            in_the_way = not state.stat(place).is_dir
        except NotFound:
            in_the_way = False  # (made below)
        except NotAFolder:
            in_the_way = True  # a link on the way, never followed
        grafted = None if in_the_way else LocalStorage(path, state_dir=mount_state_of(state, place), state_tree=True)
        if grafted is None or grafted.root != path:  # (or a link put there meanwhile)
            raise Foreign("a link or file holds this pointer folder's place in the state root; lenslet never "
                          "follows nor writes through it", path=place)
        return grafted
    from lenslet.storage.s3 import S3Storage
    return S3Storage(state.bucket, join(state.prefix.rstrip("/"), place), state.endpoint or "", state.region or "",
                     state_root=mount_state_of(state, place))


def mount_state_of(state, place):
    return os.path.join(state.state_root, name_of(MOUNTS), version_of(place.encode("utf-8", "surrogateescape")))


def _utf8(key):
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_sidecar_or_kept(name):
    """Whether a file of a folder left behind holds what a person wrote (an image's sidecar, a folder's cover):
    never swept. A listing page or a thumbnail is made again from the images wherever they are now."""
    return not is_made(name, at_root=False)
