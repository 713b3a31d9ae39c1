"""`lenslet index`: a tree indexed once with its thumbnails, alone or beside a running worker."""

import threading
import time

from lenslet import health, jobs, memory
from lenslet.search import rollup
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner


def index_once(config, storage, threads, rethumb, show):
    """Index a tree once on `threads` threads, showing progress on the command's Display; return (the
    rollup's stats, the folders, the thumbnails made, {path: why it failed})."""
    memory.map_big_buffers()  # as the worker does
    runner = Runner(config, storage)
    others = health.worker_status(storage, config.heartbeat)["workers"]
    if others:
        # its claims are live: taking them back would run its jobs twice
        show(f"a lenslet worker is running on this tree ({others} alive): working alongside it", final=True)
    else:
        jobs.recover(storage, clock=lambda: float("inf"))  # a one-shot run owns the tree: take back every claim
    scanner = Scanner(runner)
    folders = scanner.scan(deep=True)
    # queue thumbnails made with other settings (all, with --rethumb), as the worker does when it starts
    runner.sweep_thumbs(scanner.folders(), everything=rethumb)
    runner.sweep_places(scanner.unplaced)  # folders listed before positions were kept, or with another table
    # every folder first, so the thumbnail total is known before the first is made
    run_threads(runner, threads, show, lambda job: job["kind"] == "index", lambda: "indexing folders")
    run_threads(runner, threads, show, None, runner.progress.line)
    if others:
        wait_for_queue(storage, config.heartbeat, show)
        show(f"{runner.progress.line()} here; the running worker made the rest", final=True)
    else:
        show(runner.progress.line(), final=True)
    stats = runner.stats or rollup.build(storage, runner.folders.pages_of)  # the running worker built it: count anew
    return stats, stats.get("folders", folders), runner.made, {**stats.get("unreadable", {}), **runner.errors}


def run_threads(runner, count, show, only, line):
    """Drain the queue (only the jobs only(job) accepts) on count threads, showing line()."""
    # no debounce for the rollup here: nothing else is coming
    cursor = jobs.Cursor(runner.storage)
    threads = [threading.Thread(target=drain, args=(runner, "lenslet-index"), kwargs={"ready": only, "cursor": cursor})
               for _ in range(count)]
    for thread in threads:
        thread.start()
    shown = time.monotonic()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.2)  # returns as the thread ends: the next phase starts at once
            if show.tty or time.monotonic() - shown >= 5:
                show(line())
                shown = time.monotonic()


def wait_for_queue(storage, heartbeat, show):
    """Wait until the running worker has finished the jobs it holds (rollup and health aside)."""
    shown = 0.0
    while health.worker_status(storage, heartbeat)["workers"]:  # a worker that stopped finishes nothing
        left = {kind: n for kind, n in jobs.backlog(storage).items() if n and kind not in ("rollup", "health")}
        if not left:
            return
        if show.tty or time.monotonic() - shown >= 5:
            show("waiting for the running worker: " + ", ".join(f"{n} {kind} jobs" for kind, n in sorted(left.items())))
            shown = time.monotonic()
        time.sleep(0.2)
