"""Thumbnails/s on real photographs: lenslet's process pool against libvips, same process count.

    python bench/pool.py [--processes N] [--rounds 5]

The photos are Debian's wallpaper packages (bench/photos.py fetches them once):
big JPEGs and PNGs, up to 5640x3172. Each round makes a thumbnail of every file
on both sides, in alternating order, from files on disk:

- lenslet: the parent reads each file and hands its bytes to lenslet.pool
  (N processes, ThumbPool.make_each: two originals a process read ahead), which
  makes the WebP thumbnail and the file's blake3 hash, what the worker stores;
- libvips: N processes (VIPS_CONCURRENCY=1 each, operation cache off) running
  pyvips.Image.thumbnail(path, size) + webpsave_buffer(Q=quality) with the same
  WebP effort lenslet uses, keeping no metadata (lenslet's thumbnails carry none).

Both fit the picture in size x size and encode at the same quality. Prints the
median thumbnails/s over the rounds for the JPEGs, the PNGs and all of them, and
the ratio (target: >= 1.0); next to it the CPU time a thumbnail took in the
processes that made it, lenslet's parent included (what a busy, shared machine
changes least). --zlib FOLDER runs the processes with another libz.so.1: Pillow's
wheels load the system's zlib, and a stock zlib 1.2 is most of a PNG's decode. Needs pyvips
and pyvips-binary (bench only: pip install pyvips pyvips-binary); lenslet never uses them.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.photos import kind, photos  # noqa: E402
from lenslet.images.pillow import WEBP_METHOD  # noqa: E402
from lenslet.images.pool import ThumbPool, _context, process_count  # noqa: E402

SIZE, QUALITY, MAX_PIXELS = 256, 70, 100_000_000


def vips_start():
    import pyvips
    pyvips.cache_set_max(0)  # the same file comes back every round: no cached results


def vips_thumbnail(path):
    import pyvips
    return len(pyvips.Image.thumbnail(path, SIZE).webpsave_buffer(Q=QUALITY, effort=WEBP_METHOD, keep="none"))


def read(path):
    """An original's bytes and no XMP record to stamp, as ThumbPool.make_each asks of its reader."""
    with open(path, "rb") as f:
        return f.read(), None


def lenslet_batch(pool, paths):
    """Make a thumbnail of every path through the pool, read here from disk; return their bytes."""
    return sum(len(thumb) for _, (thumb, digest) in pool.make_each(paths, read))


def vips_batch(executor, paths):
    return sum(executor.map(vips_thumbnail, paths))


def cpu_seconds(processes):
    """User + system CPU seconds the given live processes have used (Linux; 0 elsewhere)."""
    total = 0
    for process in processes:
        try:
            with open(f"/proc/{process.pid}/stat") as f:
                fields = f.read().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            pass
    return total


def parent_cpu(side):
    return time.process_time() if side == "lenslet" else 0.0


def zlib_in_children():
    """The zlib Pillow loads in a new process (the system's, unless LD_LIBRARY_PATH says otherwise)."""
    return subprocess.run([sys.executable, "-c", "from PIL import features; print(features.version('zlib'))"],
                          capture_output=True, text=True).stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=process_count("auto"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--zlib", metavar="FOLDER", help="a folder holding another libz.so.1 (zlib-ng built "
                        "with ZLIB_COMPAT) for the processes of both sides, to measure what a faster zlib gives")
    args = parser.parse_args()
    try:
        import pyvips  # noqa: F401
    except ImportError:
        raise SystemExit("the baseline needs pyvips: pip install pyvips pyvips-binary") from None

    if args.zlib:
        # Read by the dynamic loader as each spawned process starts, before Pillow loads.
        os.environ["LD_LIBRARY_PATH"] = os.path.abspath(args.zlib)
    paths = photos()
    groups = {"jpeg": [p for p in paths if kind(p) == "jpeg"], "png": [p for p in paths if kind(p) == "png"]}
    groups["all"] = paths
    megabytes = sum(os.path.getsize(p) for p in paths) / 1e6
    print(f"{len(paths)} photos ({len(groups['jpeg'])} JPEG, {len(groups['png'])} PNG, {megabytes:.0f} MB), "
          f"{args.processes} processes each side, {args.rounds} rounds, thumbnails {SIZE} px, "
          f"WebP quality {QUALITY} effort {WEBP_METHOD}, Pillow's zlib {zlib_in_children()}")

    os.environ["VIPS_CONCURRENCY"] = "1"  # one thread per libvips process: N processes, N cores
    # Small batches, the two sides alternating, so that a slower spell of a shared
    # machine falls on both: per kind and side, the seconds of every batch add up.
    batch = 4 * args.processes
    totals = {(name, side): [] for name in ("jpeg", "png") for side in ("lenslet", "libvips")}
    cpu = dict.fromkeys(totals, 0.0)
    made = dict.fromkeys(totals, 0)
    with ThumbPool(args.processes, SIZE, QUALITY, MAX_PIXELS) as pool, \
            ProcessPoolExecutor(args.processes, mp_context=_context(), initializer=vips_start) as vips:
        lenslet_batch(pool, paths[:batch])  # start every process on both sides
        vips_batch(vips, paths[:batch])
        children = {"lenslet": list(pool.executor._processes.values()), "libvips": list(vips._processes.values())}
        sides = {"lenslet": lambda chosen: lenslet_batch(pool, chosen),
                 "libvips": lambda chosen: vips_batch(vips, chosen)}
        for number in range(args.rounds):
            for name in ("jpeg", "png"):
                seconds = {"lenslet": 0.0, "libvips": 0.0}
                for at in range(0, len(groups[name]), batch):
                    chosen = groups[name][at:at + batch]
                    order = ["lenslet", "libvips"] if (number + at // batch) % 2 == 0 else ["libvips", "lenslet"]
                    for side in order:
                        # lenslet's parent reads, sends and receives the bytes: its CPU counts too.
                        used, start = cpu_seconds(children[side]) + parent_cpu(side), time.perf_counter()
                        made[name, side] += sides[side](chosen)
                        seconds[side] += time.perf_counter() - start
                        cpu[name, side] += cpu_seconds(children[side]) + parent_cpu(side) - used
                for side in seconds:
                    totals[name, side].append(seconds[side])
        assert pool.restarts == 0, "a thumbnail process died during the bench"

    def rate(names, side):
        """Median over rounds of thumbnails/s, and CPU ms a thumbnail (all rounds)."""
        count = sum(len(groups[name]) for name in names)
        per_round = [sum(totals[name, side][number] for name in names) for number in range(args.rounds)]
        work = sum(cpu[name, side] for name in names) / (count * args.rounds)
        return count / statistics.median(per_round), work * 1000

    print(f"{'':6} {'files':>5} {'lenslet/s':>10} {'libvips/s':>10} {'ratio':>6}   "
          f"{'CPU ms/thumb':>12} {'ratio':>6}   mean bytes")
    for name, names in (("jpeg", ["jpeg"]), ("png", ["png"]), ("all", ["jpeg", "png"])):
        (ours, our_ms), (theirs, their_ms) = rate(names, "lenslet"), rate(names, "libvips")
        size = [sum(made[n, side] for n in names) / (args.rounds * sum(len(groups[n]) for n in names))
                for side in ("lenslet", "libvips")]
        count = sum(len(groups[n]) for n in names)
        print(f"{name:6} {count:>5} {ours:>10.1f} {theirs:>10.1f} {ours / theirs:>5.2f}x   "
              f"{our_ms:>5.0f} /{their_ms:>5.0f} {their_ms / our_ms:>5.2f}x   {size[0]:,.0f} / {size[1]:,.0f}")


if __name__ == "__main__":
    main()
