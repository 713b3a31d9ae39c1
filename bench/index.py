"""`lenslet index` on real photographs against a bare Pillow loop and libvips; on geotagged photos against none.

    python bench/index.py [--rounds 3] [--photos N]
    taskset -c 0 python bench/index.py      # a Pi-class run: one core
    python bench/index.py --places [300 3000] [--folders N] [--rounds 3]
    python bench/index.py --similar   # the perceptual hash: precision, recall of pairs

The photos: Debian's wallpaper packages (see bench/common.py), JPEGs apart from PNGs, in folders of 10 of a fresh tree
each round. lenslet's side: the whole `lenslet index ROOT` in a process of its own, default settings (one thumbnail
process per core `taskset` leaves), and the same with no look (perceptual hash) made. Against, in as many processes: a
bare Pillow loop (the same decode, reduce, WebP save) and Debian's `vipsthumbnail` (libvips-tools, one thread each).
Printed: median images/s, CPU an image (children included), each side's CPU over lenslet's (targets: Pillow's >=
0.9x, vipsthumbnail's >= 1.3x for JPEGs, no look's >= 0.97x), lenslet's peak PSS of all its processes (<= 300 MB).

--places: for each count, that many small JPEGs (24x16, an EXIF camera; one folder per 100 unless --folders), with a
GPS position each (near one of bench/search.py's towns) and without. Each round indexes a fresh copy of each (the CLI in
a fresh Python), in turns: time, CPU (its thumbnail processes' too), peak memory and memory once done, heap trimmed.
Then a fresh web process on each lists a folder of 100 and opens one photo (/item reads the places table), RssAnon
after each. Medians; targets: CPU at most 1.10x, at rest +15 MB, a web process +30 MB."""

import argparse
import io
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
import time

sys.path[:0] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests")]
from helpers import exif_photo, gps_photo  # noqa: E402
from PIL import Image  # noqa: E402

from bench.common import PROJECT, kind, photos, run_index  # noqa: E402
from bench.search import TOWNS  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.images.pillow import WEBP_METHOD, make_thumbnail  # noqa: E402
from lenslet.images.pool import process_count  # noqa: E402
from lenslet.images.thumbs import look_of, record  # noqa: E402

SIZE, QUALITY, PER_FOLDER = 256, 70, 10  # lenslet's default thumbnail size and WebP quality; photos in a folder


def tree_of_photos(paths):
    """A fresh tmp tree holding a copy of every photo, PER_FOLDER to a folder; (work folder, root)."""
    work = tempfile.mkdtemp(prefix="lenslet-index-photos-")
    root = os.path.join(work, "tree")
    for number, path in enumerate(paths):
        folder = os.path.join(root, f"album{number // PER_FOLDER:02d}")
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(path, os.path.join(folder, f"{number:03d}-{os.path.basename(path)}"))
    return work, root


def children_cpu():
    return sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])  # user and system


def timed(work):
    """Return a function of the photos' paths: (seconds, CPU seconds of children, peak MB) of work(tree root)."""
    def run(paths):
        work_folder, root = tree_of_photos(paths)
        try:
            cpu, start = children_cpu(), time.perf_counter()
            highest = work(root, paths)
            return time.perf_counter() - start, children_cpu() - cpu, highest
        finally:
            shutil.rmtree(work_folder, ignore_errors=True)
    return run


# A bare Pillow loop: each photo decoded (reduced as its format allows), reduced and saved as a WebP.
PILLOW_LOOP = """
import io, multiprocessing, os, sys
from PIL import Image
SIZE, QUALITY, METHOD = map(int, sys.argv[2:])

def thumbnail(path):
    with Image.open(path) as img:
        img.thumbnail((SIZE, SIZE), Image.Resampling.BICUBIC, reducing_gap=1.0)
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if img.has_transparency_data else "RGB")
        img.save(io.BytesIO(), "WEBP", quality=QUALITY, method=METHOD)

files = [os.path.join(parent, name) for parent, _, names in os.walk(sys.argv[1]) for name in names]
pool = multiprocessing.get_context("fork").Pool(len(os.sched_getaffinity(0)))
pool.map(thumbnail, files, chunksize=1)
pool.close()
pool.join()
"""


def pillow_loop(root, paths):
    subprocess.run([sys.executable, "-c", PILLOW_LOOP, root, str(SIZE), str(QUALITY), str(WEBP_METHOD)], check=True)


def libvips(root, paths):
    files = sorted(os.path.join(parent, name) for parent, _, names in os.walk(root) for name in names)
    out, processes = tempfile.mkdtemp(dir=os.path.dirname(root)), process_count("auto")
    runs = [subprocess.Popen(["vipsthumbnail", "-s", str(SIZE), "-o", f"{out}/%s.webp[Q={QUALITY},"
                              f"effort={WEBP_METHOD},strip]", *files[n::processes]],
                             env=dict(os.environ, VIPS_CONCURRENCY="1"), stderr=subprocess.DEVNULL)
            for n in range(processes)]
    if any(run.wait() for run in runs) or len(os.listdir(out)) != len(paths):
        raise SystemExit("vipsthumbnail failed")


# The thumbnail processes get a record without the look's field, so none computes it; nor does this process.
WITHOUT_LOOK = """
from lenslet.images import pillow, thumbs
with_look = thumbs.record
thumbs.record = lambda *args, **kwargs: with_look(*args, **kwargs).replace(pillow.LOOK_FIELD, b"")
pillow.look = lambda img: ("0" * 16, 0.0)
"""


CAMERA = ("Apple", "iPhone 12")

STATUS = r"""
def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return {key: int(fields[key].split()[0]) / 1024 for key in ("VmHWM", "VmRSS", "RssAnon")}
"""

# The CLI in this process, then what it holds: the heap trimmed as a long-lived process's would be.
INDEX = STATUS + r"""
import gc, json, sys, time
import lenslet.places.table
from lenslet import cli, memory
started = time.perf_counter()
code = cli.main(["index", sys.argv[1]])
seconds = time.perf_counter() - started
gc.collect()
memory.trim()
print(json.dumps({"code": code, "seconds": seconds, "table": lenslet.places.table._table is not None, **status()}))
"""

# A web process as gunicorn's post_fork sets it up, asked what the page asks.
WEB = STATUS + r"""
import gc, json, sys
import lenslet.places.table
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
listed, listed_table = settled(), lenslet.places.table._table is not None
item = client.simulate_get("/item", params={"path": sys.argv[2] + "/" + listing.json["items"][0]["name"]},
                          host="localhost")
assert item.status_code == 200, item.text
print(json.dumps({"started": started, "listed": listed, "item": settled(), "placed": placed,
                  "place": item.json.get("place"), "listedTable": listed_table,
                  "itemTable": lenslet.places.table._table is not None}))
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
        for side, data in (("gps", gps_photo(latitude, longitude, camera=CAMERA)), ("plain", plain_photo)):
            folder = os.path.join(roots[side], folder_of(n, folders, images))
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, f"IMG_{n:05d}.jpg"), "wb") as f:
                f.write(data)
    return roots


def in_process(code, *args):
    """Run code in a fresh Python with this checkout's lenslet; return the JSON of its last line, with the CPU
    seconds of the process and of the processes it waited for (its thumbnail processes)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    before = children_cpu()
    out = subprocess.run([sys.executable, "-c", code, *args], env=dict(env, PYTHONPATH=PROJECT), cwd=PROJECT,
                         capture_output=True, text=True)
    cpu = children_cpu() - before
    if out.returncode:
        raise SystemExit(f"failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
    return dict(json.loads(out.stdout.splitlines()[-1]), cpu=cpu)


def measure(images, folders, rounds):
    """Index the two trees of images photos in folders folders, rounds times each, and print what it cost."""
    work = tempfile.mkdtemp(prefix="lenslet-index-places-")
    try:
        pristine = make_trees(os.path.join(work, "pristine"), images, folders)
        runs = {"gps": [], "plain": []}
        for n in range(rounds):
            for side in ("gps", "plain") if n % 2 == 0 else ("plain", "gps"):
                root = os.path.join(work, side)
                shutil.rmtree(root, ignore_errors=True)
                shutil.copytree(pristine[side], root)
                run = in_process(INDEX, root)
                if run["code"]:
                    raise SystemExit(f"lenslet index of the {side} tree exited with {run['code']}")
                runs[side].append(run)
                print(f"round {n + 1}, {side:>5}: {run['seconds']:.1f} s, CPU {run['cpu']:.1f} s, "
                      f"peak {run['VmHWM']:.0f} MB, done {run['VmRSS']:.0f} MB (RssAnon {run['RssAnon']:.0f} MB), "
                      f"places table read: {run['table']}", flush=True)

        median = lambda side, key: statistics.median(run[key] for run in runs[side])  # noqa: E731
        print(f"{'lenslet index, median of ' + str(rounds):<34}{'with GPS':>10}{'without':>10}{'ratio':>8}")
        for key, unit, name in (("seconds", "s", "time"), ("cpu", "s", "CPU"), ("VmHWM", "MB", "peak"),
                                ("VmRSS", "MB", "done, VmRSS"), ("RssAnon", "MB", "done, RssAnon")):
            with_gps, without = median("gps", key), median("plain", key)
            label = f"{name} ({unit})"
            print(f"{label:<34}{with_gps:>10.1f}{without:>10.1f}{with_gps / without:>7.2f}x")
        ratio, cpu = (median("gps", key) / median("plain", key) for key in ("seconds", "cpu"))
        rest = median("gps", "RssAnon") - median("plain", "RssAnon")
        print(f"with GPS / without: time {ratio:.2f}x, CPU {cpu:.2f}x (target <= 1.10x: "
              f"{'met' if max(ratio, cpu) <= 1.10 else 'MISSED'}); at rest +{rest:.1f} MB RssAnon (target <= 15 MB: "
              f"{'met' if rest <= 15 else 'MISSED'})")

        folder = folder_of(0, folders, images)
        web = {side: in_process(WEB, os.path.join(work, side), folder) for side in ("gps", "plain")}
        print(f"a web process (RssAnon, MB){'':<8}{'started':>10}{'listed':>10}{'/item':>10}  places listed, "
              "table read after the listing / the item")
        for side, seen in web.items():
            print(f"  {'with GPS' if side == 'gps' else 'without':<32}{seen['started']:>10.1f}{seen['listed']:>10.1f}"
                  f"{seen['item']:>10.1f}  {seen['placed']}, {seen['listedTable']} / {seen['itemTable']}"
                  f"{' (' + seen['place'] + ')' if seen['place'] else ''}")
        added = web["gps"]["item"] - web["plain"]["item"]
        print(f"a web process that named a place: +{added:.1f} MB RssAnon beside one that did not "
              f"(target <= 30 MB: {'met' if added <= 30 else 'MISSED'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


PHOTOGRAPHS = ("nature", "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour", "EveningGlow", "FallenLeaf",
               "Grey", "Kite", "OneStandsOut", "Path", "summer_1am", "Volna")  # the rest is drawn art


def similar_pairs():
    """Pairs of photographs' near-copies at the default threshold."""
    copies = [lambda im: im, lambda im: im.resize((800, im.height // 2)), lambda im: im.point(lambda v: v * 1.25),
              lambda im: im.crop((60, 40, 1540, im.height - 40)), lambda im: im.point(lambda v: v * 0.8)]
    looks = []
    for number, path in enumerate(p for p in photos() if any(f"/{name}/" in p for name in PHOTOGRAPHS)):
        with Image.open(path) as img:
            img = img.convert("RGB").resize((1600, 1600 * img.height // img.width))
        for copy, quality in [(copy, quality) for copy in copies for quality in (90, 40)]:
            copy(img).save(data := io.BytesIO(), "JPEG", quality=quality)
            webp = make_thumbnail(io.BytesIO(data.getvalue()), SIZE, QUALITY, 10 ** 9, xmp=record("s", "s"))
            looks.append((number, int(look_of(webp)[0], 16)))
    pairs = [(a[0] == b[0], (a[1] ^ b[1]).bit_count() <= Config().similar_threshold)
             for at, a in enumerate(looks) for b in looks[at + 1:]]
    right = sum(alike and near for alike, near in pairs)
    print(f"{len(looks)} pictures: precision {right / sum(n for _, n in pairs):.3f} (>= 0.95), recall "
          f"{right / sum(a for a, _ in pairs):.3f} (>= 0.90)")


def without_looks(root, paths):
    if in_process(WITHOUT_LOOK + INDEX, root)["code"]:
        raise SystemExit("lenslet index without looks failed")


SIDES = {"lenslet index": timed(lambda root, paths: run_index(root)[1]),  # exits 1 on any image it could not make
         "without looks": timed(without_looks), "Pillow loop": timed(pillow_loop), "vipsthumbnail": timed(libvips)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, help="the first N photos only (a quick run)")
    parser.add_argument("--places", type=int, nargs="*", help="geotagged photos against none: these counts")
    parser.add_argument("--folders", type=int, help="with --places: folders of each tree (one per 100 photos)")
    parser.add_argument("--similar", action="store_true", help="the perceptual hash on near-copies of real photos")
    args = parser.parse_args()
    if args.similar:
        return similar_pairs()
    if args.places is not None:
        for images in args.places or [300, 3000]:
            print(f"-- {images} photos", flush=True)
            measure(images, args.folders or max(1, images // 100), args.rounds)
        return
    if shutil.which("vipsthumbnail") is None:
        raise SystemExit("the baseline needs vipsthumbnail: apt-get install libvips-tools")
    # Modules compiled once, as an installed lenslet's are (a shell may set PYTHONDONTWRITEBYTECODE).
    os.environ.update(PYTHONDONTWRITEBYTECODE="", PYTHONPYCACHEPREFIX=tempfile.gettempdir() + "/lenslet-pyc")
    subprocess.run([sys.executable, "-m", "compileall", "-q", os.path.join(PROJECT, "lenslet")], check=True)
    paths = photos()[:args.photos]
    print(f"{len(paths)} photos ({sum(os.path.getsize(p) for p in paths) / 1e6:.0f} MB), {process_count('auto')} "
          f"core(s) for this run, {args.rounds} rounds, the sides in turns; load {os.getloadavg()[0]:.1f}", flush=True)
    for kind_of_photo in ("jpeg", "png"):
        some = [path for path in paths if kind(path) == kind_of_photo]
        if not some:
            continue
        runs = {side: [] for side in SIDES}
        for number in range(args.rounds):
            for side in list(SIDES)[number % 4:] + list(SIDES)[:number % 4]:
                runs[side].append(SIDES[side](some))
        cpu = {side: statistics.median(c for _, c, _ in runs[side]) / len(some) for side in SIDES}
        print(f"{len(some)} {kind_of_photo.upper()}s, median of {args.rounds}:")
        for side, done in runs.items():
            peak = f", peak {max(m for _, _, m in done):.0f} MB" if side == "lenslet index" else ""
            print(f"  {side:<14} {len(some) / statistics.median(s for s, _, _ in done):6.2f} images/s, "
                  f"{cpu[side] * 1000:4.0f} ms of CPU an image, {cpu[side] / cpu['lenslet index']:.2f}x{peak}")
        print("  targets: Pillow's CPU over lenslet's >= 0.9x, vipsthumbnail's >= 1.3x for JPEGs, without looks' "
              ">= 0.97x", flush=True)


if __name__ == "__main__":
    main()
