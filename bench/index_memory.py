"""A web process's memory at rest with a 500,000-item rollup loaded, now and at a base revision, in one run.

    python bench/index_memory.py [--items 500000] [--base 1b8a09e]

The rollup of bench/timeline.py (bench/search.py's names, tags and notes, 85% of the items with an
EXIF time taken). Each case is a fresh Python process set up as gunicorn sets up a web process
(lenslet.memory.map_big_buffers, as post_fork does), which loads the rollup through
lenslet.search.searcher as a web process does, answers one timeline slice, and reports its memory
once the load has ended and the freed heap was handed back (malloc_trim): RssAnon (what it holds of
its own), VmRSS (with the pages of files it maps) and Pss (VmRSS, shared pages split among the
processes sharing them). Two ways to load: "build" (no kept index: the process indexes the rollup
itself, as a web process does when the rollup changed before the worker kept the index of it) and
"kept" (the index and columns read back from what the build kept: a process started or restarted).
The base revision runs from a temporary `git worktree add --detach` of --base (default 1b8a09e, the
code before this change), on its own copy of the rollup. The target (issue 35): a web process at
rest within 150 MB. Then two more with this code: a running process (its index read back) that sees the
next rollup and builds its index itself ("next, built": no worker), or reads back the one the worker kept
("next, kept": a worker's heartbeat there, another process keeping the index as the worker does).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)
sys.path.insert(0, os.path.join(PROJECT, "tests"))

from bench.search import generate, rollup_bytes  # noqa: E402
from bench.timeline import dated  # noqa: E402
from lenslet.layout import ROLLUP  # noqa: E402

# What each measured process runs (the same text for both revisions: only the Searcher's API they share).
CHILD = r"""
import gc, sys, time
import ctypes
import lenslet.app  # every module a web process imports (falcon, Pillow, the resources)
# As gunicorn's post_fork sets up every web process (lenslet.memory.map_big_buffers, and its trim),
# written out here so that a revision older than lenslet.memory is measured alike.
libc = ctypes.CDLL(None)
libc.mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD

def status():
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    with open("/proc/self/smaps_rollup") as f:
        pss = next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
    return int(fields["RssAnon"].split()[0]) / 1024, int(fields["VmRSS"].split()[0]) / 1024, pss / 1024

from lenslet.search.searcher import Searcher
try:
    from lenslet.formats import query
    from lenslet.search.timeline import Timeline
except ImportError:  # a revision before the timeline: no slice answered
    Timeline = None
from lenslet.storage import LocalStorage
gc.collect()
libc.malloc_trim(0)
before = status()
started = time.perf_counter()
searcher = Searcher(LocalStorage(sys.argv[1]))
searcher.fresh()
if searcher.loader is not None:
    searcher.loader.join()
searcher.checked_at = None
searcher.fresh()
took = time.perf_counter() - started
if len(sys.argv) > 2:  # the next rollup, seen by this running process: its index kept by "the worker", or not
    import os, subprocess
    from lenslet import health
    from lenslet.layout import ROLLUP
    from lenslet.search import rollup
    next_rollup = os.path.join(sys.argv[1], ROLLUP)
    os.utime(next_rollup, (time.time() + 5, time.time() + 5))  # another rollup, as far as any process can tell
    if sys.argv[2] == "kept":
        subprocess.run([sys.executable, "-c", "import sys; from lenslet.search import rollup; "
                        "from lenslet.search.searcher import Searcher; from lenslet.storage import LocalStorage; "
                        "s = LocalStorage(sys.argv[1]); Searcher(s).build(rollup.stat(s))", sys.argv[1]], check=True)
        health.write_heartbeat(searcher.storage, "bench", started_at=time.time())
    searcher.heartbeat = 3600.0  # a worker is running when its heartbeat says so (the one written above)
    started = time.perf_counter()
    searcher.checked_at = None
    searcher.fresh()
    searcher.loader.join()
    took = time.perf_counter() - started
if Timeline is not None:
    Timeline(searcher).slice(None, query.Query(), 100)
gc.collect()
libc.malloc_trim(0)
after = status()
print(" ".join(f"{value:.1f}" for value in (*before, *after, took)))
"""


def measure(checkout, work, *next_rollup):
    """(anon before, rss before, pss before, anon, rss, pss, seconds) of one process loading work's rollup
    (and with next_rollup, "kept" or "built", the next one: its time is the second load's)."""
    env = dict(os.environ, PYTHONPATH=checkout)
    done = subprocess.run(["nice", "-n", "10", sys.executable, "-c", CHILD, work, *next_rollup], env=env,
                          capture_output=True, text=True, cwd=checkout)
    if done.returncode:
        raise SystemExit(f"the measured process failed:\n{done.stderr}")
    return [float(value) for value in done.stdout.split()]


def cases(checkout, work):
    """The build, then the kept index it left."""
    shutil.rmtree(os.path.join(work, ".lenslet"), ignore_errors=True)
    built = measure(checkout, work)
    return built, measure(checkout, work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--base", default="1b8a09e", help="the git revision measured alongside (default 1b8a09e)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-bench-memory-")
    base = tempfile.mkdtemp(prefix="lenslet-bench-memory-base-")
    worktree = ["git", "-C", PROJECT, "worktree"]
    try:
        items = dated(generate(args.items))
        data = rollup_bytes(items, time.time())
        del items
        for folder in ("now", "then"):
            os.makedirs(os.path.join(work, folder))
            with open(os.path.join(work, folder, ROLLUP), "wb") as f:
                f.write(data)
        del data
        print(f"rollup: {args.items:,} items")
        os.rmdir(base)
        added = subprocess.run([*worktree, "add", "--detach", base, args.base], capture_output=True, text=True)
        if added.returncode:
            raise SystemExit(f"cannot check out {args.base}: {added.stderr.strip()}")
        results = {"now": cases(PROJECT, os.path.join(work, "now")),
                   args.base: cases(base, os.path.join(work, "then"))}
        # A running process (this code) that sees a new rollup: built here, or read back from the worker's.
        following = {how: measure(PROJECT, os.path.join(work, "now"), how) for how in ("built", "kept")}
    finally:
        subprocess.run([*worktree, "remove", "--force", base], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'code':<10}{'load':<13}{'took':>7}{'RssAnon':>10}{'added':>8}{'VmRSS':>8}{'Pss':>8}")
    for code, (built, kept) in results.items():
        for name, row in (("build", built), ("kept", kept)):
            print(f"{code:<10}{name:<13}{row[6]:>6.1f}s{row[3]:>7.0f} MB{row[3] - row[0]:>5.0f} MB"
                  f"{row[4]:>5.0f} MB{row[5]:>5.0f} MB")
    for how, row in following.items():
        print(f"{'now':<10}{'next, ' + how:<13}{row[6]:>6.1f}s{row[3]:>7.0f} MB{row[3] - row[0]:>5.0f} MB"
              f"{row[4]:>5.0f} MB{row[5]:>5.0f} MB   (a running process, the next rollup's index {how})")
    (now_built, now_kept), (then_built, then_kept) = results["now"], results[args.base]
    print(f"VmRSS now / {args.base}: build {now_built[4] / then_built[4]:.2f}x, kept {now_kept[4] / then_kept[4]:.2f}x "
          f"(target: a web process at rest within 150 MB: build "
          f"{'met' if now_built[4] <= 150 else 'MISSED'}, kept {'met' if now_kept[4] <= 150 else 'MISSED'})")


if __name__ == "__main__":
    main()
