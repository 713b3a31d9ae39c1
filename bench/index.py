"""A full first index with thumbnails: end-to-end items/s for 1, 2 and 4 worker threads.

    python bench/index.py [--images 2000]

Generates a nested tree of mixed images (JPEG 1600x1200, PNG 800x600, WebP
1200x800; photo-like with grain), then for each thread count indexes a fresh copy
of it exactly as the worker does (scan, index jobs, thumbnail jobs, hashes into
sidecars and manifests, rollup, health), timed from the first scan until the
queue is empty. Next to it, in the same run: the raw single-call thumbnail
throughput (images.make_thumbnail in a loop on one thread), and the ideal,
raw x the cores the pipeline can use. Target: pipeline >= 0.85x ideal.
"""

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import index_tree  # noqa: E402
from bench.thumbs import photo  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.images.pillow import make_thumbnail  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.worker.runner import Runner  # noqa: E402

KINDS = [("jpg", "JPEG", (1600, 1200), {"quality": 88}), ("png", "PNG", (800, 600), {}),
         ("webp", "WEBP", (1200, 800), {"quality": 85})]


def make_tree(root, count):
    """count images in nested folders, 7 in 10 JPEG, the rest PNG and WebP."""
    bases = {}
    for ext, fmt, size, options in KINDS:
        bases[ext] = []
        for seed in range(6):
            out = io.BytesIO()
            photo(*size, seed=seed * 7 + len(ext)).save(out, fmt, **options)
            bases[ext].append(out.getvalue())
    paths = []
    for n in range(count):
        ext = "jpg" if n % 10 < 7 else ("png" if n % 10 < 9 else "webp")
        folder = os.path.join(root, f"year{n % 3}", f"event{n % 17}")
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, f"IMG_{n:05d}.{ext}")
        with open(path, "wb") as f:
            f.write(bases[ext][n % 6])
        paths.append(path)
    return paths


def index_once(root, threads):
    config = Config(root=root, worker_threads=threads)
    storage = LocalStorage(root)
    runner = Runner(config, storage)
    return index_tree(runner, threads), runner.made


def raw_rate(paths, sample):
    chosen = paths[:: max(1, len(paths) // sample)][:sample]
    start = time.perf_counter()
    for path in chosen:
        with open(path, "rb") as f:
            make_thumbnail(io.BytesIO(f.read()), 256, 70, 100_000_000)
    return len(chosen) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--sample", type=int, default=200, help="images timed for the raw rate")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        source = os.path.join(work, "source")
        paths = make_tree(source, args.images)
        print(f"{args.images} images (7/10 JPEG 1600x1200, 2/10 PNG 800x600, 1/10 WebP 1200x800), {cores} cores")
        raws = [raw_rate(paths, args.sample)]
        results = {}
        for threads in (1, 2, 4):
            tree = os.path.join(work, f"tree{threads}")
            shutil.copytree(source, tree)
            results[threads] = index_once(tree, threads)
            shutil.rmtree(tree)
            raws.append(raw_rate(paths, args.sample))  # the machine is shared: sample it between runs
        raw = statistics.median(raws)
        print(f"raw single-call thumbnail throughput, one thread: median {raw:.1f}/s "
              f"of {', '.join(f'{r:.1f}' for r in raws)}")
        for threads, (elapsed, made) in results.items():
            assert made == args.images, f"made {made} of {args.images}"
            rate = args.images / elapsed
            ideal = raw * min(threads, cores)
            print(f"{threads} worker thread{'s' if threads > 1 else ' '}: {elapsed:6.1f} s = {rate:6.1f} items/s "
                  f"= {rate / ideal:.2f}x raw x {min(threads, cores)} core{'s' if min(threads, cores) > 1 else ''}"
                  f" (target >= 0.85x: {'met' if rate >= 0.85 * ideal else 'MISSED'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
