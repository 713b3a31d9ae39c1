"""Find and remove what lenslet made (`lenslet clean`)."""

from dataclasses import dataclass, field

from lenslet.errors import LensletError, NotAFolder, NotFound
from lenslet.formats import sidecars
from lenslet.images import thumbs
from lenslet.layout import ALBUMS, FOLDER_SIDECAR, SHARES, STATE, THUMB, TRASH, is_made, is_sidecar, join


@dataclass
class Plan:
    """What a clean removes, files before folders, and what it keeps."""

    remove: list = field(default_factory=list)   # a folder's key ends with "/"
    kept: dict = field(default_factory=dict)     # key -> why it stays


def plan(storage, everything=False, tree=True):
    """Find what lenslet made; tree=False looks at the state folder only."""
    found = Plan()
    if tree:
        _walk(storage, "", found, everything, set(), getattr(storage, "state_tree", False))
    if storage.exists(STATE):
        _state(storage, STATE, found)
    return found


def carry_out(storage, found):
    """Remove what a Plan lists; return {key: why it failed}."""
    failed = {}
    for key in found.remove:
        try:
            if key.endswith("/"):
                storage.remove_folder(key[:-1])
            else:
                storage.delete(key)
        except NotFound:
            pass
        except LensletError as ex:
            failed[key] = ex.description
    return failed


def _walk(storage, folder, found, everything, seen, mirror=False):
    """Plan a folder; return whether nothing would be left in it."""
    try:
        ident = storage.identity_of(folder)
        entries = storage.list_folder(folder)
    except NotFound:
        return True
    except NotAFolder:
        return False  # a link: never followed, it could lead outside the root
    if ident in seen:  # a link back up the tree
        return False
    seen.add(ident)
    left = 0
    for entry in sorted(entries, key=lambda entry: entry.name):
        key = join(folder, entry.name)
        if entry.is_dir:
            # Hidden folders are a person's.
            if entry.name.startswith(".") or not _walk(storage, key, found, everything, seen, mirror):
                left += 1
            elif key == TRASH or mirror:
                found.remove.append(key + "/")  # lenslet's, gone once empty
            else:
                left += 1  # a person's folder stays
        elif entry.name.endswith(THUMB):
            if _thumbnail_goes(storage, key, entry.size, found):
                found.remove.append(key)
            else:
                left += 1
        elif is_made(entry.name, at_root=not folder):
            found.remove.append(key)
        elif is_sidecar(entry.name) and _sidecar_goes(storage, key, found, everything):
            found.remove.append(key)
        elif entry.name == FOLDER_SIDECAR:
            # Holds the cover a person picked.
            if everything:
                found.remove.append(key)
            else:
                found.kept[key] = "holds the cover picked for the folder"
                left += 1
        else:
            left += 1
    return left == 0


def _thumbnail_goes(storage, key, size, found):
    if size is not None and size > thumbs.MAX_THUMB_BYTES:
        found.kept[key] = "larger than any thumbnail lenslet makes"
        return False
    try:
        why = thumbs.problem(storage.read(key))
    except NotFound:
        return True  # gone meanwhile
    except LensletError as ex:
        why = f"cannot be read: {ex.description}"
    if why is not None:
        found.kept[key] = why
    return why is None


def _sidecar_goes(storage, key, found, everything):
    try:
        data = storage.read(key)
    except LensletError as ex:
        found.kept[key] = f"cannot be read: {ex.description}"
        return False
    why = sidecars.not_lenslets(data)
    if why is not None:
        found.kept[key] = why
        return False
    if everything or sidecars.blank(sidecars.parse(data)):
        return True
    found.kept[key] = "holds tags, notes, a star or where a trashed image came from"
    return False


def _state(storage, folder, found):
    """Plan the state folder but keep share links and albums; return whether it goes."""
    whole = True
    for entry in sorted(storage.list_folder(folder), key=lambda entry: entry.name):
        key = join(folder, entry.name)
        if key in (SHARES, ALBUMS):
            whole = False
        elif entry.is_dir:
            whole = _state(storage, key, found) and whole
        else:
            found.remove.append(key)
    if whole:
        found.remove.append(folder + "/")
    return whole

