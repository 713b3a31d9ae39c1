"""Geocoding's cost: `lenslet index` of geotagged photos beside the same photos without GPS, and a web process's memory.

    python bench/index_places.py [--images 300 3000] [--folders N] [--rounds 3]

For each --images count (300 and 3,000 by default, in the same run), draws that many small JPEGs (24x16, an
EXIF camera) in --folders folders (one per 100 photos unless given), twice: with a GPS position each
(tests/helpers.py gps_photo, near one of bench/search.py's towns) and without (exif_photo, the same camera),
so the two trees differ only in the GPS IFD. Each round copies each tree afresh and runs the CLI on it
(lenslet.cli.main(["index", root]) in a fresh Python, thumbnails and all), the order alternating each
round. That process reports the command's time, its CPU (its thumbnail processes' too), the time of its
index jobs (where the GPS is read and the place named) and of its rollups (each rebuilding the search
index), its peak memory (VmHWM) and its memory once done, the heap trimmed (VmRSS, RssAnon). Then a fresh
process set up as a web process on each indexed tree (create_app, falcon's test client): GET /folders of
a folder of 100 photos (a listing with places), then GET /item of one of them (the viewer, which names
the photo's place: the places table is read then), RssAnon after each. Medians; targets (issue 61):
index time at most 1.10x, at rest +30 MB (issue 74: CPU at most 1.10x at 300 and 3,000, at rest +15 MB).
"""

import argparse
import json
import math
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)
sys.path.insert(0, os.path.join(PROJECT, "tests"))

from helpers import exif_photo, gps_photo  # noqa: E402

from bench.search import TOWNS  # noqa: E402

CAMERA = ("Apple", "iPhone 12")

STATUS = r"""
def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmHWM", "VmRSS", "RssAnon")}
"""

# The CLI in this process, then what it holds: the heap trimmed as a long-lived process's would be. The
# time of its index jobs (summed over the threads) and of its rollups is counted: a rollup's share moves
# with the machine's load, as rollups are spaced by their own cost.
INDEX = STATUS + r"""
import gc, json, sys, threading, time
import lenslet.places
from lenslet import cli, memory
from lenslet.worker.runner import Runner
spent, counting = {"rollups": 0, "rollup": 0.0, "index": 0.0}, threading.Lock()

def counted(name, method):
    def run(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return method(self, *args, **kwargs)
        finally:
            with counting:
                spent[name] += time.perf_counter() - start
                spent["rollups"] += name == "rollup"
    return run

Runner.index, Runner.rollup = counted("index", Runner.index), counted("rollup", Runner.rollup)
started = time.perf_counter()
code = cli.main(["index", sys.argv[1]])
seconds = time.perf_counter() - started
gc.collect()
memory.trim()
print(json.dumps({"code": code, "seconds": seconds, "table": lenslet.places._table is not None, **spent,
                  **status()}))
"""

# A web process as gunicorn's post_fork sets it up, asked what the page asks.
WEB = STATUS + r"""
import gc, json, sys
import lenslet.places
from falcon import testing
from lenslet import memory
from lenslet.app import create_app
from lenslet.config import Config
memory.map_big_buffers()
client = testing.TestClient(create_app(Config(root=sys.argv[1])))

def settled():
    gc.collect()
    memory.trim()
    return status()["RssAnon"]

started = settled()
listing = client.simulate_get("/folders", params={"path": sys.argv[2]}, host="localhost")
assert listing.status_code == 200, listing.text
placed = sum(1 for item in listing.json["items"] if "place" in item)
listed, listed_table = settled(), lenslet.places._table is not None
item = client.simulate_get("/item", params={"path": sys.argv[2] + "/" + listing.json["items"][0]["name"]},
                          host="localhost")
assert item.status_code == 200, item.text
print(json.dumps({"started": started, "listed": listed, "item": settled(), "placed": placed,
                  "place": item.json.get("place"), "listedTable": listed_table,
                  "itemTable": lenslet.places._table is not None}))
"""


def folder_of(n, folders, images):
    at = n * folders // images
    return f"{2010 + at % 10}/{at:04d} Trip"


def make_trees(work, images, folders, seed=61):
    """Two trees of the same photos, one with a GPS position in each, one without; return their roots."""
    rng = random.Random(seed)
    weights = [1 / rank for rank in range(1, len(TOWNS) + 1)]
    plain_photo = exif_photo(camera=CAMERA)
    roots = {"gps": os.path.join(work, "gps"), "plain": os.path.join(work, "plain")}
    for n in range(images):
        latitude, longitude = rng.choices(TOWNS, weights)[0]
        km, bearing = 15 * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
        latitude += km / 111.2 * math.cos(bearing)
        longitude += km / (111.2 * math.cos(math.radians(latitude))) * math.sin(bearing)
        for kind, data in (("gps", gps_photo(latitude, longitude, camera=CAMERA)), ("plain", plain_photo)):
            folder = os.path.join(roots[kind], folder_of(n, folders, images))
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"IMG_{n:05d}.jpg"), "wb") as f:
                f.write(data)
    return roots


def in_process(code, *args):
    """Run code in a fresh Python with this checkout's lenslet; return the JSON of its last line, with the CPU
    seconds of the process and of the processes it waited for (its thumbnail processes)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", code, *args], env=dict(env, PYTHONPATH=PROJECT), cwd=PROJECT,
                         capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode:
        raise SystemExit(f"failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return dict(json.loads(out.stdout.splitlines()[-1]), cpu=cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, nargs="+", default=[300, 3000])
    parser.add_argument("--folders", type=int, default=None, help="folders of each tree: one per 100 photos unless set")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    for images in args.images:
        print(f"-- {images} photos", flush=True)
        measure(images, args.folders or max(1, images // 100), args.rounds)


def measure(images, folders, rounds):
    """Index the two trees of images photos in folders folders, rounds times each, and print what it cost."""
    work = tempfile.mkdtemp(prefix="lenslet-index-places-")
    try:
        pristine = make_trees(os.path.join(work, "pristine"), images, folders)
        runs = {"gps": [], "plain": []}
        for n in range(rounds):
            for kind in ("gps", "plain") if n % 2 == 0 else ("plain", "gps"):
                root = os.path.join(work, kind)
                shutil.rmtree(root, ignore_errors=True)
                shutil.copytree(pristine[kind], root)
                run = in_process(INDEX, root)
                if run["code"]:
                    raise SystemExit(f"lenslet index of the {kind} tree exited with {run['code']}")
                runs[kind].append(run)
                print(f"round {n + 1}, {kind:>5}: {run['seconds']:.1f} s, CPU {run['cpu']:.1f} s (index jobs "
                      f"{run['index']:.1f} s, {run['rollups']} rollups {run['rollup']:.1f} s), "
                      f"peak {run['VmHWM']:.0f} MB, done {run['VmRSS']:.0f} MB (RssAnon {run['RssAnon']:.0f} MB), "
                      f"places table read: {run['table']}", flush=True)

        def median(kind, key):
            return statistics.median(run[key] for run in runs[kind])

        print(f"{'lenslet index, median of ' + str(rounds):<34}{'with GPS':>10}{'without':>10}{'ratio':>8}")
        for key, unit, name in (("seconds", "s", "time"), ("cpu", "s", "CPU"), ("index", "s", "index jobs"),
                                ("rollups", "", "rollups"), ("rollup", "s", "rollups' time"), ("VmHWM", "MB", "peak"),
                                ("VmRSS", "MB", "done, VmRSS"), ("RssAnon", "MB", "done, RssAnon")):
            with_gps, without = median("gps", key), median("plain", key)
            label = f"{name} ({unit})" if unit else name
            print(f"{label:<34}{with_gps:>10.1f}{without:>10.1f}{with_gps / without:>7.2f}x")
        ratio, cpu = (median("gps", key) / median("plain", key) for key in ("seconds", "cpu"))
        rest = median("gps", "RssAnon") - median("plain", "RssAnon")
        print(f"with GPS / without: time {ratio:.2f}x, CPU {cpu:.2f}x (target <= 1.10x: "
              f"{'met' if max(ratio, cpu) <= 1.10 else 'MISSED'}); at rest +{rest:.1f} MB RssAnon (target <= 15 MB: "
              f"{'met' if rest <= 15 else 'MISSED'})")

        folder = folder_of(0, folders, images)
        web = {kind: in_process(WEB, os.path.join(work, kind), folder) for kind in ("gps", "plain")}
        print(f"a web process (RssAnon, MB){'':<8}{'started':>10}{'listed':>10}{'/item':>10}  places listed, "
              "table read after the listing / the item")
        for kind, seen in web.items():
            print(f"  {'with GPS' if kind == 'gps' else 'without':<32}{seen['started']:>10.1f}{seen['listed']:>10.1f}"
                  f"{seen['item']:>10.1f}  {seen['placed']}, {seen['listedTable']} / {seen['itemTable']}"
                  f"{' (' + seen['place'] + ')' if seen['place'] else ''}")
        added = web["gps"]["item"] - web["plain"]["item"]
        print(f"a web process that named a place: +{added:.1f} MB RssAnon beside one that did not "
              f"(target <= 30 MB: {'met' if added <= 30 else 'MISSED'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
