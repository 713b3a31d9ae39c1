"""Place names: a lookup's time, beside reading one photo's EXIF in the same run; the table's load time and memory.

    python bench/places.py [--points 500000]

Lookups: place_of() over --points land-ish positions (a random place of the table moved by up to 20 km
in a random direction, where photos are taken) and 20,000 positions drawn evenly over the sphere (most
of them sea), each call timed alone. Baselines, measured in this run: lenslet.images.pillow.probe() of
one 4000x3000 JPEG with EXIF and GPS, from memory, as the index reads every image (details=False: size,
type, orientation, time taken) and as the item and the EXIF summary read it (details=True, where the
position comes from); and exif.position() alone. Load: a fresh Python process reads the table
(lenslet.places.table()), timed, with VmRSS and RssAnon from /proc/self/status before and after.
"""

import argparse
import io
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

from PIL import Image  # noqa: E402

from lenslet.formats import exif  # noqa: E402
from lenslet.images import pillow  # noqa: E402
from lenslet.places import place_of, table  # noqa: E402
from lenslet.places.table import SCALE  # noqa: E402

LOAD = r"""
import json, time
def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) for key in ("VmRSS", "RssAnon")}
import lenslet.places
before = status()
start = time.perf_counter()
places = lenslet.places.table()
seconds = time.perf_counter() - start
after = status()
print(json.dumps({"seconds": seconds, "places": len(places.reaches), "version": places.version,
                  "before": before, "after": after}))
"""


def photo_with_gps():
    """A 4000x3000 JPEG whose EXIF holds a camera, a time taken and a GPS position."""
    image = Image.new("RGB", (4000, 3000), (90, 140, 200))
    tags = Image.Exif()
    tags[0x010F], tags[0x0110], tags[0x0132] = "Camera", "Model 1", "2024:06:01 12:00:00"
    gps = tags.get_ifd(0x8825)
    gps.update({exif.GPS_LATITUDE_REF: "N", exif.GPS_LATITUDE: (38.0, 42.0, 20.3),
                exif.GPS_LONGITUDE_REF: "W", exif.GPS_LONGITUDE: (9.0, 8.0, 21.5)})
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80, exif=tags)
    return out.getvalue()


def per_call(fn, arguments):
    """Nanoseconds of each fn(*arguments[i]) timed alone."""
    clock, times = time.perf_counter_ns, []
    for argument in arguments:
        start = clock()
        fn(*argument)
        times.append(clock() - start)
    return times


def summary(times):
    ordered = sorted(times)
    return {"median": statistics.median(ordered) / 1000, "p95": ordered[int(len(ordered) * 0.95)] / 1000,
            "p99": ordered[int(len(ordered) * 0.99)] / 1000, "max": ordered[-1] / 1000}


def land_ish(count, chance):
    places = table()
    points = []
    for _ in range(count):
        index = chance.randrange(len(places.reaches))
        latitude, longitude = places.latitudes[index] / SCALE, places.longitudes[index] / SCALE
        km, bearing = 20 * math.sqrt(chance.random()), chance.uniform(0, 2 * math.pi)
        latitude = max(-90.0, min(90.0, latitude + km / 111.2 * math.cos(bearing)))
        longitude += km / (111.2 * max(0.01, math.cos(math.radians(latitude)))) * math.sin(bearing)
        points.append((latitude, (longitude + 180) % 360 - 180))
    return points


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=500_000)
    options = parser.parse_args()

    load = json.loads(subprocess.run([sys.executable, "-c", LOAD], cwd=PROJECT, check=True, capture_output=True,
                                     text=True, env=dict(os.environ, PYTHONPATH=PROJECT)).stdout)
    print(f"table {load['version']}: {load['places']} places, loaded in {load['seconds'] * 1000:.0f} ms, "
          f"VmRSS +{(load['after']['VmRSS'] - load['before']['VmRSS']) / 1024:.1f} MB, "
          f"RssAnon +{(load['after']['RssAnon'] - load['before']['RssAnon']) / 1024:.1f} MB "
          f"(process at {load['after']['VmRSS'] / 1024:.1f} MB)")

    chance = random.Random(61)
    table()
    land = land_ish(options.points, chance)
    sphere = [(math.degrees(math.asin(chance.uniform(-1, 1))), chance.uniform(-180, 180)) for _ in range(20_000)]
    photo = photo_with_gps()
    index_read = summary(per_call(lambda: pillow.probe(io.BytesIO(photo)), [()] * 2000))
    item_read = summary(per_call(lambda: pillow.probe(io.BytesIO(photo), details=True), [()] * 2000))
    gps = Image.open(io.BytesIO(photo)).getexif().get_ifd(0x8825)
    position = summary(per_call(exif.position, [(gps,)] * 20_000))
    on_land = per_call(place_of, land)
    placed = sum(1 for point in land[:20_000] if place_of(*point))
    anywhere = summary(per_call(place_of, sphere))
    land_times = summary(on_land)

    print(f"{'per call, microseconds':40} {'median':>8} {'p95':>8} {'p99':>8} {'max':>8}")
    rows = [(f"place_of, {len(land)} land-ish points", land_times),
            (f"place_of, {len(sphere)} points over the sphere", anywhere),
            ("baseline: probe() as the index reads", index_read),
            ("baseline: probe(details=True), EXIF", item_read),
            ("baseline: exif.position()", position)]
    for name, figures in rows:
        print(f"{name:40} {figures['median']:8.1f} {figures['p95']:8.1f} {figures['p99']:8.1f} {figures['max']:8.1f}")
    print(f"land-ish points given a place: {placed / 200:.1f}%")
    print(f"place_of median / probe() median: {land_times['median'] / index_read['median']:.2f}; "
          f"/ probe(details=True) median: {land_times['median'] / item_read['median']:.2f}")


if __name__ == "__main__":
    main()
