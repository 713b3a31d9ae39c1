"""GET /thumb of an existing thumbnail through gunicorn, against a bare Falcon resource.

    python bench/serve.py [--seconds 5] [--rounds 3]

Both apps run under gunicorn with the same flags (2 workers x 4 threads) on
loopback and serve the same .thumbnail bytes; wrk (apt-get install wrk) loads
each in turn, a few rounds, and the medians are compared.
"""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import Server, compare  # noqa: E402
from bench.thumbs import photo  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.images.thumbs import Thumbs  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.tree.tree import Tree  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        root = os.path.join(work, "tree")
        os.makedirs(os.path.join(root, "album"))
        photo(2400, 1600, 7).save(os.path.join(root, "album", "p.jpg"), quality=90)
        config = Config(root=root)
        tree = Tree(config, LocalStorage(root))
        place, _ = tree.locate_image("album/p.jpg")
        Thumbs(tree, config).make(place.storage, place.key)
        thumb_file = os.path.join(root, "album", "p.jpg.thumbnail")
        env = {"LENSLET_ROOT": root, "BARE_FILE": thumb_file, "BARE_TYPE": "image/webp"}
        with Server("lenslet.app:create_app()", env, work) as lenslet, \
                Server("bench.bare:create_app()", env, work) as bare:
            ours, theirs = compare(lenslet, bare, "/thumb?path=album/p.jpg", args.rounds, args.seconds)
        print(f"GET /thumb, existing {os.path.getsize(thumb_file) / 1024:.1f} KiB thumbnail, gunicorn 2x4, wrk -c8: "
              f"lenslet {ours:,.0f} req/s vs bare Falcon {theirs:,.0f} req/s = {ours / theirs:.2f}x "
              f"(target >= 0.8x: {'met' if ours / theirs >= 0.8 else 'MISSED'})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
