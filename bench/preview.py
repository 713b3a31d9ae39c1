"""The viewer's first paint of a 12 MP photo: the preview lenslet makes against the original.

    python bench/preview.py [--repeat 7] [--photo PATH]

Draws a 4000x3000 JPEG with a photo's kind of detail (smooth light, fine noise), or takes
--photo, puts it in a tree, and measures through the app (webtest against create_app, no
network): GET /preview the first time (made on demand) and again (from its cache), and
GET /file (the original, what the viewer loaded before previews). For each it prints the
bytes sent and the server's time, and the time to decode what arrived (Pillow, a stand-in
for the browser's decoder), the two costs of the first paint on a phone or a slow link.
Medians.
"""

import argparse
import io
import os
import shutil
import sys
import tempfile
import time

from PIL import Image, ImageFilter

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import webtest  # noqa: E402

from bench.common import median_time  # noqa: E402
from lenslet.app import create_app  # noqa: E402
from lenslet.config import Config  # noqa: E402
from lenslet.storage import open_storage  # noqa: E402


def photo_like(size=(4000, 3000)):
    """A JPEG with a photo's mix of smooth light and fine texture (flat colour would flatter both)."""
    light = Image.linear_gradient("L").resize(size).filter(ImageFilter.GaussianBlur(40))
    grain = Image.effect_noise(size, 48)
    bands = (Image.blend(light, grain, 0.35), Image.blend(light.rotate(90, expand=False), grain, 0.25),
             Image.blend(light.transpose(Image.Transpose.FLIP_LEFT_RIGHT), grain, 0.3))
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, "JPEG", quality=92)
    return out.getvalue()


def decode_time(data, repeat):
    def decode():
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    return median_time(decode, repeat)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--photo", help="a real photo to use instead of the drawn one")
    args = parser.parse_args()
    data = open(args.photo, "rb").read() if args.photo else photo_like()
    with Image.open(io.BytesIO(data)) as image:
        size = image.size
    work = tempfile.mkdtemp(prefix="lenslet-preview-")
    try:
        os.makedirs(os.path.join(work, "tree"))
        with open(os.path.join(work, "tree", "photo.jpg"), "wb") as f:
            f.write(data)
        made = []
        for _ in range(args.repeat):  # a fresh state folder each time: the preview made, not found
            config = Config(root=os.path.join(work, "tree"))
            shutil.rmtree(os.path.join(work, "tree", ".lenslet", "previews"), ignore_errors=True)
            client = webtest.TestApp(create_app(config, open_storage(config)))
            start = time.perf_counter()
            preview = client.get("/preview?path=photo.jpg").body
            made.append(time.perf_counter() - start)
        made.sort()
        cached = median_time(lambda: client.get("/preview?path=photo.jpg"), args.repeat)
        original = median_time(lambda: client.get("/file?path=photo.jpg"), args.repeat)
        with Image.open(io.BytesIO(preview)) as image:
            shown = image.size
        print(f"a {size[0]}x{size[1]} JPEG ({len(data) / 1e6:.1f} MB); medians of {args.repeat}")
        print(f"{'':28}{'bytes':>12}{'server':>12}{'decode':>12}")
        print(f"{'original (GET /file)':28}{len(data):>12,}{original * 1000:>10.1f}ms"
              f"{decode_time(data, args.repeat) * 1000:>10.1f}ms   (the baseline)")
        preview_decode = decode_time(preview, args.repeat) * 1000
        print(f"{'preview, made':28}{len(preview):>12,}{made[len(made) // 2] * 1000:>10.1f}ms"
              f"{preview_decode:>10.1f}ms   {shown[0]}x{shown[1]} WebP")
        print(f"{'preview, from its cache':28}{len(preview):>12,}{cached * 1000:>10.1f}ms{preview_decode:>10.1f}ms")
        print(f"the preview is {len(data) / len(preview):.1f}x fewer bytes; "
              f"on a 20 Mbit/s link the original takes {len(data) * 8 / 20e6:.2f} s to arrive, "
              f"the preview {len(preview) * 8 / 20e6:.2f} s")
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
