"""Everything lenslet made in a tree, found and removed (`lenslet clean`).

lenslet's files are either made again from the images whenever needed (thumbnails, folder
manifests, the rollup and health report, the state folder with its queue, locks, journals,
search index and previews, S3 folder markers, temp files a killed writer left) or hold what a
person wrote (sidecars with tags, notes or a star). Only what is provably lenslet's goes: a
`.thumbnail` that is a whole WebP lenslet could have made (thumbs.problem), a sidecar whose
every key and value is one lenslet writes (sidecars.not_lenslets) and that holds nothing a
person wrote (sidecars.blank), or, with everything, tags, notes and stars too. A name alone
proves nothing: another program's `a.jpg.json` (a Google Takeout `.json`, tags as one string)
or a person's `notes.thumbnail` stays, and the plan says why. The images, XMP sidecars, pointer
files and everything else stay. `_trash_` goes when nothing is left in it.
"""

from dataclasses import dataclass, field

from lenslet.errors import LensletError, NotAFolder, NotFound
from lenslet.formats import sidecars
from lenslet.images import thumbs
from lenslet.layout import ALBUMS, FOLDER_SIDECAR, SHARES, STATE, THUMB, TRASH, is_made, is_sidecar, join


@dataclass
class Plan:
    """What a clean removes, in order (files before the folders holding them), and what it keeps."""

    remove: list = field(default_factory=list)   # keys; a folder's key ends with "/"
    kept: dict = field(default_factory=dict)     # key of a sidecar or a .thumbnail -> why it stays


def plan(storage, everything=False, tree=True):
    """Find what lenslet made in a tree: a Plan. Reads only. tree=False: the state folder alone
    (a storage whose state lies outside the tree: what LENSLET_READONLY kept in the cache folder).
    A state root's tree (LENSLET_STATE; storage.state_tree) holds only lenslet's files: its folders
    go too once nothing is left in them, and the library is never looked at."""
    found = Plan()
    if tree:
        _walk(storage, "", found, everything, set(), getattr(storage, "state_tree", False))
    if storage.exists(STATE):
        _state(storage, STATE, found)
    return found


def carry_out(storage, found):
    """Remove what a Plan lists; return {key: why it could not be removed}. One failure stops nothing."""
    failed = {}
    for key in found.remove:
        try:
            if key.endswith("/"):
                storage.remove_folder(key[:-1])
            else:
                storage.delete(key)
        except NotFound:
            pass  # gone meanwhile: what was asked for
        except LensletError as ex:
            failed[key] = ex.description
    return failed


def _walk(storage, folder, found, everything, seen, mirror=False):
    """Plan a folder and its subfolders; return whether nothing would be left in it."""
    try:
        ident = storage.identity_of(folder)
        entries = storage.list_folder(folder)
    except NotFound:
        return True
    except NotAFolder:
        return False  # a link in a state root: another program's, never followed, and left as it is
    if ident in seen:  # a link back up the tree: walked already
        return False
    seen.add(ident)
    left = 0
    for entry in sorted(entries, key=lambda entry: entry.name):
        key = join(folder, entry.name)
        if entry.is_dir:
            # Hidden folders are a person's (the state folder at the root is planned apart).
            if entry.name.startswith(".") or not _walk(storage, key, found, everything, seen, mirror):
                left += 1
            elif key == TRASH or mirror:
                found.remove.append(key + "/")  # the trash is lenslet's (a state root's folders too): gone once empty
            else:
                left += 1  # a person's folder stays, even empty
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
            # A folder's sidecar holds the cover a person picked: kept like tags, gone with --all.
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
        found.kept[key] = "larger than any thumbnail lenslet makes"  # and not worth reading to say more
        return False
    try:
        why = thumbs.problem(storage.read(key))
    except NotFound:
        return True  # gone meanwhile: carry_out says nothing of it
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
    """Plan the whole state folder: every file, then every folder, deepest first; but share links
    (people made them, and revoke them one by one) and albums (people made them too)
    stay. Return whether the folder goes."""
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

