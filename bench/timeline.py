"""The timeline and albums over a 500,000-item rollup, next to a naive sort of the rollup in the same run.

    python bench/timeline.py [--items 500000] [--album 10000] [--repeat 15] [--trashed 0]

The rollup of bench/search.py, 85% of the items given an EXIF time taken (2005-2024) and the rest
their file time, loaded the way a web process does (lenslet.search.searcher), then through
lenslet.search.timeline: the first slice (limit 100), a jump to a month drawn at random, the next
slice from a cursor, a filtered first slice (star:4+), the months of the scrubber and on this day.
The baseline is what a first version would do: the rollup parsed into a list of dicts, sorted by
time taken (query.taken_at) for each request, the slice cut from it. Then an album of --album images
(sparse files of the size and time the rollup says, so each is found where the album says; their
folders' listings built by a first visit) opened a page of 100 at a time (lenslet.albums.store),
next to opening it whole. Memory: the process's anonymous memory at rest, the rollup loaded (what a
web process holds; the target is 150 MB at 500,000 items).
Latencies are medians and 95th percentiles over the repeats.
"""

import argparse
import datetime
import os
import random
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

from bench.search import generate, rollup_bytes, rss, timings  # noqa: E402
from lenslet import memory  # noqa: E402
from lenslet.albums.store import Albums  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.formats import query  # noqa: E402
from lenslet.layout import ROLLUP  # noqa: E402
from lenslet.manifest.listings import Folders  # noqa: E402
from lenslet.people.access import (
    OPEN,  # noqa: E402
    Access,  # noqa: E402
)
from lenslet.search.searcher import Searcher  # noqa: E402
from lenslet.search.timeline import Timeline, read_cursor, read_day  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.tree.tree import Tree  # noqa: E402

NONE = query.Query()


def dated(items, seed=2):
    rng = random.Random(seed)
    start = datetime.datetime(2005, 1, 1)
    for item in items:
        if rng.random() < 0.85:
            taken = start + datetime.timedelta(seconds=rng.randrange(20 * 365 * 86400))
            item["taken"] = taken.isoformat()
    return items


def naive_slice(items, at=None, limit=100):
    """The baseline: every item sorted by its time taken, newest first, for each request."""
    ordered = sorted(items, key=query.taken_at, reverse=True)
    if at is not None:
        ordered = [item for item in ordered if query.taken_at(item) < at]
    return ordered[:limit]


def report(name, ours, naive=None):
    line = f"  {name:<34} median {ours[0] * 1000:8.2f} ms  p95 {ours[1] * 1000:8.2f} ms"
    if naive is not None:
        line += f"   naive p95 {naive[1] * 1000:9.1f} ms  ({naive[1] / max(ours[1], 1e-9):,.0f}x)"
    print(line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--album", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--trashed", type=int, default=0, help="items put in the trash, which every slice leaves out")
    args = parser.parse_args()
    memory.map_big_buffers()  # as gunicorn's post_fork sets up every web process
    work = tempfile.mkdtemp(prefix="lenslet-bench-timeline-")
    try:
        items = dated(generate(args.items))
        for n, item in enumerate(random.Random(5).sample(items, args.trashed)):
            item.update(path=f"_trash_/{n:06d} {item['name']}", name=f"{n:06d} {item['name']}")
        items.sort(key=lambda item: item["path"])  # a rollup is in path order
        with open(os.path.join(work, ROLLUP), "wb") as f:
            f.write(rollup_bytes(items, time.time()))
        print(f"rollup: {len(items):,} items")
        memory.trim()
        before = rss()
        storage = LocalStorage(work)
        searcher = Searcher(storage)
        searcher.fresh()
        if searcher.loader is not None:
            searcher.loader.join()
        searcher.checked_at = None
        searcher.fresh()
        memory.trim()
        print(f"memory: the rollup loaded adds {(rss() - before) / 2**20:.0f} MB (this process: "
              f"{rss() / 2**20:.0f} MB anonymous, the baseline's parsed items included; a web process at rest "
              f"holds the loaded rollup on top of about 40 MB: target 150 MB)")
        timeline = Timeline(searcher)
        rng = random.Random(3)
        months = [f"{rng.randrange(2005, 2025)}-{rng.randrange(1, 13):02d}" for _ in range(args.repeat)]
        jumps = iter(months * 2)

        def jump():
            month = next(jumps)
            return timeline.slice(None, NONE, 100, at=timeline_day(month))

        first = timeline.slice(None, NONE, 100)
        cursor = read_cursor(first["older"], "before")
        naive_repeat = max(3, args.repeat // 5)
        report("first slice", timings(lambda: timeline.slice(None, NONE, 100), args.repeat),
               timings(lambda: naive_slice(items), naive_repeat))
        report("jump to a month", timings(jump, args.repeat),
               timings(lambda: naive_slice(items, at=timeline_day(months[0])), naive_repeat))
        report("next slice (cursor)", timings(lambda: timeline.slice(None, NONE, 100, before=cursor), args.repeat))
        starred = query.parse({"star": "4+"})
        report("first slice, star:4+", timings(lambda: timeline.slice(None, starred, 100), args.repeat))
        timeline.months_kept.clear()
        report("months (first time)", timings(lambda: (timeline.months_kept.clear(),
                                                       timeline.months(None, NONE)), 3))
        report("months (kept)", timings(lambda: timeline.months(None, NONE), args.repeat))
        report("on this day", timings(lambda: timeline.on_this_day(None, NONE, datetime.date(2025, 5, 12)),
                                      args.repeat))

        # An album of --album images, each a file where the album says it is.
        picked = rng.sample(items, min(args.album, len(items)))
        for item in picked:
            path = os.path.join(work, item["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.truncate(item["size"])  # sparse: the size and time search knows, so the very file it knew
            os.utime(path, (item["mtime"], item["mtime"]))
        config = Config(root=work)
        tree = Tree(config, storage)
        albums, access = Albums(storage, searcher, Folders(tree, config), tree), Access(OPEN)
        made = None
        for start in range(0, len(picked), 1000):
            paths = [item["path"] for item in picked[start:start + 1000]]
            if made is None:
                made = albums.create(OPEN, access, {"name": "bench", "images": paths})
            else:
                albums.change(OPEN, access, made["id"], {"add": paths})
        albums.view(OPEN, access, made["id"], 0, len(picked))  # the folders' listings built, as a first visit does
        report(f"album of {len(picked):,}: first page", timings(
            lambda: albums.view(OPEN, access, made["id"], 0, 100), args.repeat),
            timings(lambda: albums.view(OPEN, access, made["id"], 0, len(picked)), 3))
        report(f"album of {len(picked):,}: a page deep in it", timings(
            lambda: albums.view(OPEN, access, made["id"], len(picked) - 100, 100), args.repeat))
        print("  (naive for the album: opening it whole, every image found)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def timeline_day(month):
    return read_day(month)


if __name__ == "__main__":
    main()
