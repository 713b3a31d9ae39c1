"""File management: upload, move and rename, trash and restore, permanent delete, folders.

An image's sidecar and thumbnail travel with it. Every move is journalled in
`.lenslet/moves/` before its first step, so that a process killed at any point
leaves a journal that `recover()` (run when a web process or the worker starts)
finishes or undoes: the image is never left apart from its sidecar.
"""

import bisect
import logging
import os
import secrets
import socket
import time
from contextlib import contextmanager
from typing import NamedTuple

import orjson

from lenslet import jobs
from lenslet.errors import AlreadyExists, BadPath, BadRequest, Conflict, Forbidden, LensletError, NotFound
from lenslet.files import moves
from lenslet.formats import stacks
from lenslet.images import decode
from lenslet.layout import (
    FOLDER_MARKER,
    FOLDER_SIDECAR,
    MOVES,
    TEMP_SUFFIX,
    TRASH,
    is_image,
    is_manifest,
    is_xmp,
    join,
    name_of,
    parent,
    sidecar_of,
    thumb_of,
)
from lenslet.sidecar.store import clear_origin, set_origin, sidecar_fields
from lenslet.storage import process_alive, set_aside

log = logging.getLogger("lenslet")


class Files:
    """Upload, move, trash, restore and delete images, and make and remove folders."""

    def __init__(self, tree, catalog, thumbs, config):
        self.tree = tree
        self.catalog = catalog  # told what each operation changed, once, when it ends
        self.thumbs = thumbs
        self.limit = config.max_upload
        self.reading = catalog.reading  # other tools' XMP sidecars go along with their images
        self.clock = catalog.clock
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
        name = moves.upload_name(filename, decode.sniff(head))
        for _ in range(3):  # a name taken between the look and the write: take the next one
            if conflict == "rename":
                name = moves.free_name(name, lambda candidate: _taken(storage, join(place.key, candidate)))
                key = join(place.key, name)
            else:
                in_use = _in_use(storage, join(place.key, name))
                if conflict == "fail" and in_use is not None:
                    raise AlreadyExists("a file of this name is in the folder; ask for a new name "
                                        "(conflict=rename) or to replace it (conflict=replace)",
                                        path=_browse(place, in_use))
                key = in_use or join(place.key, name)  # replace: that very file, never a look-alike twin
            try:
                storage.write_stream(key, stream, self.limit, replace=conflict == "replace", head=head)
                break
            except AlreadyExists:
                if conflict != "rename":
                    raise AlreadyExists("a file of this name is in the folder", path=_browse(place, key)) from None
        else:
            raise Conflict("the folder keeps changing; try again", path=folder)
        path = _browse(place, key)
        try:
            digest = self.thumbs.make_upload(storage, key)
        except LensletError:
            storage.delete(key)  # looked like an image, but cannot be decoded: not kept
            raise
        self.catalog.added(storage, key, path, digest)
        return {"ok": True, "path": path, "name": name_of(key)}

    # -- moves -------------------------------------------------------------

    def move(self, src, dest=None, to=None, conflict="fail"):
        """Move or rename an image or a folder; dest is a folder, `to` a full new path. The answer has the
        shape of a move of many: `path` and `paths` (the other file of a stack too when it went along)."""
        return self.move_many([src], dest, conflict, to)

    def move_many(self, paths, dest, conflict="fail", to=None):
        """Move images or folders into one folder (or one of them to `to`), in order; the other file of
        an image's stack goes along (renamed to the new stem when `to` renames it)."""
        conflict = moves.conflict_mode(conflict)
        targets = {}
        if to is not None:
            targets = {partner: stacks.renamed(partner, to) for partner in self.partners(paths[0])}
            for target in targets.values():  # the pair is renamed whole or not at all
                place = self.tree.locate(target, is_file=True)
                if conflict == "fail" and _in_use(place.storage, place.key) is not None:
                    raise AlreadyExists("the other file of this image's stack would take a name that is taken",
                                        path=target)
        return self._in_turn(self.with_partners(paths),
                             lambda path: self._plan_move(path, dest, targets.get(path, to), conflict), "moved")

    def _plan_move(self, src, dest, to, conflict):
        if dest is None and to is None:
            raise BadRequest("say where to: dest (a folder; \"\" is the root) or to (a new path)")
        if dest == TRASH and to is None and not moves.in_trash(src):
            return self._plan_trash(src)  # lenscat trashes with a move to /_trash_
        place = self._writable(src, is_file=True)
        if place.storage.stat(place.key).is_dir:
            return lambda changes: self._move_folder(place, moves.folder_target(src, dest, to), changes)
        self.tree.locate_image(src, writing=True)
        return _ImageMove(place, moves.folder_target(src, dest, to), conflict)

    def _in_turn(self, paths, plan, what):
        """Check every path's plan, then carry them out in order; listings and search are told once, at the end.

        plan(path) checks the request, changing nothing, and returns an _ImageMove, or a
        function doing the work (a folder move, a delete). A refusal while checking leaves
        everything as it was, the paths before it included. Image moves in a row are done
        CHUNK at a time, sharing one hold of their locks and one round of fsyncs (1,000
        images trashed at once cost a few seconds, not minutes). A refusal met while
        carrying out (the tree changed meanwhile) says which paths went before: they stay done.
        """
        done, pending = [], []
        with self._telling() as changes:
            try:
                for planned in [plan(path) for path in paths]:
                    if isinstance(planned, _ImageMove):
                        if planned.folder is not None:
                            _make_folders(planned.place.storage, planned.folder)
                        pending.append(planned)
                        if len(pending) == CHUNK:
                            self._move_images(pending, changes, done)
                            pending = []
                    else:
                        self._move_images(pending, changes, done)
                        pending = []
                        done.append(planned(changes)["path"])
                self._move_images(pending, changes, done)
            except LensletError as ex:
                ex.fields.setdefault(what, done)
                raise
        return {"ok": True, "path": done[0] if done else None, "paths": done}

    def _move_images(self, pending, changes, done):
        """Move images, each in the same storage as the one before it sharing a chunk."""
        start = 0
        while start < len(pending):
            end = start + 1
            identity = pending[start].place.storage.identity
            while end < len(pending) and pending[end].place.storage.identity == identity:
                end += 1
            self._move_chunk(pending[start:end], changes, done)
            start = end

    def _move_chunk(self, chunk, changes, done):
        """Move images, sidecars and thumbnails along, holding the locks of both names of each.

        Edits, hashes, trash, delete and re-attachment take the same locks, so an edit
        lands on the image before it moves or is refused after (never an orphan sidecar
        at the old name), and two moves of one image or to one name run one after the other.
        """
        storage = chunk[0].place.storage
        left = list(chunk)
        for _ in range(3):  # a name taken between the look and the lock: look again
            claimed, planned, refused = set(), [], None
            for move in left:
                try:
                    planned.append((move, self._target(move.place, move.to_path, move.conflict, claimed)))
                except LensletError as ex:
                    refused = ex
                    break
            retry, ready = [], []
            with storage.lock_images([key for move, target in planned for key in (move.place.key, target.key)]):
                for move, target in planned:
                    if not storage.exists(move.place.key):
                        refused = NotFound("no such image (moved or deleted meanwhile)",
                                           path=_browse(move.place, move.place.key))
                        break
                    if _taken(storage, target.key):
                        if move.conflict != "rename":
                            refused = AlreadyExists("the target exists (or its sidecar does)", path=move.to_path)
                            break
                        retry.append(move)
                        continue
                    ready.append((move, target))
                self._carry(storage, ready, changes, done)
            if refused is not None:
                raise refused
            if not retry:
                return
            left = retry
        raise Conflict("the folder keeps changing; try again", path=left[0].to_path)

    def _carry(self, storage, ready, changes, done):
        """Move the images of one chunk, their locks held: journals and notes first, made durable
        together, then every step, then the new names made durable, then the journals go."""
        journals, written = [], []
        for move, target in ready:
            _drop_stray_thumb(storage, target.key)
            if move.origin is not None:
                set_origin(storage, move.place.key, move.origin, self.clock(), durable=False)
                written.append(sidecar_of(move.place.key))
            steps = [(a, b) for a, b in moves.image_steps(move.place.key, target.key, self.reading)
                     if b == target.key or (storage.exists(a) and self._carried(storage, move.place.key, a, b))]
            journals.append((self._journal(storage, "image", steps), steps))
        storage.sync(written + [name for name, _ in journals])
        for number, (name, steps) in enumerate(journals):
            try:
                self._steps(storage, name, steps)
            except LensletError:
                for later, _ in journals[number + 1:]:
                    storage.delete(later)  # not begun: nothing to settle
                raise
        storage.sync({parent(key) for move, target in ready for key in (move.place.key, target.key)})
        for name, _ in journals:
            storage.delete(name)
        back = [target.key for move, target in ready
                if moves.in_trash(move.place.key) and not moves.in_trash(target.key)]
        for key in back:
            clear_origin(storage, key, durable=False)  # out of the trash: nothing to restore any more
        storage.sync([sidecar_of(key) for key in back])
        for move, target in ready:
            new_path = _browse(target, target.key)
            changes.folder(storage, parent(move.place.key))
            changes.folder(storage, parent(target.key))
            changes.gone(_browse(move.place, move.place.key))
            fields = sidecar_fields(storage, target.key)
            if not fields.get("hash"):
                changes.carry_hash(self.catalog, storage, move.place.key, target.key)
            changes.note(new_path, self.catalog.shown(storage, target.key, fields)[1])
            done.append(new_path)

    def _carried(self, storage, image, src, dst):
        """Whether a file of the image goes along: always lenslet's; another tool's XMP sidecar when
        its new name is free, and foo.xmp only while no other file of the stem (foo.cr2) stays."""
        if not is_xmp(src):
            return True
        if storage.exists(dst):
            return False  # never over another's file: it stays at the old name
        folder = parent(image)
        return not (moves.is_stem_xmp(image, src) and
                    moves.stem_shared(name_of(image), storage.list_names(folder, name_of(src)[:-3])))

    def _target(self, place, to_path, conflict, claimed, may_make=False):
        """The Place an image moves to, in the same storage; a taken name is 409 or numbered.

        claimed: keys given to images moved in the same chunk (taken, though not yet there).
        may_make: a missing folder on the way is no refusal (it is made before the move), a file
        in its place is.
        """
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
            if not may_make:
                raise NotFound("no such folder", path=parent(to_path))
            _check_way(target, folder)
        storage, key = target.storage, target.key
        if key == place.key:
            raise Conflict("the image is already there", path=to_path)
        if conflict == "rename":
            key = join(folder, moves.free_name(name_of(key), lambda name: join(folder, name) in claimed
                                               or _taken(storage, join(folder, name))))
        elif key in claimed or _taken(storage, key):
            raise AlreadyExists("the target exists (or its sidecar does); ask for a new name with "
                                "conflict=rename", path=to_path)
        claimed.add(key)
        return target._replace(key=key)

    def _move_folder(self, place, to_path, changes):
        target = self.tree.locate(to_path)
        if target.storage.identity != place.storage.identity:
            raise BadRequest("folders move within one tree only", path=to_path)
        if target.readonly:
            raise Forbidden("this folder is read-only", path=to_path)
        moves.check_folder_move(place.key, target.key)
        storage = place.storage
        # Both names locked: two folders renamed to one name at once run one after the other,
        # and the second finds the name taken.
        with storage.lock_images([place.key, target.key]):
            if storage.exists(target.key):
                raise AlreadyExists("the target folder exists", path=to_path)
            if parent(target.key) and not storage.exists(parent(target.key)):
                raise NotFound("no such folder", path=parent(to_path))
            self._journalled(storage, "folder", [(place.key, target.key)])
        changes.folder(storage, parent(place.key))
        changes.folder(storage, parent(target.key))
        changes.rollup = True
        return {"ok": True, "path": _browse(target, target.key)}

    def _journalled(self, storage, kind, steps):
        """Run a move's steps with a journal naming them; undo what was done if a step fails."""
        name = self._journal(storage, kind, steps)
        storage.sync([name])
        self._steps(storage, name, steps, kind)
        storage.delete(name)

    def _journal(self, storage, kind, steps):
        """Write a move's journal (without fsync: the caller syncs it before the first step); its key."""
        if storage.identity not in self.settled:
            # A pointer target keeps its own journal: settled before its first move here.
            recover(storage, self.clock)
            self.settled.add(storage.identity)
        journal = {"v": 1, "kind": kind, "steps": steps, "host": socket.gethostname(), "pid": os.getpid(),
                   "startedAt": self.clock()}
        name = join(MOVES, f"{int(self.clock() * 1000):014d}-{secrets.token_hex(6)}.json")
        storage.create(name, orjson.dumps(journal), durable=False)
        return name

    def _steps(self, storage, name, steps, kind="image"):
        """Take a journalled move's steps; a failed image move is undone and its journal removed."""
        try:
            for src, dst in steps:
                # Without fsync: the caller syncs the folders once every step of a chunk is taken;
                # until then the journal tells recovery what to look at.
                storage.rename(src, dst, durable=False)
        except LensletError:
            if kind == "folder":
                raise  # a folder is never undone: recovery finishes it (it holds the journal)
            _settle(storage, {"kind": kind, "steps": steps}, way="back")
            storage.delete(name)
            raise
        if kind == "folder":
            storage.sync([parent(steps[0][1])])
            self.catalog.folder_moved(storage, steps[0][1])

    # -- trash, restore, delete --------------------------------------------

    def trash(self, paths):
        """Move images into `_trash_` at the root, noting where each came from; a clash keeps both.
        The other file of an image's stack goes too."""
        return self._in_turn(self.with_partners(paths), self._plan_trash, "trashed")

    def trash_copies(self, digest, keep, paths):
        """Keep one image of a group of copies (all of content hash digest) and move the others to the
        trash: each only if its bytes still have digest (a copy changed since the group was shown is left
        alone, and named in `changed`); none when the one kept no longer has it (409). A copy's stack
        partner stays: it is no copy."""
        if self.content_hash(keep) != digest:
            raise Conflict("the image kept is no longer a copy of the others: nothing was trashed", path=keep)
        kept = self._identity(keep)
        for path in paths:
            if self._identity(path) == kept:
                raise Conflict("this is the very file kept (a link to it), not a copy: nothing was trashed",
                               path=path)
        same = [path for path in paths if self.content_hash(path) == digest]
        trashed = self._in_turn(same, self._plan_trash, "trashed")["paths"] if same else []
        # Another request may have kept one of these and trashed this one meanwhile: looked at again
        # once the copies are gone, and undone when it is gone too, so one copy is always left.
        try:
            still = self.content_hash(keep) == digest
        except LensletError:
            still = False
        if not still:
            if trashed:
                self.restore(trashed)
            raise Conflict("the image kept was trashed or changed meanwhile: the copies were put back", path=keep)
        return {"ok": True, "paths": trashed, "changed": [path for path in paths if path not in same]}

    def _identity(self, path):
        place = self.tree.locate(path, is_file=True)
        return place.storage.identity, place.storage.identity_of(place.key)

    def content_hash(self, path):
        """The content hash of an image's bytes now (read whole, a chunk at a time)."""
        place = self.tree.locate(path, is_file=True)
        self.tree.locate_image(path)
        with place.storage.open(place.key) as stream:
            return decode.content_hash_of(stream)

    def _plan_trash(self, path):
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if moves.in_trash(place.key):
            raise Conflict("the image is in the trash already", path=path)
        if place.prefix:
            raise BadRequest("images in pointer folders are not trashed; delete them with force", path=path)
        return _ImageMove(place, moves.trash_key(place.key), "rename", origin=path, folder=TRASH)

    def restore(self, paths, conflict="fail"):
        """Move trashed images back to where they came from (their sidecars' originalPosition)."""
        conflict = moves.conflict_mode(conflict)
        claimed = set()  # two images of one request going back to one name: refused before either moves
        return self._in_turn(self.with_partners(paths), lambda path: self._plan_restore(path, conflict, claimed),
                             "restored")

    def _plan_restore(self, path, conflict, claimed):
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if not moves.in_trash(place.key):
            raise Conflict("the image is not in the trash", path=path)
        origin = moves.restore_origin(sidecar_fields(place.storage, place.key).get("originalPosition"), path)
        planned = self._plan_move(path, None, origin, conflict)
        # The folders it came from may be gone: made when it goes back, once the whole request is checked.
        target = self._target(planned.place, origin, conflict, claimed, may_make=True)
        folder = parent(target.key)
        return planned._replace(folder=folder if folder and not target.storage.exists(folder) else None)

    def delete(self, paths, force=False):
        """Remove images with their sidecars, thumbnails and leftovers; only trashed ones unless force.
        The other file of an image's stack goes too."""
        return self._in_turn(self.with_partners(paths), lambda path: self._plan_delete(path, force), "deleted")

    def _plan_delete(self, path, force):
        place = self._writable(path, is_file=True)
        if not force and not (moves.in_trash(place.key) and not place.prefix):
            raise Conflict("only images in the trash are deleted for good; trash it first, or send "
                           "force=true", path=path)
        if not is_image(name_of(place.key)):
            raise BadPath("not an image path", path=path)
        return lambda changes: self._delete(place, path, changes)

    def _delete(self, place, path, changes):
        storage, key = place.storage, place.key
        with storage.lock_images([key]):
            # (S3 deletes what is not there without a word: look first.) An image already
            # gone whose sidecar is left is cleaned up all the same.
            if not storage.exists(key) and not storage.exists(sidecar_of(key)):
                raise NotFound("no such image", path=path)
            names = changes.names_in(storage, parent(key))
            for leftover in [key] + _leftovers(storage, key, names) + self._stem_xmps(key, names):
                try:
                    storage.delete(leftover)
                except NotFound:
                    pass
        changes.folder(storage, parent(key))
        changes.gone(path)
        return {"ok": True, "path": path}

    def _stem_xmps(self, key, names):
        """Adobe's foo.xmp of a deleted foo.jpg, unless another file of the stem (foo.cr2) keeps it."""
        if not self.reading or moves.stem_shared(name_of(key), names):
            return []
        return [step for step, _ in moves.image_steps(key, key, xmp=True)
                if moves.is_stem_xmp(key, step) and name_of(step) in names]

    def empty_trash(self, days):
        """Delete for good the images lenslet trashed more than days ago (LENSLET_TRASH_DAYS; 0: none), each in
        turn: one that cannot be deleted is reported and the rest go on. Answer (deleted paths, {path: why})."""
        if days <= 0:
            return [], {}
        storage = self.tree.root
        try:
            entries = storage.list_folder(TRASH)
        except NotFound:
            return [], {}
        now, deleted, failed = self.clock(), [], {}
        for entry in entries:
            key = join(TRASH, entry.name)
            if entry.is_dir or not is_image(entry.name):
                continue
            try:
                sidecar = sidecar_fields(storage, key)
                mtime = storage.stat(sidecar_of(key)).mtime if "trashedAt" not in sidecar else None
                if not moves.trash_expired(moves.trashed_at(sidecar, mtime), now, days):
                    continue
                self.delete([key])
                deleted.append(key)
            except LensletError as ex:
                failed[key] = ex.description
        return deleted, failed

    # -- stacks ------------------------------------------------------------

    def with_partners(self, paths):
        """paths, each followed by the other file of its stack (formats/stacks.py) unless named already.
        Each folder is listed once, however many of its images are named (1,000 trashed at once)."""
        named, out, found = set(paths), [], {}
        for path in paths:
            out.append(path)
            out += [partner for partner in self.partners(path, found) if partner not in named]
            named.update(out)
        return out

    def partners(self, path, found=None):
        """The other file of the stack the image at path is half of, as a list (empty: none). In the
        trash two files pair only when they came from one folder too. A path that cannot be looked at
        has none: its own plan says what is wrong with it. found: the stacks of folders listed already."""
        found = {} if found is None else found
        try:
            place = self.tree.locate(path, is_file=True)
            storage, key = place.storage, place.key
            folder = (storage.identity, parent(key))
            if folder not in found:
                found[folder] = stacks.stacks([entry.name for entry in storage.list_folder(parent(key))
                                               if not entry.is_dir and not entry.link and is_image(entry.name)])
            stack = found[folder].get(name_of(key))
            if stack is None:
                return []
            others = [join(parent(path), name) for name in stack["members"] if name != name_of(key)]
            if moves.in_trash(key) and len({_came_from(storage, join(parent(key), name_of(one)))
                                            for one in [path] + others}) != 1:
                return []
        except LensletError:
            return []
        return others

    # -- folders -----------------------------------------------------------

    def make_folder(self, path):
        place = self._writable(path)
        if not place.key:
            raise AlreadyExists("the root folder exists", path=path)
        if parent(place.key) and not place.storage.stat(parent(place.key)).is_dir:
            raise BadRequest("not a folder", path=parent(path))
        place.storage.make_folder(place.key)
        self.catalog.relist(place.storage, parent(place.key))
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
        self.catalog.relist(storage, parent(key))
        return {"ok": True, "path": path}

    # -- after a change: listings and search --------------------------------

    def _writable(self, path, is_file=False):
        place = self.tree.locate(path, is_file=is_file)
        if place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        return place

    @contextmanager
    def _telling(self):
        """Collect what an operation changes and tell listings and search once, when it ends
        (also when it fails part way: what was done before stays done)."""
        changes = _Changes()
        try:
            yield changes
        finally:
            self.catalog.operation_done(changes.folders.values(), changes.search, changes.rollup, changes.hashes)


CHUNK = 32  # images moved under one hold of their locks, sharing one round of fsyncs


class _ImageMove(NamedTuple):
    """One image to move: from where, to which path, what to do when the name is taken,
    (for the trash) where it came from, noted in its sidecar, and the folder to make first
    (the trash; a restored image's old folder), if any."""

    place: object
    to_path: str
    conflict: str
    origin: object = None
    folder: object = None


class _Changes:
    """Folders whose listings an operation changed and images search must hear of."""

    def __init__(self):
        self.folders = {}  # (storage identity, folder) -> (storage, folder)
        self.search = {}   # path -> searched fields, or {"gone": True}
        self.rollup = False
        self.names = {}    # (storage identity, folder) -> its file names
        self.listed = {}   # (storage identity, folder) -> {name: the content hash its listing holds}
        self.hashes = {}   # (storage identity, folder) -> {name: a hash carried to a new name}

    def folder(self, storage, key):
        self.folders[(storage.identity, key)] = (storage, key)

    def note(self, path, fields):
        self.search[path] = fields

    def gone(self, path):
        self.search[path] = {"gone": True}

    def carry_hash(self, catalog, storage, source, target):
        """An image moved from source to target keeps the hash its listing held (an image nobody described
        has no sidecar to carry it, and albums find a moved image by it); the old listing read once per
        operation."""
        where = (storage.identity, parent(source))
        if where not in self.listed:
            self.listed[where] = catalog.listed_hashes(storage, parent(source))
        digest = self.listed[where].get(name_of(source))
        if digest is not None:
            self.hashes.setdefault((storage.identity, parent(target)), {})[name_of(target)] = digest

    def names_in(self, storage, folder):
        """A folder's file names, sorted, listed once per operation (a bulk delete of 1,000 images
        in one folder lists it once, not 1,000 times)."""
        where = (storage.identity, folder)
        if where not in self.names:
            self.names[where] = storage.list_names(folder)
        return self.names[where]


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
            set_aside(storage, MOVES, name, "not JSON")
            continue
        except LensletError as ex:
            if ex.status < 500:  # a link or a folder holding the name: not a journal
                set_aside(storage, MOVES, name, ex.description)
            continue  # the storage is busy: looked at again next time
        problem = moves.journal_problem(journal)
        if problem is not None:
            set_aside(storage, MOVES, name, problem)
            continue
        if not moves.abandoned(journal, host, clock(), process_alive):
            continue
        try:
            _settle(storage, journal)
        except LensletError as ex:
            if ex.status >= 500:
                log.error("cannot settle an interrupted move yet (%s): %s", name, ex.description)
            else:
                set_aside(storage, MOVES, name, ex.description)
            continue
        try:
            storage.delete(key)
        except NotFound:
            pass
        steps = journal["steps"]
        for folder in {parent(src) for src, _ in steps} | {parent(dst) for _, dst in steps}:
            jobs.enqueue(storage, "index", folder, clock)
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
    # Its listings still name the old paths: each is rebuilt when next read, as after a folder moved by
    # another program (a listing is only ever served for the folder it is read from).


def _state(storage, src, dst):
    """Where one step's file is: "src", "dst", "both" (one file under both names), "none" or "apart"."""
    at_src, at_dst = storage.exists(src), storage.exists(dst)
    if at_src and at_dst:
        return "both" if storage.same(src, dst) else "apart"
    return "src" if at_src else "dst" if at_dst else "none"


# -- helpers -------------------------------------------------------------------

def _read_head(stream):
    head = b""
    while len(head) < decode.SNIFF_BYTES:  # enough of an upload to tell its type
        chunk = stream.read(decode.SNIFF_BYTES - len(head))
        if not chunk:
            break
        head += chunk
    if not head:
        raise BadRequest("the file is empty")
    return head


def _taken(storage, key):
    """Whether a name is in use: by an image, or by a sidecar left without one (its metadata is
    kept), under any Unicode spelling of the name. A thumbnail left without its image is not:
    see _drop_stray_thumb."""
    return _in_use(storage, key) is not None


def _in_use(storage, key):
    """The key under which a name is in use (see _taken), as it is spelled in storage; None if free."""
    folder = parent(key)
    for name in moves.spellings(name_of(key)):
        spelled = join(folder, name)
        if storage.exists(spelled) or storage.exists(sidecar_of(spelled)):
            return spelled
    return None


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


def _leftovers(storage, key, names):
    """lenslet's files and other files named after an image (`foo.jpg.json`, `foo.jpg.xmp`), not images.

    names: the sorted file names of the image's folder.
    """
    folder, prefix = parent(key), name_of(key) + "."
    found = []
    for name in names[bisect.bisect_left(names, prefix):]:
        if not name.startswith(prefix):
            break
        if not is_image(name):
            found.append(join(folder, name))
    derived = storage.derived_key(thumb_of(key))
    if derived != thumb_of(key) and storage.exists(derived):
        found.append(derived)
    return found


def _make_folders(storage, folder):
    """Make a folder and those above it that are missing."""
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        try:
            storage.make_folder("/".join(parts[:depth]))
        except AlreadyExists:
            pass


def _check_way(place, folder):
    """Refuse a folder that cannot be made because a file holds a name on its way (a missing one can)."""
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        key = "/".join(parts[:depth])
        try:
            if not place.storage.stat(key).is_dir:
                raise BadRequest("not a folder", path=_browse(place, key))
        except NotFound:
            return


def _lenslets_own(entry):
    """Files an empty folder may still hold: manifests, the folder marker, temp files, its cover pick
    (a pick of an image no longer there says nothing)."""
    name = entry.name
    return not entry.is_dir and (is_manifest(name) or name in (FOLDER_MARKER, FOLDER_SIDECAR)
                                 or name.endswith(TEMP_SUFFIX))


def _came_from(storage, key):
    """The folder a trashed image came from, by its sidecar's originalPosition ("" when not known)."""
    origin = sidecar_fields(storage, key).get("originalPosition")
    return parent(origin.strip("/")) if isinstance(origin, str) else ""


def _browse(place, key):
    """The browse path of a key in a place's storage."""
    return join(place.prefix, key) if place.prefix else key

