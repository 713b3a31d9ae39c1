"""`lenslet index` on real photographs: images/s and peak memory, against libvips in the same run.

    python bench/index.py [--rounds 3] [--png] [--photos N]
    taskset -c 0 python bench/index.py      # a Pi-class run: one core

The photos are Debian's wallpaper packages (fetched once, see bench/common.py), PNG-heavy; --png keeps
the PNGs alone, --photos N the first N (a quick run). They are spread over folders of 10 in a fresh tmp
tree for each round. lenslet's side is the whole command a person runs, `lenslet index ROOT`, in its own
process with its default settings (one thumbnail process per core this process may use, which `taskset`
sets): scan, a thumbnail and a content hash of every image, sidecars, manifests, the rollup, the search
index and health. The baseline is libvips doing the thumbnails alone (thumbnail + webpsave at the same
size, quality and WebP effort) in as many processes, one libvips thread each, reading the same files.
Printed: the median images/s of each over the rounds, the ratio (target: >= 1.0), the CPU seconds each
used (children included), and lenslet's peak PSS summed over its process and its thumbnail processes
(target: <= 300 MB). Needs pyvips and pyvips-binary for the baseline only (pip install pyvips
pyvips-binary); lenslet never uses them.
"""

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import kind, photos, run_index  # noqa: E402
from lenslet.images.pillow import WEBP_METHOD  # noqa: E402
from lenslet.images.pool import _context, process_count  # noqa: E402

SIZE, QUALITY = 256, 70  # lenslet's default thumbnail size and WebP quality

PER_FOLDER = 10


def vips_start():
    import pyvips
    pyvips.cache_set_max(0)  # the same file comes back every round: no cached results


def vips_thumbnail(path):
    import pyvips
    return len(pyvips.Image.thumbnail(path, SIZE).webpsave_buffer(Q=QUALITY, effort=WEBP_METHOD, keep="none"))


def tree_of_photos(paths):
    """A fresh tmp tree holding a copy of every photo, PER_FOLDER to a folder; (work folder, root)."""
    work = tempfile.mkdtemp(prefix="lenslet-index-photos-")
    root = os.path.join(work, "tree")
    for number, path in enumerate(paths):
        folder = os.path.join(root, f"album{number // PER_FOLDER:02d}")
        os.makedirs(folder, exist_ok=True)
        shutil.copyfile(path, os.path.join(folder, f"{number:03d}-{os.path.basename(path)}"))
    return work, root


def children_cpu():
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def lenslet_index(paths):
    """(seconds, CPU seconds, peak MB) of `lenslet index` on a fresh tree of the photos."""
    work, root = tree_of_photos(paths)
    try:
        cpu = children_cpu()
        seconds, highest = run_index(root)
        made = sum(name.endswith(".thumbnail") for _, _, names in os.walk(root) for name in names)
        if made != len(paths):
            raise SystemExit(f"lenslet index made {made} thumbnails of {len(paths)}")
        return seconds, children_cpu() - cpu, highest
    finally:
        shutil.rmtree(work, ignore_errors=True)


def libvips(paths, processes):
    """(seconds, CPU seconds) of libvips making the same thumbnails in as many fresh processes."""
    work, root = tree_of_photos(paths)
    files = sorted(os.path.join(parent, name) for parent, _, names in os.walk(root) for name in names)
    try:
        cpu, start = children_cpu(), time.perf_counter()
        with ProcessPoolExecutor(processes, mp_context=_context(), initializer=vips_start) as vips:
            made = list(vips.map(vips_thumbnail, files))
        seconds = time.perf_counter() - start
        assert len(made) == len(paths) and all(made)
        return seconds, children_cpu() - cpu
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--png", action="store_true", help="the PNGs alone")
    parser.add_argument("--photos", type=int, help="the first N photos only (a quick run)")
    args = parser.parse_args()
    try:
        import pyvips  # noqa: F401
    except ImportError:
        raise SystemExit("the baseline needs pyvips: pip install pyvips pyvips-binary") from None
    os.environ["VIPS_CONCURRENCY"] = "1"  # one thread per libvips process: N processes, N cores
    paths = [path for path in photos() if not args.png or kind(path) == "png"][:args.photos]
    processes = process_count("auto")
    jpegs = sum(kind(path) == "jpeg" for path in paths)
    print(f"{len(paths)} photos ({jpegs} JPEG, {len(paths) - jpegs} PNG, "
          f"{sum(os.path.getsize(p) for p in paths) / 1e6:.0f} MB), {processes} core(s) for this run, "
          f"{args.rounds} rounds, the sides alternating", flush=True)
    ours, theirs = [], []
    for number in range(args.rounds):
        for side in (["lenslet", "libvips"] if number % 2 == 0 else ["libvips", "lenslet"]):
            if side == "lenslet":
                ours.append(lenslet_index(paths))
                print(f"  round {number + 1}: lenslet index {ours[-1][0]:.1f} s, peak {ours[-1][2]:.0f} MB", flush=True)
            else:
                theirs.append(libvips(paths, processes))
                print(f"  round {number + 1}: libvips {theirs[-1][0]:.1f} s", flush=True)
    our_rate = len(paths) / statistics.median(s for s, _, _ in ours)
    their_rate = len(paths) / statistics.median(s for s, _ in theirs)
    our_cpu = statistics.median(c for _, c, _ in ours) / len(paths) * 1000
    their_cpu = statistics.median(c for _, c in theirs) / len(paths) * 1000
    print(f"lenslet index: {our_rate:.2f} images/s, {our_cpu:.0f} ms of CPU an image, "
          f"peak {max(m for _, _, m in ours):.0f} MB (median {statistics.median(m for _, _, m in ours):.0f})")
    print(f"libvips thumbnails alone: {their_rate:.2f} images/s, {their_cpu:.0f} ms of CPU an image")
    print(f"ratio: {our_rate / their_rate:.2f}x by the clock, {their_cpu / our_cpu:.2f}x by CPU (target >= 1.0)")


if __name__ == "__main__":
    main()
