"""Every name lenslet gives a file in a tree, and what a name is; no I/O."""

import hashlib
import re

SIDECAR = ".json"
THUMB = ".thumbnail"
INDEX = "_index.json"
ROLLUP = "_rollup.json"
HEALTH = "_health.json"
ROOT_FILES = frozenset((ROLLUP, HEALTH))
POINTER_FILE = ".lenslet.folder.json"
# a folder's own settings, hidden inside it so they move with it
FOLDER_SIDECAR = ".lenslet.meta.json"
TEMP_SUFFIX = ".lenslet-tmp"
MAX_NAME = 255  # bytes per name on common file systems
TRASH = "_trash_"
FOLDER_MARKER = ".lenslet.keep"  # keeps an empty folder in a bucket

STATE = ".lenslet"
JOBS = f"{STATE}/jobs"
CLAIMS = f"{STATE}/claims"
FOUND = f"{STATE}/found"  # hashes reads found, for the worker
HEARTBEATS = f"{STATE}/workers"
JOURNAL = f"{STATE}/journal"
LOCKS = f"{STATE}/locks"
DERIVED = f"{STATE}/derived"  # derived files of a read-only tree
MOUNTS = f"{STATE}/mounts"    # state of read-only pointer targets
MOVES = f"{STATE}/moves"      # journals of moves under way
SHARES = f"{STATE}/shares"
SHARE_UPLOADS = f"{SHARES}/uploads"  # what guests added through each link, counted
THROTTLE = f"{STATE}/throttle"  # failed sign-ins per client address
SIGNED_IN = f"{THROTTLE}/signed-in"
ALBUMS = f"{STATE}/albums"
SESSIONS = f"{STATE}/sessions"  # named by the token's hash
# malformed journals and job files are set aside here, never acted on
REJECTED = "rejected"
MOVES_REJECTED = f"{MOVES}/{REJECTED}"
JOURNAL_REJECTED = f"{JOURNAL}/{REJECTED}"
JOBS_REJECTED = f"{JOBS}/{REJECTED}"
SEARCH_CACHE = f"{STATE}/search-index.bin"
SEARCH_COLUMNS = f"{STATE}/search-columns.bin"
THUMB_SETTINGS = f"{STATE}/thumbs.json"
LISTED = f"{STATE}/listed"  # rewritten whenever a listing changes
# folder mtimes after lenslet's own edits: a listing at exactly that mtime is already patched
EDITED = f"{STATE}/edited"
PREVIEWS = f"{STATE}/previews"  # a bounded cache, never beside the images
PREVIEW = ".webp"
# thumbnails of the larger size, cached like the previews
LARGE_THUMBS = f"{STATE}/thumbs-large"

# pictures, and raw camera files shown through their embedded JPEG
EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
              ".avif": "image/avif", ".gif": "image/gif", ".heic": "image/heic", ".heif": "image/heif",
              ".dng": "image/x-adobe-dng", ".cr2": "image/x-canon-cr2", ".nef": "image/x-nikon-nef",
              ".arw": "image/x-sony-arw", ".orf": "image/x-olympus-orf", ".rw2": "image/x-panasonic-rw2",
              ".raf": "image/x-fuji-raf", ".pef": "image/x-pentax-pef", ".cr3": "image/x-canon-cr3"}
RAWS = frozenset((".dng", ".cr2", ".nef", ".arw", ".orf", ".rw2", ".raf", ".pef", ".cr3"))
# listed and served with a placeholder, never decoded
VIDEOS = {".mp4": "video/mp4", ".m4v": "video/x-m4v", ".mov": "video/quicktime", ".webm": "video/webm",
          ".mkv": "video/x-matroska", ".avi": "video/x-msvideo", ".3gp": "video/3gpp", ".mts": "video/mp2t",
          ".m2ts": "video/mp2t"}
TYPES = {**EXTENSIONS, **VIDEOS}

_PAGE = re.compile(r"^_index(?:_\d+)?\.json$")


def in_trash(key):
    return key == TRASH or key.startswith(TRASH + "/")


def join(folder, name):
    return f"{folder}/{name}" if folder else name


def parent(key):
    return key.rpartition("/")[0]


def name_of(key):
    return key.rpartition("/")[2]


def derived_name(name, suffix):
    """Return name + suffix, shortened with a hash when it would pass MAX_NAME bytes."""
    if len(name) * 4 + len(suffix) <= MAX_NAME:  # a character is at most 4 bytes
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
    """Name the preview of an image: a changed image or new settings give a new name."""
    raw = "\0".join((path, source, settings)).encode("utf-8", "surrogateescape")
    return f"{folder}/{hashlib.blake2b(raw, digest_size=16).hexdigest()}{PREVIEW}"


def url_version(image, settings, turn=1):
    """Return the `&v=` of a thumbnail or preview URL, which lets it be cached as immutable: the gallery page
    makes the same from a listing's item (static/api.js versionOf)."""
    turned = f"-t{turn}" if turn != 1 else ""  # a person's turn is another picture
    return f"{image.size:x}-{int(image.mtime * 1_000_000):x}-{url_settings(settings)}{turned}"


def url_settings(settings):
    """Settings as a URL version carries them ("256 80" -> "256-80")."""
    return settings.replace(" ", "-")


def edit_mark_of(folder_key):
    """Where the mark of lenslet's last edit in a folder is kept."""
    digest = hashlib.blake2b(folder_key.encode("utf-8", "surrogateescape"), digest_size=12).hexdigest()
    return f"{EDITED}/{digest}"


def backup_of(sidecar_key, now):
    """Where a PUT keeps the bytes of an unreadable sidecar it replaces."""
    return _derived_key(sidecar_key, f".bad-{int(now)}")


def is_backup(name):
    """Tell whether a name is one backup_of() gives."""
    sidecar, found, time = name.rpartition(".bad-")
    return bool(found and time.isascii() and time.isdigit()) and (is_sidecar(sidecar) or bool(_HASHED.search(sidecar)))


_HASHED = re.compile(r"~[0-9a-f]{16}\Z")  # derived_name() of a long name


def page_name(page, page_count):
    """Return _index.json for a single page, else _index_<page>.json."""
    return INDEX if page_count == 1 else f"_index_{page}.json"


def first_page_names():
    """The names a folder's first manifest page may have, the usual one first."""
    return (INDEX, page_name(0, 2))


def is_state(key):
    return key == STATE or key.startswith(STATE + "/")


def is_manifest(name):
    return bool(_PAGE.match(name))


def is_internal(name):
    """Tell whether a file is lenslet's or hidden: never an item."""
    return (name.startswith(".") or name.endswith(SIDECAR) or name.endswith(THUMB)
            or is_manifest(name) or name in ROOT_FILES)


def is_reserved(name):
    """Tell whether a name is lenslet's to give (its files, listings, trash): never a client's file or folder."""
    return is_internal(name) or name == TRASH


def is_lenslets(key):
    """Tell whether a key names a file lenslet writes in a tree; string tests only, for speed."""
    if key.endswith(_LENSLETS_ENDINGS):
        return not (key == POINTER_FILE or key.endswith(_POINTER_AT)) or is_state(key)
    if key.startswith(STATE) and (len(key) == len(STATE) or key[len(STATE)] == "/"):
        return True
    return key == FOLDER_MARKER or key.endswith(_MARKER_AT) or (".bad-" in key and is_backup(name_of(key)))


_LENSLETS_ENDINGS = (SIDECAR, THUMB, TEMP_SUFFIX)
_POINTER_AT, _MARKER_AT = "/" + POINTER_FILE, "/" + FOLDER_MARKER


def split_lenslets(entries):
    """Split a folder's entries into (lenslet's, the rest), as is_lenslets would."""
    ours, rest = [], []
    for entry in entries:
        name = entry.name
        if (name.endswith(_LENSLETS_ENDINGS) and name != POINTER_FILE
                or (".lenslet" in name or ".bad-" in name) and is_lenslets(name)):
            ours.append(entry)
        else:
            rest.append(entry)
    return ours, rest


def is_made(name, at_root):
    """Tell whether lenslet made a file of this name and can make it again (`lenslet clean`)."""
    return (name.endswith(THUMB) or is_manifest(name) or (at_root and name in ROOT_FILES)
            or name == FOLDER_MARKER or (name.startswith(".") and name.endswith(TEMP_SUFFIX)))


def is_sidecar(name):
    """Tell whether a name is an image's sidecar's (`foo.jpg.json`)."""
    if not name.endswith(SIDECAR) or name.startswith(".") or is_manifest(name) or name in ROOT_FILES:
        return False
    return mime_of(name[:-len(SIDECAR)]) is not None or bool(_HASHED.search(name[:-len(SIDECAR)]))


def mime_of(name):
    """Return a file name's type, or None when lenslet does not list it."""
    dot = name.rfind(".")
    return TYPES.get(name[dot:].lower()) if dot > 0 else None


def is_image(name):
    """Tell whether a file name is an item lenslet lists and serves."""
    return not is_internal(name) and mime_of(name) is not None


def kind_of(name):
    """Return "image", "raw" or "video", by the name."""
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    return "video" if extension in VIDEOS else "raw" if extension in RAWS else "image"


def is_shown(name):
    """Tell whether lenslet decodes an item: never a video."""
    return kind_of(name) != "video"


XMP_SUFFIXES = (".xmp", ".XMP")


def xmp_names(image_name):
    """Return the names an image's XMP sidecar may have, best first."""
    stem = image_name.rpartition(".")[0] or image_name
    names = [base + suffix for base in (image_name, stem) for suffix in XMP_SUFFIXES]
    return tuple(name for name in names if len(name.encode("utf-8", "surrogateescape")) <= MAX_NAME)


def is_xmp(name):
    return name[-4:].lower() == ".xmp"
