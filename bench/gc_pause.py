"""A web process's full garbage collection with what gunicorn's master imported frozen (gc.freeze() in
pre_fork, lenslet/service/gunicorn_conf.py) against without (the baseline), in the same run.

    python bench/gc_pause.py [--repeat 20]

Each side is a fresh process doing what the master and then a web process do (import the app's modules, the
freeze or not, create_app on a small tree, a few requests), then timing gc.collect() of the oldest generation:
the CPU of one pass (every thread of a web process waits for it), median of --repeat.
"""

import argparse
import os
import subprocess
import sys
import tempfile

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SIDE = r"""
import gc, io, os, statistics, sys, time
import lenslet.app  # what the master imports before it forks (gunicorn_conf)
if sys.argv[2] == "frozen":
    gc.freeze()
from PIL import Image
import webtest
from lenslet.config import Config
root = sys.argv[1]
app = webtest.TestApp(lenslet.app.create_app(Config(root=root, thumb_processes=0)))
for _ in range(3):
    app.get("/folders?path=")
    app.get("/search?q=photo")
spent = []
for _ in range(int(sys.argv[3])):
    started = time.thread_time()
    gc.collect(2)
    spent.append(time.thread_time() - started)
print(statistics.median(spent) * 1000, len(gc.get_objects()))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lenslet-gc-") as root:
        sys.path.insert(0, PROJECT)
        from PIL import Image
        for n in range(20):
            Image.new("RGB", (64, 48), (n * 10, 30, 30)).save(os.path.join(root, f"photo {n}.jpg"))
        figures = {}
        for side in ("not frozen", "frozen"):
            out = subprocess.run([sys.executable, "-c", SIDE, root, side.replace(" ", "-"), str(args.repeat)],
                                 cwd=PROJECT, env=dict(os.environ, PYTHONPATH=PROJECT), check=True,
                                 capture_output=True, text=True).stdout.split()
            figures[side] = (float(out[0]), int(out[1]))
        base, now = figures["not frozen"], figures["frozen"]
        print(f"a full collection in a web process, median of {args.repeat} (CPU of the pass)")
        print(f"  without the freeze (before)  {base[0]:7.2f} ms   ({base[1]:,} objects it walks)")
        print(f"  master's objects frozen      {now[0]:7.2f} ms   ({now[1]:,})   {now[0] / base[0]:.2f}x")


if __name__ == "__main__":
    main()
