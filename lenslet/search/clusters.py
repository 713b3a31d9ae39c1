"""The map: every photo with a GPS position a principal may see, in counted clusters that split as the map zooms in.

The positions are put in the order of their map cell (a Morton code) with search's columns, once per rollup, and
kept with them; with running sums of latitude and longitude a cluster is one range of that order: its count and
centre take two bisects."""

import bisect
import math
from array import array
from itertools import accumulate, compress

from lenslet.errors import BadRequest
from lenslet.formats import query
from lenslet.recent import Recent
from lenslet.search.bitmaps import array_of

FINEST = 16  # cells of the finest level: 2^16 across the world, a few hundred metres
CLUSTER_LEVELS = 3  # a cluster is a cell 2^3 times finer than the map's tile at that zoom
MAX_ZOOM = 22
MAX_CELLS = 6000  # looked at for one answer; a wider view is clustered more coarsely
MAX_LATITUDE = 85.05112878  # where Web Mercator ends
KEPT = 8  # positions of rollups and scopes kept
EVERY = query.parse({})  # no filter
_SPREAD = [sum(((n >> bit) & 1) << (2 * bit) for bit in range(8)) for n in range(256)]


def spread(value):
    """Put a 16-bit number's bits at the even places of a 32-bit one."""
    return _SPREAD[value & 0xFF] | (_SPREAD[value >> 8] << 16)


def cell(latitude, longitude, level):
    """Return the (x, y) of a position's Web Mercator cell at a level (2^level cells across)."""
    size = 1 << level
    latitude = max(-MAX_LATITUDE, min(MAX_LATITUDE, latitude))
    x = (longitude + 180.0) / 360.0
    sine = math.sin(math.radians(latitude))
    y = 0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)
    return min(size - 1, max(0, int(x * size))), min(size - 1, max(0, int(y * size)))


def code(x, y):
    return spread(x) | (spread(y) << 1)


def point_of(item):
    """Return (map cell code, latitude, longitude) of an item with a GPS position, or None."""
    gps = item.get("gps")
    if not (isinstance(gps, list) and len(gps) == 2 and all(type(value) in (int, float) for value in gps)):
        return None
    latitude, longitude = gps
    if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
        return None  # NaN too
    return code(*cell(latitude, longitude, FINEST)), float(latitude), float(longitude)


class Positions:
    """Geotagged items in cell order: codes, item ids, latitudes and longitudes, as search's columns keep them."""

    def __init__(self, codes, ids, latitudes, longitudes):
        self.codes, self.ids, self.latitudes, self.longitudes = codes, ids, latitudes, longitudes

    def add(self, item_id, cell_code, latitude, longitude):
        self.codes.append(cell_code)
        self.ids.append(item_id)
        self.latitudes.append(latitude)
        self.longitudes.append(longitude)

    def in_cell_order(self):
        """Return them sorted by cell, then id; arrays throughout, as a list of rows would hold far more memory."""
        order = sorted(range(len(self.codes)), key=self.codes.__getitem__)
        return Positions(*(array(column.typecode, map(column.__getitem__, order))
                           for column in (self.codes, self.ids, self.latitudes, self.longitudes)))

    def to_parts(self):
        return [self.codes.tobytes(), self.ids.tobytes(), self.latitudes.tobytes(), self.longitudes.tobytes()]

    @classmethod
    def from_parts(cls, parts, count):
        """Make the positions to_parts() described for count items, or raise ValueError (a kept file is input)."""
        codes, ids, latitudes, longitudes = (array_of(kind, part) for kind, part in zip("QIdd", parts, strict=True))
        if not len(codes) == len(ids) == len(latitudes) == len(longitudes) <= count:
            raise ValueError("positions of the wrong size")
        if ids and (max(ids) >= count or not (-90.0 <= min(latitudes) <= max(latitudes) <= 90.0 and
                                              -180.0 <= min(longitudes) <= max(longitudes) <= 180.0)):
            raise ValueError("positions that are not there")
        return cls(codes, ids, latitudes, longitudes)


class Points:
    """Positions with running sums of latitude and longitude, for the clusters."""

    def __init__(self, positions):
        self.positions, self.codes, self.ids = positions, positions.codes, positions.ids
        self.latitudes = array("d", accumulate(positions.latitudes, initial=0.0))
        self.longitudes = array("d", accumulate(positions.longitudes, initial=0.0))

    def only(self, marks):
        """Return the points whose item marks has as chosen."""
        keep = bytes(map(marks.__getitem__, self.ids))
        every = self.positions
        return Points(Positions(*(array(column.typecode, compress(column, keep))
                                  for column in (every.codes, every.ids, every.latitudes, every.longitudes))))

    def span(self, level, x, y):
        """Return the [lo, hi) of the points in a cell of a level."""
        shift = 2 * (FINEST - level)
        first = code(x, y) << shift
        return bisect.bisect_left(self.codes, first), bisect.bisect_left(self.codes, first + (1 << shift))


class PlacesMap:
    """The map of a timeline's rollup, as one principal's scope sees it (the timeline's own choice of items)."""

    def __init__(self, timeline):
        self.timeline = timeline
        self.kept = Recent(KEPT)  # (rollup stat, marks) -> Points

    def points(self, folders, sees, asked=EVERY):
        loaded, columns, marks, _ = self.timeline.chosen(folders, asked, sees)
        every = self.kept.get((loaded.stat, None))
        if every is None:
            every = Points(columns.positions)
            self.kept.put((loaded.stat, None), every)
        if marks is None:
            return loaded, every
        chosen = self.kept.get((loaded.stat, marks))
        if chosen is None:
            chosen = every.only(marks)
            self.kept.put((loaded.stat, marks), chosen)
        return loaded, chosen

    def clusters(self, folders, sees, zoom, west, south, east, north, asked=EVERY):
        """Return the clusters of a view: each a count, its centre, its cell and the first photo in it."""
        loaded, points = self.points(folders, sees, asked)
        level = min(FINEST, zoom + CLUSTER_LEVELS)
        while True:
            columns = _columns(west, east, level)
            (_, top), (_, bottom) = cell(north, west, level), cell(south, west, level)
            if level == 0 or sum(len(xs) for xs in columns) * (bottom - top + 1) <= MAX_CELLS:
                break
            level -= 1
        found = []
        for xs in columns:
            for x in xs:
                for y in range(top, bottom + 1):
                    lo, hi = points.span(level, x, y)
                    if lo < hi:
                        count = hi - lo
                        found.append({"lat": round((points.latitudes[hi] - points.latitudes[lo]) / count, 6),
                                      "lon": round((points.longitudes[hi] - points.longitudes[lo]) / count, 6),
                                      "count": count, "cell": f"{level}/{x}/{y}",
                                      "cover": loaded.path(min(points.ids[lo:hi]))})
        return {"total": len(points.ids), "level": level, "clusters": found}

    def photos(self, folders, sees, where, offset, limit, asked=EVERY):
        """Return (total, items) of a cluster's cell, in path order."""
        level, x, y = where
        loaded, points = self.points(folders, sees, asked)
        lo, hi = points.span(level, x, y)
        ids = sorted(points.ids[lo:hi])
        return len(ids), [loaded.item(i) for i in ids[offset:offset + limit]]


def _columns(west, east, level):
    """Return the x ranges of a view's cells: two when it crosses the antimeridian, each column in one of them."""
    size = 1 << level
    left, right = cell(0.0, west, level)[0], cell(0.0, east, level)[0]
    if west <= east:
        return [range(left, right + 1)]
    if left <= right:  # its two sides meet in one column: the whole world
        return [range(size)]
    return [range(left, size), range(0, right + 1)]


def read_cell(text):
    """Parse a cluster's cell, "level/x/y", or raise BadRequest."""
    parts = (text or "").split("/")
    if len(parts) == 3 and all(part.isascii() and part.isdigit() and len(part) <= 6 for part in parts):
        level, x, y = (int(part) for part in parts)
        if level <= FINEST and x < (1 << level) and y < (1 << level):
            return level, x, y
    raise BadRequest("cell is a cluster's cell as /map gave it: level/x/y", param="cell")
