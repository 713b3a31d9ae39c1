"""Indexing many small folders: this checkout against a base revision, measured in the same run.

    python bench/many_folders.py [--folders 20000] [--base 57d4a0a] [--rounds 3] [--thumbnails] [--profile]

Each round builds, for each side in turn (the order alternating from round to round), a fresh
tree of --folders folders (100 to a level-one folder) holding one small JPEG each, then indexes
it as the worker does, in a subprocess whose PYTHONPATH is that side's checkout: a deep scan, then
two threads draining the queue (index jobs of 64 folders, the rollup, the health report) until it
is empty. Without --thumbnails the runner makes no thumbnails (as bench/huge.py indexes), so what
is timed is the indexing itself; with it, the worker's whole first pass, a rollup spaced as the worker's
loop spaces it (Runner.due, where the revision has it). The base is a temporary
`git worktree add --detach` of --base (57d4a0a: the code before the last waves of covers, counts,
camera and date columns and the new listing format), removed at the end.

Prints each round's seconds and CPU seconds (the subprocess's own) for both, with where the scan's
and the job threads' time went besides their CPU, summed over the threads (from /proc's schedstat):
waiting for a CPU while runnable (the machine busy with other processes) and blocked (the disk, a
lock, the GIL while the other job thread holds it), and how many rollups were built (a second one
when a thread claimed the rollup while the other thread's last index job still ran, which then asked
again: a race 57d4a0a has; since 869e2d1 a rollup waits for such a job, see Runner.settled); then
the medians and their ratio, and the medians of the quiet rounds alone (whose threads waited for a
CPU under 5% of the wall time). The machine is shared: compare the two columns of one run, not
figures from elsewhere. --profile runs each side once more on one thread under cProfile and prints
where its time went.
"""

import argparse
import contextlib
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUIET = 0.05  # a round is quiet when its threads waited for a CPU less than this part of its wall time


def make_tree(root, folders):
    """folders folders, 100 per level-one folder, each with one 64x48 JPEG."""
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(out, "JPEG")
    for n in range(folders):
        folder = os.path.join(root, f"d{n // 100:04d}", f"s{n % 100:03d}")
        os.makedirs(folder)
        with open(os.path.join(folder, "IMG_0001.jpg"), "wb") as f:
            f.write(out.getvalue())


def runner_class(thumbnails):
    """The worker's runner of the checkout on sys.path; without thumbnails, one whose index job only
    brings the manifest up to date and asks for the rollup (bench/huge.py's, for either revision)."""
    from lenslet.errors import NotFound
    from lenslet.worker.runner import Runner
    if thumbnails:
        return Runner
    try:
        from lenslet import jobs
    except ImportError:  # the base revision kept the queue in the worker package
        from lenslet.worker import queue as jobs

    # The base revision's index job queued the rollup after every folder; this one's listing asks for
    # it itself when its rebuild finds something new for search.
    asks_itself = hasattr(jobs, "ask_for_rollup")

    class Indexer(Runner):
        rollups = 0  # rollups built: two when one started while the other thread's last job still ran

        def rollup(self):
            self.rollups += 1
            return super().rollup()

        def index(self, folder, rebuild=False):
            try:
                self.folders.refresh(self.storage, folder, None, *([True] if rebuild else []))
            except NotFound:
                return
            if not asks_itself:
                jobs.enqueue(self.storage, "rollup", "", self.clock)

    return Indexer


def schedstat():
    """This thread's (CPU seconds, seconds waiting for a CPU while runnable) from /proc, or None."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited = f.read().split()[:2]
    except (OSError, ValueError):
        return None
    return int(ran) / 1e9, int(waited) / 1e9


class Timed:
    """Where a thread's time went: on a CPU, waiting for one (the machine busy with other processes),
    or neither (blocked: on the disk, a lock, the GIL held by the other job thread)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cpu = self.runnable = self.blocked = 0.0

    def run(self, work, *args):
        start, wall = schedstat(), time.perf_counter()
        try:
            return work(*args)
        finally:
            end, wall = schedstat(), time.perf_counter() - wall
            if start and end:
                cpu, runnable = end[0] - start[0], end[1] - start[1]
                with self.lock:
                    self.cpu += cpu
                    self.runnable += runnable
                    self.blocked += max(wall - cpu - runnable, 0.0)


def until_empty(drain, runner, spaced):
    """Drain the queue; spaced: as the worker's loop does (a rollup waits for Runner.due), again until it is
    empty, where the revision has both (the base's worker ran its rollups unspaced)."""
    try:
        from lenslet.jobs import backlog
    except ImportError:
        backlog = None
    if not spaced or backlog is None or not hasattr(runner, "due"):
        return drain(runner, "bench")
    while True:
        drain(runner, "bench", ready=runner.due)
        if not any(backlog(runner.storage).values()):
            return runner
        time.sleep(0.1)


def measure(folders, thumbnails, profile):
    """Index a fresh tree with the lenslet on sys.path; print {seconds, cpu, made, ...} as JSON: with the
    job threads' seconds waiting for a CPU (runnable) and blocked (see Timed), and the rollups built."""
    from lenslet.config import Config
    from lenslet.storage import LocalStorage
    from lenslet.worker.runner import drain
    from lenslet.worker.scanner import Scanner
    root = tempfile.mkdtemp(prefix="lenslet-folders-")
    try:
        make_tree(root, folders)
        runner = runner_class(thumbnails)(Config(root=root), LocalStorage(root))
        timed = Timed()
        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            import cProfile
            import pstats
            profiler = cProfile.Profile()
            profiler.runcall(lambda: (Scanner(runner).scan(deep=True), until_empty(drain, runner, thumbnails)))
            stats = io.StringIO()
            pstats.Stats(profiler, stream=stats).sort_stats("tottime").print_stats(14)
            print(stats.getvalue(), file=sys.stderr)
        else:
            timed.run(Scanner(runner).scan, True)
            threads = [threading.Thread(target=timed.run, args=(until_empty, drain, runner, thumbnails))
                       for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        print(json.dumps({"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                          "made": runner.made, "runnable": timed.runnable, "blocked": timed.blocked,
                          "rollups": getattr(runner, "rollups", None)}))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run(checkout, folders, thumbnails, profile=False):
    """measure() in a subprocess importing lenslet from checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    command = [sys.executable, os.path.abspath(__file__), "--measure", "--folders", str(folders)]
    command += ["--thumbnails"] * thumbnails + ["--profile"] * profile
    out = subprocess.run(command, env=dict(env, PYTHONPATH=checkout), cwd=checkout, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring {checkout} failed:\n{out.stderr[-4000:]}")
    if profile:
        print(out.stderr)
    return json.loads(out.stdout.splitlines()[-1])


@contextlib.contextmanager
def checkout_of(revision):
    """A temporary worktree of revision (as bench/trace.py makes its base)."""
    base = tempfile.mkdtemp(prefix="lenslet-base-")
    worktree = ["git", "-C", PROJECT, "worktree"]
    added = subprocess.run([*worktree, "add", "--detach", base, revision], capture_output=True, text=True)
    if added.returncode:
        os.rmdir(base)
        raise SystemExit(added.stderr)
    try:
        yield base
    finally:
        subprocess.run([*worktree, "remove", "--force", base], check=True, capture_output=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=int, default=20000)
    parser.add_argument("--base", default="57d4a0a", help="the git revision measured alongside (default 57d4a0a)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--thumbnails", action="store_true", help="make thumbnails too (the whole first pass)")
    parser.add_argument("--profile", action="store_true", help="then profile each side once, on one thread")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    if args.measure:
        measure(args.folders, args.thumbnails, args.profile)
        return
    what = "with thumbnails" if args.thumbnails else "manifests and rollup, no thumbnails"
    print(f"{args.folders:,} folders of one small JPEG each, {what}, 2 job threads; base {args.base}")
    with checkout_of(args.base) as base:
        sides = {"now": PROJECT, args.base: base}
        figures = {name: [] for name in sides}
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                figures[name].append(run(sides[name], args.folders, args.thumbnails))
            print(f"round {round_ + 1}: " + ", ".join(
                f"{name} {f['seconds']:.1f} s (CPU {f['cpu']:.1f} s, waiting for a CPU {f['runnable']:.1f} s, "
                f"blocked {f['blocked']:.1f} s; rollups {f['rollups']})"
                for name in sides for f in [figures[name][-1]]))
        if args.profile:
            for name, checkout in sides.items():
                print(f"--- {name}, one thread, cProfile (tottime)")
                run(checkout, args.folders, args.thumbnails, profile=True)
    now, then = (statistics.median(f["seconds"] for f in figures[name]) for name in sides)
    now_cpu, then_cpu = (statistics.median(f["cpu"] for f in figures[name]) for name in sides)
    print(f"median of {args.rounds}: now {now:.1f} s, {args.base} {then:.1f} s: {now / then:.2f}x "
          f"(CPU {now_cpu:.1f} s against {then_cpu:.1f} s: {now_cpu / then_cpu:.2f}x); target <= 1.1x")
    # On a shared machine a round whose threads waited long for a CPU measures the machine: the rounds in
    # which they waited under QUIET of the wall time are compared too (each side's own, so fewer of them).
    quiet = [[f["seconds"] for f in figures[name] if f["runnable"] < QUIET * f["seconds"]] for name in sides]
    if all(quiet):
        now_quiet, then_quiet = (statistics.median(q) for q in quiet)
        print(f"quiet rounds (waiting for a CPU under {QUIET:.0%} of the wall): now {now_quiet:.1f} s "
              f"({len(quiet[0])} of {args.rounds}), {args.base} {then_quiet:.1f} s ({len(quiet[1])} of {args.rounds}): "
              f"{now_quiet / then_quiet:.2f}x")
    else:
        print(f"quiet rounds (waiting for a CPU under {QUIET:.0%} of the wall): none on one side")


if __name__ == "__main__":
    main()
