"""A huge gallery: 500,000 images indexed (no thumbnails), then served.

    python bench/huge.py [--images 500000] [--big 50000] [--keep DIR]

Builds the tree cheaply: a few small JPEGs drawn with Pillow, hard-linked under
many names (one folder of --big images, the rest 1,000 to a folder, one in 100
with a sidecar of tags). Then indexes it as the worker does, without thumbnails
(scan, index jobs on two threads, rollup), and reports: time to index and peak
memory of the indexing process, rollup size, the time until the first search
answers in a fresh web process (gunicorn, one worker), with no kept index and
then with the index the first process kept, that process's memory,
/folders on the big folder, and search p95. With --keep DIR the tree is built (or
reused) there and kept.
"""

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT, free_port, index_tree  # noqa: E402
from lenslet import jobs  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.errors import NotFound  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.worker.runner import Runner  # noqa: E402

WORDS = ["beach", "mountain", "city", "forest", "river", "sunset", "harbour", "garden", "snow", "desert",
         "market", "bridge", "castle", "island", "lake", "meadow", "canyon", "temple", "street", "station"]
TAGS = ["family", "holiday", "summer", "work", "friends", "favourite", "print", "archive"]


def sources(folder, count):
    """A few small JPEGs and sidecars to link from."""
    os.makedirs(folder)
    images, sidecars = [], []
    for n in range(count):
        path = os.path.join(folder, f"src{n}.jpg")
        Image.new("RGB", (320 + 16 * n, 240), (30 + 20 * n, 120, 200 - 15 * n)).save(path, quality=80)
        images.append(path)
        sidecar = os.path.join(folder, f"src{n}.json")
        with open(sidecar, "w") as out:
            out.write('{"v":1,"tags":["%s","%s"],"notes":"roll %d","star":%d}'
                      % (TAGS[n % 4], TAGS[4 + n % 4], n, n % 5 + 1))
        sidecars.append(sidecar)
    return images, sidecars


def build_tree(root, count, big):
    """count images: `big` of them in big/, the rest 1,000 to a folder under years and months."""
    # ext4 allows 65,000 links to a file: a source per 50,000 images.
    images, sidecars = sources(os.path.join(root, ".sources"), max(4, count // 50_000 + 1))
    current = None
    for n in range(count):
        if n < big:
            folder = os.path.join(root, "big")
        else:
            block = (n - big) // 1000
            folder = os.path.join(root, f"{2000 + block // 12}", f"{block % 12 + 1:02d}")
        if folder != current:
            os.makedirs(folder, exist_ok=True)
            current = folder
        target = os.path.join(folder, f"{WORDS[n % len(WORDS)]}-{n:07d}.jpg")
        os.link(images[n % len(images)], target)
        if n % 100 == 0:
            os.link(sidecars[n % len(sidecars)], target + ".json")
    shutil.rmtree(os.path.join(root, ".sources"))


class Indexer(Runner):
    """The worker's runner without thumbnails: manifests and the rollup only."""

    def index(self, folder, rebuild=False):
        try:
            self.folders.refresh(self.storage, folder, None, rebuild)
        except NotFound:
            return
        jobs.enqueue(self.storage, "rollup", "", self.clock)


def index(root, threads=2):
    storage = LocalStorage(root)
    runner = Indexer(Config(root=root), storage)
    return index_tree(runner, threads), runner.stats


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as found:
            return [int(child) for child in found.read().split()]
    except OSError:
        return []


def get(url, timeout=30):
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        answer.read()
    return time.perf_counter() - started


def serve(root):
    """Start a fresh web process; return (process, url, seconds until the first search answered)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    # Not in the project folder: gunicorn would read gunicorn.conf.py there and start a worker.
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "4",
         "--no-control-socket", "--log-level", "warning", "lenslet.app:create_app()"],
        cwd=tempfile.gettempdir(), env=dict(os.environ, LENSLET_ROOT=root, PYTHONPATH=PROJECT))
    while time.monotonic() - started < 300:
        try:
            get(url + "/search?q=beach&limit=10", timeout=120)
            return process, url, time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    process.terminate()
    raise SystemExit("the web process never answered a search")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=500_000)
    parser.add_argument("--big", type=int, default=50_000, help="images in the one big folder")
    parser.add_argument("--keep", help="build (or reuse) the tree here and keep it")
    args = parser.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="lenslet-huge-")
    root = os.path.join(work, "tree")
    try:
        if not os.path.isdir(root):
            started = time.monotonic()
            build_tree(root, args.images, min(args.big, args.images))
            print(f"built {args.images} images (hard links) in {time.monotonic() - started:.0f} s")
        took, stats = index(root)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        size = os.path.getsize(os.path.join(root, "_rollup.json"))
        print(f"{stats.get('images', 0)} images in {stats.get('folders', 0)} folders")
        print(f"  index (no thumbnails, 2 threads): {took:.1f} s ({stats.get('images', 0) / took:.0f} images/s), "
              f"peak RSS of the indexer {peak:.0f} MB")
        print(f"  rollup: {size / 1e6:.1f} MB")
        kept = os.path.join(root, ".lenslet", "search-index.bin")
        if os.path.exists(kept):
            os.remove(kept)
        process, url, first = serve(root)  # builds the index from the rollup, and keeps it
        web = children(process.pid)
        built_rss = sum(rss_mb(pid) for pid in web)
        process.terminate()
        process.wait(30)
        process, url, again = serve(root)
        try:
            web = children(process.pid)
            print(f"  fresh web process, first search answered after (gunicorn start included): {first:.2f} s "
                  f"building the index from the rollup (RSS {built_rss:.0f} MB); {again:.2f} s reading the index "
                  f"the last process kept (RSS {sum(rss_mb(pid) for pid in web):.0f} MB), {first / again:.1f}x")
            big = [get(f"{url}/folders?path=big") for _ in range(7)]
            last = [get(f"{url}/folders?path=big&page={min(args.big, args.images) // 1000 - 1}") for _ in range(7)]
            print(f"  /folders on big/ ({min(args.big, args.images)} images, 1,000 a page): median "
                  f"{statistics.median(big) * 1000:.1f} ms first page, {statistics.median(last) * 1000:.1f} ms "
                  "last page")
            queries = [WORDS[n % len(WORDS)][: 3 + n % 4] for n in range(60)] + TAGS * 5 + \
                      [f"{n:04d}" for n in range(0, 400, 10)] + ["beach 00", "summer city", "roll 2", "zzz"] * 5
            times = sorted(get(f"{url}/search?" + urllib.parse.urlencode({"q": q, "limit": 100}))
                           for q in queries)
            p95 = times[int(len(times) * 0.95) - 1]
            print(f"  search over {len(times)} queries (limit 100): median {statistics.median(times) * 1000:.1f} ms, "
                  f"p95 {p95 * 1000:.1f} ms; web RSS after {sum(rss_mb(pid) for pid in web):.0f} MB")
        finally:
            process.terminate()
            process.wait(30)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
