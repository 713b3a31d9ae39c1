"""Pure planning for moves: their steps, how recovery settles them, and when a trashed image is due."""

from lenslet.errors import BadPath, Conflict
from lenslet.formats.records import is_number
from lenslet.formats.sidecars import parse_time
from lenslet.layout import (
    MAX_NAME,
    TRASH,
    XMP_SUFFIXES,
    in_trash,
    is_image,
    is_internal,
    is_state,
    is_xmp,
    join,
    name_of,
    parent,
    sidecar_of,
    thumb_of,
)
from lenslet.storage.paths import clean_path, is_clean

STALE_JOURNAL = 120.0  # seconds before a torn move counts as abandoned
JOURNAL_VERSION = 1
JOURNAL_KINDS = ("image", "folder")
DAY = 86400.0


def image_steps(src, dst, xmp=False):
    """Return the (from, to) steps of an image move, the image last: once it has moved,
    recovery finishes the move, before that it undoes it."""
    steps = [(thumb_of(src), thumb_of(dst)), (sidecar_of(src), sidecar_of(dst))]
    if xmp:
        # Other tools never shorten an XMP name, so one too long cannot exist.
        steps += [(src + suffix, dst + suffix) for suffix in XMP_SUFFIXES if _fits(name_of(src) + suffix)]
        steps += [(_stem(src) + suffix, _stem(dst) + suffix) for suffix in XMP_SUFFIXES]
    return steps + [(src, dst)]


def _fits(name):
    return len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME


def _stem(key):
    name = name_of(key)
    return join(parent(key), name.rpartition(".")[0] or name)


def is_stem_xmp(image, key):
    return is_xmp(key) and key[:-4] == _stem(image)


def stem_shared(image_name, names):
    """Whether another file shares the image's stem (and so its foo.xmp)."""
    stem = image_name.rpartition(".")[0]
    return any(name != image_name and name.rpartition(".")[0] == stem and not is_xmp(name) and not is_internal(name)
               for name in names)


def restore_origin(origin, path):
    """Return where a trashed image goes back to; a sidecar is anyone's to edit, so check it."""
    if not isinstance(origin, str) or not origin:
        raise Conflict("where this image came from is not known; move it instead", path=path)
    try:
        place = clean_path(origin)
    except BadPath:
        place = None
    if not place or not is_clean(place) or in_trash(place):
        raise BadPath("where this image came from is no place in the gallery to restore it to; move it instead",
                      path=path, originalPosition=origin[:300])
    return place


def trash_key(key):
    return join(TRASH, name_of(key))


def direction(pivot_state):
    """Return "forward" or "back" for a torn move, by where its image is."""
    return "forward" if pivot_state in ("dst", "both") else "back"


def repair(step_state, way):
    """Return what recovery does with one step, or None."""
    if way == "forward":
        return {"src": "rename", "both": "unlink-src"}.get(step_state)
    return {"dst": "rename-back", "both": "unlink-dst"}.get(step_state)


def abandoned(journal, host, now, alive):
    """Whether recovery may act on a move journal: its process is gone or it is old."""
    if now - journal.get("startedAt", 0) > STALE_JOURNAL:
        return True
    if journal.get("host") != host:
        return False
    pid = journal.get("pid")
    return not isinstance(pid, int) or not alive(pid)


def folder_target(src, dest_folder, to=None):
    return to if to is not None else join(dest_folder, name_of(src))


def check_folder_move(src, dst):
    if not src:
        raise BadPath("the root folder cannot be moved")
    if src == TRASH:
        raise BadPath("the trash folder cannot be moved")
    if dst == src or dst.startswith(src + "/"):
        raise BadPath("a folder cannot be moved into itself", path=src, to=dst)


def journal_problem(journal):
    """Return why a move journal may not be acted on, or None; recovery renames files
    by it, so it must be exactly one move within the gallery."""
    if not isinstance(journal, dict):
        return "not a JSON object"
    if type(journal.get("v")) is not int or journal["v"] != JOURNAL_VERSION:
        return f"version {journal.get('v')!r} is not {JOURNAL_VERSION}"
    if journal.get("kind") not in JOURNAL_KINDS:
        return "kind is neither image nor folder"
    started = journal.get("startedAt")
    if not is_number(started):
        return "startedAt is not a number"
    if "pid" in journal and type(journal["pid"]) is not int:
        return "pid is not a whole number"
    if "host" in journal and not isinstance(journal["host"], str):
        return "host is not text"
    steps = journal.get("steps")
    if not isinstance(steps, list) or not steps:
        return "steps is not a list of moves"
    pairs = []
    for step in steps:
        if not (isinstance(step, list) and len(step) == 2 and all(isinstance(key, str) for key in step)):
            return "a step is not a pair of paths"
        for key in step:
            if not is_clean(key) or is_state(key):
                return "a step leaves the gallery's own paths: " + key[:200]
        pairs.append(tuple(step))
    if journal["kind"] == "folder":
        if len(pairs) != 1:
            return "a folder's move is one step"
        try:
            check_folder_move(*pairs[0])
        except BadPath as ex:
            return ex.description
        return None
    src, dst = pairs[-1]
    if not (is_image(name_of(src)) and is_image(name_of(dst))):
        return "the last step does not move an image"
    expected = iter(image_steps(src, dst, xmp=True))  # missing companions were left out, but the order must hold
    if not all(pair in expected for pair in pairs):
        return "the steps are not those of one image's move"
    return None


def trashed_at(sidecar, sidecar_mtime):
    """Return when lenslet trashed an image, or None if it was put in the trash by hand."""
    if not isinstance(sidecar, dict) or not isinstance(sidecar.get("originalPosition"), str):
        return None
    noted = parse_time(sidecar.get("trashedAt"))
    return noted if noted is not None else sidecar_mtime


def trash_expired(trashed, now, days):
    """Whether an image trashed at `trashed` is past `days` (0: never)."""
    return days > 0 and trashed is not None and now - trashed >= days * DAY
