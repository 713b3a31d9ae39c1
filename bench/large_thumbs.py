"""The second thumbnail size against the first, in the same run: making them, and what a Rows folder costs
a 2x screen.

    python bench/large_thumbs.py [--images 100] [--photos DIR]

Photos: the JPEGs of --photos (real ones: Debian's wallpapers, say, `apt-get download desktop-base` and
`dpkg -x` the .deb into a folder), else drawn with Pillow at 3000x2000 with a photo's kind of detail (said
in the output). For each size (LENSLET_THUMB_SIZE's 256, LENSLET_THUMB_SIZE_LARGE's 512) a fresh process
makes every thumbnail as lenslet does (pillow.make_thumbnail: draft scaling, one resize, WebP at quality
70) and reports its time and its peak memory (ru_maxrss), so each figure is that size's alone; the ratio
large/small is printed beside them.

Page bytes: the thumbnails a Rows folder of these photos loads on a 2x screen, before (every tile the small
one) and after (the page's srcset takes the large one where a tile is drawn with more device pixels than the
small one has: in Rows a photo is drawn --row 180 CSS px high, 360 device px on a 2x screen).
"""

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lenslet.images import pillow  # noqa: E402

SMALL, LARGE, QUALITY, MAX_PIXELS = 256, 512, 70, 100_000_000
ROW = 180  # CSS px: the height of a Rows tile (gallery.css --row)


def drawn_photos(folder, count):
    from bench.preview import photo_like
    one = photo_like((3000, 2000))  # one drawing, varied by a crop shift: drawing 100 costs minutes
    from PIL import Image
    base = Image.open(io.BytesIO(one))
    paths = []
    for n in range(count):
        shifted = base.transform(base.size, Image.Transform.AFFINE, (1, 0, n * 7 % 300, 0, 1, n * 5 % 200))
        path = os.path.join(folder, f"{n:04d}.jpg")
        shifted.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def child(size, paths_file):
    """Make every thumbnail of the listed photos at size; print {seconds, peakKB, bytes: [...], dims: [...]}."""
    paths = json.load(open(paths_file))
    made, dims = [], []
    start = time.perf_counter()
    for path in paths:
        with open(path, "rb") as stream:
            thumb = pillow.make_thumbnail(stream, size, QUALITY, MAX_PIXELS)
        made.append(len(thumb))
    seconds = time.perf_counter() - start
    for path in paths:
        with open(path, "rb") as stream:
            found = pillow.probe(stream)
        dims.append((found["w"], found["h"]))
    print(json.dumps({"seconds": seconds, "peakKB": peak_kb(), "bytes": made, "dims": dims}))


def peak_kb():
    """This process's peak resident memory: VmHWM, which starts afresh at exec (ru_maxrss would carry the
    parent's peak over, here the drawing of the photos)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(size, paths_file):
    out = subprocess.run([sys.executable, __file__, "--child", str(size), paths_file], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--photos", help="a folder of JPEGs and PNGs (real photos) to use instead of drawn ones")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(int(args.child[0]), args.child[1])
    with tempfile.TemporaryDirectory(prefix="lenslet-bench-") as folder:
        if args.photos:
            found = sorted(os.path.join(root, name) for root, _, names in os.walk(args.photos)
                           for name in names if name.lower().endswith((".jpg", ".jpeg", ".png")))
            paths = (found * (args.images // max(1, len(found)) + 1))[:args.images]
            kind = f"{len(found)} real photos (JPEG, PNG)"
            if not found:
                sys.exit(f"no JPEG or PNG in {args.photos}")
        else:
            paths, kind = drawn_photos(folder, args.images), "drawn 3000x2000 JPEGs (no real photos given)"
        paths_file = os.path.join(folder, "paths.json")
        json.dump(paths, open(paths_file, "w"))
        small, large = measure(SMALL, paths_file), measure(LARGE, paths_file)
    count = len(paths)
    print(f"{count} photos: {kind}")
    print(f"{'':18}{'small 256':>14}{'large 512':>14}{'large/small':>14}")
    print(f"{'time, s':18}{small['seconds']:14.2f}{large['seconds']:14.2f}{large['seconds'] / small['seconds']:14.2f}")
    print(f"{'per photo, ms':18}{1000 * small['seconds'] / count:14.1f}{1000 * large['seconds'] / count:14.1f}")
    print(f"{'peak memory, MB':18}{small['peakKB'] / 1024:14.1f}{large['peakKB'] / 1024:14.1f}"
          f"{large['peakKB'] / small['peakKB']:14.2f}")
    before = sum(small["bytes"])
    after = 0
    for (w, h), small_bytes, large_bytes in zip(small["dims"], small["bytes"], large["bytes"], strict=True):
        device_width = 2 * ROW * w / h  # drawn in Rows, on a 2x screen
        small_width = w * min(1, SMALL / max(w, h))
        after += large_bytes if device_width > small_width else small_bytes
    print(f"{'Rows page on 2x, KB':18}{before / 1024:14.0f}{after / 1024:14.0f}{after / before:14.2f}"
          "   (before: small only; after: the srcset's picks)")


if __name__ == "__main__":
    main()
