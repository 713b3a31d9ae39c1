"""Thumbnails per second on one core: lenslet vs the naive way vs pyvips.

    python bench/thumbs.py [--repeat 7]

Three generated photo-like images (a 12 MP JPEG, a 1024x1024 PNG, a 1600x900
WebP), each turned into a 256 px WebP at quality 70 by:
- lenslet: images.make_thumbnail (reduced-scale JPEG decode, reducing_gap resize);
- naive: full decode, LANCZOS resize, WebP method=6;
- pyvips: thumbnail_buffer + webpsave_buffer, when pyvips is installed
  (pip install pyvips pyvips-binary; a baseline only, never a dependency).
Everything runs in this one process on one thread (VIPS_CONCURRENCY=1). Medians.
"""

import argparse
import io
import os
import statistics
import sys
import time

os.environ.setdefault("VIPS_CONCURRENCY", "1")

from PIL import Image, ImageDraw, ImageFilter, ImageOps  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lenslet.images.pillow import make_thumbnail  # noqa: E402

try:
    import pyvips
except (ImportError, OSError):
    pyvips = None


def photo(width, height, seed, grain=0.22):
    """A photo-like picture: smooth light, shapes with soft edges, sensor grain."""
    gradient = Image.linear_gradient("L").resize((width, height))
    bands = (gradient, gradient.transpose(Image.Transpose.ROTATE_180), gradient.point(lambda v: 255 - v // 2))
    img = Image.merge("RGB", bands)
    draw = ImageDraw.Draw(img)
    state = seed
    for _ in range(60):
        state = (state * 1103515245 + 12345) % 2**31
        x, y = state % width, (state // 7) % height
        radius = 20 + state % (min(width, height) // 6)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius),
                     fill=(state % 256, (state // 3) % 256, (state // 5) % 256))
    img = img.filter(ImageFilter.GaussianBlur(1))
    # Sensor grain and texture: what makes a real 12 MP JPEG 3-5 MB, not 0.5.
    noise = Image.merge("RGB", [Image.effect_noise((width, height), 60) for _ in range(3)])
    return Image.blend(img, noise, grain)


def encoded(img, fmt, **options):
    out = io.BytesIO()
    img.save(out, fmt, **options)
    return out.getvalue()


def naive(data):
    img = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    img.thumbnail((256, 256), Image.Resampling.LANCZOS, reducing_gap=None)
    return encoded(img.convert("RGB"), "WEBP", quality=70, method=6)


def lenslet(data):
    return make_thumbnail(io.BytesIO(data), 256, 70, 100_000_000)


def vips(data):
    return pyvips.Image.thumbnail_buffer(data, 256).webpsave_buffer(Q=70)


def rate(fn, data, repeat):
    fn(data)  # warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(data)
        times.append(time.perf_counter() - start)
    return 1 / statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, for every contender alike
    kinds = {
        # Two 12 MP JPEGs: a clean one and a grainy one the size a phone writes.
        "12 MP JPEG": encoded(photo(4000, 3000, 1, grain=0.03), "JPEG", quality=90),
        "12 MP JPEG, grainy": encoded(photo(4000, 3000, 1), "JPEG", quality=90),
        "1024x1024 PNG": encoded(photo(1024, 1024, 2), "PNG"),
        "1600x900 WebP": encoded(photo(1600, 900, 3), "WEBP", quality=85),
    }
    print(f"pyvips: {pyvips.__version__ if pyvips else 'not installed'}")
    for name, data in kinds.items():
        ours = rate(lenslet, data, args.repeat)
        plain = rate(naive, data, max(3, args.repeat // 2))
        line = (f"{name:>18} ({len(data) / 1e6:.1f} MB): lenslet {ours:6.1f}/s, naive {plain:5.1f}/s "
                f"= {ours / plain:4.1f}x")
        if name.startswith("12 MP JPEG"):
            line += f" (target >= 8x: {'met' if ours / plain >= 8 else 'MISSED'})"
        if pyvips:
            theirs = rate(vips, data, args.repeat)
            line += f"; pyvips {theirs:6.1f}/s = {ours / theirs:4.2f}x (target >= 1.0x: " \
                    f"{'met' if ours >= theirs else 'MISSED'})"
        print(line)


if __name__ == "__main__":
    main()
