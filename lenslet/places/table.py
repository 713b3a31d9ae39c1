"""The places table: its file format, read once per process, and the place nearest a GPS position on a grid of
latitude and longitude cells, named in one line."""

import bisect
import gzip
import json
import math
import operator
import sys
import threading
from array import array
from importlib import resources
from itertools import accumulate

MAGIC = b"lenslet places 1\n"
EARTH_KM = 6371.0088  # the mean radius
SCALE = 100_000  # coordinates are kept in steps of 1e-5 degree, about a metre
RADIANS = math.pi / 180 / SCALE
FIRST_KM = 8  # the first search radius; doubled until a place is found, the way an ever wider ring would
TABLE_FILE = "places.bin.gz"

_table = None
_version = None
_loading = threading.Lock()


class Table:
    """Places as typed columns, sorted by grid cell, so memory at rest is a few arrays and one block of names."""

    def __init__(self, header, countries, regions, names, name_lengths, latitudes, longitudes, place_regions,
                 reaches, sizes, alternates=b""):
        count = len(latitudes)
        if not (len(longitudes) == len(place_regions) == len(reaches) == len(name_lengths) == len(sizes) == count):
            raise ValueError("places table: columns of different lengths")
        self.version = str(header["version"])
        self.cell = float(header["cell"])
        self.rows, self.columns = round(180 / self.cell), round(360 / self.cell)
        self.country_codes = [code for code, _ in countries]
        self.country_names = [name for _, name in countries]
        self.region_countries = array("H", (country for country, _ in regions))
        self.region_names = [name for _, name in regions]
        if max(self.region_countries, default=0) >= max(1, len(countries)) or \
                max(place_regions, default=0) >= max(1, len(regions)):
            raise ValueError("places table: a reference out of range")
        self.names = names
        self.name_starts = array("I", accumulate(name_lengths, initial=0))
        if self.name_starts[-1] != len(names):
            raise ValueError("places table: names do not fill their block")
        self.place_regions = place_regions
        self.reaches = reaches
        self.sizes = sizes  # population, in an order-keeping byte
        self.alternates = alternates  # lines "index\tname\tname": big towns' other names, folded; read by a search
        self.most_km = max(reaches, default=0)
        self.latitudes, self.longitudes = latitudes, longitudes
        step = round(self.cell * SCALE)
        self.row_at = lambda index: (latitudes[index] + 90 * SCALE) // step
        self.column_at = lambda index: (longitudes[index] + 180 * SCALE) // step % self.columns
        # Places are sorted by cell: a row's places are one run, and a column's within it, found by bisection.
        self.row_starts = array("I", (bisect.bisect_left(range(count), row, key=self.row_at)
                                      for row in range(self.rows)))
        self.row_starts.append(count)
        # Each place's point on the unit sphere, made for a cell's places when a lookup first reaches the cell.
        self.xs, self.ys, self.zs = (array("f", bytes(4 * count)) for _ in range(3))
        self.ready = bytearray(self.rows * self.columns)

    def column_start(self, row, column):
        """Return the first place of a row at or east of a column (the row's end past its last)."""
        first, end = self.row_starts[row], self.row_starts[row + 1]
        return first + bisect.bisect_left(range(first, end), column, key=self.column_at)

    def make_points(self, row, first, last):
        """Work out the points of the places in a row's cells first to last, those not made yet."""
        base = row * self.columns
        cell = self.ready.find(0, base + first, base + last + 1)
        while cell >= 0:
            column = cell - base
            start, end = self.column_start(row, column), self.column_start(row, column + 1)
            phis = [value * RADIANS for value in self.latitudes[start:end]]
            lams = [value * RADIANS for value in self.longitudes[start:end]]
            cos_phis = list(map(math.cos, phis))
            self.xs[start:end] = array("f", map(operator.mul, cos_phis, map(math.cos, lams)))
            self.ys[start:end] = array("f", map(operator.mul, cos_phis, map(math.sin, lams)))
            self.zs[start:end] = array("f", map(math.sin, phis))
            self.ready[cell] = 1  # after the points: a lookup reading the flag finds them
            cell = self.ready.find(0, cell + 1, base + last + 1)

    def row_of(self, latitude):
        return min(self.rows - 1, max(0, int((latitude + 90) / self.cell)))

    def column_of(self, longitude):
        return math.floor((longitude + 180) / self.cell) % self.columns

    def name_of(self, index):
        return self.names[self.name_starts[index]:self.name_starts[index + 1]].decode("utf-8", "replace")

    def place(self, index):
        """Return the names of one place, as place_of answers."""
        region = self.place_regions[index]
        country = self.region_countries[region]
        return {"city": self.name_of(index), "region": self.region_names[region] or None,
                "country": self.country_names[country] or None, "countryCode": self.country_codes[country]}

    def nearest(self, latitude, longitude, most_km, skip=-1):
        """Return (index, km) of the place nearest a point within most_km, or (-1, inf); skip leaves one place out."""
        px, py, pz = unit_vector(latitude, longitude)
        best, found = 5.0, -1  # squared chords on the unit sphere; 4 is the farthest apart two points can be
        radius = FIRST_KM
        while True:
            radius = min(radius, most_km)
            for start, end in self.runs(latitude, longitude, radius):
                xs, ys, zs = self.xs, self.ys, self.zs
                for index in range(start, end):
                    dx, dy, dz = xs[index] - px, ys[index] - py, zs[index] - pz
                    chord = dx * dx + dy * dy + dz * dz
                    if chord < best and index != skip:
                        best, found = chord, index
            km = chord_km(best) if found >= 0 else math.inf
            if km <= radius:
                return found, km  # everything within radius was looked at, so nothing nearer is left
            if radius >= most_km:
                return -1, math.inf
            radius *= 2

    def runs(self, latitude, longitude, radius_km):
        """Yield (start, end) runs of places in the cells that can hold a point within radius_km, their points made."""
        angle = radius_km / EARTH_KM
        reach = math.degrees(angle)
        south, north = latitude - reach, latitude + reach
        band = math.cos(math.radians(latitude))
        if north >= 90 or south <= -90 or math.sin(angle) >= band:
            first, last = 0, self.columns - 1  # the circle holds a pole, or every meridian
        else:
            # The widest longitude a circle on the sphere spans, reached north of its centre in the north.
            spread = math.degrees(math.asin(math.sin(angle) / band))
            if spread >= 180:
                first, last = 0, self.columns - 1
            else:
                first, last = self.column_of(longitude - spread), self.column_of(longitude + spread)
        for row in range(self.row_of(south), self.row_of(north) + 1):
            if self.row_starts[row] == self.row_starts[row + 1]:
                continue  # an empty row: the oceans near the poles
            spans = [(first, last)] if first <= last else [(first, self.columns - 1), (0, last)]  # the antimeridian
            for west, east in spans:
                self.make_points(row, west, east)
                yield self.column_start(row, west), self.column_start(row, east + 1)


def cell_of(latitude, longitude, cell):
    """Return the grid cell of a point: rows from the south pole, columns from 180 degrees west; in whole steps of
    1/SCALE degree, as the table keeps positions and bisects its rows, so no place falls between two cells."""
    step, rows, columns = round(cell * SCALE), round(180 / cell), round(360 / cell)
    row = min(rows - 1, max(0, (round(latitude * SCALE) + 90 * SCALE) // step))
    return row * columns + (round(longitude * SCALE) + 180 * SCALE) // step % columns


def unit_vector(latitude, longitude):
    phi, lam = math.radians(latitude), math.radians(longitude)
    return math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)


def chord_km(squared_chord):
    """Great-circle km of a squared chord on the unit sphere."""
    return 2 * math.asin(min(1.0, math.sqrt(squared_chord) / 2)) * EARTH_KM


def _column(kind, data):
    column = array(kind)
    column.frombytes(data)
    if sys.byteorder == "big":
        column.byteswap()  # the file is little-endian
    return column


def read_header(stream):
    """Return a table file's header from a stream of its uncompressed bytes, reading no further."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise ValueError("places table: not a lenslet places table")
    return json.loads(stream.readline())


def read_table(payload):
    """Return the Table in an uncompressed table file's bytes."""
    if not payload.startswith(MAGIC):
        raise ValueError("places table: not a lenslet places table")
    at = len(MAGIC)
    end = payload.index(b"\n", at)
    header = json.loads(payload[at:end])
    at = end + 1
    parts = {}
    for part in ("countries", "regions", "names", "alternates"):
        size = int(header[part + "Bytes"])
        parts[part] = payload[at:at + size]
        at += size
    count = int(header["places"])
    columns = {}
    for part, kind, width in (("nameLengths", "B", 1), ("latitudes", "i", 4), ("longitudes", "i", 4),
                              ("regions", "H", 2), ("reaches", "B", 1), ("sizes", "B", 1)):
        columns[part] = _column(kind, payload[at:at + count * width])
        at += count * width
    if at != len(payload) or any(len(column) != count for column in columns.values()):
        raise ValueError("places table: truncated or too long")
    countries = [tuple(line.split("\t", 1)) for line in parts["countries"].decode("utf-8").splitlines()]
    regions = [(int(country), name) for country, name in
               (line.split("\t", 1) for line in parts["regions"].decode("utf-8").splitlines())]
    return Table(header, countries, regions, parts["names"], columns["nameLengths"], columns["latitudes"],
                 columns["longitudes"], columns["regions"], columns["reaches"], columns["sizes"], parts["alternates"])


def write_table(header, countries, regions, places):
    """Return the bytes of a table file: places are (name, latitude, longitude, region, reach[, size[, other
    names]]), sorted by cell."""
    def text(lines):
        return "".join(line + "\n" for line in lines).encode("utf-8")

    places = [place + (1, ())[len(place) - 5:] for place in places]

    # A name's length is kept in a byte; a longer one is cut at a whole character.
    names = [name.encode("utf-8")[:255].decode("utf-8", "ignore").encode("utf-8") for name, *_ in places]
    country_part = text(f"{code}\t{name}" for code, name in countries)
    region_part = text(f"{country}\t{name}" for country, name in regions)
    name_part = b"".join(names)
    alternate_part = text("\t".join([str(at), *others]) for at, (*_, others) in enumerate(places) if others)
    header = dict(header, places=len(places), countriesBytes=len(country_part), regionsBytes=len(region_part),
                  namesBytes=len(name_part), alternatesBytes=len(alternate_part))
    columns = [array("B", (len(name) for name in names)),
               array("i", (round(latitude * SCALE) for _, latitude, *_ in places)),
               array("i", (round(longitude * SCALE) for _, _, longitude, *_ in places)),
               array("H", (region for _, _, _, region, *_ in places)),
               array("B", (reach for _, _, _, _, reach, *_ in places)),
               array("B", (size for *_, size, _ in places))]
    if sys.byteorder == "big":
        for column in columns:
            column.byteswap()
    return b"".join([MAGIC, json.dumps(header, sort_keys=True).encode("utf-8"), b"\n", country_part, region_part,
                     name_part, alternate_part] + [column.tobytes() for column in columns])


def table():
    """Return the places table, read once per process on first use."""
    global _table
    if _table is None:
        with _loading:
            if _table is None:
                payload = gzip.decompress(resources.files(__package__).joinpath(TABLE_FILE).read_bytes())
                _table = read_table(payload)
    return _table


def table_version():
    """Return the version of the places table, which changes whenever its content does."""
    global _version
    if _version is None:
        # Read from the file's head: a listing records it without loading the whole table.
        with resources.files(__package__).joinpath(TABLE_FILE).open("rb") as packed, gzip.open(packed) as stream:
            _version = str(read_header(stream)["version"])
    return _version


def _coordinate(value, most):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int past any float
        return None
    return value if math.isfinite(value) and -most <= value <= most else None


def place_of(latitude, longitude):
    """Return {"city", "region", "country", "countryCode"} of the place nearest a position, or None.

    None for a position too far from any town (the open sea, the poles, a wilderness) and for anything
    that is not a position."""
    latitude, longitude = _coordinate(latitude, 90), _coordinate(longitude, 180)
    if latitude is None or longitude is None:
        return None
    places = table()
    index, km = places.nearest(latitude, longitude, places.most_km)
    if index < 0 or km > places.reaches[index]:
        return None
    return places.place(index)


def label(place):
    """Return a place as one line, "Nazaré, Leiria, Portugal": its names in order, each once."""
    names = []
    for key in ("city", "region", "country"):
        name = place.get(key)
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return ", ".join(names)


def country_name(code):
    """Return a country's name by its two-letter code, or None for a code the table does not know."""
    places = table()
    if not isinstance(code, str) or code not in places.country_codes:
        return None
    return places.country_names[places.country_codes.index(code)] or None
