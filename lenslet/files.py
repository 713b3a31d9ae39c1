"""File management: upload, move and rename, trash and restore, permanent delete, folders.

An image's sidecar and thumbnail travel with it. Every move is journalled in
`.lenslet/moves/` before its first step, so that a process killed at any point
leaves a journal that `recover()` (run when a web process or the worker starts)
finishes or undoes: the image is never left apart from its sidecar.
"""

import logging
import os
import secrets
import socket
import time

import orjson

from . import folders, images, moves
from .errors import AlreadyExists, BadPath, BadRequest, Conflict, Forbidden, LensletError, NotFound
from .items import clear_origin, record_hash, set_origin, sidecar_fields
from .layout import (FOLDER_MARKER, MOVES, TEMP_SUFFIX, TRASH, is_image, is_manifest, join, name_of, parent,
                     sidecar_of, thumb_of)
from .rollup import record_edit
from .storage import clean_path, set_aside
from .worker import queue

log = logging.getLogger("lenslet")
HEAD = 64  # bytes read from an upload to tell its type


class Files:
    """Upload, move, trash, restore and delete images, and make and remove folders."""

    def __init__(self, tree, folders_, thumbs, config, clock=time.time, after_step=None):
        self.tree = tree
        self.folders = folders_
        self.thumbs = thumbs
        self.limit = config.max_upload
        self.clock = clock
        self.after_step = after_step or (lambda step: None)  # tests stop the process here
        self.settled = set()  # storages whose interrupted moves this process has settled

    # -- upload ------------------------------------------------------------

    def upload(self, folder, filename, stream, conflict="fail"):
        """Store an uploaded image in a folder, its thumbnail made and its listing updated at once."""
        conflict = moves.conflict_mode(conflict)
        place = self._writable(folder)
        storage = place.storage
        if not storage.stat(place.key).is_dir:
            raise BadRequest("not a folder", path=folder)
        head = _read_head(stream)
        name = moves.upload_name(filename, images.sniff(head))
        for _ in range(3):  # a name taken between the look and the write: take the next one
            if conflict == "rename":
                name = moves.free_name(name, lambda candidate: _taken(storage, join(place.key, candidate)))
            elif conflict == "fail" and _taken(storage, join(place.key, name)):
                raise AlreadyExists("a file of this name is in the folder; ask for a new name "
                                    "(conflict=rename) or to replace it (conflict=replace)",
                                    path=_browse(place, join(place.key, name)))
            key = join(place.key, name)
            try:
                storage.write_stream(key, _Chained(head, stream), self.limit, replace=conflict == "replace")
                break
            except AlreadyExists:
                if conflict != "rename":
                    raise AlreadyExists("a file of this name is in the folder", path=_browse(place, key)) from None
        else:
            raise Conflict("the folder keeps changing; try again", path=folder)
        try:
            record_hash(storage, key, self.thumbs.make(storage, key))
        except LensletError:
            storage.delete(key)  # looked like an image, but cannot be decoded: not kept
            raise
        path = _browse(place, key)
        self._listed(storage, place.key)
        self._searchable(storage, key, path)
        return {"ok": True, "path": path, "name": name}

    # -- moves -------------------------------------------------------------

    def move(self, src, dest=None, to=None, conflict="fail"):
        """Move or rename an image or a folder; dest is a folder, `to` a full new path."""
        conflict = moves.conflict_mode(conflict)
        if dest is None and to is None:
            raise BadRequest("say where to: dest (a folder) or to (a new path)")
        if dest == TRASH and to is None and not moves.in_trash(src):
            return self.trash(src)  # lenscat trashes with a move to /_trash_
        place = self._writable(src, is_file=True)
        storage = place.storage
        if storage.stat(place.key).is_dir:
            return self._move_folder(place, moves.folder_target(src, dest, to))
        self.tree.locate_image(src, writing=True)
        target = self._target(place, moves.folder_target(src, dest, to), conflict)
        self._move_image(storage, place.key, target.key)
        if moves.in_trash(place.key) and not moves.in_trash(target.key):
            clear_origin(storage, target.key)  # back out of the trash: nothing to restore any more
        return self._moved(place, target)

    def move_many(self, paths, dest, conflict="fail"):
        """Move several images or folders into one folder, one journalled move each."""
        moved = []
        for path in paths:
            try:
                moved.append(self.move(path, dest=dest, conflict=conflict)["path"])
            except LensletError as ex:
                ex.fields.setdefault("moved", moved)  # what went before stays moved
                raise
        return {"ok": True, "path": moved[0] if moved else None, "paths": moved}

    def _target(self, place, to_path, conflict):
        """The Place an image moves to, in the same storage; a taken name is 409 or numbered."""
        target = self.tree.locate(to_path, is_file=True)
        if target.storage.identity != place.storage.identity:
            raise BadRequest("images move within one tree only, not into or out of a pointer folder",
                             path=to_path)
        if target.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=to_path)
        if not is_image(name_of(target.key)):
            raise BadPath("the new name must be an image name (.jpg, .png, .webp, .avif, .gif)", path=to_path)
        folder = parent(target.key)
        if folder and not target.storage.exists(folder):
            raise NotFound("no such folder", path=parent(to_path))
        storage, key = target.storage, target.key
        if key == place.key:
            raise Conflict("the image is already there", path=to_path)
        if conflict == "rename":
            key = join(folder, moves.free_name(name_of(key), lambda name: _taken(storage, join(folder, name))))
        elif _taken(storage, key):
            raise AlreadyExists("the target exists (or its sidecar does); ask for a new name with "
                                "conflict=rename", path=to_path)
        _drop_stray_thumb(storage, key)
        return target._replace(key=key)

    def _move_image(self, storage, src, dst):
        steps = [(a, b) for a, b in moves.image_steps(src, dst) if b == dst or storage.exists(a)]
        self._journalled(storage, "image", steps)

    def _move_folder(self, place, to_path):
        target = self.tree.locate(to_path)
        if target.storage.identity != place.storage.identity:
            raise BadRequest("folders move within one tree only", path=to_path)
        if target.readonly:
            raise Forbidden("this folder is read-only", path=to_path)
        moves.check_folder_move(place.key, target.key)
        if target.storage.exists(target.key):
            raise AlreadyExists("the target folder exists", path=to_path)
        if parent(target.key) and not target.storage.exists(parent(target.key)):
            raise NotFound("no such folder", path=parent(to_path))
        self._journalled(place.storage, "folder", [(place.key, target.key)])
        self._listed(place.storage, parent(place.key))
        queue.enqueue(self.tree.root, "rollup", "", self.clock)
        return {"ok": True, "path": _browse(target, target.key)}

    def _journalled(self, storage, kind, steps):
        """Run a move's steps with a journal naming them; undo what was done if a step fails."""
        if storage.identity not in self.settled:
            # A pointer target keeps its own journal: settled before its first move here.
            recover(storage, self.clock)
            self.settled.add(storage.identity)
        journal = {"v": 1, "kind": kind, "steps": steps, "host": socket.gethostname(), "pid": os.getpid(),
                   "startedAt": self.clock()}
        name = join(MOVES, f"{int(self.clock() * 1000):014d}-{secrets.token_hex(6)}.json")
        storage.create(name, orjson.dumps(journal))
        self.after_step(0)
        try:
            for number, (src, dst) in enumerate(steps, 1):
                storage.rename(src, dst)
                self.after_step(number)
        except LensletError:
            if kind == "folder":
                raise  # a folder is never undone: recovery finishes it (it holds the journal)
            _settle(storage, journal, way="back")
            storage.delete(name)
            raise
        if kind == "folder":
            folders.repath(storage, steps[0][1])
            self.after_step(len(steps) + 1)
        storage.delete(name)

    def _moved(self, place, target):
        storage = place.storage
        old_path, new_path = _browse(place, place.key), _browse(target, target.key)
        for folder in {parent(place.key), parent(target.key)}:
            self._listed(storage, folder)
        self._gone(old_path)
        self._searchable(storage, target.key, new_path)
        return {"ok": True, "path": new_path}

    # -- trash, restore, delete --------------------------------------------

    def trash(self, path):
        """Move an image into `_trash_` at the root, noting where it came from; a clash keeps both."""
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if moves.in_trash(place.key):
            raise Conflict("the image is in the trash already", path=path)
        if place.prefix:
            raise BadRequest("images in pointer folders are not trashed; delete them with force", path=path)
        storage = place.storage
        try:
            storage.make_folder(TRASH)
        except AlreadyExists:
            pass
        target = self._target(place, moves.trash_key(place.key), "rename")
        set_origin(storage, place.key, path)
        self._move_image(storage, place.key, target.key)
        return self._moved(place, target)

    def restore(self, path, conflict="fail"):
        """Move a trashed image back to where it came from (its sidecar's originalPosition)."""
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if not moves.in_trash(place.key):
            raise Conflict("the image is not in the trash", path=path)
        origin = sidecar_fields(place.storage, place.key).get("originalPosition")
        if not isinstance(origin, str) or not origin:
            raise Conflict("where this image came from is not known; move it instead", path=path)
        origin = clean_path(origin)  # a sidecar is anyone's to edit: its path is checked like a client's
        folder = parent(origin)
        if folder:
            self._make_folders(place.storage, folder)
        return self.move(path, to=origin, conflict=conflict)

    def delete(self, paths, force=False):
        """Remove images with their sidecars, thumbnails and leftovers; only trashed ones unless force."""
        gone = []
        for path in paths:
            place = self._writable(path, is_file=True)
            if not force and not (moves.in_trash(place.key) and not place.prefix):
                raise Conflict("only images in the trash are deleted for good; trash it first, or send "
                               "force=true", path=path, deleted=gone)
            if not is_image(name_of(place.key)):
                raise BadPath("not an image path", path=path)
            storage, key = place.storage, place.key
            # (S3 deletes what is not there without a word: look first.) An image already
            # gone whose sidecar is left is cleaned up all the same.
            if not storage.exists(key) and not storage.exists(sidecar_of(key)):
                raise NotFound("no such image", path=path)
            for leftover in [key] + _leftovers(storage, key):
                try:
                    storage.delete(leftover)
                except NotFound:
                    pass
            self._listed(storage, parent(key))
            self._gone(path)
            gone.append(path)
        return {"ok": True, "path": gone[0] if gone else None, "paths": gone}

    # -- folders -----------------------------------------------------------

    def make_folder(self, path):
        place = self._writable(path)
        if not place.key:
            raise AlreadyExists("the root folder exists", path=path)
        if parent(place.key) and not place.storage.stat(parent(place.key)).is_dir:
            raise BadRequest("not a folder", path=parent(path))
        place.storage.make_folder(place.key)
        self._listed(place.storage, parent(place.key))
        return {"ok": True, "path": path}

    def remove_folder(self, path):
        """Remove a folder that holds nothing but lenslet's own files (manifests, the folder marker)."""
        place = self._writable(path)
        storage, key = place.storage, place.key
        if not key:
            raise BadRequest("the root folder cannot be removed")
        entries = storage.list_folder(key)
        kept = [entry.name for entry in entries if not _lenslets_own(entry)]
        if kept:
            raise Conflict("the folder is not empty", path=path, holds=sorted(kept)[:20])
        for entry in entries:
            if entry.name != FOLDER_MARKER:
                try:
                    storage.delete(join(key, entry.name))
                except NotFound:
                    pass
        storage.remove_folder(key)
        self._listed(storage, parent(key))
        return {"ok": True, "path": path}

    def _make_folders(self, storage, folder):
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            try:
                storage.make_folder("/".join(parts[:depth]))
            except AlreadyExists:
                pass

    # -- after a change: listings and search --------------------------------

    def _writable(self, path, is_file=False):
        place = self.tree.locate(path, is_file=is_file)
        if place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        return place

    def _listed(self, storage, folder):
        """Rebuild a changed folder's manifest now, so the next listing shows the change."""
        try:
            self.folders.refresh(storage, folder, None)
        except LensletError as ex:
            log.warning("%s: listing not rebuilt after a change: %s", folder or "/", ex.description)

    def _searchable(self, storage, key, path):
        self._journal_edit(path, dict(sidecar_fields(storage, key), path=path))

    def _gone(self, path):
        self._journal_edit(path, {"gone": True})

    def _journal_edit(self, path, fields):
        try:
            record_edit(self.tree.root, path, {k: fields.get(k) for k in ("tags", "notes", "star", "gone")
                                               if k in fields}, self.clock)
            queue.enqueue(self.tree.root, "rollup", "", self.clock)
        except LensletError as ex:
            log.warning("%s: search sees this change with the next rollup only: %s", path, ex.description)


# -- recovery ------------------------------------------------------------------

def recover(storage, clock=time.time):
    """Finish or undo every move whose process died; return how many were settled.

    A journal is input like any other file: one of another shape, or whose steps cannot
    be carried out (a path through a link out of the gallery, say), is set aside in
    `.lenslet/moves/rejected/` for a person to look at, never acted on again, and never
    stops the others, a web process's start or the worker.
    """
    settled, host = 0, socket.gethostname()
    for name in _journal_names(storage):
        key = join(MOVES, name)
        try:
            journal = orjson.loads(storage.read(key))
        except NotFound:
            continue  # finished meanwhile
        except orjson.JSONDecodeError:
            # lenslet names a journal only once it is whole: this one is torn or someone else's.
            _set_aside(storage, name, "not JSON")
            continue
        except LensletError as ex:
            if ex.status < 500:  # a link or a folder holding the name: not a journal
                _set_aside(storage, name, ex.description)
            continue  # the storage is busy: looked at again next time
        problem = moves.journal_problem(journal)
        if problem is not None:
            _set_aside(storage, name, problem)
            continue
        if not moves.abandoned(journal, host, clock(), _alive):
            continue
        try:
            _settle(storage, journal)
        except LensletError as ex:
            if ex.status >= 500:
                log.error("cannot settle an interrupted move yet (%s): %s", name, ex.description)
            else:
                _set_aside(storage, name, ex.description)
            continue
        try:
            storage.delete(key)
        except NotFound:
            pass
        steps = journal["steps"]
        for folder in {parent(src) for src, _ in steps} | {parent(dst) for _, dst in steps}:
            queue.enqueue(storage, "index", folder, clock)
        log.warning("settled an interrupted move: %s", steps[-1])
        settled += 1
    return settled


def moves_under_way(storage):
    """Whether a move journal exists (its companions may be apart for a moment); set-aside ones do not count."""
    return bool(_journal_names(storage))


def _journal_names(storage):
    try:
        return sorted(entry.name for entry in storage.list_folder(MOVES)
                      if not entry.is_dir and entry.name.endswith(".json"))
    except (NotFound, BadRequest):
        return []


def _set_aside(storage, name, reason):
    try:
        aside = set_aside(storage, MOVES, name)
    except LensletError as ex:
        log.error("move journal %s is not acted on (%s), and cannot be set aside: %s", name, reason,
                  ex.description)
        return
    if aside is not None:
        log.error("move journal %s is not acted on, set aside as %s: %s", name, aside, reason)


def _settle(storage, journal, way=None):
    """Bring every step of a journalled move to one side: forward when the pivot (last step) moved."""
    steps = [tuple(step) for step in journal["steps"]]
    if journal["kind"] == "folder":
        _settle_folder(storage, *steps[0])
        return
    if way is None:
        way = moves.direction(_state(storage, *steps[-1]))
    for src, dst in steps if way == "forward" else reversed(steps):
        action = moves.repair(_state(storage, src, dst), way)
        if action == "rename":
            storage.rename(src, dst)
        elif action == "rename-back":
            storage.rename(dst, src)
        elif action == "unlink-src":
            storage.delete(src)
        elif action == "unlink-dst":
            storage.delete(dst)


def _settle_folder(storage, src, dst):
    """A folder move only goes forward: on disk it is one rename; a bucket's half-done copy is finished."""
    if not storage.folder_mtimes and storage.exists(src) and storage.exists(dst):
        storage.rename(src, dst, resume=True)
    if storage.exists(dst):
        folders.repath(storage, dst)


def _state(storage, src, dst):
    """Where one step's file is: "src", "dst", "both" (one file under both names), "none" or "apart"."""
    at_src, at_dst = storage.exists(src), storage.exists(dst)
    if at_src and at_dst:
        return "both" if storage.same(src, dst) else "apart"
    return "src" if at_src else "dst" if at_dst else "none"


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- helpers -------------------------------------------------------------------

class _Chained:
    """The bytes read to sniff the type, then the rest of the upload."""

    def __init__(self, head, stream):
        self.head = head
        self.stream = stream

    def read(self, size=-1):
        if self.head:
            head, self.head = self.head, b""
            return head
        return self.stream.read(size)


def _read_head(stream):
    head = b""
    while len(head) < HEAD:
        chunk = stream.read(HEAD - len(head))
        if not chunk:
            break
        head += chunk
    if not head:
        raise BadRequest("the file is empty")
    return head


def _taken(storage, key):
    """Whether a name is in use: by an image, or by a sidecar left without one (its metadata is
    kept). A thumbnail left without its image is not: see _drop_stray_thumb."""
    return storage.exists(key) or storage.exists(sidecar_of(key))


def _drop_stray_thumb(storage, key):
    """Remove a thumbnail whose image is gone from a name an image is about to take.

    One is left behind when the worker finishes a thumbnail of an image just moved away
    (it read the original before the move); it can be made again, and must not block
    the move, as a no-replace rename of the thumbnail would.
    """
    try:
        storage.delete(storage.derived_key(thumb_of(key)))
    except NotFound:
        pass


def _leftovers(storage, key):
    """lenslet's files and other files named after an image (`foo.jpg.json`, `foo.jpg.xmp`), not images."""
    folder, name = parent(key), name_of(key)
    prefix = name + "."
    try:
        entries = storage.list_folder(folder)
    except NotFound:
        return []
    found = [join(folder, entry.name) for entry in entries
             if not entry.is_dir and entry.name.startswith(prefix) and not is_image(entry.name)]
    derived = storage.derived_key(thumb_of(key))
    if derived != thumb_of(key) and storage.exists(derived):
        found.append(derived)
    return found


def _lenslets_own(entry):
    """Files an empty folder may still hold: manifests, the folder marker, temp files."""
    name = entry.name
    return not entry.is_dir and (is_manifest(name) or name == FOLDER_MARKER or name.endswith(TEMP_SUFFIX))


def _browse(place, key):
    """The browse path of a key in a place's storage."""
    return join(place.prefix, key) if place.prefix else key

