"""Every name lenslet gives a file in a tree, and what a name is. Pure: no I/O.

Beside an image `foo.jpg` lenslet keeps its sidecar `foo.jpg.json` and thumbnail
`foo.jpg.thumbnail`; a folder's manifest is `_index.json`, or `_index_0.json`,
`_index_1.json`, ... when it needs more than one page; the root holds the search
rollup and the health report; `.lenslet/` holds the worker's state (queue, claims,
heartbeats, locks, the edit journal) and the viewer's previews. Keys are POSIX paths relative to the root.
"""

import hashlib
import re

SIDECAR = ".json"
THUMB = ".thumbnail"
INDEX = "_index.json"
ROLLUP = "_rollup.json"
HEALTH = "_health.json"
ROOT_FILES = frozenset((ROLLUP, HEALTH))
POINTER_FILE = ".lenslet.folder.json"
# A folder's own settings a person made (the cover picked for it): a hidden file inside the folder, so
# it moves with the folder and goes to the trash or a backup with it; not the pointer file, whose
# presence makes a folder a pointer, and not a manifest, which lenslet rebuilds at will.
FOLDER_SIDECAR = ".lenslet.meta.json"
TEMP_SUFFIX = ".lenslet-tmp"
MAX_NAME = 255  # bytes in one file name, on every common file system
TRASH = "_trash_"  # the trash folder at the root
FOLDER_MARKER = ".lenslet.keep"  # keeps an empty folder in a bucket, where folders are key prefixes

STATE = ".lenslet"
JOBS = f"{STATE}/jobs"
CLAIMS = f"{STATE}/claims"
FOUND = f"{STATE}/found"  # hashes reads found, one folder each, waiting for the worker (lenslet/jobs.py)
HEARTBEATS = f"{STATE}/workers"
JOURNAL = f"{STATE}/journal"
LOCKS = f"{STATE}/locks"
DERIVED = f"{STATE}/derived"  # where derived files go when the tree itself is read-only
MOUNTS = f"{STATE}/mounts"    # state of read-only pointer targets
MOVES = f"{STATE}/moves"      # journals of moves under way
SHARES = f"{STATE}/shares"    # share links, one file each (lenslet/people/share_links.py)
THROTTLE = f"{STATE}/throttle"  # failed sign-ins, one file per client address (lenslet/people/throttle_store.py)
SIGNED_IN = f"{THROTTLE}/signed-in"  # where each account name was signed in to from lately, one file per network
ALBUMS = f"{STATE}/albums"    # albums, one file each (lenslet/albums/store.py)
SESSIONS = f"{STATE}/sessions"  # signed-in sessions, one file each, named by the token's hash (session_store.py)
# Journals (of moves, of edits) and job files of a shape lenslet does not write are set aside here, for a person
# to look at, and reported in /health; they are never acted on.
REJECTED = "rejected"
MOVES_REJECTED = f"{MOVES}/{REJECTED}"
JOURNAL_REJECTED = f"{JOURNAL}/{REJECTED}"
JOBS_REJECTED = f"{JOBS}/{REJECTED}"  # job files of no kind this version runs (lenslet/jobs.py)
SEARCH_CACHE = f"{STATE}/search-index.bin"  # a web process's search index, made from one rollup
SEARCH_COLUMNS = f"{STATE}/search-columns.bin"  # what search's sorts and filters use, made from one rollup
THUMB_SETTINGS = f"{STATE}/thumbs.json"  # the thumbnail settings the worker last made thumbnails with
LISTED = f"{STATE}/listed"  # rewritten whenever a listing changes: what folder counts kept in memory are checked by
# A folder's mtime as lenslet's last edit in it left it, one file a folder (named by a hash of its key): a
# listing whose folder moved to exactly that mtime is already patched (lenslet/manifest/listings.py).
EDITED = f"{STATE}/edited"
PREVIEWS = f"{STATE}/previews"  # the viewer's previews: a bounded cache, never beside the images
PREVIEW = ".webp"
# Thumbnails of the second, larger size (LENSLET_THUMB_SIZE_LARGE) for high-density screens: a bounded cache
# like the previews, named the same way (preview_of with this folder), never beside the images.
LARGE_THUMBS = f"{STATE}/thumbs-large"

# The file types lenslet serves, by extension: pictures, and raw camera files (shown through the
# JPEG preview they embed; lenslet/images/raw.py).
EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
              ".avif": "image/avif", ".gif": "image/gif", ".heic": "image/heic", ".heif": "image/heif",
              ".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2", ".nef": "image/x-nikon-nef",
              ".arw": "image/x-sony-arw", ".orf": "image/x-olympus-orf", ".rw2": "image/x-panasonic-rw2",
              ".raf": "image/x-fuji-raf", ".pef": "image/x-pentax-pef", ".cr3": "image/x-canon-cr3"}
RAWS = frozenset((".dng", ".cr2", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".cr3"))
# Files lenslet lists, serves and keeps sidecars for but never decodes: each is shown with a
# placeholder (kind "video", preview false) and its original is downloadable.
VIDEOS = {".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime", ".webm": "video/webm",
          ".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".3gp": "video/3gpp", ".mts": "video/mp2t",
          ".m2ts": "video/mp2t"}
TYPES = {**EXTENSIONS, **VIDEOS}

_PAGE = re.compile(r"^_index(?:_\d+)?\.json$")


def join(folder, name):
    """Join a folder key and a name into a key."""
    return f"{folder}/{name}" if folder else name


def parent(key):
    """Return the folder key holding key."""
    return key.rpartition("/")[0]


def name_of(key):
    """Return the last segment of a key."""
    return key.rpartition("/")[2]


def derived_name(name, suffix):
    """name + suffix; when that would pass 255 bytes, `<name's first bytes>~<16 hex of its hash><suffix>`.

    So an image whose name is 241-255 bytes long still gets a sidecar and a thumbnail.
    """
    if len(name) * 4 + len(suffix) <= MAX_NAME:  # a character is at most 4 bytes: surely short enough
        return name + suffix
    raw = name.encode("utf-8", "surrogateescape")
    if len(raw) + len(suffix) <= MAX_NAME:
        return name + suffix
    digest = hashlib.blake2b(raw, digest_size=8).hexdigest()
    keep = raw[:MAX_NAME - len(suffix) - 1 - len(digest)].decode("utf-8", "ignore")  # whole characters only
    return f"{keep}~{digest}{suffix}"


def _derived_key(image_key, suffix):
    folder, _, name = image_key.rpartition("/")
    return join(folder, derived_name(name, suffix))


def sidecar_of(image_key):
    return _derived_key(image_key, SIDECAR)


def thumb_of(image_key):
    return _derived_key(image_key, THUMB)


def preview_of(path, source, settings, folder=PREVIEWS):
    """Where the preview of the image at a browse path lives, made from source (its size and mtime)
    with settings: an image changed or moved, or new settings, give a new name, and the old one ages out.
    folder: PREVIEWS, or LARGE_THUMBS for a thumbnail of the larger size."""
    raw = "\0".join((path, source, settings)).encode("utf-8", "surrogateescape")
    return f"{folder}/{hashlib.blake2b(raw, digest_size=16).hexdigest()}{PREVIEW}"


def url_version(image, settings):
    """The version a thumbnail's or preview's URL carries (`&v=`): the image's size and mtime (in
    microseconds, hexadecimal) and the settings it is made with; the page makes the same from a listing's
    item and /health's `imageSettings`. A URL whose version is the one of what it answers is for ever the
    same bytes: it may be cached as immutable."""
    return f"{image.size:x}-{int(image.mtime * 1_000_000):x}-{url_settings(settings)}"


def url_settings(settings):
    """Settings as a URL version carries them ("256 80" -> "256-80")."""
    return settings.replace(" ", "-")


def edit_mark_of(folder_key):
    """Where the mark of lenslet's last edit in a folder is kept (EDITED)."""
    digest = hashlib.blake2b(folder_key.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
    return f"{EDITED}/{digest}"


def backup_of(sidecar_key, now):
    """Where the bytes of an unreadable sidecar are kept when a PUT replaces it on request."""
    return _derived_key(sidecar_key, f".bad-{int(now)}")


def is_backup(name):
    """Tell whether a file's name is one backup_of() gives: an image's sidecar's name and `.bad-<time>`, or
    the shortened form of a name too long for that (`~` and a digest before `.bad-<time>`). Never an image's
    (its name ends with its type), nor another program's `report.json.bad-2023`."""
    sidecar, found, time = name.rpartition(".bad-")
    if not (found and time.isascii() and time.isdigit()):
        return False
    return is_sidecar(sidecar) or bool(_HASHED.search(sidecar))


_HASHED = re.compile(r"~[0-9a-f]{16}\Z")  # derived_name() of a name too long for its suffix, before the suffix


def page_name(page, page_count):
    """Name of a manifest page file: _index.json alone, else _index_0.json, _index_1.json, ..."""
    return INDEX if page_count == 1 else f"_index_{page}.json"


def first_page_names():
    """The names a folder's first manifest page may have, the usual one first."""
    return (INDEX, page_name(0, 2))


def is_state(key):
    """Tell whether a key lies in lenslet's state folder."""
    return key == STATE or key.startswith(STATE + "/")


def is_manifest(name):
    return bool(_PAGE.match(name))


def is_internal(name):
    """Tell whether a file is lenslet's or hidden: never an item, never served as a file."""
    return (name.startswith(".") or name.endswith(SIDECAR) or name.endswith(THUMB)
            or is_manifest(name) or name in ROOT_FILES)


def is_lenslets(key):
    """Tell whether a key names a file lenslet writes in a tree: its state folder, a sidecar (or the bytes a
    PUT set aside), a thumbnail, a listing page, the rollup and report, a folder's own settings, a bucket's
    folder marker, a temp file. What a state root (LENSLET_STATE) holds, and the library never does; a
    pointer file and another tool's XMP sidecar are the library's.

    Asked of every key a state root routes and every entry a listing merges, so it looks at the whole key with
    the string methods alone, the test most keys fail first (a backup's pattern only where `.bad-` is in the
    key); a name of a folder's entry is a key too (the entry `.lenslet` of any folder is taken for the state
    folder: a hidden entry no listing shows)."""
    if key.endswith(_LENSLETS_ENDINGS):  # a name's ending is its key's
        return not (key == POINTER_FILE or key.endswith(_POINTER_AT)) or is_state(key)
    if key.startswith(STATE) and (len(key) == len(STATE) or key[len(STATE)] == "/"):
        return True
    return key == FOLDER_MARKER or key.endswith(_MARKER_AT) or (".bad-" in key and is_backup(name_of(key)))


_LENSLETS_ENDINGS = (SIDECAR, THUMB, TEMP_SUFFIX)
_POINTER_AT, _MARKER_AT = "/" + POINTER_FILE, "/" + FOLDER_MARKER


def split_lenslets(entries):
    """(lenslet's, the rest) of a folder's entries, by is_lenslets of each name, in one pass without a call per
    name: a state root's listing asks it of every entry of two folders, where the calls were most of what it
    cost above the same listing beside the images. For a name (no `/`) is_lenslets reduces to this: a name with
    lenslet's ending is its file but for the pointer file, and every other of its names holds `.lenslet` (its
    state folder, a folder marker) or `.bad-` (a backup), which is_lenslets then tells
    (tests/unit/test_layout.py holds the two to one answer)."""
    ours, rest = [], []
    for entry in entries:
        name = entry.name
        if (name.endswith(_LENSLETS_ENDINGS) and name != POINTER_FILE
                or (".lenslet" in name or ".bad-" in name) and is_lenslets(name)):
            ours.append(entry)
        else:
            rest.append(entry)
    return ours, rest


_HASHED_SIDECAR = re.compile(r"~[0-9a-f]{16}\.json$")  # derived_name() of a name too long for the suffix


def is_made(name, at_root):
    """Tell whether a file of this name is one lenslet made and can make again (thumbnail, manifest
    page, the rollup and health report at the root, an S3 folder marker, a temp file left by a
    killed writer): what `lenslet clean` removes. Sidecars are told apart by is_sidecar()."""
    return (name.endswith(THUMB) or is_manifest(name) or (at_root and name in ROOT_FILES)
            or name == FOLDER_MARKER or (name.startswith(".") and name.endswith(TEMP_SUFFIX)))


def is_sidecar(name):
    """Tell whether a file of this name is an image's sidecar by its name (`foo.jpg.json`)."""
    if not name.endswith(SIDECAR) or name.startswith(".") or is_manifest(name) or name in ROOT_FILES:
        return False
    return mime_of(name[:-len(SIDECAR)]) is not None or bool(_HASHED_SIDECAR.search(name))


def mime_of(name):
    """Return the type a file name announces (an image's, or a video's), or None when lenslet does not list it."""
    dot = name.rfind(".")
    return TYPES.get(name[dot:].lower()) if dot > 0 else None


def is_image(name):
    """Tell whether a file name is an item lenslet lists and serves (a picture, a raw, a video)."""
    return not is_internal(name) and mime_of(name) is not None


def kind_of(name):
    """What an item is, by its name: "image", "raw" (shown through its embedded JPEG) or "video"."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if extension in VIDEOS:
        return "video"
    return "raw" if extension in RAWS else "image"


def is_shown(name):
    """Tell whether lenslet tries to show an item (thumbnail, preview): never a video, which it does not decode."""
    return kind_of(name) != "video"


XMP_SUFFIXES = (".xmp", ".XMP")


def xmp_names(image_name):
    """The names another tool's XMP sidecar of an image may have, in the order one is chosen:
    foo.jpg.xmp (darktable, digiKam), then foo.xmp (Adobe, shared by foo.jpg and foo.cr2), either case."""
    stem = image_name.rpartition(".")[0] or image_name
    names = [base + suffix for base in (image_name, stem) for suffix in XMP_SUFFIXES]
    return tuple(name for name in names if len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME)


def is_xmp(name):
    return name[-4:].lower() == ".xmp"
