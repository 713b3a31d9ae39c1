"""Move everything lenslet wrote between beside the images and a state root (`lenslet state move`)."""

import functools
from contextlib import suppress

import orjson

from lenslet.errors import Conflict, LensletError, NotFound
from lenslet.formats import sidecars
from lenslet.images import thumbs
from lenslet.layout import (
    FOLDER_SIDECAR,
    STATE,
    TEMP_SUFFIX,
    THUMB,
    is_backup,
    is_lenslets,
    is_made,
    is_sidecar,
    is_state,
    join,
    name_of,
)
from lenslet.storage.state_root import is_pointer_folder

JOURNAL = f"{STATE}/state-move.json"
MAX_JOURNAL = 4096


def files_to_move(storage, left=None):
    """Return the keys of lenslet's files in a tree; fill `left` with {key: why} of look-alikes that stay."""
    found, stack = [], ["", STATE]  # the storage may keep the state folder elsewhere, so it is walked apart
    while stack:
        folder = stack.pop()
        try:
            entries = storage.list_folder(folder)
        except NotFound:
            continue
        for entry in entries:
            key = join(folder, entry.name)
            if entry.link or key == STATE:
                continue
            if entry.is_dir:
                if not entry.name.startswith("."):
                    stack.append(key)
            elif is_lenslets(key) and not entry.name.endswith(TEMP_SUFFIX) and key != JOURNAL:
                why = None if is_state(key) else _not_lenslets(storage, key)
                if why is None:
                    found.append(key)
                elif left is not None:
                    left[key] = why
    return sorted(found)


def below_pointers(library, keys):
    """Return the keys below a pointer folder of the library, which cannot move beside its images."""
    is_pointer = functools.cache(functools.partial(is_pointer_folder, library))
    return [key for key in keys
            if not is_state(key) and any(is_pointer(key[:end]) for end in range(len(key)) if key[end] == "/")]


def through_links(library, keys):
    """Return the state root's keys whose library folder is reached through a link."""
    @functools.cache
    def linked(folder):
        try:
            return library.real_key(folder) != folder
        except LensletError:
            return False

    return [key for key in keys if not is_state(key) and "/" in key and linked(key.rpartition("/")[0])]


def _not_lenslets(storage, key):
    """Return why a file named like lenslet's is not provably lenslet's, or None."""
    name = key.rpartition("/")[2]
    if name.endswith(THUMB):
        return _read(storage, key, thumbs.problem)
    if is_made(name, at_root="/" not in key) or name == FOLDER_SIDECAR or is_backup(name):
        return None
    if not is_sidecar(name):
        return "named like lenslet's files, but no image's sidecar"
    return _read(storage, key, sidecars.not_lenslets)


def _read(storage, key, judge):
    try:
        return judge(storage.read(key))
    except LensletError as ex:
        return ex.description


def begin(source, target, to, root=None):
    """Note the move under way in the target; refuse while a different one is unfinished."""
    for storage in (source, target):
        try:
            data, _ = storage.read_small(JOURNAL, MAX_JOURNAL)
            under_way = orjson.loads(data) if data is not None else {}
            if not isinstance(under_way, dict):
                raise ValueError("not a journal")
        except (LensletError, ValueError):
            under_way = {"to": "somewhere"}  # unreadable: a person looks at it first
        going = under_way.get("to")
        if going not in (to, None) or (root and under_way.get("root") not in (root, None)):
            where = under_way.get("root") if going == to else going
            raise Conflict(f"a move to {where} is not finished ({JOURNAL} says so): run lenslet state move "
                           "--to that again first")
    note = orjson.dumps({"v": 1, "to": to, **({"root": root} if root else {})})
    target.write(JOURNAL, note)
    if root:
        source.write(JOURNAL, note)


def move(source, target, keys, to, root=None):
    """Move keys from source to target, verifying each copy first; return {key: why it stayed}."""
    begin(source, target, to, root)
    stayed = {}
    for key in keys:
        try:
            data = source.read(key)
            there, _ = target.read_versioned(key)
            if there is not None and there != data and not is_state(key) \
                    and not is_made(name_of(key), at_root="/" not in key):
                # Never write over a different file unless it is lenslet's state or made again.
                raise Conflict("another file of this name is where it would go, and it is kept: move one of "
                               "the two away, then run the same command again")
            if there != data:
                # create() fails if another file appeared meanwhile.
                target.create(key, data) if there is None else target.write(key, data)
                if target.read(key) != data:
                    raise Conflict("the copy does not read back the same")
            source.delete(key)
        except NotFound as ex:
            if is_made(name_of(key), at_root="/" not in key):
                forget(source, [key])  # made again anyway
            elif is_lenslets(key):
                stayed[key] = (f"its folder is not in the library ({ex.description}; another program renamed or "
                               "removed it?): start lenslet as it is set now, its worker finds these words' photos "
                               "again by their content, then run this again")
            else:
                stayed[key] = ex.description
        except LensletError as ex:
            stayed[key] = ex.description
    if not stayed:
        for storage in (target, source):
            forget(storage, [JOURNAL])
    return stayed


def forget(storage, keys):
    """Remove keys from storage; ones already gone are fine."""
    for key in keys:
        with suppress(NotFound):
            storage.delete(key)


def prune(storage, moved, library=None):
    """Remove the folders a move left empty, but never a library folder or one a person made."""
    held = {key.rpartition("/")[0] for key in moved}
    held |= {folder[:end] for folder in held for end in range(len(folder)) if folder[end] == "/"}
    mirror = getattr(storage, "state_tree", False)

    def ours(key):
        return is_state(key) or mirror and (key in held or library is not None and _is_folder(library, key))

    def gone(folder):
        try:
            entries = storage.list_folder(folder)
        except LensletError:
            return False
        left = [entry for entry in entries if entry.link or not entry.is_dir or join(folder, entry.name) == STATE
                or not ours(join(folder, entry.name)) or not gone(join(folder, entry.name))]
        if left or not folder:
            return False
        try:
            storage.remove_folder(folder)
        except LensletError:
            return False
        return True

    gone(STATE)
    gone("")


def _is_folder(storage, key):
    try:
        return storage.stat(key).is_dir
    except LensletError:
        return False
