"""A rollup behind the thumbnail sweep: how long it waits, against the sweep that never yields.

    python bench/starve.py [--folders 128] [--images 8] [--threads 2]

A tree of --folders folders of --images small JPEGs is indexed with thumbnails of one
size; then the size changes, so the sweep queues every folder again at the lowest
priority, in jobs of 64 folders (SWEEP_BATCH), and the first thumbnails it remakes ask
for a rollup. --threads job threads run the queue dry as the worker does. Printed:
the seconds from the sweep's start until the rollup starts, and the thumbnails remade
by then, for the sweep as it is (it yields to a due, more urgent job after each folder
or CHUNK of thumbnails) and, in the same run on a fresh copy of the tree, with that
yielding turned off (the sweep before issue 25). The rollup's debounce
(runner.DEBOUNCE) is part of both waits.
"""

import argparse
import dataclasses
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from PIL import Image  # noqa: E402

from lenslet import jobs  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.worker.runner import Runner, drain, run_one  # noqa: E402
from lenslet.worker.scanner import Scanner  # noqa: E402


def make_tree(root, folders, images):
    for f in range(folders):
        os.makedirs(os.path.join(root, f"f{f:04d}"))
        for n in range(images):
            Image.new("RGB", (640, 480), (f % 256, n * 20 % 256, 90)).save(
                os.path.join(root, f"f{f:04d}", f"IMG_{n:04d}.JPG"), quality=85)


def sweep(root, threads, yields):
    """(seconds until the rollup started, thumbnails remade by then) of one sweep."""
    storage = LocalStorage(root)
    config = Config(root=root, thumb_processes=threads)
    first = Runner(config, storage)
    scanner = Scanner(first)
    scanner.scan(deep=True)
    first.sweep_thumbs(list(scanner.seen))
    drain(first, "bench")
    runner = Runner(dataclasses.replace(config, thumb_size=128), storage)
    if not yields:
        runner.yield_to_urgent = lambda: False
    runner.sweep_thumbs(list(scanner.seen))
    cursor, started, seen = jobs.Cursor(storage), time.perf_counter(), []

    def job_thread():
        while not seen:
            name, job = cursor.next_job(f"bench-{threading.get_ident()}", 3600, runner.clock, runner.due)
            if name is None:
                if jobs.waiting(storage):
                    time.sleep(0.05)  # a rollup not due yet
                    continue
                return
            if job["kind"] == "rollup":
                seen.append((time.perf_counter() - started, runner.made))
            run_one(runner, name, job)

    workers = [threading.Thread(target=job_thread) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    runner.pool.close()
    return seen[0] if seen else (float("nan"), runner.made)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folders", type=int, default=128)
    parser.add_argument("--images", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-starve-")
    try:
        source = os.path.join(work, "source")
        make_tree(source, args.folders, args.images)
        total = args.folders * args.images
        print(f"{args.folders} folders of {args.images} images, {args.threads} job threads")
        for label, yields in (("sweep yields (now)", True), ("sweep never yields (before)", False)):
            root = os.path.join(work, label.split()[1])
            shutil.copytree(source, root)
            waited, made = sweep(root, args.threads, yields)
            print(f"{label:30} rollup started after {waited:6.2f} s, {made:5d} of {total} thumbnails remade")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
