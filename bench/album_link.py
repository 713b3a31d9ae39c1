"""What an album's share link costs a thumbnail, now and at a baseline revision measured in the same run.

    python bench/album_link.py [--base main] [--images 1000] [--folders 10] [--repeat 30]

A tree on disk of --images small JPEGs, "clustered" in --folders folders or "scattered" each in a folder
of its own, indexed, made one album and shared. Then --repeat thumbnails (made already) are asked through
the link, each request deciding what the link opens now. This checkout and an extract of --base are each
measured in a subprocess whose PYTHONPATH is that checkout. Times are medians per request.
"""

import argparse
import contextlib
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PROJECT)

from bench.album_pages import extract  # noqa: E402

SHAPES = ("clustered", "scattered")


def measure(images, folders, repeat):
    """{shape: median seconds of a thumbnail through the album's link} with the lenslet on PYTHONPATH."""
    import webtest
    from PIL import Image

    from lenslet.app import create_app
    from lenslet.cli import main as lenslet
    from lenslet.config import Config
    figures = {}
    for shape in SHAPES:
        root = os.path.join(tempfile.mkdtemp(prefix="lenslet-bench-"), "tree")
        paths = [f"f{n % folders:04d}/p{n:04d}.jpg" if shape == "clustered" else f"f{n:04d}/p{n:04d}.jpg"
                 for n in range(images)]
        for n, path in enumerate(paths):
            os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
            Image.new("RGB", (16, 12), (n % 250, 90, 160)).save(os.path.join(root, path), "JPEG")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            lenslet(["index", root])
        client = webtest.TestApp(create_app(Config(root=root)))
        album = client.post_json("/albums", {"name": "bench", "images": paths}).json["id"]
        link = {"X-Lenslet-Share": client.post_json("/shares", {"album": album}).json["key"]}
        client.get(f"/albums/{album}", headers=link)
        took = []
        for n in range(repeat):
            started = time.perf_counter()
            client.get(f"/thumb?path={paths[n * 7 % len(paths)]}", headers=link)
            took.append(time.perf_counter() - started)
        figures[shape] = statistics.median(took)
        subprocess.run(["rm", "-rf", os.path.dirname(root)], check=True)
    return figures


def run(checkout, args):
    """measure() in a subprocess importing lenslet from checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LENSLET_")}
    env.update(PYTHONPATH=checkout)
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--measure", "--images", str(args.images),
                          "--folders", str(args.folders), "--repeat", str(args.repeat)],
                         env=env, cwd=checkout, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"measuring {checkout} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="main", help="the git revision measured alongside (default main)")
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--folders", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # the subprocess's side
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.images, args.folders, args.repeat)))
        return
    base = extract(args.base)
    try:
        now, then = run(PROJECT, args), run(base, args)
    finally:
        subprocess.run(["rm", "-rf", base], check=True)
    print(f"a thumbnail through an album link of {args.images} images ({args.folders} folders clustered, or each "
          f"in its own), now and at {args.base}:")
    for shape in SHAPES:
        print(f"  {shape:<10} median {now[shape] * 1000:6.1f} ms  (base {then[shape] * 1000:.1f} ms: "
              f"{now[shape] / then[shape]:.2f}x the base's time)")


if __name__ == "__main__":
    main()
