"""Everything lenslet wrote, moved between its two layouts (`lenslet state move --to PATH|beside`).

From beside the images into a state root (LENSLET_STATE), or back: sidecars, thumbnails, listing pages,
the rollup and health report, a folder's cover, and the whole `.lenslet/` state (shares, sessions, jobs,
journals), each at the same relative path. Only what is provably lenslet's leaves either side: a `.json`
of another program (a Google Takeout file), a person's `notes.thumbnail` or `package.json` stays, as
`lenslet clean` keeps them, and is named; a link is never followed. Each file is copied (unless the target
holds the same bytes already; never over another file of the tree, which is kept and named), read back and
compared, and only then removed from where it was: a kill at any moment leaves every file in one place or
in both, the same, and running the command again finishes the move. A journal in the target's state
folder (and the library's, naming the state root) names the move under way, so a second run in the other
direction, or into another state root, is refused until it is finished.
"""

import orjson

from lenslet.errors import Conflict, LensletError, NotFound
from lenslet.formats import sidecars
from lenslet.images import thumbs
from lenslet.layout import (
    FOLDER_SIDECAR,
    POINTER_FILE,
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

# In the target: {"v": 1, "to": "state" | "beside"}; for a move into a state root, with its "root", in the library too.
JOURNAL = f"{STATE}/state-move.json"
MAX_JOURNAL = 4096


def files_to_move(storage, left=None):
    """The keys of lenslet's files in a tree (the library, or a state root), state folder included: only what
    is provably lenslet's is taken, on either side (a state root may hold a person's `package.json` too). A
    link is never followed nor taken (a folder reached through one is walked at its own path, or is no part
    of the tree). left: filled with {key: why} of the files named like lenslet's that stay where they are."""
    # The state folder is walked as the storage keeps it: in a folder of its own when another program's file
    # holds the name `.lenslet` at the root (a file that is never lenslet's, so never moved).
    found, stack = [], ["", STATE]
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
    """Of a state root's keys, those below a pointer folder of the library: lenslet's files for the tree the pointer
    grafts (storage/routed.py). They have no place beside the library's images (the pointer folder holds only its
    pointer file), so a move back beside the images leaves them in the state root, and says so."""
    pointer_at = {}

    def is_pointer(folder):
        if folder not in pointer_at:
            try:
                pointer_at[folder] = library.exists(join(folder, POINTER_FILE))
            except LensletError:
                pointer_at[folder] = False
        return pointer_at[folder]

    found = []
    for key in keys:
        folders = key.split("/")[:-1]
        if not is_state(key) and any(is_pointer("/".join(folders[:depth])) for depth in range(1, len(folders) + 1)):
            found.append(key)
    return found


def through_links(library, keys):
    """Of a state root's keys, those whose library folder is reached through a link (`best -> trips`): written
    there they land in the folder the link leads to, so they go after that folder's own, and never over
    them (move)."""
    real_at = {}

    def linked(folder):
        if folder not in real_at:
            try:
                real_at[folder] = library.real_key(folder) != folder
            except LensletError:
                real_at[folder] = False  # gone, or out of the library: moved as ever, or left with a reason
        return real_at[folder]

    return [key for key in keys if not is_state(key) and "/" in key and linked(key.rpartition("/")[0])]


def _not_lenslets(storage, key):
    """Why a file named like one of lenslet's is not provably lenslet's, or None when it is."""
    name = key.rpartition("/")[2]
    if name.endswith(THUMB):
        return _read(storage, key, thumbs.problem)  # a WebP lenslet could have made
    if is_made(name, at_root="/" not in key) or name == FOLDER_SIDECAR or is_backup(name):
        return None  # a listing page, the rollup, the report, a folder's cover, a sidecar's bytes set aside
    if not is_sidecar(name):
        return "named like lenslet's files, but no image's sidecar"
    return _read(storage, key, sidecars.not_lenslets)  # never another program's


def _read(storage, key, judge):
    try:
        return judge(storage.read(key))
    except LensletError as ex:
        return ex.description


def begin(source, target, to, root=None):
    """Note the move under way in the target; refused while one in the other direction is unfinished (its
    journal is where that one moved to: this one's source). root: the state root a move into one goes to,
    noted in the library too, so that a move left unfinished is never followed by one into another state
    root (which would leave part of lenslet's files in each)."""
    for storage in (source, target):
        try:
            data, _ = storage.read_small(JOURNAL, MAX_JOURNAL)
            under_way = orjson.loads(data) if data is not None else {}
            if not isinstance(under_way, dict):
                raise ValueError("not a journal")
        except (LensletError, ValueError):
            under_way = {"to": "somewhere"}  # torn, forged or not a file: a person looks at it first
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
    """Move keys from source to target, each verified before its old copy goes; return {key: why it stayed}.
    root: the state root's name, for a move into one (see begin)."""
    begin(source, target, to, root)
    stayed = {}
    for key in keys:
        try:
            data = source.read(key)
            there, _ = target.read_versioned(key)
            if there is not None and there != data and not is_state(key) \
                    and not is_made(name_of(key), at_root="/" not in key):
                # Never this move's copy (that is whole and the same): another program's file, or words kept
                # there before. Neither is written over; a person chooses. (What lenslet makes again, a
                # thumbnail or a listing, is, as lenslet would; and so is its state folder's, which only
                # lenslet writes: the side the move leaves is the one lenslet was set to, the newer.)
                raise Conflict("another file of this name is where it would go, and it is kept: move one of "
                               "the two away, then run the same command again")
            if there != data:
                # Made only where none is (another program's made meanwhile is never written over).
                target.create(key, data) if there is None else target.write(key, data)
                if target.read(key) != data:
                    raise Conflict("the copy does not read back the same")
            source.delete(key)
        except NotFound as ex:
            if is_made(name_of(key), at_root="/" not in key):
                _forget(source, key)  # made again where its photos are now: no reason to stop the move
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
            _forget(storage, JOURNAL)
    return stayed


def forget(storage, keys):
    """Remove keys (what lenslet makes again) from storage; one gone already is no matter."""
    for key in keys:
        _forget(storage, key)


def _forget(storage, key):
    try:
        storage.delete(key)
    except NotFound:
        pass


def prune(storage, moved, library=None):
    """Remove the folders a move left empty where it moved from: the state folder's, and in a state root (of
    library) each that held a moved file or stands for a library folder. A library's folders, and a folder a
    person made in a state root, are never removed."""
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
