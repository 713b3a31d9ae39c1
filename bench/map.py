"""The map (/map's clusters) over a 500,000-item rollup, every item geotagged, next to a naive clustering.

    python bench/map.py [--items 500000] [--repeat 20] [--scoped 0.2]

The rollup of bench/search.py, each item given a position near one of 2,000 places drawn over the land (most photos
near a few of them, as a family's are), loaded the way a web process does (lenslet.search.searcher), then through
lenslet.search.clusters: the first view (from the positions search's columns put in cell order when they were built, and
keep), then views at zoom 0 to 18 centred on
photos drawn at random, a window the size of a desktop screen (1280x720 pixels) each; also a person who sees one
top folder in five (--scoped). The baseline is what a first version would do: every position the rollup gives, put in
the view's cells by a loop, for each view. Latencies are medians and 95th percentiles over the repeats (the target is
p95 <= 100 ms at any zoom).
"""

import argparse
import math
import os
import random
import shutil
import sys
import tempfile
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from bench.search import generate, rollup_bytes, timings  # noqa: E402
from lenslet import memory  # noqa: E402
from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.search import clusters  # noqa: E402
from lenslet.search.searcher import Searcher  # noqa: E402
from lenslet.search.timeline import Timeline  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402

WIDTH, HEIGHT = 1280, 720  # pixels of the view; a tile is 256


def placed(items, seed=4):
    rng = random.Random(seed)
    places = [(rng.uniform(-55, 70), rng.uniform(-180, 180)) for _ in range(2000)]
    weights = [1 / rank for rank in range(1, len(places) + 1)]
    for item, (latitude, longitude) in zip(items, rng.choices(places, weights, k=len(items)), strict=True):
        item["gps"] = [round(max(-89.9, min(89.9, latitude + rng.gauss(0, 0.05))), 5),
                       round((longitude + rng.gauss(0, 0.05) + 180) % 360 - 180, 5)]
    return items


def view_around(latitude, longitude, zoom):
    """The bounds of a WIDTH x HEIGHT view centred on a position."""
    scale = 256 * 2 ** zoom
    x = (longitude + 180) / 360 * scale
    sine = math.sin(math.radians(max(-85, min(85, latitude))))
    y = (0.5 - math.log((1 + sine) / (1 - sine)) / (4 * math.pi)) * scale

    def position(px, py):
        lon = px / scale * 360 - 180
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / scale))))
        return max(-85, min(85, lat)), (lon + 180) % 360 - 180 if abs(lon) > 180 else lon
    north, west = position(x - WIDTH / 2, max(0, y - HEIGHT / 2))
    south, east = position(x + WIDTH / 2, min(scale, y + HEIGHT / 2))
    if zoom <= 2:
        west, east = -180, 180
    return west, south, east, north


def naive(positions, zoom, west, south, east, north):
    """The baseline: every position looked at, those in view put in cells, for each view."""
    level = min(clusters.FINEST, zoom + clusters.CLUSTER_LEVELS)
    cells = defaultdict(list)
    for latitude, longitude in positions:
        inside = west <= longitude <= east if west <= east else (longitude >= west or longitude <= east)
        if inside and south <= latitude <= north:
            cells[clusters.cell(latitude, longitude, level)].append((latitude, longitude))
    return [(len(found), sum(p[0] for p in found) / len(found)) for found in cells.values()]


def _turns(run, views):
    """Return a call that runs one view after the other."""
    turn = iter(views * 2)
    return lambda: run(next(turn))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--scoped", type=float, default=0.2, help="the share of folders a scoped person sees")
    args = parser.parse_args()
    memory.map_big_buffers()
    work = tempfile.mkdtemp(prefix="lenslet-bench-map-")
    try:
        items = placed(generate(args.items))
        items.sort(key=lambda item: item["path"])
        with open(os.path.join(work, ROLLUP), "wb") as f:
            f.write(rollup_bytes(items, time.time()))
        positions = [tuple(item["gps"]) for item in items]
        folders = sorted({item["path"].rpartition("/")[0] for item in items})
        tops = sorted({folder.partition("/")[0] for folder in folders})
        seen = sorted(random.Random(6).sample(tops, max(1, int(len(tops) * args.scoped))))
        rng = random.Random(7)
        centres = [positions[rng.randrange(len(positions))] for _ in range(args.repeat)]
        del items
        searcher = Searcher(LocalStorage(work))
        started = time.perf_counter()
        searcher.fresh()
        if searcher.loader is not None:
            searcher.loader.join()
        searcher.checked_at = None
        searcher.fresh()
        print(f"a web process's load of the rollup (search index and columns built): "
              f"{time.perf_counter() - started:.1f} s")
        places = clusters.PlacesMap(Timeline(searcher))
        print(f"rollup: {len(positions):,} items, every one geotagged, {len(folders):,} folders")
        started = time.perf_counter()
        world = places.clusters(None, None, 0, -180, -85, 180, 85)
        print(f"the first view (from the columns' positions): {(time.perf_counter() - started) * 1000:.0f} ms, "
              f"{len(world['clusters'])} clusters of {world['total']:,}")
        def sees(path):
            return path.partition("/")[0] in seen
        started = time.perf_counter()
        scoped = places.clusters(seen, sees, 0, -180, -85, 180, 85)
        print(f"a scoped person's first view ({len(seen)} of {len(tops)} top folders, {scoped['total']:,} photos): "
              f"{(time.perf_counter() - started) * 1000:.0f} ms")
        print(f"{'zoom':>4} {'clusters':>9}  {'median':>8} {'p95':>8}   {'naive median':>12}  ratio")
        worst = 0.0
        for zoom in (0, 2, 4, 6, 8, 10, 12, 14, 16, 18):
            views = [view_around(latitude, longitude, zoom) for latitude, longitude in centres]
            counts = []
            median, p95 = timings(_turns(lambda view, zoom=zoom, counts=counts: counts.append(
                len(places.clusters(None, None, zoom, *view)["clusters"])), views), args.repeat)
            naive_median, _ = timings(_turns(lambda view, zoom=zoom: naive(positions, zoom, *view), views),
                                      min(3, args.repeat))
            worst = max(worst, p95)
            print(f"{zoom:>4} {max(counts):>9}  {median * 1000:7.1f}ms {p95 * 1000:7.1f}ms   "
                  f"{naive_median * 1000:10.1f}ms  {naive_median / median:6.0f}x")
        scoped_turn = iter([view_around(latitude, longitude, 6) for latitude, longitude in centres] * 2)
        median, p95 = timings(lambda: places.clusters(seen, sees, 6, *next(scoped_turn)), args.repeat)
        print(f"a scoped person at zoom 6: median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
        print(f"worst p95 over the zooms: {worst * 1000:.1f} ms (target at most 100 ms)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
