"""Counts and covers in a listing: what they add to GET /folders of the root of a tree of many folders.

    python bench/counts.py [--folders 2000] [--images 5] [--repeat 15]

Builds a tree of `--folders` folders (three levels: 2024/month/day) of `--images`
small JPEGs each, lists every folder once (as the worker would have), then times, in
the same run, the root's manifest page as stored (the baseline: what GET /folders
answered before counts) and the same page with counts and covers worked out (every
folder below looked at: one stat each while unchanged), and the same page while no listing
changed (the counts kept in memory, checked by one read of .lenslet/listed). Medians.
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import median_time  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.formats import manifests  # noqa: E402
from lenslet.manifest.listings import Folders  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.tree.tree import Tree  # noqa: E402


def build(root, folders, images):
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    data = out.getvalue()
    months = max(1, int(round(folders ** 0.5)))
    made = 0
    while made < folders:
        month, day = divmod(made, months)
        path = os.path.join(root, "2024", f"m{month:03d}", f"d{day:03d}")
        os.makedirs(path, exist_ok=True)
        for n in range(images):
            with open(os.path.join(path, f"IMG_{n:03d}.jpg"), "wb") as f:
                f.write(data)
        made += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--images", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix="lenslet-counts-")
    try:
        build(root, args.folders, args.images)
        config = Config(root=root)
        storage = LocalStorage(root)
        folders = Folders(Tree(config, storage), config)
        for dirpath, _dirnames, _ in os.walk(root):
            key = os.path.relpath(dirpath, root).replace(os.sep, "/")
            folders.page("" if key == "." else key, 0)
        # A folder listed within a coarse clock's step of its last change is listed again: a tree at rest
        # is one whose folders changed more than that before (here: its manifests, just written).
        time.sleep(manifests.RACY + 0.5)
        own, _ = folders.summarize(storage, "", "")
        assert own["allImages"] == args.folders * args.images, own
        stored = median_time(lambda: folders._page(storage, "", "", 0), args.repeat)

        def walked():
            folders.counts.clear()  # as after a listing changed somewhere: every folder below looked at
            return folders.page("", 0)

        counted = median_time(walked, args.repeat)
        kept = median_time(lambda: folders.page("", 0), args.repeat)
        print(f"GET /folders of the root over {args.folders} folders of {args.images} images "
              f"(medians of {args.repeat}):")
        print(f"  stored page alone (baseline)      {stored * 1000:8.2f} ms")
        print(f"  counts worked out (a change)      {counted * 1000:8.2f} ms "
              f"({counted / stored:.0f}x; {counted / args.folders * 1e6:.1f} us per folder below)")
        print(f"  counts kept (nothing changed)     {kept * 1000:8.2f} ms ({kept / stored:.0f}x)")
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
