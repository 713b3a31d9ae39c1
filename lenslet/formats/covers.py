"""A folder's cover, counts and sidecar (`.lenslet.meta.json`)."""

from typing import NamedTuple

import orjson

from lenslet.errors import BadRequest, UnsupportedMedia
from lenslet.layout import TRASH, is_image, is_shown, kind_of

VERSION = 1
MAX_SIDECAR = 4096  # bytes; a real one is far smaller


class Local(NamedTuple):
    """What one folder's own listing says, subfolders not included."""

    images: int       # items in the folder itself, videos included
    videos: int
    cover: object
    picked: bool      # a person picked the cover
    dirs: tuple
    pointer: bool     # its contents are another tree's


def local(names, dirs, picked, pointer=False, thumbed=frozenset()):
    """Build a folder's Local from its listing."""
    cover = cover_of(names, picked, thumbed)
    videos = sum(kind_of(name) == "video" for name in names)
    return Local(len(names), videos, cover, cover is not None and cover == picked, tuple(dirs), pointer)


def videos_among(items):
    return sum(kind_of(item.get("name") or item.get("path") or "") == "video"
               for item in items if isinstance(item, dict))


def cover_of(names, picked, thumbed=frozenset()):
    """Return the pick while present and drawable, else the first drawable item, else None."""
    if picked is not None and picked in names and drawable(picked, thumbed):
        return picked
    return next((name for name in names if drawable(name, thumbed)), None)


def drawable(name, thumbed):
    """Tell whether an item can be a cover: an image, or a raw that has a thumbnail."""
    return is_shown(name) and (kind_of(name) != "raw" or name in thumbed)


def summary(own, path, children):
    """Sum a folder's own Local and its subfolders' summaries; the root's trash is not counted."""
    total = own.images + sum(child["allImages"] for name, child in children if not (path == "" and name == TRASH))
    cover = f"{path}/{own.cover}" if path and own.cover else own.cover
    if cover is None:
        cover = next((child["cover"] for name, child in children
                      if child["cover"] is not None and not (path == "" and name == TRASH)), None)
    return {"images": own.images, "videos": own.videos, "allImages": total, "cover": cover,
            "coverPicked": own.picked}


EMPTY = {"images": 0, "videos": 0, "allImages": 0, "cover": None, "coverPicked": False}


def parse(data):
    """Return the cover a folder sidecar picks, or None for a torn or foreign one."""
    if len(data) > MAX_SIDECAR:
        return None
    try:
        found = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(found, dict) or found.get("v") != VERSION:
        return None
    cover = found.get("cover")
    return cover if isinstance(cover, str) and is_pick(cover) else None


def encode(cover):
    return orjson.dumps({"v": VERSION, "cover": cover})


def is_pick(name):
    """Tell whether a string is the bare name of a shown image."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") \
        and "\0" not in name and is_image(name) and is_shown(name)


def check_pick(body):
    """Return the cover a PATCH /folders body asks for, None to clear it."""
    if not isinstance(body, dict) or set(body) != {"cover"}:
        raise BadRequest('expected {"cover": "<an image\'s name in this folder>"} or {"cover": null}')
    cover = body["cover"]
    if cover is None:
        return None
    if not isinstance(cover, str) or not cover or len(cover.encode("utf-8", "surrogatepass")) > 255:
        raise BadRequest("cover is the name of an image in this folder (at most 255 bytes), or null")
    if "/" in cover or "\\" in cover or cover in (".", "..") or "\0" in cover:
        raise BadRequest("cover is a name inside this folder, not a path", cover=cover)
    if not is_image(cover):
        raise UnsupportedMedia("cover must name an image (JPEG, PNG, WebP, AVIF, GIF, HEIC or a raw)", cover=cover)
    if not is_shown(cover):
        raise UnsupportedMedia("a video cannot be a cover: lenslet shows no picture of it", cover=cover)
    return cover
