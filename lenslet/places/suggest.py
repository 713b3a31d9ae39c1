"""The places a typed name suggests: a town by the start of its name or another name people use."""

import bisect
import functools
import re
import threading
from array import array
from itertools import accumulate

from lenslet.places.table import label, table
from lenslet.text import fold

MAX_MATCHES = 5000  # places a name search sorts; a short start matches more, and the widest of them suffice

_loading = threading.Lock()
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
