"""A tree at rest: the idle worker's CPU, and how soon a dropped photo gets its thumbnail.

    python bench/rest.py [--folders 20000] [--seconds 30] [--drops 7]

Builds a tree of empty folders (100 per level-one folder), lets the worker index it,
then, with the worker watching the tree (inotify) and in the same run with the
worker polling it (LENSLET_WATCH=false, the quick scan every second): the worker's
CPU while nothing happens (utime + stime from /proc/<pid>/stat over --seconds), and
the median time from a photo written into a deep folder to its thumbnail on disk.
Targets: idle < 2% of one core with 20,000 folders; a dropped photo thumbnailed
within 3 s.
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.claims import make_tree, queued_index_jobs  # noqa: E402
from bench.common import PROJECT  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def photo_bytes(n):
    image = Image.new("RGB", (1600, 1200), (40 + n * 20 % 200, 90, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


class Worker:
    def __init__(self, root, **env):
        environ = dict(os.environ, LENSLET_ROOT=root, **env)
        self.process = subprocess.Popen([sys.executable, "worker.py"], cwd=PROJECT, env=environ,
                                        stderr=subprocess.DEVNULL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(60)


def wait_indexed(root, paths, limit=900):
    started = time.monotonic()
    while time.monotonic() - started < limit:
        time.sleep(0.5)
        if queued_index_jobs(root) == 0 and all(os.path.exists(os.path.join(p, "_index.json")) for p in paths):
            return time.monotonic() - started
    raise SystemExit(f"the tree was not indexed within {limit} s")


def settle(root, seconds=5.0, limit=120):
    """Wait until the queue has been empty for a few seconds (rollup and health done)."""
    jobs, quiet_since, started = os.path.join(root, ".lenslet", "jobs"), time.monotonic(), time.monotonic()
    while time.monotonic() - started < limit:
        if os.path.isdir(jobs) and os.listdir(jobs):
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= seconds:
            return
        time.sleep(0.2)


def idle_cpu(worker, seconds):
    """Share of one core the worker used over `seconds` of rest."""
    before, start = cpu_seconds(worker.process.pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(worker.process.pid) - before) / (time.monotonic() - start)


def drop_latencies(root, paths, drops, tag):
    """Seconds from a photo written into a deep folder to its thumbnail, one per drop."""
    took = []
    for n in range(drops):
        folder = paths[(n * 7919) % len(paths)]
        data = photo_bytes(n)
        target = os.path.join(folder, f"drop-{tag}-{n}.jpg")
        start = time.monotonic()
        with open(target + ".part", "wb") as out:  # written whole, then named: as a sync client does
            out.write(data)
        os.rename(target + ".part", target)
        while not os.path.exists(target + ".thumbnail"):
            if time.monotonic() - start > 60:
                break
            time.sleep(0.02)
        took.append(time.monotonic() - start)
        time.sleep(1.0)
    return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--drops", type=int, default=7)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-rest-")
    try:
        root = os.path.join(work, "tree")
        paths = make_tree(root, args.folders)
        results = {}
        for label, env in (("watching (inotify)", {}), ("polling every 1 s", {"LENSLET_WATCH": "false"})):
            with Worker(root, **env) as worker:
                indexed = wait_indexed(root, paths)
                settle(root)
                cpu = idle_cpu(worker, args.seconds)
                took = drop_latencies(root, paths, args.drops, len(results))
                results[label] = (indexed, cpu, took)
        print(f"{args.folders} folders at rest, the worker's CPU over {args.seconds:.0f} s; "
              f"{args.drops} photos dropped into deep folders")
        for label, (_indexed, cpu, took) in results.items():
            print(f"  {label:20} idle {cpu * 100:5.2f}% of a core; drop to thumbnail median "
                  f"{statistics.median(took):.2f} s (max {max(took):.2f} s)")
        print(f"  (the first worker indexed the empty tree in {results['watching (inotify)'][0]:.0f} s)")
        watching, polling = results["watching (inotify)"][1], results["polling every 1 s"][1]
        print(f"  idle cost: watching is {polling / max(watching, 1e-9):.0f}x cheaper than polling; "
              f"targets < 2% idle, < 3 s drop to thumbnail")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
