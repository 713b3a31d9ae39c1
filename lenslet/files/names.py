"""Pure rules for names: a client's file name made safe, an upload's extension from its type, the next free
name (`photo (1).jpg`) and what to do when a name is taken."""

import re
import unicodedata

from lenslet.errors import BadPath, UnsupportedMedia
from lenslet.layout import MAX_NAME, is_internal, kind_of, mime_of
from lenslet.storage.paths import not_reserved

MAX_NUMBER = 10_000
_NUMBERED = re.compile(r"^(?P<stem>.*?) \((?P<n>\d+)\)$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EXTENSION_OF = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "image/avif": ".avif",
                "image/gif": ".gif", "image/heic": ".heic", "video/mp4": ".mp4", "video/quicktime": ".mov",
                "video/webm": ".webm", "video/x-matroska": ".mkv", "video/x-msvideo": ".avi", "video/mp2t": ".mts"}
CONFLICT_MODES = ("fail", "rename", "replace")


def clean_name(raw):
    """Turn a client's file name into a safe name, or raise BadPath."""
    if not isinstance(raw, str):
        raise BadPath("the file name must be text")
    name = re.split(r"[\\/]", raw)[-1]  # browsers may send a whole path: only the last part names the file
    name = unicodedata.normalize("NFC", _CONTROL.sub("", name)).strip()
    if not name or name in (".", ".."):
        raise BadPath("the file name is empty", name=raw)
    if name.startswith("."):
        raise BadPath("names starting with a dot are internal to lenslet", name=raw)
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME:
        raise BadPath(f"the file name is longer than {MAX_NAME} bytes", name=raw)
    return name


def spellings(name):
    """Return the name's Unicode spellings (macOS sends NFD, others NFC)."""
    return list(dict.fromkeys([name] + [unicodedata.normalize(form, name) for form in ("NFC", "NFD")]))


def upload_name(raw, kind):
    """Return an upload's clean name, with the sniffed type's extension if needed."""
    name = clean_name(raw)
    if mime_of(name) is None or is_internal(name):
        if kind not in EXTENSION_OF:
            raise UnsupportedMedia("a camera's raw file keeps its own extension (.dng, .cr2, .nef, .arw, .orf, "
                                   ".rw2, .raf, .pef)", name=raw)
        name = clean_name(name + EXTENSION_OF[kind])
    not_reserved(name)
    video = kind.startswith("video/")
    if (kind_of(name) == "video") != video:  # listed by its name, a video would be decoded as a photo, or never
        said, named = ("a video", "a photo's") if video else ("a photo", "a video's")
        raise UnsupportedMedia(f"the file is {said} ({kind}) but its name is {named}: give it its own extension",
                               name=raw, type=kind)
    return name


def numbered(name, number):
    """`photo (1).jpg` numbered 2 is `photo (2).jpg`."""
    dot = name.rfind(".")
    stem, ext = (name[:dot], name[dot:]) if dot > 0 else (name, "")
    found = _NUMBERED.match(stem)
    if found:
        stem = found["stem"]
    return f"{stem} ({number}){ext}"


def free_name(name, taken):
    """Return the first of name, `name (1)`, ... that is not taken."""
    for number in range(MAX_NUMBER):
        candidate = numbered(name, number) if number else name
        if not taken(candidate):
            return candidate
    raise BadPath("too many files of this name in the folder", name=name)


def conflict_mode(raw):
    """Parse what to do when a name is taken: fail, rename or replace."""
    if raw in (None, ""):
        return "fail"
    mode = str(raw).strip().lower()
    aliases = {"new": "rename", "newname": "rename", "keep": "rename", "keepboth": "rename", "overwrite": "replace",
               "true": "replace", "409": "fail", "error": "fail"}
    mode = aliases.get(mode, mode)
    if mode not in CONFLICT_MODES:
        raise BadPath("conflict must be fail, rename or replace", conflict=raw)
    return mode
