"""Search over a 500,000-item rollup: load time, memory, latency, against a naive scan.

    python bench/search.py [--items 500000] [--repeat 15] [--places mixed|latin1|none] [--geotagged 0.6]
    python bench/search.py --http [--items 500000] [--repeat 20] [--rounds 3] [--limit 200]

Generates a rollup of a real library's shapes: the names cameras and phones give (IMG_1234.JPG, thousands of
PXL_2023..., DSC01234.JPG in folders named by common words, screenshots) with their EXIF camera and time, Zipf tags and
notes, named faces on a tenth, a perceptual hash on each (bursts alike) and, on 60%, a position near one of 67 towns
named by lenslet's place_fields (--places latin1: only names folding within Latin-1; none: no places). It loads the
rollup as a web process does and times every kind of query at limit 100, read as the resource reads q (country:pt is a
filter). The baseline, in the same run, is a naive scan: the rules (lenslet.search.matches, query.keeps) run on every
parsed item; every answer must agree. A second baseline scans every item's folded name alone for the terms ("names
scan"). Medians and 95th percentiles over the repeats; "first" is a query's first run, before anything it makes is kept.

--http serves the rollup as `lenslet serve` does (the project's gunicorn settings, two web processes, the search
index kept beside it as the worker keeps it, without the worker) and asks every query over HTTP at --limit (the page
asks 200) as a browser does (gzip taken), a new connection a request, each query's p95 the median of --rounds rounds;
before that, the first search of a fresh web process; after it, the People view (GET /people), a person's photos
(person:Name, newest first) and the whole library's similar groups (GET /similar), first and later looks. Only
loopback; every process started is stopped by its pid."""

import argparse
import gc
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import orjson  # noqa: E402
from helpers import rollup_bytes  # noqa: E402,F401 - the rollup the worker writes, for the benches that import it from here

from bench.common import PROJECT, Server, get  # noqa: E402
from lenslet import memory  # noqa: E402
from lenslet.formats import exif, query  # noqa: E402
from lenslet.formats.listing_pages import place_fields  # noqa: E402
from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.search.index import matches, terms_of  # noqa: E402
from lenslet.search.searcher import Searcher  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402

SYLLABLES = ["ka", "lo", "mi", "ra", "ten", "su", "vo", "ze", "an", "dor", "el", "fi", "gu", "ho", "in", "ju"]
PLACES = ["Zanzibar", "Lisbon", "Kyoto", "Oslo", "Cusco", "Hanoi", "Reykjavik", "Porto", "Tbilisi", "Quito"]
THEMES = ["beach", "sunset", "mountain", "family", "birthday", "snow", "city", "food", "dog", "cat", "hike",
          "wedding", "concert", "garden", "river", "forest", "portrait", "night", "party", "museum"]

ACCENTED = ["Café", "Zürich", "été", "Ålesund", "São Paulo", "Kraków"]
CAMERAS = {"IMG": "Apple iPhone 12", "PXL": "Google Pixel 7", "DSC": "Sony ILCE-7M3", "P10": "Olympus E-M10"}
FIRST_NAMES = ["Ann", "Bruno", "Carla", "Dmitri", "Eva", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kaori", "Luis"]
SURNAMES = ["Lee", "Silva", "Novak", "Okafor", "Berg", "Costa", "Dubois", "Kim", "Moreau", "Sato"]

# Where photos are taken: town centres (latitude, longitude), each photo within 15 km of one.
TOWNS = [
    (38.7223, -9.1393), (41.1579, -8.6291), (39.6012, -9.0700), (37.0194, -7.9304), (38.5667, -7.9000),
    (40.4168, -3.7038), (41.3874, 2.1686), (37.3891, -5.9845), (48.8566, 2.3522), (43.2965, 5.3698),
    (41.9028, 12.4964), (43.7696, 11.2558), (45.4408, 12.3155), (40.8518, 14.2681), (51.5072, -0.1276),
    (55.9533, -3.1883), (52.3676, 4.9041), (52.5200, 13.4050), (48.1351, 11.5820), (59.9139, 10.7522),
    (62.4722, 6.1549), (64.1466, -21.9426), (47.3769, 8.5417), (50.0755, 14.4378), (50.0647, 19.9450),
    (51.7592, 19.4560), (52.2297, 21.0122), (37.9838, 23.7275), (40.6401, 22.9444), (36.3932, 25.4615),
    (35.3387, 25.1442), (41.0082, 28.9784), (38.6431, 34.8289), (41.7151, 44.8271), (40.4093, 49.8671),
    (55.7558, 37.6173), (59.9311, 30.3609), (55.7961, 49.1064), (43.0241, 44.6818), (56.8389, 60.6057),
    (35.0116, 135.7681), (35.6762, 139.6503), (34.6937, 135.5023), (34.3853, 132.4553), (43.0618, 141.3545),
    (37.5665, 126.9780), (39.9042, 116.4074), (31.2304, 121.4737), (21.0285, 105.8542), (10.8231, 106.6297),
    (13.7563, 100.5018), (28.6139, 77.2090), (27.1767, 78.0081), (31.7683, 35.2137), (30.0444, 31.2357),
    (31.6295, -7.9811), (-33.9249, 18.4241), (-6.1659, 39.2026), (40.7128, -74.0060), (37.7749, -122.4194),
    (19.4326, -99.1332), (-13.5320, -71.9675), (-0.1807, -78.4678), (-22.9068, -43.1729), (-34.6037, -58.3816),
    (-33.8688, 151.2093), (-36.8485, 174.7633),
]

# Every kind of query people type (issue 25), and the ones that were slow.
QUERIES = [
    ("a tag", "beach", ""), ("rare term", "reykjavik", ""), ("two tags", "beach sunset", ""),
    ("no match", "qwxzyv", ""), ("path-scoped", "family", "2019"), ("name with punctuation", "img_48", ""),
    ("name prefix", "IMG_12", ""), ("name prefix", "IMG_20", ""), ("word and year", "img 2024", ""),
    ("camera prefix", "dsc0", ""), ("date fragment", "2024-05", ""), ("two letters", "ra", ""),
    ("two digits", "12", ""), ("one letter", "e", ""), ("one digit", "1", ""), ("one digit", "0", ""),
    ("folder name", "kyoto", ""), ("three terms", "beach 2019 img", ""), ("three terms", "dsc0 beach 1", ""),
    ("word and digit", "sunset 0", ""), ("three terms", "pxl 2020 10", ""), ("accented", "café", ""),
    ("accented", "zurich", ""), ("upper case", "BEACH", ""), ("screenshot", "screenshot 10.12", ""),
    ("screenshot, typing", "screenshot 10.1", ""),
    # Issue 37: short fragments of letters and digits, and punctuation with one digit.
    ("letter and digits", "p10", ""), ("camera prefix", "DSC0", ""), ("name prefix", "pxl_2023", ""),
    ("punctuation and digit", "_1", ""), ("punctuation and digit", "0.1", ""),
    # Issue 61: places, as a listing names them ("Intendente, Lisbon, Portugal") and its country code.
    ("place: a city", "lisbon", ""), ("place: a country", "portugal", ""), ("place: a region", "attica", ""),
    ("place and tag", "kyoto sunset", ""), ("place: country filter", "country:pt", ""), ("place prefix", "lis", ""),
    ("place past Latin-1", "łódź", ""),
    # Issue 74: a town by a name in another language (Lisbon, Prague, Munich, Florence).
    ("place: another name", "lisboa", ""), ("place: another name", "praha", ""),
    ("place: another name", "münchen", ""), ("place: another name", "firenze", ""),
    ("another name and tag", "lisboa sunset", ""),
]


def words(rng, count):
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(count)]


def generate(count, seed=1):
    rng = random.Random(seed)
    tags = THEMES + ACCENTED + words(rng, 374)
    tag_weights = [1 / rank for rank in range(1, len(tags) + 1)]
    vocabulary = THEMES + words(rng, 2980)
    word_weights = [1 / rank ** 1.1 for rank in range(1, len(vocabulary) + 1)]
    people = [f"{first} {last}" for first in FIRST_NAMES for last in SURNAMES]
    people_weights = [1 / rank for rank in range(1, len(people) + 1)]
    items = []
    for n in range(count):
        year, month, day = 2010 + n % 15, 1 + n // 997 % 12, 1 + n // 31 % 28  # a folder a day, a hundred photos
        event = f"{year}/{year}-{month:02d}-{day:02d} {THEMES[(year + month * 7 + day) % len(THEMES)].title()}"
        if rng.random() < 0.05:
            event = f"{year}/{year}-{month:02d} {rng.choice(PLACES)}"
        kind = rng.random()
        hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
        if kind < 0.2:
            name = f"IMG_{rng.randrange(10000):04d}.JPG"
        elif kind < 0.4:
            name = f"IMG_{year}{month:02d}{day:02d}_{hour:02d}{minute:02d}{second:02d}.jpg"
        elif kind < 0.6:
            name = f"PXL_{year}{month:02d}{day:02d}_{hour:02d}{minute:02d}{second:02d}{rng.randrange(1000):03d}.jpg"
        elif kind < 0.72:
            name = f"DSC0{rng.randrange(10000):04d}.JPG"
        elif kind < 0.8:
            name = f"Screenshot {year}-{month:02d}-{day:02d} at {hour}.{minute:02d}.{second:02d}.png"
        elif kind < 0.88:
            name = f"P{rng.randrange(100, 200)}{rng.randrange(10000):04d}.JPG"
        else:
            name = f"{'-'.join(rng.sample(THEMES, 2))}-{n % 100:02d}.jpg"
        notes = ""
        if rng.random() < 0.35:
            notes = " ".join(rng.choices(vocabulary, word_weights, k=rng.randint(4, 20)))
            if rng.random() < 0.02:
                notes += f" in {rng.choice(PLACES)}"
        items.append({
            "path": f"{event}/{name}", "name": name, "type": "image/jpeg", "w": 4000, "h": 3000,
            "size": rng.randrange(10**6, 6 * 10**6), "mtime": 1.7e9 + n, "hasThumb": True, "hasMeta": True,
            "hash": f"blake3:{rng.getrandbits(256):064x}",
            "tags": sorted(set(rng.choices(tags, tag_weights, k=rng.randint(0, 5)))), "notes": notes,
            "star": rng.choice([None, None, 3, 4, 5]), "metaMtime": 1.7e9 + n, "phash": f"{rng.getrandbits(64):016x}",
            "sharpness": round(rng.uniform(1, 60), 1), "thumbW": 256, "thumbH": 192})
        camera = CAMERAS.get(name[:3])
        if camera:
            items[-1].update(camera=camera, lens=f"{camera} 6.8mm f/1.9", takenOffset="+01:00",
                             taken=f"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}")
        if rng.random() < 0.1:  # 50,000 named faces at 500,000 photos
            box = [round(rng.random() * 0.8, 4), round(rng.random() * 0.8, 4), 0.1, 0.12]
            items[-1]["people"] = [{"name": rng.choices(people, people_weights)[0], "box": box}]
    items.sort(key=lambda item: item["path"])
    # Two names drawn alike in one folder are one file.
    items = [item for n, item in enumerate(items) if n == 0 or item["path"] != items[n - 1]["path"]]
    for before, item in zip(items, items[1:], strict=False):  # a burst: a photo nearly like the one before
        if rng.random() < 0.1 and "taken" in before and before["path"].rpartition("/")[0] in item["path"]:
            item.update(taken=before["taken"], phash=f"{int(before['phash'], 16) ^ 1 << rng.randrange(64):016x}")
    return items


def geotag(items, share, latin1=False, seed=61):
    """Give a share of the items a position near one of TOWNS and the place a listing names there.

    latin1: only places whose folded names stay within Latin-1 (a position elsewhere is drawn again)."""
    rng = random.Random(seed)
    towns = rng.sample(TOWNS, len(TOWNS))
    weights = [1 / rank for rank in range(1, len(towns) + 1)]
    for item in items:
        if rng.random() >= share:
            continue
        while True:
            latitude, longitude = rng.choices(towns, weights)[0]
            km, bearing = 15 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            latitude += km / 111.2 * math.cos(bearing)
            longitude += km / (111.2 * math.cos(math.radians(latitude))) * math.sin(bearing)
            gps = exif.gps(latitude, longitude)
            fields = place_fields(gps)
            if not latin1 or all(ord(c) < 0x100 for c in query.fold(fields.get("place", ""))):
                break
        item.update(gps=gps, **fields)
    return items


def naive(items, asked, folder):
    """A first version: the rules themselves (lenslet.search.matches, query.keeps) on every item, every time."""
    terms = terms_of(asked.text)
    found = [item for item in items
             if (not folder or item["path"].startswith(folder + "/")) and matches(item, terms)
             and (not asked.filtered or query.keeps(asked, item))]
    return len(found), found


def names_scan(names, asked):
    """The other baseline: a plain scan of every item's folded name for the terms (it finds names alone)."""
    for term in [query.fold(term) for term in terms_of(asked.text)]:
        names = [name for name in names if term in name]
    return len(names)


def rss():
    with open("/proc/self/status") as f:
        return int(dict(line.split(":", 1) for line in f)["RssAnon"].split()[0]) * 1024


def timings(fn, repeat, cpu=None):
    """Median and p95 of fn's wall time; cpu, a list, gets the p95 of its CPU time (this thread's)."""
    times, cpu_times = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        fn()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.thread_time() - start_cpu)
    if cpu is not None:
        cpu.append(p95_of(cpu_times))
    return statistics.median(times), p95_of(times)


def p95_of(times):
    return sorted(times)[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


# Run by the checkout's own code in a process of its own: the index and columns the worker keeps.
KEEP = """
import sys
from lenslet.search import rollup
from lenslet.search.searcher import Searcher
from lenslet.storage import LocalStorage
searcher = Searcher(LocalStorage(sys.argv[1]))
stat = rollup.stat(searcher.storage)
if searcher.load_kept(stat) is None:
    searcher.build(stat)
"""

# The service's own gunicorn settings (worker class, threads, hooks), without starting lenslet's worker.
SETTINGS = """
from lenslet.service.gunicorn_conf import *  # noqa: F401,F403
def when_ready(server):
    pass
def on_reload(server):
    pass
accesslog = None
"""


def serve(root, workers):
    """gunicorn over root with the service's settings, as `lenslet serve` runs it, without lenslet's worker."""
    folder = os.path.dirname(root)
    with open(os.path.join(folder, "bench_gunicorn.py"), "w") as settings:
        settings.write(SETTINGS)
    return Server(["-c", "bench_gunicorn.py"], {"LENSLET_ROOT": root, "LENSLET_ACCESS_LOG": "false"}, folder, workers)


def timed(port, path):
    """(seconds, body) of one GET on a new connection, taking gzip as a browser does; an error stops the bench."""
    status, body, took = get(port, path, {"Accept-Encoding": "gzip, deflate, br"})
    if status != 200:
        raise SystemExit(f"{path}: {status} {body[:200]!r}")
    return took, body


def over_http(root, args):
    """{(label, q): (median, p95, first, (total, paths), None)} of every query through two web processes."""
    subprocess.run([sys.executable, "-c", KEEP, root], cwd=tempfile.gettempdir(), check=True,
                   env=dict(os.environ, PYTHONPATH=PROJECT))
    path = "/search?" + urllib.parse.urlencode({"q": "beach", "limit": args.limit})
    fresh = serve(root, 1)
    try:
        up = fresh.wait("/openapi.json")
        took = timed(fresh.port, path)[0]
        print(f"a fresh web process: up after {up:.2f} s, then its first search took {took * 1000:.0f} ms (target 1 s)")
    finally:
        fresh.stop()
    web, found, rounds = serve(root, 2), {}, {}
    try:
        web.wait("/openapi.json")
        for _ in range(args.rounds):
            for label, q, folder in QUERIES:
                path = "/search?" + urllib.parse.urlencode({"q": q, "path": folder, "limit": args.limit})
                first, body = timed(web.port, path)
                answer = orjson.loads(body)
                times = [timed(web.port, path)[0] for _ in range(args.repeat)]
                rounds.setdefault((label, q), []).append((statistics.median(times), p95_of(times), first))
                found[label, q] = (answer["total"], [item["path"] for item in answer["items"]])
        found = {key: (*map(statistics.median, zip(*rounds[key], strict=True)), found[key], None) for key in found}
        person = urllib.parse.quote("person:" + args.person.replace(" ", "_"))
        for what, path in [("people", "/people"), ("similar groups", "/similar?limit=100"),
                           ("a person's photos", f"/search?q={person}&sort=date&order=desc&limit={args.limit}")]:
            first, body = timed(web.port, path)
            times = [timed(web.port, path)[0] for _ in range(args.repeat)]
            print(f"{what} ({path}): first {first * 1000:.0f} ms, then median {statistics.median(times) * 1000:.1f}, "
                  f"p95 {p95_of(times) * 1000:.1f} ms; {orjson.loads(body)['total']:,} found")
    finally:
        web.stop()
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--places", choices=("mixed", "latin1", "none"), default="mixed")
    parser.add_argument("--geotagged", type=float, default=0.6, help="share of the items with a position")
    parser.add_argument("--http", action="store_true", help="through gunicorn and HTTP, two web processes")
    parser.add_argument("--rounds", type=int, default=3, help="--http: each query's p95 the median of the rounds")
    parser.add_argument("--person", default="Ann Lee", help="--http: the person whose photos are asked for")
    parser.add_argument("--only", help="the queries to time, comma-separated (pxl_2023,dsc0 beach 1); default all")
    parser.add_argument("--limit", type=int, help="items a search asks for (default 100; 200, the page's, with --http)")
    args = parser.parse_args()
    args.limit = args.limit or (200 if args.http else 100)
    QUERIES[:] = [query for query in QUERIES if not args.only or query[1] in args.only.split(",")]
    memory.map_big_buffers()  # as gunicorn's post_fork sets up every web process
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    root = os.path.join(work, "tree")
    os.makedirs(root)
    try:
        items = generate(args.items)
        if args.places != "none":
            geotag(items, args.geotagged, latin1=args.places == "latin1")
        placed = sum(1 for item in items if "place" in item)
        data = rollup_bytes(items, time.time())
        del items
        with open(os.path.join(root, ROLLUP), "wb") as f:
            f.write(data)
        del data
        gc.collect()
        print(f"rollup: {args.items:,} items, {os.path.getsize(os.path.join(root, ROLLUP)) / 1e6:.0f} MB; "
              f"{placed:,} with a place (--places {args.places})")
        ours = over_http(root, args) if args.http else in_process(root, args)

        with open(os.path.join(root, ROLLUP), "rb") as f:
            plain = orjson.loads(f.read())["items"]
        names = [query.fold(item["name"]) for item in plain]
        worst_p95, worst_ratio, slower, slower_than_names = 0.0, float("inf"), [], []
        # CPU p95 (in process only) is the time the search itself took, without the waits other programs on
        # the machine impose: on a busy machine the wall-clock p95 is mostly those waits.
        print(f"{'query':<40}{'first':>9}{'lenslet median':>15}{'p95':>9}{'CPU p95':>9}{'naive median':>14}"
              f"{'speed-up':>10}{'names scan':>12}  agree")
        for label, q, folder in QUERIES:
            asked = query.parse(None, q)
            median, p95, first, (total, paths), cpu = ours[label, q]
            naive_median, _ = timings(lambda a=asked, f=folder: naive(plain, a, f), args.naive_repeat)
            expected_total, expected = naive(plain, asked, folder)
            agree = total == expected_total and paths == [i["path"] for i in expected[:args.limit]]
            worst_p95, worst_ratio = max(worst_p95, p95), min(worst_ratio, naive_median / median)
            # a filter alone (country:pt) has no term to look for in names
            names_median = timings(lambda a=asked: names_scan(names, a), args.naive_repeat)[0] \
                if terms_of(asked.text) else None
            if p95 > naive_median:
                slower.append(q)
            if names_median is not None and p95 > names_median:
                slower_than_names.append(q)
            print(f"{label + ' (' + q + ')':<40}{first * 1000:>6.2f} ms{median * 1000:>12.2f} ms"
                  f"{p95 * 1000:>6.2f} ms{(f'{cpu * 1000:6.2f} ms' if cpu is not None else ''):>9}"
                  f"{naive_median * 1000:>11.0f} ms{naive_median / median:>9.0f}x"
                  f"{f'{names_median * 1000:9.1f} ms' if names_median is not None else '':>12}"
                  f"  {agree} ({total:,} found)")
        print(f"worst p95 {worst_p95 * 1000:.1f} ms (target <= 20 ms: {'met' if worst_p95 <= 0.020 else 'MISSED'}); "
              f"smallest speed-up {worst_ratio:.0f}x; p95 slower than the naive scan: {', '.join(slower) or 'none'}, "
              f"than the scan of folded names: {', '.join(slower_than_names) or 'none'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def in_process(root, args):
    """{(label, q): (median, p95, first, (total, paths), CPU p95)} of every query, loaded as a web process does."""
    before = rss()
    searcher = Searcher(LocalStorage(root))
    start = time.perf_counter()
    searcher.fresh()
    while searcher.loading is not None:  # built in the background: a first search meanwhile reads the rollup
        time.sleep(0.05)
    # The heap the build let go is handed back after loading clears: wait for the thread
    # itself, or the memory counted sometimes holds what the build was about to give back.
    searcher.loader.join()
    loaded = time.perf_counter() - start
    gc.collect()
    added = rss() - before
    print(f"load: {loaded:.1f} s; memory the index adds: {added / 1e6:.0f} MB "
          f"(target <= 150 MB: {'met' if added <= 150e6 else 'MISSED'})")
    found = {}
    for label, q, folder in QUERIES:
        asked = query.parse(None, q)  # as the resource reads q: country:pt is a filter
        start = time.perf_counter()
        searcher.search(asked.text, folder, 0, args.limit, asked)
        first, cpu = time.perf_counter() - start, []
        median, p95 = timings(lambda a=asked, f=folder: searcher.search(a.text, f, 0, args.limit, a), args.repeat, cpu)
        total, page = searcher.search(asked.text, folder, 0, args.limit, asked)
        found[label, q] = median, p95, first, (total, [item["path"] for item in page]), cpu[0]
    return found


if __name__ == "__main__":
    main()
