"""A folder's cover and counts, and its sidecar (`.lenslet.meta.json`). Pure: names and bytes in, data out.

A folder's cover is the image a person picked for it, while that image is in the folder and
lenslet can draw it; else its first image (in the listing's order) that lenslet can draw (a raw
only once it has a thumbnail: one without a preview never gets one); else,
for a folder of folders, the cover of its first subfolder that has one. A pick is a bare name
inside the folder, kept in the folder's own sidecar, which moves with the folder. A pick whose
image went away (trashed, moved, deleted) is passed over, not acted on: the cover falls back to
the first image, and comes back if the image does.
"""

from typing import NamedTuple

import orjson

from lenslet.errors import BadRequest, UnsupportedMedia
from lenslet.layout import TRASH, is_image, is_shown, kind_of

VERSION = 1
MAX_SIDECAR = 4096  # bytes of a folder sidecar read: one name is under 1 KB; more is not lenslet's


class Local(NamedTuple):
    """What one folder's own listing says, for its summary (subfolders not included)."""

    images: int       # items listed in the folder itself (videos included)
    videos: int       # of those, videos
    cover: object     # the name of its cover image, or None
    picked: bool      # the cover is the one a person picked
    dirs: tuple       # its subfolders' names, in listing order
    pointer: bool     # it is a pointer folder (its contents are another tree's)


def local(names, dirs, picked, pointer=False, thumbed=frozenset()):
    """A folder's Local from its items' names (in listing order), its subfolders' names, the name
    its sidecar picks (or None), and the names of its items that have a thumbnail."""
    cover = cover_of(names, picked, thumbed)
    videos = sum(kind_of(name) == "video" for name in names)
    return Local(len(names), videos, cover, cover is not None and cover == picked, tuple(dirs), pointer)


def videos_among(items):
    """How many of a listing's items are videos (by their names)."""
    return sum(kind_of(item.get("name") or item.get("path") or "") == "video"
               for item in items if isinstance(item, dict))


def cover_of(names, picked, thumbed=frozenset()):
    """The cover among a folder's item names (in listing order): the pick while it is there and
    drawable, else the first item lenslet can draw, else None."""
    if picked is not None and picked in names and drawable(picked, thumbed):
        return picked
    return next((name for name in names if drawable(name, thumbed)), None)


def drawable(name, thumbed):
    """Whether lenslet can draw an item as a cover: an image, or a raw that has its thumbnail (a raw
    without an embedded preview never gets one, and would be a blank cover)."""
    return is_shown(name) and (kind_of(name) != "raw" or name in thumbed)


def summary(own, path, children):
    """A folder's summary: its own Local at a browse path, and its subfolders' summaries in order
    ({images, videos, allImages, cover, coverPicked}: images counts every item, videos the videos among
    them). The trash at the root is counted in no folder above it."""
    total = own.images + sum(child["allImages"] for name, child in children if not (path == "" and name == TRASH))
    cover = f"{path}/{own.cover}" if path and own.cover else own.cover
    if cover is None:
        cover = next((child["cover"] for name, child in children
                      if child["cover"] is not None and not (path == "" and name == TRASH)), None)
    return {"images": own.images, "videos": own.videos, "allImages": total, "cover": cover,
            "coverPicked": own.picked}


EMPTY = {"images": 0, "videos": 0, "allImages": 0, "cover": None, "coverPicked": False}


def parse(data):
    """The cover a folder sidecar picks, or None: a torn, foreign or forged one picks nothing
    (it is anyone's to edit; the name is checked against the folder's listing before use)."""
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
    """A folder sidecar picking cover."""
    return orjson.dumps({"v": VERSION, "cover": cover})


def is_pick(name):
    """Whether a string could name a cover: a bare item name, inside the folder, of a kind lenslet shows."""
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..") \
        and "\0" not in name and is_image(name) and is_shown(name)


def check_pick(body):
    """The cover a PATCH /folders body asks for (a name, or None to clear it); BadRequest or
    UnsupportedMedia for anything else."""
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
