"""Folder manifests (_index.json, _index_N.json): sort a listing, decide what must be
re-read, and assemble pages. Pure data: the caller does the reading and writing."""

import math
import re
import zlib
from dataclasses import dataclass, field

import orjson

from lenslet.formats import sidecars, xmp
from lenslet.layout import (
    FOLDER_SIDECAR,
    POINTER_FILE,
    ROOT_FILES,
    SIDECAR,
    THUMB,
    derived_name,
    is_manifest,
    is_shown,
    is_xmp,
    join,
    kind_of,
    mime_of,
    xmp_names,
)

# 2: items carry the camera and the time taken (EXIF), when the image says; a manifest of 1 is rebuilt.
# 3: and the lens (searched), their text cleaned of control characters, and the items of a stack
# (formats/stacks.py) say so; a manifest of 2 is rebuilt.
VERSION = 3
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
    xmps: dict = field(default_factory=dict)      # name -> Entry of another tool's XMP sidecar (foo.jpg.xmp, foo.xmp)
    folder_sidecar: object = None                 # the Entry of the folder's own sidecar (its cover), or None


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
            if name == FOLDER_SIDECAR:
                listing.folder_sidecar = entry
        elif name.endswith(SIDECAR):
            if is_manifest(name):
                listing.pages[name] = entry
            elif name not in ROOT_FILES:
                sidecars[name[:-5]] = entry
        elif name.endswith(THUMB):
            if derived_entries is None:
                thumbs[name[:-10]] = entry
        elif is_xmp(name):
            listing.xmps[name] = entry
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
                           (b"d", listing.dirs), (b"x", listing.xmps)):
        for name, entry in entries.items():
            seed = (entry.size * 1_000_003 + int(entry.mtime * 1_000_000)) & 0xFFFFFFFF
            named = group + name.encode("utf-8", "surrogatepass")
            if entry.version is not None:
                named += b"\0" + entry.version.encode("utf-8", "surrogatepass")
            if entry.link:  # a file or folder replaced by a link to one alike is a change: it is marked
                named += b"\0link"
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
    xmps: list = field(default_factory=list)  # image names whose XMP sidecar must be read
    # Image names whose sidecar alone moved while XMP is shown: its image and XMP sidecar are read too only
    # when the sidecar read holds other bytes than its entry was made from (see build).
    unless_same: list = field(default_factory=list)


def plan(listing, previous_items, previous_dirs, built_at, reading=False, was_reading=False, dated=True):
    """Compare a listing with the previous manifest's items and dirs (dicts by name), built at built_at.

    reading: other tools' XMP is shown (xmp_shown: True, or WORDS); was_reading: how it was
    when the previous manifest was made (else every item is read again). dated: the backend gives
    folder mtimes, so a subfolder whose mtime stayed has kept its kind (a bucket's are all 0.0:
    there every kind is found again).
    """
    probe, sidecars, xmps, unless_same = [], [], [], []
    if reading != was_reading:
        previous_items = {}
    for name, entry in listing.images.items():
        old = previous_items.get(name)
        image_changed = old is None or old.get("size") != entry.size or old.get("mtime") != entry.mtime
        if image_changed:
            probe.append(name)
        meta = listing.sidecars.get(name)
        meta_changed = meta is not None and not derived_from(old, meta, built_at)
        if meta_changed:
            sidecars.append(name)
        if reading:
            chosen = xmp_sidecar(name, listing.xmps)
            others_moved = image_changed or not xmp_current(old, chosen, listing.xmps) \
                or (meta is None and old.get("hasMeta"))
            if meta_changed and not others_moved:
                # Most often an edit's own sidecar, whose entry the edit wrote (one too young to be told by
                # its time): read, and if it holds the bytes the entry was made from, nothing else is.
                unless_same.append(name)
            elif others_moved:
                # An entry is lenslet's fields merged with XMP's: made again, it is made from
                # all of them read afresh (an entry keeps no reading, only the .xmp's size and time).
                probe += [] if image_changed else [name]
                sidecars += [] if meta_changed or meta is None else [name]
                xmps += [] if chosen is None else [name]
    # A kind that could not be found (UNKNOWN) is looked for again: it was never a fact.
    dirs = [name for name, entry in listing.dirs.items()
            if not dated or previous_dirs.get(name, {}).get("mtime") != entry.mtime
            or previous_dirs.get(name, {}).get("kind") not in KNOWN_KINDS]
    return Plan(probe, sidecars, dirs, xmps, unless_same)


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


def xmp_sidecar(name, xmps):
    """The name of the XMP sidecar another tool keeps for an image, among a folder's .xmp files, or None."""
    if not xmps:
        return None  # most folders have none: no names of candidates made for each image (issue 37)
    return next((candidate for candidate in xmp_names(name) if candidate in xmps), None)


def two_xmps(name, xmps):
    """Whether an image has both an XMP sidecar of its own name (foo.jpg.xmp) and one of its stem (foo.xmp)."""
    if len(xmps) < 2:
        return False  # two are needed (most folders have none): no names of candidates made for each image
    names = xmp_names(name)
    return any(candidate in xmps for candidate in names if candidate.startswith(name + ".")) and \
        any(candidate in xmps for candidate in names if not candidate.startswith(name + "."))


def xmp_current(previous, chosen, xmps):
    """Whether a manifest entry was made from the XMP sidecar there now (its name, size and time)."""
    made_from = (previous or {}).get("xmp")
    if chosen is None:
        return made_from is None
    entry = xmps[chosen]
    return made_from == [chosen, entry.size, entry.mtime]


# What xmp_shown() answers when a person's words are kept in XMP sidecars only (LENSLET_WORDS=xmp); a listing
# made so says it ("xmp": "words"), so a change of the setting rebuilds it.
WORDS = "words"


def xmp_shown(xmp_setting, words_setting):
    """How lenslet shows other tools' XMP (LENSLET_XMP, LENSLET_WORDS): False (off), True (read or written
    beside lenslet's sidecars), or WORDS: the XMP sidecar is where a person's words are kept, so it is read
    whatever LENSLET_XMP says."""
    if words_setting == "xmp":
        return WORDS
    return xmp_setting != "off"


def own_words(fields, xmp_read):
    """fields with a person's words as the image's XMP sidecar holds them (LENSLET_WORDS=xmp): its keywords, its
    rating as a star (1 to 5; 0 and -1 are none, -1 shown as rejected by with_xmp) and its description as notes;
    none when it has no XMP sidecar. Whatever lenslet's own sidecar may say of them is not shown."""
    metadata = xmp.from_dict(xmp_read.get("found")) if isinstance(xmp_read, dict) else None
    metadata = metadata or xmp.Metadata()
    return dict(fields, tags=metadata.tags, star=metadata.star, notes=metadata.description or "")


def with_xmp(fields, xmp_read, embedded, base=None, own=False):
    """An entry's fields (lenslet's own tags and star) merged with what XMP says.

    xmp_read: a fresh reading of its XMP sidecar ({name, size, mtime, found}) or None;
    embedded: the image's own (xmp.Metadata.to_dict(), or {} for none). The entry keeps
    the .xmp's name, size and time: a listing that finds them the same reads nothing.
    base: what lenslet last wrote to the XMP sidecar (xmp.base_of its sidecar).
    own: the XMP sidecar holds the words (LENSLET_WORDS=xmp): its words are the entry's own (own_words).
    """
    if own:
        fields, base = own_words(fields, xmp_read), None
    view = xmp.shown(fields.get("tags") or [], fields.get("star"), readings(xmp_read, embedded), base)
    made_from = [xmp_read["name"], xmp_read["size"], xmp_read["mtime"]] if xmp_read is not None else None
    return dict(fields, tags=view["tags"], star=view["star"], rejected=view["rejected"] or None,
                xmpPaths=view["paths"] or None, xmpError="; ".join(view["problems"]) or None, xmp=made_from)


def shown(sidecar, version, found=None, own=False):
    """An image's listing fields and searched fields from its sidecar (None: it has none) at version;
    with found (what XMP says of it: (its XMP sidecar's reading, what the image carries), while lenslet
    shows XMP) merged in. own: the words are the XMP sidecar's (LENSLET_WORDS=xmp), notes among them."""
    listed, searched = sidecars.listed(sidecar, version), sidecars.searched(sidecar)
    if found is not None:
        listed = with_xmp(listed, *found, xmp.base_of(sidecar), own)
        searched.update(tags=listed["tags"], star=listed["star"], xmpPaths=listed["xmpPaths"] or [],
                        notes=listed["notes"])
    return listed, searched


def not_written(found, writing):
    """The readings of an image's XMP lenslet does not write (found: as for shown, or None): the image's
    own always; the XMP sidecar's too unless lenslet writes it (LENSLET_XMP=write)."""
    return [(source, said) for source, said in (readings(*found) if found else [])
            if source == xmp.EMBEDDED or not writing]


# Keys of an entry present only when they say something (None in a change removes them):
# most images have no XMP, and 10,000 entries of nulls would slow every listing.
XMP_KEYS = ("rejected", "xmpPaths", "xmpError", "xmp")
# How the picture was taken (decode.shot), present when the image says.
SHOT_KEYS = ("camera", "taken", "takenOffset", "lens")


def lean(fields):
    """fields without the XMP keys that say nothing."""
    return {key: value for key, value in fields.items() if value is not None or key not in XMP_KEYS}


def readings(xmp_read, embedded):
    """(source, xmp.Metadata) of an image, in the order they count: its XMP sidecar, then its own."""
    found = []
    if isinstance(xmp_read, dict) and isinstance(xmp_read.get("name"), str):
        metadata = xmp.from_dict(xmp_read.get("found"))
        if metadata is not None:
            found.append((xmp_read["name"], metadata))
    metadata = xmp.from_dict(embedded) if embedded else None
    if metadata is not None:
        found.append((xmp.EMBEDDED, metadata))
    return found


def item(folder, name, listing, previous, probed, sidecar, xmp_read=None, reading=False):
    """Assemble one manifest item (see _item), marked `link` when its name is a symbolic link."""
    made = _item(folder, name, listing, previous, probed, sidecar, xmp_read, reading)
    if listing.images[name].link:
        return made if made.get("link") else dict(made, link=True)
    return {key: value for key, value in made.items() if key != "link"} if "link" in made else made


def _item(folder, name, listing, previous, probed, sidecar, xmp_read=None, reading=False):
    """Assemble one manifest item from the old one, a fresh probe and a freshly read sidecar.

    sidecar: (its fields, its version) when it was read, else None (the old item was
    made from the very sidecar the listing shows, or there is none). reading: XMP is
    shown; xmp_read is a fresh reading of the image's XMP sidecar (see with_xmp).
    """
    entry = listing.images[name]
    meta = listing.sidecars.get(name)
    has_thumb = has_thumb_in(listing, name)
    meta_mtime = meta.mtime if meta is not None else None
    if probed is None and sidecar is None and previous and previous.get("hasThumb") == has_thumb \
            and previous.get("hasMeta") == (meta is not None) and previous.get("metaMtime") == meta_mtime:
        return shown_as(previous)  # nothing about it changed: most items of a rebuild
    if reading and probed is None and previous:
        # Only its thumbnail changed, or its sidecar was read again as the very bytes it was made from (see
        # plan): then it was made from them now, at the time the listing gives the sidecar.
        return shown_as(dict(previous, hasThumb=has_thumb, **({"metaMtime": meta_mtime} if sidecar else {})))
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
        # An image nobody described has no sidecar: its hash is kept here, while its bytes are the same.
        "hash": previous.get("hash") if previous and (previous.get("size"), previous.get("mtime")) ==
        (entry.size, entry.mtime) else None,
        "tags": [],
        "notes": "",
        "star": None,
        "metaMtime": meta_mtime,
        "metaVersion": None,
    }
    if base.get("error"):
        out["error"] = base["error"]
    for key in SHOT_KEYS:  # most images say both, screenshots and downloads neither: present when known
        if isinstance(base.get(key), str):
            out[key] = base[key]
    out = shown_as(out)
    if meta is not None:
        source, version = sidecar if sidecar is not None else (previous, previous.get("metaVersion"))
        out.update(tags=source.get("tags", []), notes=source.get("notes", ""), star=source.get("star"),
                   hash=source.get("hash") or out["hash"], metaVersion=version)
    if reading:
        base = xmp.base_of(source) if meta is not None else None
        return lean(with_xmp(out, xmp_read, probed.get("embedded"), base, own=reading == WORDS))
    return out


def shown_as(entry):
    """An entry with what it is (`kind`: image, raw or video, by its name) and whether the page can show
    a picture of it (`preview`: false for a video without a poster, and for a file that could not be read, a
    raw without a preview among them): what cannot be shown is listed with a placeholder, never hidden."""
    kind = kind_of(entry["name"])
    preview = (kind != "video" or bool(entry.get("hasThumb"))) and not entry.get("error")
    if entry.get("kind") == kind and entry.get("preview") == preview:
        return entry
    return dict(entry, kind=kind, preview=preview)


def has_thumb_in(listing, name):
    """Whether an image has a thumbnail, by the listing: one not older than the image."""
    thumb = listing.thumbs.get(name)
    return thumb is not None and thumb.mtime >= listing.images[name].mtime


def lacking_thumbs(listing):
    """Names of the images a listing shows without a thumbnail (a video never has one: never asked for)."""
    return [name for name in listing.images if not has_thumb_in(listing, name) and is_shown(name)]


# What a subfolder is, as a manifest's dirs say: a pointer folder, one with subfolders, one without;
# UNKNOWN when it could not be looked at (the page offers to open it; the next rebuild looks again).
KNOWN_KINDS = ("leaf-pointer", "branch", "leaf-real")
UNKNOWN = "unknown"


def dir_kind(has_pointer, has_subfolders):
    """A subfolder's kind from what it holds."""
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


# A stored page is its head on one line and then one item a line (JSON all the same): an edit of an
# image changes its line, and neither parses nor encodes the folder's other items (patch_page), so
# it costs the same in a folder of 10 images or of 10,000.
ITEMS_OPEN = b',"items":[\n'


def encode_page(page):
    """A page's stored bytes: the head, then its items one a line."""
    head = orjson.dumps({key: value for key, value in page.items() if key != "items"})
    return head[:-1] + ITEMS_OPEN + b",\n".join(map(orjson.dumps, page["items"])) + b"\n]}"


def page_head(data):
    """A stored page's fields but its items, parsed from its first line; None when the page is not
    encoded a line an item (an older lenslet's, another program's) or not of this format."""
    at = data.find(ITEMS_OPEN)
    if at < 0 or data.find(b"\n") != at + len(ITEMS_OPEN) - 1 or not data.endswith(b"\n]}"):
        return None  # the items are not on lines of their own, or the page is cut short
    try:
        head = orjson.loads(data[:at] + b',"items":[]}')
    except orjson.JSONDecodeError:
        return None
    return head if usable(head) else None


def with_items_of(head, data):
    """A page of lines (data) with another head: the head encoded, the items' lines as they are."""
    encoded = orjson.dumps({key: value for key, value in head.items() if key != "items"})
    return encoded[:-1] + memoryview(data)[data.find(ITEMS_OPEN):]  # the items copied once, not twice


def patch_page(data, changes):
    """A stored page with the fields of some of its items changed (changes: name -> fields; a field
    of XMP_KEYS set to None is removed). Returns (new bytes or None when it holds none of them, the
    names it held, its pageCount), or None when it is not a page of this format (it is rebuilt).

    A page of lines has the line of each named item replaced; one of an older encoding is parsed,
    changed and stored as lines from then on."""
    head = page_head(data)
    if head is None:
        page = _whole_page(data)
        if page is None:
            return None
        held = list(_changed(page["items"], changes))
        return (encode_page(page) if held else None), held, page["pageCount"]
    spans, held = [], []
    for name, fields in changes.items():
        found = _item_line(data, name)
        if found is not None:
            start, end, entry = found
            held += _changed([entry], {name: fields})
            spans.append((start, end, orjson.dumps(entry)))
    if not spans:
        return None, held, head["pageCount"]
    parts, at = [], 0
    for start, end, line in sorted(spans):
        parts += [data[at:start], line]
        at = end
    parts.append(data[at:])
    return b"".join(parts), held, head["pageCount"]


def entry_in_page(data, name):
    """A named item's entry in a stored page's bytes (a dict), or None: a page of lines has only that
    line parsed; one of an older encoding is parsed whole."""
    if page_head(data) is not None:
        found = _item_line(data, name)
        return found[2] if found is not None else None
    page = _whole_page(data)
    if page is None:
        return None
    return next((item for item in page["items"] if isinstance(item, dict) and item.get("name") == name), None)


def _whole_page(data):
    """A page not stored a line an item (an older lenslet's) parsed whole; None when it is no usable page."""
    try:
        page = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return page if usable(page) else None


def _item_line(data, name):
    """(start, end, parsed item) of the line of a named item in a page of lines (its trailing comma
    outside), or None. An unescaped `"name":"…",` is only ever a key: inside a string quotes are
    escaped; a nested one is told apart by parsing the line."""
    needle = b'"name":' + orjson.dumps(name) + b","
    at = data.find(b"\n")
    while True:
        at = data.find(needle, at)
        if at < 0:
            return None
        start = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        end = len(data) if end < 0 else end
        if data[end - 1:end] == b",":
            end -= 1
        try:
            entry = orjson.loads(data[start:end])
        except orjson.JSONDecodeError:
            entry = None
        if isinstance(entry, dict) and entry.get("name") == name:
            return start, end, entry
        at = end + 1


def _changed(items, changes):
    """Apply changes (name -> fields) to the items that hold those names; yields the names applied
    (a generator: nothing is changed until it is walked)."""
    for entry in items:
        fields = changes.get(entry.get("name")) if isinstance(entry, dict) else None
        if fields is not None:
            entry.update(fields)
            for key in XMP_KEYS:
                if key in fields and fields[key] is None:
                    del entry[key]
            yield entry["name"]


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
