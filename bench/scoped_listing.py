"""What deciding a scope on what storage opens costs a listing: GET /folders of a folder of N images for
a user whose scope is that folder (each item's path is followed through links and pointers, to take out
what leads out of the scope), against the same request by an admin (no scope), in the same run.

    python bench/scoped_listing.py [--images 1000] [--repeat 30]

The app runs in this process (create_app, driven by webtest) on a tmp tree of small JPEGs; the listing
is built once before the timings. Prints the median and p90 of each, and their ratio.
"""

import argparse
import io
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import webtest  # noqa: E402
from PIL import Image  # noqa: E402

from lenslet.app import create_app  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.people.users import Directory  # noqa: E402


def timed(client, url, headers, repeat):
    """Seconds per request, each request timed alone."""
    spent = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get(url, headers=headers)
        spent.append(time.perf_counter() - started)
    return spent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenslet-scoped-") as root:
        folder = os.path.join(root, "family")
        os.makedirs(folder)
        drawn = io.BytesIO()
        Image.new("RGB", (64, 48), (200, 30, 30)).save(drawn, "JPEG")
        image = drawn.getvalue()
        for n in range(args.images):
            with open(os.path.join(folder, f"{n:06d}.jpg"), "wb") as out:
                out.write(image)
        directory = Directory(os.path.join(root, ".users.json"))
        tokens = {"user of the folder": directory.add("ann", "edit", ["family"]),
                  "admin (the baseline)": directory.add("root", "admin", [""])}
        client = webtest.TestApp(create_app(Config(root=root, users=directory.path)))
        figures = {}
        for who, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            assert len(client.get("/folders?path=family", headers=headers).json["items"]) == min(args.images, 1000)
            figures[who] = timed(client, "/folders?path=family", headers, args.repeat)
        for who, spent in figures.items():
            spent.sort()
            print(f"{who:22} median {statistics.median(spent) * 1000:7.2f} ms  "
                  f"p90 {spent[int(len(spent) * 0.9)] * 1000:7.2f} ms")
        user, admin = (statistics.median(spent) for spent in figures.values())
        print(f"ratio (user / admin, medians): {user / admin:.2f}x for {args.images} images")


if __name__ == "__main__":
    main()
