"""Folder manifests (_index.json, _index_N.json): sort a listing, decide what must be
re-read, and assemble pages. Pure data: the caller does the reading and writing."""

import math
import re
import zlib
from dataclasses import dataclass, field

from .layout import POINTER_FILE, ROOT_FILES, SIDECAR, THUMB, derived_name, is_manifest, join, mime_of

VERSION = 1
# Seconds a sidecar must have been left alone before a manifest read it for its time alone to tell
# later that it is unchanged: file times step by up to two seconds (FAT; whole seconds on ext3,
# HFS+ and many network shares), and a file rewritten within one step keeps its time.
RACY = 2.0


@dataclass
class Listing:
    """A folder's entries sorted into what the gallery cares about."""

    images: dict = field(default_factory=dict)    # name -> Entry
    sidecars: dict = field(default_factory=dict)  # image name -> Entry of its sidecar
    thumbs: dict = field(default_factory=dict)    # image name -> Entry of its thumbnail
    dirs: dict = field(default_factory=dict)      # name -> Entry
    pages: dict = field(default_factory=dict)     # manifest file name -> Entry
    pointer: bool = False
    signature: str = ""


def classify(entries, derived_entries=None):
    """Sort a folder listing; derived_entries is where thumbnails live when not beside the images."""
    listing = Listing()
    images, sidecars, thumbs = listing.images, listing.sidecars, listing.thumbs
    for entry in entries:
        name = entry.name
        if entry.is_dir:
            if name[0] != ".":
                listing.dirs[name] = entry
        elif name[0] == ".":
            listing.pointer = listing.pointer or name == POINTER_FILE
        elif name.endswith(SIDECAR):
            if is_manifest(name):
                listing.pages[name] = entry
            elif name not in ROOT_FILES:
                sidecars[name[:-5]] = entry
        elif name.endswith(THUMB):
            if derived_entries is None:
                thumbs[name[:-10]] = entry
        elif mime_of(name):
            images[name] = entry
    for entry in derived_entries or ():
        if entry.name.endswith(THUMB) and not entry.is_dir:
            thumbs[entry.name[:-len(THUMB)]] = entry
        elif is_manifest(entry.name):
            listing.pages[entry.name] = entry
    for name in images:
        if len(name) > 60:  # may need the long-name fallback (see layout.derived_name)
            _claim_fallbacks(name, sidecars, thumbs)
    listing.signature = signature(listing)
    return listing


def _claim_fallbacks(name, sidecars, thumbs):
    """File an image's shortened sidecar and thumbnail names under the image's own name."""
    for found, suffix in ((sidecars, SIDECAR), (thumbs, THUMB)):
        short = derived_name(name, suffix)
        if short != name + suffix and short[:-len(suffix)] in found:
            found[name] = found.pop(short[:-len(suffix)])


def signature(listing):
    """Fingerprint everything a manifest is built from: names, sizes, times and versions.

    A sum and an xor of per-entry CRCs (seeded with the entry's size and time, and
    over its version where the listing gives one: a bucket's ETag, which changes
    with every write even within one second and at one size):
    independent of listing order, so no sort, and any one changed entry changes
    it. It detects change; it is no defence against crafted collisions, which
    would need write access to the tree anyway.
    """
    total = mixed = count = 0
    crc32 = zlib.crc32
    for group, entries in ((b"i", listing.images), (b"s", listing.sidecars), (b"t", listing.thumbs),
                           (b"d", listing.dirs)):
        for name, entry in entries.items():
            seed = (entry.size * 1_000_003 + int(entry.mtime * 1_000_000)) & 0xFFFFFFFF
            named = group + name.encode("utf-8", "surrogatepass")
            if entry.version is not None:
                named += b"\0" + entry.version.encode("utf-8", "surrogatepass")
            crc = crc32(named, seed)
            total += crc
            mixed ^= crc * 2654435761 & 0xFFFFFFFFFFFF
            count += 1
    return f"{count:x}-{total & 0xFFFFFFFFFFFF:012x}-{mixed:012x}{'-p' if listing.pointer else ''}"


@dataclass
class Plan:
    """What an incremental rebuild must read: everything else comes from the old manifest."""

    probe: list   # image names whose header must be read
    sidecars: list  # image names whose sidecar must be read
    dirs: list    # subfolder names whose kind must be found


def plan(listing, previous_items, previous_dirs, built_at):
    """Compare a listing with the previous manifest's items and dirs (dicts by name), built at built_at."""
    probe, sidecars = [], []
    for name, entry in listing.images.items():
        old = previous_items.get(name)
        if old is None or old.get("size") != entry.size or old.get("mtime") != entry.mtime:
            probe.append(name)
        meta = listing.sidecars.get(name)
        if meta is not None and not derived_from(old, meta, built_at):
            sidecars.append(name)
    dirs = [name for name, entry in listing.dirs.items()
            if previous_dirs.get(name, {}).get("mtime") != entry.mtime]
    return Plan(probe, sidecars, dirs)


def derived_from(item, meta, built_at):
    """Whether a manifest item was made from the very sidecar a listing shows (meta: its Entry).

    An item records the version of the sidecar it was made from (`metaVersion`: the
    version storage gives, an ETag on S3). A listing that gives versions answers
    exactly. One that gives sizes and times only (a disk) answers by the time, and
    only for a sidecar left alone RACY seconds before the manifest was built: one
    rewritten within the same step of the clock keeps its time.
    """
    if not item or not item.get("hasMeta") or item.get("metaVersion") is None:
        return False
    if meta.version is not None:
        return item["metaVersion"] == meta.version
    return item.get("metaMtime") == meta.mtime and meta.mtime <= built_at - RACY


def settle_at(listing, built_at):
    """When a manifest built at built_at must read again the sidecars too young then to be
    told apart by their times (see derived_from), or None when there are none."""
    young = [meta.mtime for name, meta in listing.sidecars.items()
             if meta.version is None and meta.mtime > built_at - RACY and name in listing.images]
    return max(young) + RACY if young else None


def item(folder, name, listing, previous, probed, sidecar):
    """Assemble one manifest item from the old one, a fresh probe and a freshly read sidecar.

    sidecar: (its fields, its version) when it was read, else None (the old item was
    made from the very sidecar the listing shows, or there is none).
    """
    entry = listing.images[name]
    meta = listing.sidecars.get(name)
    has_thumb = has_thumb_in(listing, name)
    meta_mtime = meta.mtime if meta is not None else None
    if probed is None and sidecar is None and previous and previous.get("hasThumb") == has_thumb \
            and previous.get("hasMeta") == (meta is not None) and previous.get("metaMtime") == meta_mtime:
        return previous  # nothing about it changed: most items of a rebuild
    base = probed if probed is not None else previous
    out = {
        "path": join(folder, name),
        "name": name,
        "type": base.get("type") or mime_of(name),
        "w": base.get("w"),
        "h": base.get("h"),
        "size": entry.size,
        "mtime": entry.mtime,
        "hasThumb": has_thumb,
        "hasMeta": meta is not None,
        "hash": None,
        "tags": [],
        "notes": "",
        "star": None,
        "metaMtime": meta_mtime,
        "metaVersion": None,
    }
    if base.get("error"):
        out["error"] = base["error"]
    if meta is not None:
        source, version = sidecar if sidecar is not None else (previous, previous.get("metaVersion"))
        out.update(tags=source.get("tags", []), notes=source.get("notes", ""), star=source.get("star"),
                   hash=source.get("hash"), metaVersion=version)
    return out


def has_thumb_in(listing, name):
    """Whether an image has a thumbnail, by the listing: one not older than the image."""
    thumb = listing.thumbs.get(name)
    return thumb is not None and thumb.mtime >= listing.images[name].mtime


def lacking_thumbs(listing):
    """Names of the images a listing shows without a thumbnail."""
    return [name for name in listing.images if not has_thumb_in(listing, name)]


def dir_kind(has_pointer, has_subfolders):
    if has_pointer:
        return "leaf-pointer"
    return "branch" if has_subfolders else "leaf-real"


def page_count(items, page_size):
    return max(1, math.ceil(items / page_size))


def paginate(folder, items, dirs, signature_, page_size, generated_at, built_at=0.0):
    """Split sorted items into manifest pages; every page carries the dirs, the signature and
    when the build began (builtAt: no sidecar it read was written after it)."""
    pages = page_count(len(items), page_size)
    return [{
        "v": VERSION,
        "path": folder,
        "generatedAt": generated_at,
        "builtAt": built_at,
        "sig": signature_,
        "page": page,
        "pageCount": pages,
        "total": len(items),
        "dirs": dirs,
        "items": items[page * page_size:(page + 1) * page_size],
    } for page in range(pages)]


_DIGITS = re.compile(r"(\d+)")


def sort_key(name):
    """Order names the way people read them: case-insensitively, digits by value."""
    # re.split with a group alternates text and digits, so every position holds
    # one type and tuples compare without mixing str and int.
    parts = _DIGITS.split(name.casefold())
    parts[1::2] = map(int, parts[1::2])
    return parts


def built_at(page):
    """When a stored page's build began (0.0 for one that does not say: all its sidecars are young)."""
    value = page.get("builtAt")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def usable(page):
    """Tell whether a stored page is of this format (else it is rebuilt from scratch)."""
    return (isinstance(page, dict) and page.get("v") == VERSION and isinstance(page.get("items"), list)
            and isinstance(page.get("dirs"), list) and isinstance(page.get("pageCount"), int))
