"""Place names offline: the city or town, region and country nearest a GPS position, from a table shipped here."""

import bisect
import functools
import gzip
import math
import re
import threading
from array import array
from importlib import resources
from itertools import accumulate

from lenslet.places.table import read_header, read_table
from lenslet.text import fold

TABLE_FILE = "places.bin.gz"
MAX_MATCHES = 5000  # places a name search sorts; a short start matches more, and the widest of them suffice

_table = None
_version = None
_loading = threading.Lock()


def table():
    """Return the places table, read once per process on first use."""
    global _table
    if _table is None:
        with _loading:
            if _table is None:
                payload = gzip.decompress(resources.files(__name__).joinpath(TABLE_FILE).read_bytes())
                _table = read_table(payload)
    return _table


def table_version():
    """Return the version of the places table, which changes whenever its content does."""
    global _version
    if _version is None:
        # Read from the file's head: a listing records it without loading the whole table.
        with resources.files(__name__).joinpath(TABLE_FILE).open("rb") as packed, gzip.open(packed) as stream:
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


_towns = None  # a line a big town, "index\tname\tother name...", folded: made by the first search naming one


@functools.lru_cache(maxsize=256)
def town_lines(name):
    """Return the lines, folded, a big town one of whose names is name is listed by, under each of its names
    ("lisbon, portugal", "lisboa, portugal", ...); empty for a name of no big town."""
    global _towns
    if not name or not name.isprintable():
        return frozenset()
    places = table()
    if _towns is None:
        entries = (entry.partition("\t") for entry in places.alternates.decode("utf-8").splitlines())
        _towns = "\n" + "".join(f"{at}\t{fold(places.name_of(int(at)))}\t{others}\n" for at, _, others in entries)
    lines = set()
    for found in re.finditer(f"\t{re.escape(name)}(?=[\t\n])", _towns):
        start = _towns.rfind("\n", 0, found.start()) + 1
        at, city, *others = _towns[start:_towns.find("\n", start)].split("\t")
        line = fold(label(places.place(int(at))))
        lines.update(other + line[len(city):] for other in (city, *others))
    return frozenset(lines)


_names = None  # (names folded, each after a newline; where each starts; its place): made by the first search


def _search_names(places):
    """Return every place's name folded, then big towns' other names, as _names keeps them."""
    owners = array("I", (index for index, size in enumerate(places.sizes) if size))  # a town's section: no name
    names = fold("\n".join(map(places.name_of, owners))).split("\n")
    for line in places.alternates.decode("utf-8").splitlines():
        index, *others = line.split("\t")
        owners.extend([int(index)] * len(others))
        names.extend(others)
    return "\n" + "\n".join(names), array("I", accumulate((len(name) + 1 for name in names), initial=0)), owners


def named(asked, limit=10):
    """Return up to limit places named as asked: the start of a name or another name people use ("lisb", "lisboa"),
    then perhaps the starts of its region or country or its code after commas ("lisbon, portugal"); case and
    accents aside; whole names first, then the most populous."""
    global _names
    places = table()
    if _names is None:
        with _loading:
            if _names is None:
                _names = _search_names(places)
    text, starts, owners = _names
    name, *within = [part.strip() for part in fold(asked).split(",")]
    found, at = {}, text.find("\n" + name)
    while at >= 0 and len(found) < MAX_MATCHES:
        entry = bisect.bisect_right(starts, at) - 1
        index = owners[entry]
        place = places.place(index)
        if all(any(fold(place[key] or "").startswith(part) for key in ("region", "country")) or
               part == place["countryCode"].lower() for part in within):
            rank = (starts[entry + 1] - starts[entry] - 1 != len(name), -places.sizes[index], len(place["city"]), index)
            if index not in found or rank < found[index][0]:
                found[index] = rank, place
        at = text.find("\n" + name, at + 1)
    return [place for _, place in sorted(found.values(), key=lambda ranked: ranked[0])[:limit]]
