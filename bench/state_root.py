"""Listings, search and thumbnails with lenslet's files in a state root (LENSLET_STATE) against the same tree
with its files beside the images (the baseline), in the same run.

    python bench/state_root.py [--images 20000] [--per-folder 500] [--repeat 20]

Two copies of one tree of small JPEGs, each indexed once (thumbnails, listings, rollup) and every listing read
once before the timings, which start a moment (manifests.RACY) after; the app runs in this process (create_app,
driven by webtest). Timed, each as a median:
  folder listed     storage.list_folder of every folder (a state root lists two folders and merges them)
  listing, first    GET /folders of every folder by a fresh app (its pages read from storage)
  search            GET /search for a word every image's name holds, by a warm app
  thumbnail         GET /thumb of 200 images spread over the tree
The two layouts are timed in turns, step by step, each first in every other turn, so both see the same machine.
Prints each figure for both layouts and their ratio (state root / beside; the target is at most 1.0x).
"""

import argparse
import gc
import io
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))

import webtest  # noqa: E402
from helpers import index_tree  # noqa: E402
from PIL import Image  # noqa: E402

from lenslet.app import create_app  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.formats.manifests import RACY  # noqa: E402
from lenslet.storage import open_storage  # noqa: E402


def draw_tree(root, images, per_folder):
    drawn = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(drawn, "JPEG")
    folders = []
    for n in range(images):
        folder = os.path.join(root, f"day{n // per_folder:04d}")
        if n % per_folder == 0:
            os.makedirs(folder)
            folders.append(os.path.basename(folder))
        with open(os.path.join(folder, f"photo {n:06d}.jpg"), "wb") as out:
            out.write(drawn.getvalue())
    return folders


def prepare(config, folders):
    storage = open_storage(config)
    index_tree(config, storage)
    warm = webtest.TestApp(create_app(config, storage))
    assert warm.get("/search?q=photo&limit=10").json["total"] > 0
    # Every listing read once: built again with the thumbnails made after it, and stored, as the worker's next
    # look does in a running service (else a fresh app's first turn builds them, and beside the images the
    # pages it stores move the folders it then reads within manifests.RACY: listed twice for their counts).
    listed = {folder: warm.get(f"/folders?path={folder}").json["items"] for folder in folders}
    thumbs = [f"{folder}/{item['name']}" for folder in folders[:: max(1, len(folders) // 20)]
              for item in listed[folder][:10]]

    def first_listings():
        fresh = webtest.TestApp(create_app(config, open_storage(config)))
        for folder in folders:
            fresh.get(f"/folders?path={folder}")

    return {
        "folder listed": lambda: [storage.list_folder(folder) for folder in folders],
        "listing, first": first_listings,
        "search": lambda: warm.get("/search?q=photo&limit=100"),
        "thumbnail": lambda: [warm.get(f"/thumb?path={path}") for path in thumbs],
    }


def measure(layouts, repeat):
    """Times each step of both layouts in turns, so that a machine growing busier or a cache warming during
    the run weighs on both alike; each figure is the median of its turns. Which layout goes first alternates
    (a step can leave work to the next one: a collection of the garbage it made, a page cache to refill), and
    what both apps hold after preparing is frozen out of the collector, as gunicorn's pre_fork does for a web
    process (service/gunicorn_conf.py), so a full collection costs what it costs the service. Each turn starts
    with the garbage of the one before collected, untimed (a fresh app of 'listing, first', gone after its
    turn, was otherwise collected in a later step's turn, of either layout: thumbnails at the state root read
    1.06x-1.09x once the warm app had read every listing, 1.00x with the same code and a collection first)."""
    gc.collect()
    gc.freeze()
    spent = {layout: {step: [] for step in steps} for layout, steps in layouts.items()}
    for step in next(iter(layouts.values())):
        turns = max(4, repeat // 4) if step == "listing, first" else repeat
        for turn in range(turns):
            for layout, steps in (layouts.items() if turn % 2 == 0 else reversed(layouts.items())):
                gc.collect()
                started = time.perf_counter()
                steps[step]()
                spent[layout][step].append(time.perf_counter() - started)
    return {layout: {step: statistics.median(times) * 1000 for step, times in steps.items()}
            for layout, steps in spent.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20000)
    parser.add_argument("--per-folder", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenslet-state-root-") as work:
        beside, library = os.path.join(work, "beside"), os.path.join(work, "library")
        folders = draw_tree(beside, args.images, args.per_folder)
        draw_tree(library, args.images, args.per_folder)
        started = time.perf_counter()
        layouts = {"beside": prepare(Config(root=beside, thumb_processes=0), folders),
                   "state root": prepare(Config(root=library, state=os.path.join(work, "state"),
                                                thumb_processes=0), folders)}
        time.sleep(RACY + 0.5)  # a gallery read a while after its worker ran: no folder moved within RACY
        figures = measure(layouts, args.repeat)
        baseline, kept = figures["beside"], figures["state root"]
        print(f"{args.images} images in {len(folders)} folders ({time.perf_counter() - started:.0f} s in all)")
        print(f"{'':16} {'beside':>10} {'state root':>11}  ratio")
        for name, ms in baseline.items():
            print(f"{name:16} {ms:8.2f} ms {kept[name]:8.2f} ms  {kept[name] / ms:.2f}x")


if __name__ == "__main__":
    main()
