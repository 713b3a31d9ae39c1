"""What a web process keeps after making big thumbnails inline: glibc's default against big buffers mapped.

    python bench/inline_memory.py [--images 16] [--threads 4] [--rounds 3]

Each case runs in a fresh Python process: the app (create_app, local storage, no
thumbnail processes) on a tmp tree of 4K PNGs of 15 MB (photo-like, compress level 1),
--threads clients asking GET /thumb for every one of them through webtest; then the
process's PSS (/proc/self/smaps_rollup) once the requests are done, after gc and
malloc_trim. "mapped" is what web processes do (lenslet.memory.map_big_buffers,
called by gunicorn's post_fork); "glibc default" is the same process without it, as
before. Prints the median over --rounds of each, and what the process held before the
first request.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT  # noqa: E402

CHILD = r"""
import gc, os, sys, threading
import webtest
from lenslet.app import create_app
from lenslet.config import Config
from lenslet import memory

root, images, threads, mapped = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "mapped"
if mapped:
    memory.map_big_buffers()

def pss():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Pss:")) / 1024

app = webtest.TestApp(create_app(Config(root=root, thumb_processes=0)))
before = pss()

def client(start):
    for n in range(images):
        app.get(f"/thumb?path=shot{(n + start) % images}.png", status="*")

workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
for worker in workers:
    worker.start()
for worker in workers:
    worker.join()
made = sum(name.endswith(".thumbnail") for name in os.listdir(root))
gc.collect()
memory.trim()
print(f"{before:.0f} {pss():.0f} {made}")
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bench.thumbs import photo
    work = tempfile.mkdtemp(prefix="lenslet-inline-memory-")
    try:
        source = os.path.join(work, "shot.png")
        photo(3840, 2160, 7, grain=0.05).save(source, "PNG", compress_level=1)
        print(f"{args.images} PNGs of 3840x2160 ({os.path.getsize(source) / 1e6:.0f} MB each), "
              f"{args.threads} threads asking for every thumbnail, {args.rounds} rounds", flush=True)
        kept = {"glibc default": [], "mapped": []}
        for number in range(args.rounds):
            for case in kept:
                root = os.path.join(work, f"tree-{number}-{case[0]}")
                os.makedirs(root)
                for n in range(args.images):
                    os.link(source, os.path.join(root, f"shot{n}.png"))
                out = subprocess.run([sys.executable, "-c", CHILD, root, str(args.images), str(args.threads),
                                      "mapped" if case == "mapped" else "default"],
                                     cwd=PROJECT, capture_output=True, text=True, check=True).stdout.split()
                before, after, made = float(out[0]), float(out[1]), int(out[2])
                assert made == args.images, f"{made} thumbnails made of {args.images}"
                kept[case].append((before, after))
                shutil.rmtree(root)
        for case, runs in kept.items():
            print(f"{case:>14}: {statistics.median(a for _, a in runs):.0f} MB after the thumbnails "
                  f"({statistics.median(b for b, _ in runs):.0f} MB before the first; runs: "
                  f"{', '.join(f'{a:.0f}' for _, a in runs)})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
