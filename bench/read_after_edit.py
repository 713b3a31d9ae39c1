"""What a read of a folder just edited costs, against a read of it at rest; what an edit costs with its
listing page written by an exchange of names, against renamed over the old page; in the same run.

    python bench/read_after_edit.py [--images 1000] [--reads 400]

The app in this process (create_app, driven by webtest) on a folder of small JPEGs, indexed once: GET
/folders of the folder right after a PATCH of one of its images (the page changed, so the answer is made
again), and GET /folders with nothing changed (the answer kept); then PATCH /item (a tag added to an image
that has a sidecar) with the page taking its name by an exchange (as lenslet does) and by a rename over the
old page (as before, and where names cannot be exchanged), in turns; medians of --reads each.
"""

import argparse
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
from lenslet.storage import local, open_storage  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenslet-read-after-edit-") as root:
        os.makedirs(os.path.join(root, "big"))
        drawn = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 30, 30)).save(drawn, "JPEG")
        for n in range(args.images):
            with open(os.path.join(root, "big", f"IMG_{n:05d}.jpg"), "wb") as out:
                out.write(drawn.getvalue())
        config = Config(root=root, thumb_processes=0)
        storage = open_storage(config)
        index_tree(config, storage)
        app = webtest.TestApp(create_app(config, storage), extra_environ={"HTTP_HOST": "localhost"})
        size = len(app.get("/folders?path=big").body)

        def edit(n):
            app.patch_json(f"/item?path=big/IMG_{n % args.images:05d}.jpg", {"addTags": [f"t{n}"]},
                           headers={"Origin": "http://localhost"})

        def timed_read():
            started = time.perf_counter()
            app.get("/folders?path=big")
            return time.perf_counter() - started

        for n in range(50):  # every image's first edit makes its sidecar: not what is timed
            edit(n)
        after_edit, at_rest = [], []
        for n in range(args.reads):
            edit(n)
            after_edit.append(timed_read())
            at_rest.append(timed_read())
        edited, rest = statistics.median(after_edit) * 1000, statistics.median(at_rest) * 1000
        print(f"GET /folders of {args.images:,} items ({size:,} bytes), median of {args.reads}")
        print(f"  right after an edit in it  {edited:6.3f} ms")
        print(f"  at rest (the answer kept)  {rest:6.3f} ms   after an edit: {edited / rest:.1f}x")

        exchange = local._exchange
        ways = {"exchanged": exchange, "renamed": lambda *names: False}  # False: names cannot be exchanged here
        times = {way: [] for way in ways}
        try:
            for n in range(args.reads):
                for way in (ways if n % 2 else reversed(list(ways))):  # in turns, either first
                    local._exchange = ways[way]
                    started = time.perf_counter()
                    edit(n % 50)  # an image with a sidecar already
                    times[way].append(time.perf_counter() - started)
        finally:
            local._exchange = exchange
        swapped, renamed = (statistics.median(times[way]) * 1000 for way in ways)
        print(f"PATCH /item in it (a tag added), median of {args.reads}")
        print(f"  its page taking the name by an exchange  {swapped:6.3f} ms")
        print(f"  its page renamed over the old one        {renamed:6.3f} ms   exchanged: {swapped / renamed:.2f}x")


if __name__ == "__main__":
    main()
