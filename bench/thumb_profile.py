"""Where a thumbnail's time goes, JPEG and PNG, stage by stage, against libvips in the same run.

    python bench/thumb_profile.py [--rounds 3] [--size 256]

One process, one core, on the real photos of bench/photos.py. For each photo and round,
lenslet's make_thumbnail is timed whole and in its stages, the same calls in the same
order: open (the header read, JPEG's draft scale chosen), decode (the pixels, at that
scale), convert (to RGB or RGBA, an opaque alpha dropped), resize (reduce by a whole
factor, then one bicubic step) and encode (WebP at the same quality and method). The
baseline is libvips (one thread, no cache) doing the same thumbnail: its shrink-on-load
decode with the resize (`thumbnail` forced into memory), then its WebP encode; and, to
split its decode from its resize, the decode alone at the same shrink. Printed per kind:
the median milliseconds per photo of each stage and of the whole, for both, and the
ratio of the wholes (libvips / lenslet: below 1, lenslet is slower). Needs pyvips and
pyvips-binary for the baseline only (pip install pyvips pyvips-binary); lenslet never
uses them.
"""

import argparse
import io
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

os.environ.setdefault("VIPS_CONCURRENCY", "1")  # one libvips thread: one core, as lenslet's one decode

from PIL import Image, features  # noqa: E402

from bench.photos import kind, photos  # noqa: E402
from lenslet.images import pillow  # noqa: E402

QUALITY, MAX_PIXELS = 70, 100_000_000
LENSLET = ("open", "decode", "convert", "resize", "encode")
LIBVIPS = ("decode", "resize", "encode")


def lenslet_stages(data, size):
    """Seconds of each of make_thumbnail's stages for one photo, as it runs them."""
    spent, clock = {}, time.perf_counter
    start = clock()
    with Image.open(io.BytesIO(data), formats=pillow.open_formats()) as img:
        img.draft(img.mode, pillow.fitted(img.size, size))
        spent["open"] = clock() - start
        start = clock()
        img.load()
        spent["decode"] = clock() - start
        start = clock()
        thumb = pillow._without_opaque_alpha(pillow._displayable(img))
        spent["convert"] = clock() - start
        start = clock()
        thumb.thumbnail((size, size), Image.Resampling.BICUBIC, reducing_gap=1.0)
        spent["resize"] = clock() - start
    start = clock()
    thumb.save(io.BytesIO(), "WEBP", quality=QUALITY, method=pillow.WEBP_METHOD)
    spent["encode"] = clock() - start
    return spent


def lenslet_whole(data, size):
    start = time.perf_counter()
    pillow.make_thumbnail(io.BytesIO(data), size, QUALITY, MAX_PIXELS)
    return time.perf_counter() - start


def libvips_stages(pyvips, path, size):
    """Seconds of libvips's thumbnail for one photo: decode alone at the shrink its thumbnail
    uses, decode with resize, and the encode; resize = the second less the first."""
    clock = time.perf_counter
    start = clock()
    thumb = pyvips.Image.thumbnail(path, size).copy_memory()
    shrunk = clock() - start
    start = clock()
    thumb.webpsave_buffer(Q=QUALITY, effort=pillow.WEBP_METHOD, keep="none")
    encode = clock() - start
    # The decode alone: a JPEG at the shrink-on-load factor its thumbnail took, a PNG whole.
    full = pyvips.Image.new_from_file(path, access="sequential")
    start = clock()
    if full.get("vips-loader").startswith("jpeg"):
        factor = 1
        while factor < 8 and max(full.width, full.height) // (factor * 2) >= size:
            factor *= 2
        pyvips.Image.new_from_file(path, access="sequential", shrink=factor).copy_memory()
    else:
        full.copy_memory()
    decoded = clock() - start
    return {"decode": decoded, "resize": max(0.0, shrunk - decoded), "encode": encode, "whole": shrunk + encode}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args()
    try:
        import pyvips
    except ImportError:
        raise SystemExit("the baseline needs pyvips: pip install pyvips pyvips-binary") from None
    pyvips.cache_set_max(0)  # the same file comes back every round: no cached results
    paths = photos()
    # ms per photo, per (kind, side, stage): the median over the rounds of each photo, then over photos.
    per_photo = {}
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        samples = {}
        for number in range(args.rounds):
            # Alternate who goes first, so neither side always finds the file's pages warm.
            sides = ["lenslet", "libvips"] if number % 2 == 0 else ["libvips", "lenslet"]
            for side in sides:
                if side == "lenslet":
                    spent = lenslet_stages(data, args.size)
                    spent["whole"] = lenslet_whole(data, args.size)
                else:
                    spent = libvips_stages(pyvips, path, args.size)
                for stage, seconds in spent.items():
                    samples.setdefault((side, stage), []).append(seconds * 1000)
        for (side, stage), values in samples.items():
            per_photo.setdefault((kind(path), side, stage), []).append(statistics.median(values))
    print(f"{len(paths)} photos, thumbnails of {args.size} px, WebP quality {QUALITY} method {pillow.WEBP_METHOD}, "
          f"one core; Pillow {Image.__version__} (zlib {features.version('zlib')}, libjpeg "
          f"{features.version('jpg')}), libvips {pyvips.version(0)}.{pyvips.version(1)}")
    print("median ms per photo (the stages' medians need not add up to the whole's)")
    for name in ("jpeg", "png"):
        count = len(per_photo.get((name, "lenslet", "whole"), []))
        if not count:
            continue
        print(f"\n{name} ({count} photos)")
        for side, stages in (("lenslet", LENSLET), ("libvips", LIBVIPS)):
            shown = "  ".join(f"{stage} {statistics.median(per_photo[(name, side, stage)]):6.1f}" for stage in stages)
            print(f"  {side:8} {shown}   whole {statistics.median(per_photo[(name, side, 'whole')]):6.1f}")
        ours = statistics.median(per_photo[(name, "lenslet", "whole")])
        theirs = statistics.median(per_photo[(name, "libvips", "whole")])
        print(f"  ratio (libvips ms / lenslet ms): {theirs / ours:.2f}")


if __name__ == "__main__":
    main()
