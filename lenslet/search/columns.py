"""Compact per-item columns for search's sorts and filters, and the fields a text search looks through; pure data."""

import bisect
import datetime
import io
from array import array
from itertools import compress, islice

from lenslet.formats import query as rules
from lenslet.formats import similar
from lenslet.formats.query import fold, people_of
from lenslet.layout import TRASH, kind_of
from lenslet.search.bitmaps import FLAG_OF, array_of, bitmap_page, marked
from lenslet.search.clusters import Positions, point_of

FORMAT = 4           # of kept columns: 2 added countries, 3 the map's positions, 4 the similar groups' photos
RARE = 255           # code shared by cameras (countries) past the first 254
EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()
DAY0 = datetime.date(1900, 1, 1).toordinal()  # day 0 of the two-byte day column
OUTSIDE = 0xFFFF     # day code after 2079 (0: on or before 1900-01-01)
SORT_FROM = 1000     # matches from which a page walks the kept order
BEHIND, PHOTO, VIDEO = 0, 1, 2  # an item's tile (tile_of)
SET_FROM = 16        # date filters under 1/SET_FROM of items set bits one by one
KEPT_FILTERS = 16    # filter bitmaps cached


def fields_of(item):
    """Return the fields a text search looks through, folded: the name first, the place last."""
    tags = item.get("tags") if isinstance(item.get("tags"), list) else []
    path = item.get("path") if isinstance(item.get("path"), str) else ""
    paths = item.get("xmpPaths") if isinstance(item.get("xmpPaths"), list) else ()
    taken = item.get("taken")[:10] if isinstance(item.get("taken"), str) else ""
    return [fold(item.get("name")), *(fold(tag) for tag in tags if isinstance(tag, str)), fold(item.get("notes")),
            fold(path.rpartition("/")[0]), *(fold(text) for text in paths if isinstance(text, str)),
            fold(item.get("camera")), fold(item.get("lens")), fold(taken), *sorted(people_of(item)),
            fold(item.get("place"))]


class Builder:
    """Collects the columns while the token index is built."""

    def __init__(self):
        self.star, self.tagged, self.kind, self.camera = bytearray(), bytearray(), bytearray(), bytearray()
        self.country = bytearray()
        self.day_hi, self.day_lo = bytearray(), bytearray()
        self.date, self.size = array("d"), array("Q")
        self.tile = bytearray()
        self.kinds, self.cameras, self.rare = {"": 0}, {"": 0}, {}
        self.countries, self.rare_countries = {"": 0}, {}
        self.positions = Positions(array("Q"), array("I"), array("d"), array("d"))  # of the geotagged, in id order
        self.looked = similar.Looked()  # the photos outside the trash with a look
        # One buffer: many small strings would fragment the heap.
        self.names = io.StringIO()

    def feed(self, items):
        """Pass items through, noting each one's columns."""
        for item in items:
            self.add(item)
            yield item

    def add(self, item):
        item_id = len(self.star)
        self.star.append(rules.stars(item) + 1)
        self.tagged.append(rules.is_tagged(item))
        kind = item.get("type") if isinstance(item.get("type"), str) else ""
        self.kind.append(self.kinds.setdefault(kind, min(len(self.kinds), RARE)))
        self.camera.append(coded(self.cameras, self.rare, rules.camera_of(item), item_id))
        # A forged listing may hold any two letters: past 254 codes they are rare too.
        self.country.append(coded(self.countries, self.rare_countries, rules.country_of(item), item_id))
        taken = rules.taken_at(item)
        day = min(max(rules.day_of(taken) - DAY0, 0), OUTSIDE)
        self.day_hi.append(day >> 8)
        self.day_lo.append(day & 0xFF)
        self.date.append(taken)
        self.size.append(max(rules.size_of(item), 0))
        self.tile.append(tile_of(item))
        point = point_of(item)
        if point is not None:
            self.positions.add(item_id, *point)
        self.names.write(rules.name_key(item.get("name")).replace("\n", " ") + "\n")
        look, path = similar.look_of(item), item.get("path")
        if look is not None and isinstance(path, str) and path.split("/", 1)[0] != TRASH:
            self.looked.add(path, item_id, look[0])

    def finish(self):
        names = self.names.getvalue().split("\n")[:-1]
        self.names = io.StringIO()
        order = sorted(range(len(names)), key=names.__getitem__)
        name_rank, rank, last = array("I", bytes(4 * len(names))), -1, None
        for item_id in order:
            if names[item_id] != last:
                rank, last = rank + 1, names[item_id]
            name_rank[item_id] = rank
        del names, order
        # Codes were given in order: the dicts list them in code order.
        kinds = [kind for kind, code in self.kinds.items() if code < RARE]
        cameras = [camera for camera, code in self.cameras.items() if code < RARE]
        countries = [country for country, code in self.countries.items() if code < RARE]
        # Made once: a date filter finds its days as one stretch of it.
        by_date = array("I", sorted(range(len(self.date)), key=self.date.__getitem__))
        return Columns(len(self.star), bytes(self.star), bytes(self.tagged), bytes(self.kind), kinds,
                       bytes(self.camera), cameras, self.rare, bytes(self.day_hi), bytes(self.day_lo), self.date,
                       self.size, name_rank, by_date, bytes(self.tile),
                       bytes(self.country), countries, self.rare_countries, self.positions.in_cell_order(),
                       self.looked.moments(self.date))


def coded(codes, rare, value, item_id):
    """Return value's one-byte code, given in order of first sight; RARE (and its ids kept in rare) past 254."""
    code = codes.setdefault(value, min(len(codes), RARE))
    if code == RARE:
        rare.setdefault(value, array("I")).append(item_id)
    return code


def tile_of(item):
    """Return BEHIND for a stack's other file, else VIDEO or PHOTO."""
    name, stack = item.get("name"), item.get("stack")
    if isinstance(stack, dict) and isinstance(name, str) and stack.get("front") not in (None, name):
        return BEHIND
    return VIDEO if isinstance(name, str) and kind_of(name) == "video" else PHOTO


class Columns:
    def __init__(self, count, star, tagged, kind, kinds, camera, cameras, rare, day_hi, day_lo, date, size,
                 name_rank, by_date, tile, country, countries, rare_countries, positions, moments):
        self.count = count
        self.star, self.tagged = star, tagged      # bytes: stars + 1 (0: none); 1 when tagged
        self.kind, self.kinds = kind, kinds        # bytes: MIME type codes
        self.camera, self.cameras = camera, cameras  # bytes: code into cameras (folded)
        self.rare = rare                           # folded camera -> ids, for cameras past 254
        self.country, self.countries = country, countries  # bytes: code into countries (ISO codes)
        self.rare_countries = rare_countries       # country -> ids, for countries past 254
        self.day_hi, self.day_lo = day_hi, day_lo  # bytes: day taken (days since 1900), high and low byte
        self.date, self.size = date, size
        self.name_rank = name_rank                 # rank of query.name_key
        self.tile = tile
        self.positions = positions                 # the map's (map.Positions)
        self.moments = moments                     # what the similar groups read (similar.Moments)
        self.orders = {("date", False): by_date}   # (sort, desc) -> every id in that order
        self.kept = {}
        self.outside = None                        # bitmap of items taken outside 1900-2079

    @classmethod
    def build(cls, items):
        builder = Builder()
        for _ in builder.feed(items):
            pass
        return builder.finish()

    def mask(self, column, codes):
        """Return a bitmap of the items whose byte in column is one of codes."""
        codes = set(codes)
        if not codes or not self.count:
            return 0
        table = bytes(0x31 if code in codes else 0x30 for code in range(256))
        return int(column.translate(table)[::-1], 2)

    def keep(self, query):
        """Return a cached bitmap of the items passing a query's filters (None: no filter)."""
        filters = (query.star, query.tagged, query.types, query.cameras, query.countries, query.dates)
        bits = self.kept.get(filters)
        if bits is not None or filters in self.kept:
            return bits
        for found in self._filters(query):
            bits = found if bits is None else bits & found
            if not bits:
                bits = 0
                break
        self.kept[filters] = bits  # a race stores the same bitmap
        while len(self.kept) > KEPT_FILTERS:
            self.kept.pop(next(iter(self.kept)), None)
        return bits

    def _filters(self, query):
        if query.star is not None:
            yield self.mask(self.star, range(query.star + 1, 7))
        if query.tagged is not None:
            yield self.mask(self.tagged, [int(query.tagged)])
        for kinds in query.types:
            yield self.mask(self.kind, [code for code, kind in enumerate(self.kinds) if kind in kinds])
        for text in query.cameras:
            yield self.coded(self.camera, self.cameras, self.rare, lambda camera, text=text: text in camera)
        for codes in query.countries:
            yield self.coded(self.country, self.countries, self.rare_countries, codes.__contains__)
        for first, last in query.dates:
            yield self.days(first, last)

    def coded(self, column, names, rare, wanted):
        """Return a bitmap of the items whose value, coded in column (names, rare), is one wanted says true of."""
        bits = self.mask(column, [code for code, name in enumerate(names) if name and wanted(name)])
        for name, ids in rare.items():
            if wanted(name):
                bits |= marked(ids, self.count)
        return bits

    def days(self, first, last):
        """Return a bitmap of the items taken from day first to last (inclusive ordinals; None: open)."""
        # Few matches: set from the date order; many: from the byte columns.
        by_date, date = self.orders[("date", False)], self.date.__getitem__
        start = 0 if first is None else bisect.bisect_left(by_date, (first - EPOCH_DAY) * 86400.0, key=date)
        end = self.count if last is None else bisect.bisect_left(by_date, (last + 1 - EPOCH_DAY) * 86400.0, key=date)
        if end - start <= self.count // SET_FROM:
            return marked(by_date[start:end], self.count)
        low = 1 if first is None else max(first - DAY0, 1)
        high = OUTSIDE - 1 if last is None else min(last - DAY0, OUTSIDE - 1)
        bits = self._day_codes(low, high)
        # Days outside 1900-2079 share codes 0 and OUTSIDE: check exact times.
        if self.outside is None:
            self.outside = self._day_codes(0, 0) | self._day_codes(OUTSIDE, OUTSIDE)
        if self.outside:
            kept = [i for i in ids_of(self.outside, self.count)
                    if (first is None or first <= rules.day_of(self.date[i]))
                    and (last is None or rules.day_of(self.date[i]) <= last)]
            bits |= marked(kept, self.count)
        return bits

    def _day_codes(self, low, high):
        if low > high:
            return 0
        (low_hi, low_lo), (high_hi, high_lo) = divmod(low, 256), divmod(high, 256)
        if low_hi == high_hi:
            return self.mask(self.day_hi, [low_hi]) & self.mask(self.day_lo, range(low_lo, high_lo + 1))
        return (self.mask(self.day_hi, range(low_hi + 1, high_hi))
                | self.mask(self.day_hi, [low_hi]) & self.mask(self.day_lo, range(low_lo, 256))
                | self.mask(self.day_hi, [high_hi]) & self.mask(self.day_lo, range(high_lo + 1)))

    def values(self, sort):
        """Return the column a sort orders by."""
        return {"name": self.name_rank, "date": self.date, "rating": self.star, "size": self.size}[sort]

    def value(self, sort, item_id):
        """Return query.sort_value of one item (not for name: ranks are not names)."""
        if sort == "rating":
            return self.star[item_id] - 1
        return self.values(sort)[item_id]

    def order(self, sort, desc):
        """Return every id in a sort's order, ties in id order either way."""
        found = self.orders.get((sort, desc))
        if found is None:
            found = array("I", sorted(range(self.count), key=self.values(sort).__getitem__, reverse=desc))
            self.orders[sort, desc] = found  # a race makes the same order
        return found

    def page(self, bits, sort, desc, offset, limit):
        """Return one page of a bitmap's ids in a sort's order (sort None: id order)."""
        want = offset + limit
        total = bits.bit_count()
        if sort is None:
            ids = ids_of(bits, self.count, None if desc else want)
            return (ids[::-1] if desc else ids)[offset:want]
        if total <= SORT_FROM or want * self.count > total * total:
            # Few matches, or a page too deep for the walk: sort the matches.
            return sorted(ids_of(bits, self.count), key=self.values(sort).__getitem__, reverse=desc)[offset:want]
        marks = format(bits, f"0{self.count}b")[::-1].encode().translate(FLAG_OF)
        order = self.order(sort, desc)
        return list(islice(compress(order, map(marks.__getitem__, order)), offset, want))

    def to_parts(self):
        """Return (header, byte strings) for from_parts."""
        header = {"format": FORMAT, "count": self.count, "kinds": self.kinds, "cameras": self.cameras,
                  "rare": sorted(self.rare), "rareSizes": [len(self.rare[camera]) for camera in sorted(self.rare)],
                  "countries": self.countries, "rareCountries": sorted(self.rare_countries),
                  "rareCountrySizes": [len(self.rare_countries[name]) for name in sorted(self.rare_countries)],
                  "momentFolders": self.moments.folders, "momentSizes": self.moments.sizes}
        parts = [self.star, self.tagged, self.kind, self.camera, self.day_hi, self.day_lo, self.date.tobytes(),
                 self.size.tobytes(), self.name_rank.tobytes(),
                 b"".join(self.rare[camera].tobytes() for camera in sorted(self.rare)),
                 self.orders[("date", False)].tobytes(), self.tile, self.country,
                 b"".join(self.rare_countries[name].tobytes() for name in sorted(self.rare_countries)),
                 *self.positions.to_parts(), *self.moments.to_parts()]
        return header, parts

    @classmethod
    def from_parts(cls, header, parts):
        """Make the columns to_parts() described, or raise ValueError."""
        if header.get("format") != FORMAT:
            raise ValueError("columns kept by another version")
        count = header["count"]
        star, tagged, kind, camera, day_hi, day_lo, date, size, name_rank, rare, by_date, tile, country, \
            rare_country = (bytes(part) for part in parts[:14])
        positions = Positions.from_parts([bytes(part) for part in parts[14:18]], count)
        moments = similar.Moments.from_parts(header["momentFolders"], header["momentSizes"], parts[18:], count)
        if any(len(column) != count for column in (star, tagged, kind, camera, day_hi, day_lo, tile, country)):
            raise ValueError("a column of the wrong size")
        date, size, name_rank, by_date = array_of("d", date), array_of("Q", size), array_of("I", name_rank), \
            array_of("I", by_date)
        if not len(date) == len(size) == len(name_rank) == len(by_date) == count:
            raise ValueError("a column of the wrong size")
        if len(set(by_date)) != count or (count and max(by_date) >= count):
            raise ValueError("ids of items that are not there")
        return cls(count, star, tagged, kind, list(header["kinds"]), camera, list(header["cameras"]),
                   rare_of(header["rare"], header["rareSizes"], rare, count), day_hi, day_lo, date, size, name_rank,
                   by_date, tile, country, list(header["countries"]),
                   rare_of(header["rareCountries"], header["rareCountrySizes"], rare_country, count), positions,
                   moments)


def rare_of(names, sizes, data, count):
    """Return {name: ids} of a kept rare part, or raise ValueError."""
    ids, found, at = array_of("I", data), {}, 0
    if sum(sizes) != len(ids):
        raise ValueError("rare values of the wrong size")
    # A kept file is untrusted: refuse ids past the end.
    if ids and max(ids) >= count:
        raise ValueError("ids of items that are not there")
    for name, size in zip(names, sizes, strict=True):
        found[name] = ids[at:at + size]
        at += size
    return found


def ids_of(bits, count, want=None):
    """Return the ids of a bitmap in id order, the first `want` of them."""
    return bitmap_page(bits, 0, count, count, 0, count if want is None else want)[1]
