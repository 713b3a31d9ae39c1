"""What search's sorts and filters need of every rollup item, kept as compact columns beside the
token index (search/words.py). Pure data: items in, ids out.

Each value comes from the rule in search/query.py, so an item is filtered and sorted here
exactly as query.keeps and query.sort_value would on the item itself.

How: a filter is a bitmap (an int, bit i for item i), made in C: a byte column (stars,
tagged, type, camera, the day taken in two bytes) is translated into one character an item,
"1" kept and "0" not, and read as a binary number. A sorted page either sorts the few ids
found by their column, or walks a permutation of every item in that order (made once, on
first use) and picks the ids of the bitmap: a page of many matches is found within its first
steps.
"""

import bisect
import datetime
import io
from array import array
from itertools import compress, islice

from lenslet.formats import query as rules
from lenslet.layout import kind_of
from lenslet.search.index import bitmap_page, marked

RARE = 255           # camera code of the cameras past the first 254 (found through their own id lists)
EPOCH_DAY = datetime.date(1970, 1, 1).toordinal()
DAY0 = datetime.date(1900, 1, 1).toordinal()  # day 0 of the two-byte day column (65,535 days: to 2079)
OUTSIDE = 0xFFFF     # the day code of days after 2079 (0: on or before 1900-01-01)
SORT_FROM = 1000     # matches from which a sorted page may walk the kept order instead of sorting them
BEHIND, PHOTO, VIDEO = 0, 1, 2  # what an item is on the page: the other file of a stack, or a tile of its own
SET_FROM = 16        # a date filter matching at most 1/16 of the items sets their bits one by one
KEPT_FILTERS = 16    # filters' bitmaps kept (62 KB each at 500,000 items)


class Builder:
    """Collects the columns while the token index is built from the same items."""

    def __init__(self):
        self.star, self.tagged, self.kind, self.camera = bytearray(), bytearray(), bytearray(), bytearray()
        self.day_hi, self.day_lo = bytearray(), bytearray()
        self.date, self.size = array("d"), array("Q")
        self.tile = bytearray()
        self.kinds, self.cameras, self.rare = {"": 0}, {"": 0}, {}
        # One growing buffer, not a list of strings: half a million small objects made among the
        # index's would fragment the heap and keep the process's memory high once freed.
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
        camera = rules.camera_of(item)
        code = self.cameras.setdefault(camera, min(len(self.cameras), RARE))
        if code == RARE:
            self.rare.setdefault(camera, array("I")).append(item_id)
        self.camera.append(code)
        taken = rules.taken_at(item)
        day = rules.day_of(taken) - DAY0
        day = 0 if day < 1 else OUTSIDE if day >= OUTSIDE else day
        self.day_hi.append(day >> 8)
        self.day_lo.append(day & 0xFF)
        self.date.append(taken)
        self.size.append(max(rules.size_of(item), 0))
        self.tile.append(tile_of(item))
        self.names.write(rules.name_key(item.get("name")).replace("\n", " ") + "\n")

    def finish(self):
        # Names become ranks (equal names one rank): sorting by a number is what the rest does.
        names = self.names.getvalue().split("\n")[:-1]
        self.names = io.StringIO()
        order = sorted(range(len(names)), key=names.__getitem__)
        name_rank, rank, last = array("I", bytes(4 * len(names))), -1, None
        for item_id in order:
            if names[item_id] != last:
                rank, last = rank + 1, names[item_id]
            name_rank[item_id] = rank
        del names, order
        kinds = [kind for kind, code in sorted(self.kinds.items(), key=lambda pair: pair[1]) if code < RARE]
        cameras = [camera for camera, code in sorted(self.cameras.items(), key=lambda pair: pair[1]) if code < RARE]
        # The date order is made here, once: a date filter finds its days as one stretch of it.
        by_date = array("I", sorted(range(len(self.date)), key=self.date.__getitem__))
        return Columns(len(self.star), bytes(self.star), bytes(self.tagged), bytes(self.kind), kinds,
                       bytes(self.camera), cameras, self.rare, bytes(self.day_hi), bytes(self.day_lo), self.date,
                       self.size, name_rank, by_date, bytes(self.tile))


def tile_of(item):
    """BEHIND for the other file of a stack (a raw beside its JPEG, a live photo's video: its front's tile
    shows it), else VIDEO or PHOTO."""
    name, stack = item.get("name"), item.get("stack")
    if isinstance(stack, dict) and isinstance(name, str) and stack.get("front") not in (None, name):
        return BEHIND
    return VIDEO if isinstance(name, str) and kind_of(name) == "video" else PHOTO


class Columns:
    def __init__(self, count, star, tagged, kind, kinds, camera, cameras, rare, day_hi, day_lo, date, size,
                 name_rank, by_date, tile):
        self.count = count
        self.star, self.tagged = star, tagged      # bytes: stars + 1 (0: none); 1 when tagged
        self.kind, self.kinds = kind, kinds        # bytes: code into kinds (MIME types)
        self.camera, self.cameras = camera, cameras  # bytes: code into cameras (folded); RARE: see rare
        self.rare = rare                           # folded camera -> array of ids, for the cameras past 254
        self.day_hi, self.day_lo = day_hi, day_lo  # bytes: the day taken, days since 1900, high and low byte
        self.date, self.size = date, size          # array("d") query.taken_at, array("Q") sizes
        self.name_rank = name_rank                 # array("I"): rank of query.name_key (equal names, one rank)
        self.tile = tile                           # bytes: BEHIND, PHOTO or VIDEO (tile_of)
        self.orders = {("date", False): by_date}   # (sort, desc) -> array of every id in that order
        self.kept = {}                             # a query's filters -> their bitmap, the last KEPT_FILTERS
        self.outside = None                        # bitmap of the items taken outside 1900-2079, once known

    @classmethod
    def build(cls, items):
        builder = Builder()
        for _ in builder.feed(items):
            pass
        return builder.finish()

    # -- filters -------------------------------------------------------------

    def mask(self, column, codes):
        """Bitmap of the items whose byte in column is one of codes."""
        codes = set(codes)
        if not codes or not self.count:
            return 0
        table = bytes(0x31 if code in codes else 0x30 for code in range(256))
        return int(column.translate(table)[::-1], 2)

    def keep(self, query):
        """Bitmap of the items passing every filter of a query (query.keeps), or None when it has none.

        The last few are kept: paging through one filtered search filters once.
        """
        filters = (query.star, query.tagged, query.types, query.cameras, query.dates)
        bits = self.kept.get(filters)
        if bits is not None or filters in self.kept:
            return bits
        for found in self._filters(query):
            bits = found if bits is None else bits & found
            if not bits:
                bits = 0
                break
        self.kept[filters] = bits  # two threads at once store the same bitmap
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
            codes = [code for code, camera in enumerate(self.cameras) if camera and text in camera]
            bits = self.mask(self.camera, codes)
            for camera, ids in self.rare.items():
                if text in camera:
                    bits |= marked(ids, self.count)
            yield bits
        for first, last in query.dates:
            yield self.days(first, last)

    def days(self, first, last):
        """Bitmap of the items taken from day first to day last (ordinals, inclusive; None: open)."""
        # The items of those days are one stretch of the date order: few, they are set one by one;
        # many, the byte columns find them in C.
        by_date, date = self.orders[("date", False)], self.date.__getitem__
        start = 0 if first is None else bisect.bisect_left(by_date, (first - EPOCH_DAY) * 86400.0, key=date)
        end = self.count if last is None else bisect.bisect_left(by_date, (last + 1 - EPOCH_DAY) * 86400.0, key=date)
        if end - start <= self.count // SET_FROM:
            return marked(by_date[start:end], self.count)
        return self._days(first, last)

    def _days(self, first, last):
        low = 1 if first is None else max(first - DAY0, 1)
        high = OUTSIDE - 1 if last is None else min(last - DAY0, OUTSIDE - 1)
        bits = self._day_codes(low, high)
        # Days before 1900 or after 2079 (codes 0 and OUTSIDE: a clock gone wrong, mostly) are
        # few: each is checked by its exact time.
        if self.outside is None:
            self.outside = self._day_codes(0, 0) | self._day_codes(OUTSIDE, OUTSIDE)
        outside = self.outside
        if outside:
            kept = [i for i in ids_of(outside, self.count)
                    if (first is None or first <= rules.day_of(self.date[i]))
                    and (last is None or rules.day_of(self.date[i]) <= last)]
            bits |= marked(kept, self.count)
        return bits

    def _day_codes(self, low, high):
        """Bitmap of the items whose day code is from low to high."""
        if low > high:
            return 0
        (low_hi, low_lo), (high_hi, high_lo) = divmod(low, 256), divmod(high, 256)
        if low_hi == high_hi:
            return self.mask(self.day_hi, [low_hi]) & self.mask(self.day_lo, range(low_lo, high_lo + 1))
        return (self.mask(self.day_hi, range(low_hi + 1, high_hi))
                | self.mask(self.day_hi, [low_hi]) & self.mask(self.day_lo, range(low_lo, 256))
                | self.mask(self.day_hi, [high_hi]) & self.mask(self.day_lo, range(high_lo + 1)))

    # -- sorting -------------------------------------------------------------

    def values(self, sort):
        """The column a sort orders by (an item's place in it as query.sort_value orders it)."""
        return {"name": self.name_rank, "date": self.date, "rating": self.star, "size": self.size}[sort]

    def value(self, sort, item_id):
        """What query.sort_value gives for one item, by its columns (not for name: ranks are not names)."""
        if sort == "rating":
            return self.star[item_id] - 1
        return self.values(sort)[item_id]

    def order(self, sort, desc):
        """Every id in a sort's order; ties in id (path) order either way (sorted() is stable)."""
        found = self.orders.get((sort, desc))
        if found is None:
            found = array("I", sorted(range(self.count), key=self.values(sort).__getitem__, reverse=desc))
            self.orders[sort, desc] = found  # made twice by two threads at once: the same either way
        return found

    def page(self, bits, sort, desc, offset, limit):
        """The ids of one page of a bitmap's items in a sort's order (sort None: id order)."""
        want = offset + limit
        total = bits.bit_count()
        if sort is None:
            ids = ids_of(bits, self.count, None if desc else want)
            return (ids[::-1] if desc else ids)[offset:want]
        if total <= SORT_FROM or want * self.count > total * total:
            # Few matches, or a page so deep that the walk would take more steps than there are
            # matches (about want * count / total steps): sort the matches.
            return sorted(ids_of(bits, self.count), key=self.values(sort).__getitem__, reverse=desc)[offset:want]
        marks = format(bits, f"0{self.count}b")[::-1].encode().translate(BOOLS)
        order = self.order(sort, desc)
        return list(islice(compress(order, map(marks.__getitem__, order)), offset, want))

    # -- kept on disk ----------------------------------------------------------

    def to_parts(self):
        """(header dict, list of byte strings): everything needed to make these columns again."""
        header = {"count": self.count, "kinds": self.kinds, "cameras": self.cameras,
                  "rare": sorted(self.rare), "rareSizes": [len(self.rare[camera]) for camera in sorted(self.rare)]}
        parts = [self.star, self.tagged, self.kind, self.camera, self.day_hi, self.day_lo, self.date.tobytes(),
                 self.size.tobytes(), self.name_rank.tobytes(),
                 b"".join(self.rare[camera].tobytes() for camera in sorted(self.rare)),
                 self.orders[("date", False)].tobytes(), self.tile]
        return header, parts

    @classmethod
    def from_parts(cls, header, parts):
        """The columns to_parts() described; ValueError when the parts do not fit the header."""
        count = header["count"]
        star, tagged, kind, camera, day_hi, day_lo, date, size, name_rank, rare, by_date, tile = (
            bytes(part) for part in parts)
        if any(len(column) != count for column in (star, tagged, kind, camera, day_hi, day_lo, tile)):
            raise ValueError("a column of the wrong size")
        date, size, name_rank, by_date = _array("d", date), _array("Q", size), _array("I", name_rank), \
            _array("I", by_date)
        if not len(date) == len(size) == len(name_rank) == len(by_date) == count:
            raise ValueError("a column of the wrong size")
        ids, rare_ids = _array("I", rare), {}
        if sum(header["rareSizes"]) != len(ids):
            raise ValueError("rare cameras of the wrong size")
        # Ids past the end would be items that are not there: a kept file is input like any other.
        if (ids and max(ids) >= count) or len(set(by_date)) != count or (count and max(by_date) >= count):
            raise ValueError("ids of items that are not there")
        at = 0
        for name, size_of in zip(header["rare"], header["rareSizes"], strict=True):
            rare_ids[name] = ids[at:at + size_of]
            at += size_of
        return cls(count, star, tagged, kind, list(header["kinds"]), camera, list(header["cameras"]), rare_ids,
                   day_hi, day_lo, date, size, name_rank, by_date, tile)


BOOLS = bytes.maketrans(b"01", b"\x00\x01")


def ids_of(bits, count, want=None):
    """The ids of a bitmap in id order (the first `want` of them)."""
    return bitmap_page(bits, 0, count, count, 0, count if want is None else want)[1]


def _array(code, data):
    found = array(code)
    found.frombytes(data)
    return found
