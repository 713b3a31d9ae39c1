"""Carry out file operations: upload, move, trash, restore, delete, folders, and move recovery."""

import bisect
import logging
import os
import secrets
import socket
import time
from contextlib import nullcontext, suppress
from itertools import groupby, takewhile
from typing import NamedTuple

import blake3
import orjson

from lenslet import jobs
from lenslet.errors import (
    AlreadyExists,
    BadPath,
    BadRequest,
    Conflict,
    Forbidden,
    LensletError,
    NotAFolder,
    NotFound,
    TooLarge,
    UnsupportedMedia,
)
from lenslet.files import moves
from lenslet.files.names import conflict_mode, free_name, spellings, upload_name
from lenslet.formats import sidecars, stacks
from lenslet.images import originals, pillow, video
from lenslet.layout import (
    FOLDER_MARKER,
    FOLDER_SIDECAR,
    MOVES,
    TEMP_SUFFIX,
    TRASH,
    is_image,
    is_made,
    is_xmp,
    join,
    kind_of,
    mime_of,
    name_of,
    parent,
    sidecar_of,
    thumb_of,
)
from lenslet.sidecar.store import change_sidecar, clear_origin, record_hash, set_origin, sidecar_fields
from lenslet.storage import process_alive, set_aside, spool
from lenslet.storage.paths import not_reserved

log = logging.getLogger("lenslet")


class Files:
    """Upload, move, trash, restore and delete images, and make and remove folders."""

    def __init__(self, tree, catalog, thumbs, config):
        self.tree = tree
        self.catalog = catalog
        self.thumbs = thumbs
        self.limits = {"image": (config.max_upload, "LENSLET_MAX_UPLOAD"),
                       "video": (config.max_video_upload, "LENSLET_MAX_VIDEO_UPLOAD")}
        self.limit = max(config.max_upload, config.max_video_upload)  # a body's cap, before its type is known
        self.too_large = (f"the file is larger than {self.limit} bytes (LENSLET_MAX_UPLOAD, "
                          "LENSLET_MAX_VIDEO_UPLOAD for a video)", self.limit)
        self.xmp_shown = catalog.xmp_shown  # whether other tools' XMP sidecars move with images
        self.clock = catalog.clock
        self.settled = set()  # storages whose torn moves this process has recovered

    def body_limit(self, path):
        """Return (the cap, what a body past it is told) of a file sent to a path: its name says a photo's or a
        video's, or else the larger."""
        if mime_of(name_of(path)) is None:
            return self.limit, self.too_large
        limit, setting = self.limits["video" if kind_of(name_of(path)) == "video" else "image"]
        return limit, (f"the file is larger than {limit} bytes ({setting})", limit)

    def upload(self, folder, filename, stream, conflict="fail", thumbnail_now=True, added=None):
        """Store an uploaded image or video in a folder and make its thumbnail, or have the worker make it
        (a video's poster always); added: sidecar fields saying who added it, written before it is listed."""
        conflict = conflict_mode(conflict)
        place = self._writable(folder)
        storage = place.storage
        if not storage.stat(place.key).is_dir:
            raise Conflict("a file stands where the folder should be", path=folder)
        head = _read_head(stream)
        kind = _sniff(head)
        name = upload_name(filename, kind)
        is_video = kind.startswith("video/")
        limit, setting = self.limits["video" if is_video else "image"]
        # a replace under way holds the name's lock between the old bytes' leaving and the new ones' landing
        try:
            with storage.lock_images([join(place.key, name)]) if conflict == "replace" else nullcontext():
                in_use = _in_use(storage, join(place.key, name)) if conflict == "replace" else None
                if in_use is None or not storage.exists(in_use):
                    in_use, (key, digest) = None, self._write_new(place, name, stream, head, conflict, limit, setting,
                                                                  is_video)
        except NotAFolder:  # a file put over the folder since it was looked at (a copy or move over it)
            raise Conflict("a file stands where the folder should be", path=folder) from None
        if in_use is not None:
            return self._replace_image(place._replace(key=in_use), stream, head, thumbnail_now, limit, is_video)
        path = _browse(place, key)
        if added:
            with storage.lock_images([key]):
                change_sidecar(storage, key, lambda stored, version: dict(stored or sidecars.defaults(), **added))
        self._stored(storage, key, path, thumbnail_now, lambda: _undo_upload(storage, key, added), digest)
        return {"ok": True, "path": path, "name": name_of(key)}

    def _write_new(self, place, name, stream, head, conflict, limit, setting, is_video):
        """Write an upload under a name not in use; return its key and, for a video, its digest."""
        storage = place.storage
        if is_video:
            stream = _Hashed(stream, head)  # hashed as it is stored, never read again

        def next_free(taken):  # a name taken between the look and the write: the bytes take the next one
            return free_name(taken, lambda candidate: candidate == taken or
                                   _taken(storage, join(place.key, candidate)))

        if conflict == "rename":
            key = join(place.key, free_name(name, lambda candidate: _taken(storage, join(place.key, candidate))))
        else:
            in_use = _in_use(storage, join(place.key, name))
            if conflict == "fail" and in_use is not None:
                raise AlreadyExists("a file of this name is in the folder; ask for a new name "
                                    "(conflict=rename) or to replace it (conflict=replace)",
                                    path=_browse(place, in_use))
            key = in_use or join(place.key, name)  # a sidecar left without its image is the new one's
        try:
            key = storage.write_stream(key, stream, limit, head=head,
                                       renamed=next_free if conflict == "rename" else None)
        except AlreadyExists:
            raise AlreadyExists("a file of this name is in the folder", path=_browse(place, key)) from None
        except TooLarge:
            raise TooLarge(f"the file is larger than {limit} bytes ({setting})", limit=limit) from None
        return key, is_video and stream.digest()

    def _stored(self, storage, key, path, thumbnail_now, undo, digest=None):
        """Check a stored upload and note it, or undo it if it is no image; one moved meanwhile was taken. A video
        comes with its digest: the worker makes its poster."""
        video, opened = bool(digest), None
        try:
            if not digest:
                digest, opened = self.thumbs.make_upload(storage, key) if thumbnail_now \
                    else _header_checked(storage, key)
        except NotFound:
            return  # moved or trashed meanwhile: that operation tells listings and search
        except LensletError:
            undo()  # not a decodable image: not kept
            raise
        with suppress(NotFound):
            self.catalog.added(storage, key, path, digest, opened)
        if video or not thumbnail_now:
            self.thumbs.ask_worker(path)
        else:  # the thumbnail made here holds its look
            self.catalog.looked(storage, parent(key), self.thumbs.looks(storage, parent(key), [name_of(key)]))

    def _replace_image(self, image, stream, head, thumbnail_now, limit, video):
        """Replace an image's bytes unless they are these very bytes; the old ones go to the trash with their
        words, and the image keeps a copy of its words."""
        storage, key, path = image.storage, image.key, _browse(image, image.key)
        changes, trashed, words = _Changes(), None, None
        with spool(stream, limit, head) as copy:
            digest = pillow.content_hash_of(copy)
            for attempt in range(3):  # a free name in the trash, or this one, may be taken between look and write
                try:
                    trash, slot = self._trash_slot(path, set())
                except NotFound:
                    if attempt == 2:
                        raise
                    with storage.lock_images([key]):  # another replace has it in the trash this instant: wait
                        continue
                with storage.lock_images([key, slot.key]):
                    if _taken(storage, slot.key):
                        continue
                    try:
                        with storage.open(key) as old:
                            if trashed is None and pillow.content_hash_of(old) == digest:
                                return {"ok": True, "path": path, "name": name_of(key), "unchanged": True}
                    except NotFound:  # moved or trashed meanwhile (nothing is written), or another PUT's moment
                        if attempt == 2:
                            raise
                        continue
                    words = _read_if_any(storage, sidecar_of(key)) or words
                    self._carry(storage, [(trash, slot)], changes, [])
                    trashed = trashed or _browse(slot, slot.key)
                    copy.seek(0)
                    try:
                        storage.write_stream(key, copy, limit)
                    except AlreadyExists:
                        continue  # an upload took the name while it was free: it goes to the trash too
                    if words is not None:
                        storage.create(sidecar_of(key), words)
                        record_hash(storage, key, digest)  # the words name these bytes, not the ones they replaced
                break
            else:
                raise Conflict("the name keeps changing; try again", path=path)
        changes.folders.pop((storage.identity, parent(key)))  # relisted once the new bytes are checked
        self.catalog.operation_done(changes.folders.values(), changes.search, changes.rollup, changes.hashes)
        self._stored(storage, key, path, thumbnail_now, lambda: self._put_back(storage, key, trashed),
                     video and digest)
        return {"ok": True, "path": path, "name": name_of(key), "trashed": trashed}

    def _put_back(self, storage, key, trashed):
        """Undo a replace: the new bytes go, the old ones come back from the trash."""
        for leftover in (key, storage.derived_key(thumb_of(key)), sidecar_of(key)):
            with suppress(NotFound):
                storage.delete(leftover)
        self.restore([trashed])

    def _trash_slot(self, path, claimed):
        """Plan sending the image at path to the trash: its move, and the free name it takes there."""
        trash = self._plan_trash(path)
        _make_folders(trash.place.storage, TRASH)
        return trash, self._target(trash.place, trash.to_path, "rename", claimed)

    def put(self, path, stream):
        """Store an image at a path, replacing what is there unless it holds these very bytes, its thumbnail left to
        the worker (a backup app sends thousands); return "created", "replaced" or "unchanged"."""
        done = self.upload(parent(path), name_of(path), stream, "replace", thumbnail_now=False)
        return "unchanged" if done.get("unchanged") else "replaced" if "trashed" in done else "created"

    def copy(self, src, dest, conflict="fail"):
        """Copy an image, or a folder's images and folders, to a new path; tags and notes stay with the original."""
        place = self.tree.locate(src, is_file=True)
        if not place.storage.stat(place.key).is_dir:
            image, _ = self.tree.locate_image(src)
            with image.storage.open(image.key) as stream:
                return self.upload(parent(dest), name_of(dest), stream, conflict)
        if dest == src or dest.startswith(src + "/"):
            raise Conflict("a folder is not copied into itself", path=dest)
        with suppress(AlreadyExists):
            self.make_folder(dest)
        for entry in place.storage.list_folder(place.key):
            if entry.link:
                continue  # a link is not followed: it may lead out of the folder, or into it
            if (entry.is_dir and entry.name != TRASH and not entry.name.startswith(".")) or is_image(entry.name):
                self.copy(join(src, entry.name), join(dest, entry.name), conflict)
        return {"ok": True, "path": dest}

    def trash_folder(self, path):
        """Trash every image in a folder and the folders below it, then remove the folders left empty."""
        place = self._writable(path)
        if not place.key or moves.in_trash(place.key):
            raise Forbidden("the root and the trash are not trashed", path=path)
        entries = place.storage.list_folder(place.key)
        images = [join(path, entry.name) for entry in entries
                  if not entry.is_dir and not entry.link and is_image(entry.name)]
        for start in range(0, len(images), 1000):
            self.trash(images[start:start + 1000])
        for entry in entries:
            if entry.is_dir and not entry.link and not entry.name.startswith("."):
                self.trash_folder(join(path, entry.name))
        return self.remove_folder(path)

    # -- moves

    def move(self, src, dest=None, to=None, conflict="fail"):
        """Move or rename an image or a folder; dest is a folder, `to` a full new path."""
        return self.move_many([src], dest, conflict, to)

    def move_over(self, src, to):
        """Move an image or a folder to `to`, what is there going to the trash first with its words (WebDAV's
        Overwrite: T); an image onto an image in one step."""
        moves_a_folder = self._is_folder(src)  # missing: nothing moves, nothing is replaced
        if to.startswith(src + "/") or src.startswith(to + "/"):
            raise Forbidden("a folder is neither moved into itself nor replaced by what it holds", path=to)
        with suppress(NotFound):
            if self._is_folder(to):
                self.trash_folder(to)
            elif moves_a_folder:
                self.trash([to])
        return self.move(src, to=to, conflict="replace")

    def _is_folder(self, path):
        place = self.tree.locate(path, is_file=True)
        return place.storage.stat(place.key).is_dir

    def move_many(self, paths, dest, conflict="fail", to=None):
        """Move images or folders into one folder, or one of them to `to`, with their stack partners."""
        conflict = conflict_mode(conflict)
        targets = {one: stacks.renamed(one, to) for one in self.partners(paths[0])} if to is not None else {}
        for target in targets.values():  # the pair is renamed whole or not at all
            place = self.tree.locate(target, is_file=True)
            if conflict == "fail" and _in_use(place.storage, place.key) is not None:
                raise AlreadyExists("the other file of this image's stack would take a name that is taken", path=target)
        return self._in_turn(self.with_partners(paths),
                             lambda path: self._plan_move(path, dest, targets.get(path, to), conflict), "moved")

    def _plan_move(self, src, dest, to, conflict):
        if dest is None and to is None:
            raise BadRequest("say where to: dest (a folder; \"\" is the root) or to (a new path)")
        if dest == TRASH and to is None and not moves.in_trash(src):
            return self._plan_trash(src)  # lenscat trashes by moving to /_trash_
        place = self._writable(src, is_file=True)
        if place.storage.stat(place.key).is_dir:
            return lambda changes: self._move_folder(place, moves.folder_target(src, dest, to), changes)
        self.tree.locate_image(src, writing=True)
        return _ImageMove(place, moves.folder_target(src, dest, to), conflict)

    def _in_turn(self, paths, plan, what):
        """Check every path's plan, then carry them out in order; a refusal while checking changes nothing."""
        done, pending, changes = [], [], _Changes()
        try:
            for planned in [plan(path) for path in paths]:
                if isinstance(planned, _ImageMove):
                    if planned.folder is not None:
                        _make_folders(planned.place.storage, planned.folder)
                    pending.append(planned)
                    if len(pending) == CHUNK:
                        self._move_images(pending, changes, done)
                else:
                    self._move_images(pending, changes, done)
                    done.append(planned(changes)["path"])
            self._move_images(pending, changes, done)
        except LensletError as ex:
            ex.fields.setdefault(what, done)
            raise
        finally:  # tell listings and search once what changed, even on a failure
            _keep_emptied(changes.folders.values())
            self.catalog.operation_done(changes.folders.values(), changes.search, changes.rollup, changes.hashes)
        return {"ok": True, "path": done[0] if done else None, "paths": done}

    def _move_images(self, pending, changes, done):
        """Move the pending images and empty the list, one chunk per run of images in the same storage."""
        for _, run in groupby(pending, key=lambda move: move.place.storage.identity):
            self._move_chunk(list(run), changes, done)
        pending.clear()

    def _move_chunk(self, left, changes, done):
        """Move images with their companions, holding the locks of both names of each;
        edits take the same locks, so none lands on a sidecar left behind."""
        storage = left[0].place.storage
        for _ in range(3):  # a name may be taken between the look and the lock
            claimed, planned, refused = set(), [], None
            for move in left:
                try:
                    target = self._target(move.place, move.to_path, move.conflict, claimed)
                    # what a move replaces goes to the trash with its words
                    trash = self._trash_slot(move.to_path, claimed) \
                        if move.conflict == "replace" and storage.exists(target.key) else None
                    planned.append((move, target, trash))
                except LensletError as ex:
                    refused = ex
                    break
            retry, ready, replaced = [], [], []
            keys = [key for move, target, trash in planned
                    for key in (move.place.key, target.key, *([trash[1].key] if trash else []))]
            with storage.lock_images(keys):
                for move, target, trash in planned:
                    if not storage.exists(move.place.key):
                        refused = NotFound("no such image (moved or deleted meanwhile)",
                                           path=_browse(move.place, move.place.key))
                        break
                    if _taken(storage, target.key):
                        if trash is not None and storage.exists(target.key) and not _taken(storage, trash[1].key):
                            replaced.append(trash)
                        elif move.conflict == "fail":
                            refused = AlreadyExists("the target exists (or its sidecar does)", path=move.to_path)
                            break
                        else:
                            retry.append(move)
                            continue
                    ready.append((move, target))
                self._carry(storage, replaced, changes, [])
                self._carry(storage, ready, changes, done)
            if refused is not None:
                raise refused
            if not retry:
                return
            left = retry
        raise Conflict("the folder keeps changing; try again", path=left[0].to_path)

    def _carry(self, storage, ready, changes, done):
        """Move one chunk of images, their locks held; the journals are durable before any step."""
        journals, written = [], []
        for move, target in ready:
            with suppress(NotFound):  # a thumbnail left without its image must not block a move to that name
                storage.delete(storage.derived_key(thumb_of(target.key)))
            if move.origin is not None:
                set_origin(storage, move.place.key, move.origin, self.clock(), durable=False)
                written.append(sidecar_of(move.place.key))
            steps = [(a, b) for a, b in moves.image_steps(move.place.key, target.key, self.xmp_shown)
                     if b == target.key or (storage.exists(a) and self._carried(storage, move.place.key, a, b))]
            journals.append((self._journal(storage, "image", steps), steps))
        storage.sync(written + [name for name, _ in journals])
        for number, (name, steps) in enumerate(journals):
            try:
                for src, dst in steps:
                    # The folders are synced once below; until then the journal covers a crash.
                    storage.rename(src, dst, durable=False)
            except LensletError:
                _settle(storage, {"kind": "image", "steps": steps}, way="back")  # a failed move is undone
                storage.delete(name)
                for later, _ in journals[number + 1:]:
                    storage.delete(later)  # not begun: nothing to settle
                raise
        storage.sync({parent(key) for move, target in ready for key in (move.place.key, target.key)})
        for name, _ in journals:
            storage.delete(name)
        back = [target.key for move, target in ready
                if moves.in_trash(move.place.key) and not moves.in_trash(target.key)]
        for key in back:
            clear_origin(storage, key, durable=False)  # out of the trash
        storage.sync([sidecar_of(key) for key in back])
        for move, target in ready:
            new_path = _browse(target, target.key)
            changes.folder(storage, parent(move.place.key))
            changes.folder(storage, parent(target.key))
            changes.search[_browse(move.place, move.place.key)] = {"gone": True}
            fields = sidecar_fields(storage, target.key)
            if not fields.get("hash"):
                changes.carry_hash(self.catalog, storage, move.place.key, target.key)
            changes.search[new_path] = self.catalog.shown(storage, target.key, fields)[1]
            done.append(new_path)

    def _carried(self, storage, image, src, dst):
        """Whether a companion moves too: lenslet's always, an XMP sidecar only if free and not shared."""
        if not is_xmp(src):
            return True
        if storage.exists(dst):
            return False  # never over another's file
        return not (moves.is_stem_xmp(image, src) and
                    moves.stem_shared(name_of(image), storage.list_names(parent(image), name_of(src)[:-3])))

    def _target(self, place, to_path, conflict, claimed, may_make=False):
        """Return the Place an image moves to in the same storage; claimed keys count as taken."""
        target = self.tree.locate(to_path, is_file=True)
        if target.storage.identity != place.storage.identity:
            raise BadRequest("images move within one tree only, not into or out of a pointer folder", path=to_path)
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
            key = join(folder, free_name(name_of(key), lambda name: join(folder, name) in claimed
                                               or _taken(storage, join(folder, name))))
        elif key in claimed or (_taken(storage, key) and (conflict != "replace" or not storage.exists(key))):
            raise AlreadyExists("the target exists (or its sidecar does); ask for a new name with "
                                "conflict=rename", path=to_path)
        claimed.add(key)
        return target._replace(key=key)

    def _move_folder(self, place, to_path, changes):
        not_reserved(to_path)
        target = self.tree.locate(to_path)
        if target.storage.identity != place.storage.identity:
            raise BadRequest("folders move within one tree only", path=to_path)
        if target.readonly:
            raise Forbidden("this folder is read-only", path=to_path)
        moves.check_folder_move(place.key, target.key)
        storage = place.storage
        # Lock both names so two renames to one name cannot both succeed.
        with storage.lock_images([place.key, target.key]):
            if storage.exists(target.key):
                raise AlreadyExists("the target folder exists", path=to_path)
            if parent(target.key) and not storage.exists(parent(target.key)):
                raise NotFound("no such folder", path=parent(to_path))
            name = self._journal(storage, "folder", [(place.key, target.key)])
            storage.sync([name])
            # A folder move is never undone: recovery finishes it.
            storage.rename(place.key, target.key, durable=False)
            storage.sync([parent(target.key)])
            self.catalog.folder_moved(storage, target.key)
            storage.delete(name)
        changes.folder(storage, parent(place.key))
        changes.folder(storage, parent(target.key))
        changes.rollup = True
        return {"ok": True, "path": _browse(target, target.key)}

    def _journal(self, storage, kind, steps):
        """Write a move's journal, not yet synced, and return its key."""
        if storage.identity not in self.settled:
            # Each storage keeps its own journals: recover them before its first move.
            recover(storage, self.clock)
            self.settled.add(storage.identity)
        journal = {"v": 1, "kind": kind, "steps": steps, "host": socket.gethostname(), "pid": os.getpid(),
                   "startedAt": self.clock()}
        name = join(MOVES, f"{int(self.clock() * 1000):014d}-{secrets.token_hex(6)}.json")
        storage.create(name, orjson.dumps(journal), durable=False)
        return name

    # -- trash, restore, delete

    def trash(self, paths):
        """Move images and their stack partners into `_trash_`, noting where each came from."""
        return self._in_turn(self.with_partners(paths), self._plan_trash, "trashed")

    def trash_copies(self, digest, keep, paths):
        """Trash the copies of `keep` whose content hash is still `digest`; a changed one is left alone."""
        if self.content_hash(keep) != digest:
            raise Conflict("the image kept is no longer a copy of the others: nothing was trashed", path=keep)
        kept = self._identity(keep)
        for path in paths:
            if self._identity(path) == kept:
                raise Conflict("this is the very file kept (a link to it), not a copy: nothing was trashed", path=path)
        same = [path for path in paths if self.content_hash(path) == digest]
        trashed = self._in_turn(same, self._plan_trash, "trashed")["paths"] if same else []
        # Another request may have trashed `keep` meanwhile: never leave no copy.
        still = False
        with suppress(LensletError):
            still = self.content_hash(keep) == digest
        if not still:
            if trashed:
                self.restore(trashed)
            raise Conflict("the image kept was trashed or changed meanwhile: the copies were put back", path=keep)
        return {"ok": True, "paths": trashed, "changed": [path for path in paths if path not in same]}

    def _identity(self, path):
        place = self.tree.locate(path, is_file=True)
        return place.storage.identity, place.storage.identity_of(place.key)

    def content_hash(self, path):
        """Hash an image's bytes as they are now."""
        place = self.tree.locate(path, is_file=True)
        self.tree.locate_image(path)
        with place.storage.open(place.key) as stream:
            return pillow.content_hash_of(stream)

    def _plan_trash(self, path):
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if moves.in_trash(place.key):
            raise Conflict("the image is in the trash already", path=path)
        if place.prefix:
            raise BadRequest("images in pointer folders are not trashed; delete them with force", path=path)
        return _ImageMove(place, moves.trash_key(place.key), "rename", origin=path, folder=TRASH)

    def restore(self, paths, conflict="fail"):
        """Move trashed images back to where their sidecars say they came from."""
        conflict = conflict_mode(conflict)
        claimed = set()  # two images going back to one name: refuse before either moves
        return self._in_turn(self.with_partners(paths), lambda path: self._plan_restore(path, conflict, claimed),
                             "restored")

    def _plan_restore(self, path, conflict, claimed):
        place = self._writable(path, is_file=True)
        self.tree.locate_image(path, writing=True)
        if not moves.in_trash(place.key):
            raise Conflict("the image is not in the trash", path=path)
        origin = moves.restore_origin(sidecar_fields(place.storage, place.key).get("originalPosition"), path)
        planned = self._plan_move(path, None, origin, conflict)
        # Its old folders may be gone: they are made once the whole request is checked.
        target = self._target(planned.place, origin, conflict, claimed, may_make=True)
        folder = parent(target.key)
        return planned._replace(folder=folder if folder and not target.storage.exists(folder) else None)

    def delete(self, paths, force=False):
        """Delete images and their stack partners for good; only trashed ones unless force."""
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
            # S3 deletes a missing key silently, so look first; a left sidecar still goes.
            if not storage.exists(key) and not storage.exists(sidecar_of(key)):
                raise NotFound("no such image", path=path)
            names = changes.names_in(storage, parent(key))
            for leftover in [key] + _leftovers(storage, key, names) + self._stem_xmps(key, names):
                with suppress(NotFound):
                    storage.delete(leftover)
        changes.folder(storage, parent(key))
        changes.search[path] = {"gone": True}
        return {"ok": True, "path": path}

    def _stem_xmps(self, key, names):
        """Return foo.xmp of foo.jpg unless another file shares the stem."""
        if not self.xmp_shown or moves.stem_shared(name_of(key), names):
            return []
        return [step for step, _ in moves.image_steps(key, key, xmp=True)
                if moves.is_stem_xmp(key, step) and name_of(step) in names]

    def empty_trash(self, days):
        """Delete images trashed more than `days` ago; return (deleted paths, {path: why})."""
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

    def with_partners(self, paths):
        """Return paths, each followed by its stack partners not named already."""
        named, out, found = set(paths), [], {}
        for path in paths:
            out.append(path)
            out += [partner for partner in self.partners(path, found) if partner not in named]
            named.update(out)
        return out

    def partners(self, path, found=None):
        """Return the other files of path's stack; in the trash, only those from the same folder."""
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

    def make_folder(self, path):
        not_reserved(path)
        place = self._writable(path)
        if not place.key:
            raise AlreadyExists("the root folder exists", path=path)
        if parent(place.key) and not place.storage.stat(parent(place.key)).is_dir:
            raise BadRequest("not a folder", path=parent(path))
        place.storage.make_folder(place.key)
        self._relist_with_parent(place.storage, parent(place.key))
        return {"ok": True, "path": path}

    def remove_folder(self, path):
        """Remove a folder holding nothing but lenslet's own files."""
        place = self._writable(path)
        storage, key = place.storage, place.key
        if not key:
            raise BadRequest("the root folder cannot be removed")
        for _ in range(3):  # the worker may write a listing or a thumbnail meanwhile
            entries = storage.list_folder(key)
            kept = [entry.name for entry in entries if not _lenslets_own(entry)]
            if kept:
                raise Conflict("the folder is not empty", path=path, holds=sorted(kept)[:20])
            for entry in entries:
                if entry.name != FOLDER_MARKER:
                    with suppress(NotFound):
                        storage.delete(join(key, entry.name))
            try:
                storage.remove_folder(key)
                break
            except Conflict:
                continue
        else:
            raise Conflict("the folder keeps changing; try again", path=path)
        self._relist_with_parent(storage, parent(key))
        return {"ok": True, "path": path}

    def _relist_with_parent(self, storage, folder):
        """Relist a folder whose subfolders changed, and its parent, whose listing says whether it has any."""
        self.catalog.relist(storage, folder)
        if folder:
            self.catalog.relist(storage, parent(folder))

    def _writable(self, path, is_file=False):
        place = self.tree.locate(path, is_file=is_file)
        if place.readonly:
            raise Forbidden("this folder is read-only (a readonly pointer or LENSLET_READONLY)", path=path)
        return place


CHUNK = 32  # images moved under one hold of their locks


class _ImageMove(NamedTuple):
    """One image to move; origin goes in a trashed image's sidecar, folder is made first."""

    place: object
    to_path: str
    conflict: str
    origin: object = None
    folder: object = None


class _Changes:
    """What an operation changed, for listings and search."""

    def __init__(self):
        self.folders, self.search, self.names = {}, {}, {}
        self.rollup = False
        self.listed = {}   # (storage identity, folder) -> {name: listed hash}
        self.hashes = {}   # (storage identity, folder) -> {name: carried hash}

    def folder(self, storage, key):
        self.folders[(storage.identity, key)] = (storage, key)

    def carry_hash(self, catalog, storage, source, target):
        """Carry the hash a moved image's listing held to its new name; albums find it by that hash."""
        where = (storage.identity, parent(source))
        if where not in self.listed:
            self.listed[where] = catalog.listed_hashes(storage, parent(source))
        digest = self.listed[where].get(name_of(source))
        if digest is not None:
            self.hashes.setdefault((storage.identity, parent(target)), {})[name_of(target)] = digest

    def names_in(self, storage, folder):
        """Return a folder's sorted file names, listed once per operation."""
        where = (storage.identity, folder)
        if where not in self.names:
            self.names[where] = storage.list_names(folder)
        return self.names[where]


# -- recovery

def recover(storage, clock=time.time):
    """Finish or undo every move whose process died; return how many were settled.
    A journal that cannot be acted on is set aside for a person, never stopping the rest."""
    settled, host = 0, socket.gethostname()
    for name in _journal_names(storage):
        key = join(MOVES, name)
        try:
            journal = orjson.loads(storage.read(key))
        except NotFound:
            continue  # finished meanwhile
        except orjson.JSONDecodeError:  # lenslet names a journal only once whole: this one is not lenslet's
            set_aside(storage, MOVES, name, "not JSON")
            continue
        except LensletError as ex:
            if ex.status < 500:  # not a journal file
                set_aside(storage, MOVES, name, ex.description)
            continue  # the storage is busy: try again next time
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
        with suppress(NotFound):
            storage.delete(key)
        steps = journal["steps"]
        for folder in {parent(one) for step in steps for one in step}:
            jobs.enqueue(storage, "index", folder, clock)
        log.warning("settled an interrupted move: %s", steps[-1])
        settled += 1
    return settled


def moves_under_way(storage):
    """Whether a move journal exists; set-aside ones do not count."""
    return bool(_journal_names(storage))


def _journal_names(storage):
    try:
        return sorted(entry.name for entry in storage.list_folder(MOVES)
                      if not entry.is_dir and entry.name.endswith(".json"))
    except (NotFound, BadRequest):
        return []


def _settle(storage, journal, way=None):
    """Bring every step of a journalled move to one side: forward once the image moved."""
    steps = [tuple(step) for step in journal["steps"]]
    if journal["kind"] == "folder":
        # A rename on disk is whole; a half-done copy in a bucket is finished. Stale listings are rebuilt when read.
        src, dst = steps[0]
        if not storage.folder_mtimes and storage.exists(src) and storage.exists(dst):
            storage.rename(src, dst, resume=True)
        return
    if way is None:
        way = moves.direction(_state(storage, *steps[-1]))
    for src, dst in steps if way == "forward" else reversed(steps):
        action = moves.repair(_state(storage, src, dst), way)
        if action in ("rename", "rename-back"):
            storage.rename(*((src, dst) if action == "rename" else (dst, src)))
        elif action in ("unlink-src", "unlink-dst"):
            storage.delete(src if action == "unlink-src" else dst)


def _state(storage, src, dst):
    """Return where one step's file is: "src", "dst", "both", "none" or "apart"."""
    at_src, at_dst = storage.exists(src), storage.exists(dst)
    if at_src and at_dst:
        return "both" if storage.same(src, dst) else "apart"
    return "src" if at_src else "dst" if at_dst else "none"


# -- helpers

def _header_checked(storage, key):
    """Return a stored upload's hash, and the Stat it was read at, once its header says it is an image lenslet
    shows."""
    stored, opened = originals.open_image(storage, key)
    with stored:
        pillow.probe(stored)
        stored.seek(0)
        return pillow.content_hash_of(stored), opened


def _read_head(stream):
    head = b""
    while len(head) < video.HEAD and (chunk := stream.read(video.HEAD - len(head))):
        head += chunk
    if not head:
        raise BadRequest("the file is empty")
    return head


def _sniff(head):
    """Return an upload's type from its first bytes: a picture's, else a video's."""
    try:
        return pillow.sniff(head)
    except UnsupportedMedia:
        kind = video.media_type(head)
        if kind is None:
            raise UnsupportedMedia(f"the file is not an image lenslet reads ({pillow.READABLE}) nor a video "
                                   "(MP4, MOV, M4V, WebM, MKV, AVI, MTS)") from None
        return kind


class _Hashed:
    """A stream that hashes what is read through it, its first bytes given."""

    def __init__(self, stream, head):
        self.stream, self.hasher = stream, blake3.blake3(head)

    def read(self, size=-1):
        chunk = self.stream.read(size)
        self.hasher.update(chunk)
        return chunk

    def digest(self):
        return pillow.HASH_PREFIX + self.hasher.hexdigest()


def _read_if_any(storage, key):
    try:
        return storage.read(key)
    except NotFound:
        return None


def _taken(storage, key):
    """Whether a name is used by an image or an orphan sidecar, in any Unicode spelling."""
    return _in_use(storage, key) is not None


def _in_use(storage, key):
    """Return the key, as spelled in storage, under which a name is in use; None if free."""
    folder = parent(key)
    for name in spellings(name_of(key)):
        spelled = join(folder, name)
        if storage.exists(spelled) or storage.exists(sidecar_of(spelled)):
            return spelled
    return None


def _leftovers(storage, key, names):
    """Return the non-image files named after an image (`foo.jpg.json`), from sorted names."""
    folder, prefix = parent(key), name_of(key) + "."
    named = takewhile(lambda name: name.startswith(prefix), names[bisect.bisect_left(names, prefix):])
    found = [join(folder, name) for name in named if not is_image(name)]
    derived = storage.derived_key(thumb_of(key))
    if derived != thumb_of(key) and storage.exists(derived):
        found.append(derived)
    return found


def _keep_emptied(folders):
    """A folder an operation emptied stays, as on disk: in a bucket a marker keeps it."""
    for storage, folder in folders:
        if folder and not storage.exists(folder):
            with suppress(AlreadyExists):
                storage.make_folder(folder)


def _make_folders(storage, folder):
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        with suppress(AlreadyExists):
            storage.make_folder("/".join(parts[:depth]))


def _check_way(place, folder):
    """Refuse a folder whose way holds a file instead of a folder."""
    parts = folder.split("/")
    for depth in range(1, len(parts) + 1):
        key = "/".join(parts[:depth])
        try:
            if not place.storage.stat(key).is_dir:
                raise BadRequest("not a folder", path=_browse(place, key))
        except NotFound:
            return


def _lenslets_own(entry):
    """Whether a file is one an empty folder may still hold: one lenslet makes (a thumbnail whose image is gone
    too), the folder's own sidecar, a temp file."""
    return not entry.is_dir and (is_made(entry.name, at_root=False) or entry.name == FOLDER_SIDECAR
                                 or entry.name.endswith(TEMP_SUFFIX))


def _came_from(storage, key):
    """Return the folder a trashed image came from ("" when not known)."""
    origin = sidecar_fields(storage, key).get("originalPosition")
    return parent(origin.strip("/")) if isinstance(origin, str) else ""


def _browse(place, key):
    return join(place.prefix, key) if place.prefix else key


def _undo_upload(storage, key, added):
    storage.delete(key)
    if added:  # its sidecar was written for it: a guest's upload takes a name free of any (conflict=rename)
        with suppress(NotFound):
            storage.delete(sidecar_of(key))
