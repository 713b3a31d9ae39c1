"""Bulk file operations: trash, restore, move and delete 1,000 images of a 3,000-image folder.

Each operation is one request (POST /trash, /restore, /move, /delete with 1,000 paths)
and rebuilds each touched listing once. Printed beside two baselines measured in the same
run: the floor (the same files renamed with plain os.rename, nothing else), and the
one-image-at-a-time way (one request per image, as before bulk operations: timed on 20
images and scaled to 1,000). Medians of --repeat fresh trees.

    python bench/bulk.py [--images 3000] [--moved 1000] [--repeat 3]
"""

import argparse
import io
import json
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

ONE_BY_ONE = 20  # images timed one request each


def make_tree(root, images):
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "JPEG")
    folder = os.path.join(root, "big")
    os.makedirs(os.path.join(root, "elsewhere"))
    os.makedirs(folder)
    for number in range(images):
        name = os.path.join(folder, f"IMG_{number:05d}.jpg")
        with open(name, "wb") as image:
            image.write(out.getvalue())
        with open(name + ".json", "wb") as sidecar:
            sidecar.write(json.dumps({"v": 1, "tags": [f"t{number % 7}"], "notes": "", "star": None}).encode())
        with open(name + ".thumbnail", "wb") as thumb:
            thumb.write(b"RIFF0000WEBP")


def timed(call):
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def one_round(images, moved):
    with tempfile.TemporaryDirectory() as root:
        make_tree(root, images)
        client = webtest.TestApp(create_app(Config(root=root, recheck=0)))
        client.get("/folders?path=big")
        paths = [f"big/IMG_{number:05d}.jpg" for number in range(moved)]
        trashed = [f"_trash_/IMG_{number:05d}.jpg" for number in range(moved)]
        took = {
            "trash": timed(lambda: client.post_json("/trash", {"paths": paths})),
            "restore": timed(lambda: client.post_json("/restore", {"paths": trashed})),
            "move": timed(lambda: client.post_json("/move", {"src": paths, "dest": "elsewhere"})),
        }
        moved_paths = [f"elsewhere/IMG_{number:05d}.jpg" for number in range(moved)]
        took["delete"] = timed(lambda: client.post_json("/delete", {"paths": moved_paths, "force": True}))
        rest = [f"big/IMG_{number:05d}.jpg" for number in range(moved, moved + ONE_BY_ONE)]
        one = timed(lambda: [client.post_json("/trash", {"paths": [path]}) for path in rest])
        took["one by one"] = one / ONE_BY_ONE * moved
        floor = os.path.join(root, "floor")
        os.makedirs(floor)
        names = [f"IMG_{number:05d}.jpg" for number in range(moved + ONE_BY_ONE, 2 * moved + ONE_BY_ONE)]
        took["os.rename"] = timed(lambda: [os.rename(os.path.join(root, "big", name + suffix),
                                                     os.path.join(floor, name + suffix))
                                           for name in names for suffix in (".thumbnail", ".json", "")])
        return took


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=3000)
    parser.add_argument("--moved", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = [one_round(args.images, args.moved) for _ in range(args.repeat)]
    median = {name: statistics.median(r[name] for r in rounds) for name in rounds[0]}
    print(f"{args.moved} of {args.images} images in one folder, median of {args.repeat} runs (seconds):")
    for name in ("trash", "restore", "move", "delete"):
        print(f"  {name:8} {median[name]:6.2f} s   {median['one by one'] / median[name]:5.1f}x faster than one "
              f"request per image ({median['one by one']:.1f} s, trash scaled from {ONE_BY_ONE}), "
              f"{median[name] / median['os.rename']:5.1f}x plain os.rename ({median['os.rename']:.2f} s)")


if __name__ == "__main__":
    main()
