"""Folder manifests: classify a listing, plan a rebuild, build and patch pages."""

import math
import re
import zlib
from dataclasses import dataclass, field

import orjson

from lenslet.formats import exif, regions, sidecars, xmp
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
from lenslet.places.table import label, place_of, table_version

VERSION = 3
# Seconds before a sidecar's time can vouch for it: file times are coarse.
RACY = 2.0


@dataclass
class Listing:
    """A folder's entries, sorted by what they are."""

    images: dict = field(default_factory=dict)
    sidecars: dict = field(default_factory=dict)  # keyed by image name
    thumbs: dict = field(default_factory=dict)    # keyed by image name
    dirs: dict = field(default_factory=dict)
    pages: dict = field(default_factory=dict)
    pointer: bool = False
    signature: str = ""
    xmps: dict = field(default_factory=dict)      # other tools' XMP sidecars
    folder_sidecar: object = None                 # holds the folder's cover


def classify(entries, derived_entries=None):
    """Sort a folder listing; derived_entries hold thumbnails kept elsewhere."""
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
    for name in (name for name in images if len(name) > 60):  # may use the long-name fallback (layout.derived_name)
        for found, suffix in ((sidecars, SIDECAR), (thumbs, THUMB)):
            short = derived_name(name, suffix)
            if short != name + suffix and short[:-len(suffix)] in found:
                found[name] = found.pop(short[:-len(suffix)])
    listing.signature = signature(listing)
    return listing


def signature(listing):
    """Fingerprint names, sizes, times and versions, whatever the listing order."""
    crcs = _crcs(listing)
    return _signed(len(crcs), sum(crcs), crcs, "-p" if listing.pointer else "")


def signed_with(signature_, new):
    """Return a folder's signature with the files of listing `new` added, as if the folder were listed again."""
    count, total, mixed, *pointer = signature_.split("-")
    crcs = _crcs(new)
    return _signed(int(count, 16) + len(crcs), int(total, 16) + sum(crcs), crcs, "-p" if pointer else "",
                   int(mixed, 16))


def _crcs(listing):
    return [_crc(group, name, entry) for group, entries in ((b"i", listing.images), (b"s", listing.sidecars),
                                                            (b"t", listing.thumbs), (b"d", listing.dirs),
                                                            (b"x", listing.xmps)) for name, entry in entries.items()]


def _crc(group, name, entry):
    seed = (entry.size * 1_000_003 + int(entry.mtime * 1_000_000)) & 0xFFFFFFFF
    named = group + name.encode("utf-8", "surrogatepass")
    if entry.version is not None:
        named += b"\0" + entry.version.encode("utf-8", "surrogatepass")
    if entry.link:  # a file replaced by a link to one alike is a change
        named += b"\0link"
    return zlib.crc32(named, seed)


def _signed(count, total, crcs, pointer, mixed=0):
    for crc in crcs:  # a sum and a mix of each entry's crc: any order gives one signature
        mixed ^= crc * 2654435761 & 0xFFFFFFFFFFFF
    return f"{count:x}-{total & 0xFFFFFFFFFFFF:012x}-{mixed:012x}{pointer}"


@dataclass
class Plan:
    """What an incremental rebuild must read."""

    probe: list   # images whose header must be read
    sidecars: list
    dirs: list
    xmps: list = field(default_factory=list)
    # sidecar-only changes: read the rest only if its bytes changed
    unless_same: list = field(default_factory=list)


def plan(listing, previous_items, previous_dirs, built_at, reading=False, was_reading=False, dated=True,
         unplaced=False):
    """Plan what a rebuild must read, from a listing and the previous manifest's items and dirs.
    reading, was_reading: XMP shown now, before; dated: real folder mtimes; unplaced: the previous manifest was
    written before lenslet kept positions, so its photos' GPS is read."""
    probe, sidecars, xmps, unless_same = [], [], [], []
    if reading != was_reading:
        previous_items = {}
    for name, entry in listing.images.items():
        old = previous_items.get(name)
        image_changed = old is None or old.get("size") != entry.size or old.get("mtime") != entry.mtime or \
            (unplaced and "gps" not in old and kind_of(name) == "image")
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
                unless_same.append(name)
            elif others_moved:
                # an entry merges lenslet's and XMP's fields: reread all
                probe += [] if image_changed else [name]
                sidecars += [] if meta_changed or meta is None else [name]
                xmps += [] if chosen is None else [name]
    # UNKNOWN kinds are looked for again.
    dirs = [name for name, entry in listing.dirs.items()
            if not dated or previous_dirs.get(name, {}).get("mtime") != entry.mtime
            or previous_dirs.get(name, {}).get("kind") not in KNOWN_KINDS]
    return Plan(probe, sidecars, dirs, xmps, unless_same)


def derived_from(item, meta, built_at):
    """Tell whether a manifest item was made from the sidecar a listing shows."""
    if not item or not item.get("hasMeta") or item.get("metaVersion") is None:
        return False
    if meta.version is not None:
        return item["metaVersion"] == meta.version
    return item.get("metaMtime") == meta.mtime and meta.mtime <= built_at - RACY


def settle_at(listing, built_at):
    """Return when to reread sidecars too young to trust, or None."""
    young = [meta.mtime for name, meta in listing.sidecars.items()
             if meta.version is None and meta.mtime > built_at - RACY and name in listing.images]
    return max(young) + RACY if young else None


def xmp_sidecar(name, xmps):
    """Return the XMP sidecar another tool keeps for an image, or None."""
    if not xmps:
        return None  # most folders have none
    return next((candidate for candidate in xmp_names(name) if candidate in xmps), None)


def two_xmps(name, xmps):
    """Tell whether an image has both foo.jpg.xmp and foo.xmp."""
    if len(xmps) < 2:
        return False
    names = xmp_names(name)
    return any(candidate in xmps for candidate in names if candidate.startswith(name + ".")) and \
        any(candidate in xmps for candidate in names if not candidate.startswith(name + "."))


def xmp_current(previous, chosen, xmps):
    """Tell whether an entry was made from the XMP sidecar there now."""
    made_from = (previous or {}).get("xmp")
    return made_from is None if chosen is None else made_from == [chosen, xmps[chosen].size, xmps[chosen].mtime]


# Words live only in XMP sidecars (LENSLET_WORDS=xmp).
WORDS = "words"


def xmp_shown(xmp_setting, words_setting):
    """Return how other tools' XMP is shown: False (off), True, or WORDS."""
    return WORDS if words_setting == "xmp" else xmp_setting != "off"


def own_words(fields, xmp_read):
    """Take tags, star and notes from the XMP sidecar (LENSLET_WORDS=xmp)."""
    metadata = (xmp.from_dict(xmp_read.get("found")) if isinstance(xmp_read, dict) else None) or xmp.Metadata()
    return dict(fields, tags=metadata.tags, star=metadata.star, notes=metadata.description or "")


def with_xmp(fields, xmp_read, embedded, base=None, own=False, probed=None, own_people=()):
    """Merge an entry's fields with what its XMP sidecar (xmp_read) and image (embedded) say.
    probed: the image's orientation and upright size, for where its faces are on screen; own_people: the sidecar's."""
    if own:
        fields, base = own_words(fields, xmp_read), None
    view = xmp.shown(fields.get("tags") or [], fields.get("star"), readings(xmp_read, embedded), base)
    made_from = [xmp_read["name"], xmp_read["size"], xmp_read["mtime"]] if xmp_read is not None else None
    people = people_shown(regions.united(own_people, view["people"]), probed or {}, fields.get("turn"))
    return dict(fields, tags=view["tags"], star=view["star"], rejected=view["rejected"] or None,
                xmpPaths=view["paths"] or None, xmpError="; ".join(view["problems"]) or None, xmp=made_from,
                people=people or None)


def people_shown(people, probed, turn):
    """The people of an entry or /item, their boxes where the faces are on screen."""
    size = (probed.get("w"), probed.get("h"))
    return regions.on_screen(people, probed.get("orientation") or 1, turn or 1, size)


def shown(sidecar, version, found=None, own=False, probed=None):
    """Return an image's listing and search fields, XMP merged in when found."""
    listed, searched = sidecars.listed(sidecar, version), sidecars.searched(sidecar)
    if found is not None:
        listed = with_xmp(listed, *found, xmp.base_of(sidecar), own, probed, regions.own_people(sidecar))
        searched.update(tags=listed["tags"], star=listed["star"], xmpPaths=listed["xmpPaths"] or [],
                        notes=listed["notes"], people=listed["people"] or [])
        if probed is None:  # where the faces are is not known here: the entry keeps what it has
            del listed["people"], searched["people"]
    return listed, searched


def not_written(found, writing):
    """Return the XMP readings lenslet does not write itself."""
    return [(source, said) for source, said in (readings(*found) if found else [])
            if source == xmp.EMBEDDED or not writing]


# Keys present only when they say something; None in a change removes them.
XMP_KEYS = ("rejected", "xmpPaths", "xmpError", "xmp", "people")
# How the picture was taken, present when the image says.
SHOT_KEYS = ("camera", "taken", "takenOffset", "lens")
# Where: the place's name and country code, named from "gps" with the places table whose version the head keeps,
# or the place a person set in the sidecar (then "placeSet" is true).
PLACE_KEYS = ("place", "country")
PLACES = "places"


def gps_in(entry):
    """Return the [latitude, longitude] an entry or probe keeps, or None."""
    found = entry.get("gps")
    return exif.gps(*found) if isinstance(found, list) and len(found) == 2 else None


def place_fields(gps):
    """Return the fields naming a position's place ({"place": "Nazaré, Leiria, Portugal", "country": "PT"}), or {}."""
    found = place_of(*gps) if gps else None
    return {"place": label(found), "country": found["countryCode"]} if found else {}


def named_by_another_table(head):
    """Tell whether a listing's head names another places table than this lenslet's, or none (the last release's)."""
    return head.get(PLACES) != table_version()


def placed_again(items, head):
    """Name again the places of {name: entry} when the head they were listed with names another places table."""
    if head is None or not named_by_another_table(head):
        return items
    return {name: named_again(entry) for name, entry in items.items()}


def named_again(entry):
    """Return an entry with its place named from its own gps by the places table now (a person's place stays)."""
    if not isinstance(entry, dict) or entry.get("placeSet") or not any(key in entry for key in ("gps", *PLACE_KEYS)):
        return entry
    kept = {key: value for key, value in entry.items() if key not in PLACE_KEYS}
    return dict(kept, **place_fields(gps_in(entry)))


def lean(fields):
    return {key: value for key, value in fields.items() if value is not None or key not in XMP_KEYS}


def readings(xmp_read, embedded):
    """Return (source, xmp.Metadata) pairs, the XMP sidecar's first."""
    found = []
    if isinstance(xmp_read, dict) and isinstance(xmp_read.get("name"), str):
        found.append((xmp_read["name"], xmp.from_dict(xmp_read.get("found"))))
    if embedded:
        found.append((xmp.EMBEDDED, xmp.from_dict(embedded)))
    return [(source, metadata) for source, metadata in found if metadata is not None]


def item(folder, name, listing, previous, probed, sidecar, xmp_read=None, reading=False):
    """Assemble one manifest item, marked `link` when it is a symlink."""
    made = _item(folder, name, listing, previous, probed, sidecar, xmp_read, reading)
    if listing.images[name].link:
        return made if made.get("link") else dict(made, link=True)
    return {key: value for key, value in made.items() if key != "link"} if "link" in made else made


def _item(folder, name, listing, previous, probed, sidecar, xmp_read=None, reading=False):
    """Assemble an item from the old one, a fresh probe and a fresh sidecar (fields, version)."""
    entry = listing.images[name]
    meta = listing.sidecars.get(name)
    has_thumb = has_thumb_in(listing, name)
    meta_mtime = meta.mtime if meta is not None else None
    if probed is None and sidecar is None and previous and previous.get("hasThumb") == has_thumb \
            and previous.get("hasMeta") == (meta is not None) and previous.get("metaMtime") == meta_mtime:
        return shown_as(previous)  # nothing about it changed
    if reading and probed is None and previous:
        # only the thumbnail changed, or the sidecar was reread unchanged
        return shown_as(dict(previous, hasThumb=has_thumb, **({"metaMtime": meta_mtime} if sidecar else {})))
    base = probed if probed is not None else previous
    # Without a sidecar the hash is kept here while the bytes stay the same.
    same_bytes = previous and (previous.get("size"), previous.get("mtime")) == (entry.size, entry.mtime)
    out = {"path": join(folder, name), "name": name, "type": base.get("type") or mime_of(name), "w": base.get("w"),
           "h": base.get("h"), "size": entry.size, "mtime": entry.mtime, "hasThumb": has_thumb,
           "hasMeta": meta is not None, "hash": previous.get("hash") if same_bytes else None, "tags": [], "notes": "",
           "star": None, "metaMtime": meta_mtime, "metaVersion": None}
    out.update({key: previous[key] for key in ("phash", "sharpness") if same_bytes and key in previous})
    if base.get("error"):
        out["error"] = base["error"]
    out.update({key: base[key] for key in SHOT_KEYS if isinstance(base.get(key), str)})  # present only when known
    gps = gps_in(base)
    if gps is not None:
        # A fresh probe's place is named now; an older entry's was named when listed (see placed_again).
        out.update(gps=gps, **(place_fields(gps) if probed is not None or base.get("placeSet") else
                               {key: base[key] for key in PLACE_KEYS if isinstance(base.get(key), str)}))
    out = shown_as(out)
    if meta is not None:
        source, version = sidecar if sidecar is not None else (previous, previous.get("metaVersion"))
        out.update(tags=source.get("tags", []), notes=source.get("notes", ""), star=source.get("star"),
                   hash=source.get("hash") or out["hash"], metaVersion=version, turn=source.get("turn"))
        own = sidecars.place_listed(source) if sidecar is not None else source  # or the entry listed before
        if own.get("placeSet") is True:  # a person's place, in place of the GPS's
            out.update({key: own.get(key) for key in (*PLACE_KEYS, "placeSet")})
        taken = sidecars.taken_set(source) if sidecar is not None else source.get("dateSet")
        if taken is not None:  # a person's date, beside the camera's
            out["dateSet"] = taken
    out = turned(out, base.get("turn"), out.pop("turn", None))
    if reading:
        base = xmp.base_of(source) if meta is not None else None
        own_people = regions.own_people(source) if meta is not None and sidecar is not None else ()
        return lean(with_xmp(out, xmp_read, probed.get("embedded"), base, reading == WORDS, probed, own_people))
    return out


def turned(entry, was, turn):
    """Return an entry with a person's turn (None: none), its width and height swapped when it turns sideways."""
    entry = {key: value for key, value in entry.items() if key != "turn"}
    if sidecars.sideways(was) != sidecars.sideways(turn):
        entry.update(w=entry.get("h"), h=entry.get("w"))
    return dict(entry, **({"turn": turn} if sidecars.is_turn(turn) and turn != 1 else {}))


def shown_as(entry):
    """Add `kind` and `preview` (whether the page can show a picture) to an entry."""
    kind = kind_of(entry["name"])
    preview = (kind != "video" or bool(entry.get("hasThumb"))) and not entry.get("error")
    if entry.get("kind") == kind and entry.get("preview") == preview:
        return entry
    return dict(entry, kind=kind, preview=preview)


def has_thumb_in(listing, name):
    """Tell whether an image has a thumbnail not older than itself."""
    thumb = listing.thumbs.get(name)
    return thumb is not None and thumb.mtime >= listing.images[name].mtime


def lacking_thumbs(listing):
    """Return the shown images without a thumbnail."""
    return [name for name in listing.images if not has_thumb_in(listing, name) and is_shown(name)]


# A subfolder's kind; UNKNOWN when it could not be looked at.
KNOWN_KINDS = ("leaf-pointer", "branch", "leaf-real")
UNKNOWN = "unknown"


def dir_kind(has_pointer, has_subfolders):
    return "leaf-pointer" if has_pointer else "branch" if has_subfolders else "leaf-real"


def page_count(items, page_size):
    return max(1, math.ceil(items / page_size))


def paginate(folder, items, dirs, signature_, page_size, generated_at, built_at=0.0):
    """Split sorted items into manifest pages."""
    pages = page_count(len(items), page_size)
    return [{"v": VERSION, "path": folder, "generatedAt": generated_at, "builtAt": built_at, "sig": signature_,
             PLACES: table_version(), "page": page, "pageCount": pages, "total": len(items), "dirs": dirs,
             "items": items[page * page_size:(page + 1) * page_size]} for page in range(pages)]


# A page is stored as its head, then one item a line: an edit rewrites one line.
ITEMS_OPEN = b',"items":[\n'


def encode_page(page):
    head = orjson.dumps({key: value for key, value in page.items() if key != "items"})
    return head[:-1] + ITEMS_OPEN + b",\n".join(map(orjson.dumps, page["items"])) + b"\n]}"


def page_head(data):
    """Parse a stored page's head; None unless it is stored one item a line."""
    at = data.find(ITEMS_OPEN)
    if at < 0 or data.find(b"\n") != at + len(ITEMS_OPEN) - 1 or not data.endswith(b"\n]}"):
        return None  # items not one a line, or the page is cut short
    return _whole_page(data[:at] + b',"items":[]}')


def with_items_of(head, data):
    """Put another head on a page of lines."""
    encoded = orjson.dumps({key: value for key, value in head.items() if key != "items"})
    return encoded[:-1] + memoryview(data)[data.find(ITEMS_OPEN):]  # the items copied once, not twice


def named_now(page):
    """Tell whether a page's places were named by this places table."""
    return page.get(PLACES) == table_version()


def patch_page(data, changes):
    """Change named items of a stored page: (bytes or None, names held, pageCount), or None to rebuild.
    A page listed with another places table has every place named again."""
    head, version = page_head(data), table_version()
    if head is None or (head.get(PLACES) != version and b'"gps"' in data):
        page = _whole_page(data)
        if page is None:
            return None
        held = list(_changed(page["items"], changes))
        renamed = page.get(PLACES) != version and any(isinstance(entry, dict) and "gps" in entry
                                                      for entry in page["items"])
        if renamed:
            page.update({PLACES: version, "items": [named_again(entry) for entry in page["items"]]})
        return (encode_page(page) if held or renamed else None), held, page["pageCount"]
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
    """Return a named item's entry in a stored page, or None."""
    if page_head(data) is not None:
        found = _item_line(data, name)
        return found[2] if found is not None else None
    page = _whole_page(data)
    if page is None:
        return None
    return next((item for item in page["items"] if isinstance(item, dict) and item.get("name") == name), None)


def _whole_page(data):
    """Parse a page (or a head, items left out) as one JSON object; None when unusable."""
    try:
        page = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return page if usable(page) else None


def _item_line(data, name):
    """Find (start, end, item) of a named item's line, or None.
    Only a key is an unescaped `"name":"…",`; parsing the line rules out a nested one."""
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
    """Apply changes to the named items, lazily yielding each name."""
    for entry in items:
        fields = changes.get(entry.get("name")) if isinstance(entry, dict) else None
        if fields is not None:
            place_was_set = entry.get("placeSet")
            if "turn" in fields:
                entry.update(turned(entry, entry.get("turn"), fields["turn"]))
            entry.update(fields)
            for key in (*XMP_KEYS, "placeSet", "turn", "dateSet"):
                if key in fields and fields[key] is None:
                    del entry[key]
            if place_was_set and "placeSet" not in entry:  # the person's place went: the GPS's names it again
                for key in PLACE_KEYS:
                    entry.pop(key, None)
                entry.update(place_fields(gps_in(entry)))
            yield entry["name"]


_DIGITS = re.compile(r"(\d+)")


def sort_key(name):
    """Order names as people read them: case-folded, digits by value."""
    # re.split with a group alternates text and digits: no str compared with int
    parts = _DIGITS.split(name.casefold())
    parts[1::2] = map(int, parts[1::2])
    return parts


def built_at(page):
    """Return when a stored page's build began; 0.0 when it does not say."""
    value = page.get("builtAt")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def usable(page):
    """Tell whether a stored page is of this format."""
    return (isinstance(page, dict) and page.get("v") == VERSION and isinstance(page.get("items"), list)
            and isinstance(page.get("dirs"), list) and isinstance(page.get("pageCount"), int))
