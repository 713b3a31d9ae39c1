"""The job queue at scale: a tree of empty folders indexed by the running worker.

    python bench/claims.py [--folders 20000] [--baseline-seconds 20]

Builds a tree of empty folders (100 per level-one folder), starts the worker
(`python worker.py`, default settings) on it and times until every folder has its
manifest and no index job is left. Next to it, in the same run, on a copy of the
tree: the old way of claiming (list and stat the whole jobs folder, sort, claim the
first) and one index job per folder, on two threads for a fixed time, and its rate
projected to the whole tree.
Target: 20,000 folders in <= 60 s, 100,000 in a linear multiple.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT  # noqa: E402
from lenslet import jobs  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.errors import NotFound  # noqa: E402
from lenslet.layout import JOBS  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.worker import scanner  # noqa: E402
from lenslet.worker.runner import Runner, run_one  # noqa: E402


def make_tree(root, folders):
    """folders empty folders, 100 per level-one folder; return their paths."""
    paths = [os.path.join(root, f"d{n // 100:04d}", f"s{n % 100:03d}") for n in range(folders)]
    for path in paths:
        os.makedirs(path)
    return paths


def old_next_job(storage, worker, lease, ready=None):
    """Claim as before: a listing (with a stat per job) and a sort of the whole queue per claim."""
    try:
        names = sorted(e.name for e in storage.list_folder(JOBS) if e.name.endswith(".json"))
    except NotFound:
        return None, None
    for name in names:
        job = jobs.claim(storage, name, worker, lease, ready=ready)
        if job is not None:
            return name, job
    return None, None


def baseline(root, seconds):
    """Folders per second the old way, two threads, after a scan queued them all (a job each)."""
    storage = LocalStorage(root)
    runner = Runner(Config(root=root), storage)
    batch, scanner.INDEX_BATCH = scanner.INDEX_BATCH, 1  # as before: one index job per folder
    try:
        scanner.Scanner(runner).scan(deep=True)
    finally:
        scanner.INDEX_BATCH = batch
    done, stop = [0], time.monotonic() + seconds

    def drain():
        while time.monotonic() < stop:
            name, job = old_next_job(storage, "old", 3600, runner.due)
            if name is None:
                return
            run_one(runner, name, job)
            done[0] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=drain) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0] / (time.monotonic() - started)


def queued_index_jobs(root):
    try:
        return sum("-index-" in name for name in os.listdir(os.path.join(root, JOBS)))
    except FileNotFoundError:
        return 0


def worker_run(root, paths, limit):
    """Seconds the running worker takes until every folder has its manifest and no index job waits."""
    env = dict(os.environ, LENSLET_ROOT=root)
    started = time.monotonic()
    worker = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT, env=env,
                              stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < limit:
            time.sleep(0.5)
            if queued_index_jobs(root) == 0 and all(
                    os.path.exists(os.path.join(path, "_index.json")) for path in paths):
                return time.monotonic() - started
        return None
    finally:
        worker.terminate()
        worker.wait(60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=20000)
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--limit", type=float, default=900.0, help="give up on the worker after this long")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-queue-")
    try:
        ours, old = os.path.join(work, "ours"), os.path.join(work, "old")
        paths = make_tree(ours, args.folders)
        make_tree(old, args.folders)
        rate = baseline(old, args.baseline_seconds)
        took = worker_run(ours, paths, args.limit)
        print(f"{args.folders} empty folders")
        print(f"  old queue (a job per folder, list + sort per claim): {rate:.1f} folders/s -> "
              f"{args.folders / rate:.0f} s projected for the tree")
        if took is None:
            print(f"  running worker (cursor, batched index jobs): not done after {args.limit:.0f} s")
        else:
            print(f"  running worker (cursor, batched index jobs): {took:.1f} s ({args.folders / took:.0f} folders/s), "
                  f"{args.folders / rate / took:.1f}x faster; target <= 60 s for 20,000")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
