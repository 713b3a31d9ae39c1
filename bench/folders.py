"""Folder manifests: cold index, re-checks, incremental rebuild, GET /folders throughput.

    python bench/folders.py [--images 10000] [--repeat 9]

Builds a generated tree in a temporary folder (small JPEGs with an EXIF block: a
probe reads only the header, which is the same size for a 64 px or a 12 MP JPEG)
and prints each figure next to its target. Serving is measured with wrk through
gunicorn (same flags for both) against a bare Falcon resource returning the same
bytes, in the same run. Times are medians.
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

from bench.common import Server, compare, median_time  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.manifest.listings import Folders  # noqa: E402
from lenslet.storage import LocalStorage  # noqa: E402
from lenslet.tree.tree import Tree  # noqa: E402


def jpeg_variants(count=16):
    variants = []
    for n in range(count):
        exif = Image.Exif()
        exif[0x010F], exif[0x0110], exif[0x0112] = "Camera Maker", f"Model {n}", 1 + n % 8
        exif.get_ifd(0x8769)[0x9003] = "2024:05:01 12:30:00"
        out = io.BytesIO()
        Image.new("RGB", (64 + n, 48), (n * 10, 80, 160)).save(out, "JPEG", quality=80, exif=exif.tobytes())
        variants.append(out.getvalue())
    return variants


def make_folder(path, count, variants, prefix="IMG"):
    os.makedirs(path, exist_ok=True)
    for n in range(count):
        with open(os.path.join(path, f"{prefix}_{n:05d}.jpg"), "wb") as f:
            f.write(variants[n % len(variants)])


def verdict(ok):
    return "met" if ok else "MISSED"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seconds", type=int, default=5, help="wrk run length")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="lenslet-bench-")
    try:
        variants = jpeg_variants()
        root = os.path.join(work, "tree")
        make_folder(os.path.join(root, "big"), args.images, variants)
        config = Config(root=root)
        storage = LocalStorage(root)
        folders = Folders(Tree(config, storage), config)

        start = time.perf_counter()
        folders.refresh(storage, "big", None)
        cold = time.perf_counter() - start
        print(f"cold index, {args.images} images, no thumbnails: {cold:.2f} s = {args.images / cold:,.0f} items/s "
              f"(target >= 5,000 items/s: {verdict(args.images / cold >= 5000)})")

        folders.page("big", 0)
        quick = median_time(lambda: folders.page("big", 0), args.repeat * 20)
        print(f"re-check of the unchanged {args.images}-item folder as GET /folders does it "
              f"(folder mtime + page stat): {quick * 1e6:.0f} us (target <= 20 ms: {verdict(quick <= 0.020)})")
        deep = median_time(lambda: folders.refresh(storage, "big", None), args.repeat)
        scan = median_time(lambda: [entry.stat() for entry in os.scandir(os.path.join(root, "big"))], args.repeat)
        print(f"full re-check comparing every file's size and time (every LENSLET_RECHECK s): "
              f"{deep * 1000:.0f} ms; bare os.scandir + stat of the folder alone: {scan * 1000:.0f} ms "
              f"(target <= 20 ms: {verdict(deep <= 0.020)})")

        added = []

        def add_one():
            name = os.path.join(root, "big", f"NEW_{len(added):03d}.jpg")
            with open(name, "wb") as f:
                f.write(variants[0])
            added.append(name)
            folders.refresh(storage, "big", None)

        incremental = median_time(add_one, args.repeat)
        print(f"incremental rebuild after adding one file: {incremental * 1000:.0f} ms "
              f"(vs {cold * 1000:.0f} ms cold)")

        make_folder(os.path.join(root, "page"), 1000, variants)
        folders.page("page", 0)
        page_file = os.path.join(root, "page", "_index.json")
        env = {"LENSLET_ROOT": root, "BARE_FILE": page_file}
        with Server("lenslet.app:create_app()", env, work) as lenslet, \
                Server("bench.bare:create_app()", env, work) as bare:
            ours, theirs = compare(lenslet, bare, "/folders?path=page", 3, args.seconds)
        print(f"GET /folders, 1,000-item page ({os.path.getsize(page_file) / 1024:.0f} KiB), fresh manifest, "
              f"gunicorn 2x4 + wrk -c8: {ours:,.0f} req/s vs bare Falcon {theirs:,.0f} req/s = {ours / theirs:.2f}x "
              f"(target >= 0.7x: {verdict(ours / theirs >= 0.7)})")

        print("page size: a 5,000-item folder read page by page in-process (time to fetch every item):")
        make_folder(os.path.join(root, "sizes"), 5000, variants)
        for size in (250, 500, 1000, 2000, 5000):
            sized = Config(root=root, page_size=size)
            sized_folders = Folders(Tree(sized, LocalStorage(root)), sized)
            sized_folders.refresh(sized_folders.tree.root, "sizes", None)
            count = sized_folders.memo[(sized_folders.tree.root.identity, "sizes")].page_count
            whole = median_time(lambda f=sized_folders, c=count: [f.page("sizes", n) for n in range(c)], args.repeat)
            first = len(sized_folders.page("sizes", 0))
            print(f"  {size:>5} items/page: first page {first / 1024:>5.0f} KiB, whole folder {whole * 1000:5.2f} ms"
                  f" in {count} requests")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
