"""ZIP downloads: GET /zip of a folder of sparse camera-sized files past 4 GB, read through over loopback, beside
`zip -0 -r -` of the same folder to a pipe; and the web process's memory while it streams.

    python bench/zip.py [--gib 5] [--files 5] [--rounds 3]

Each round, in turns (the order alternating), times lenslet's answer read to the end and Info-ZIP's
stored archive written to a pipe, both of the same files (sparse: a small JPEG, then holes, so the disk is
not what is measured). Prints the medians, the throughput ratio (lenslet over zip -0; the target is at least
0.8) and the web process's resident memory before and at its peak while streaming (the target is less than
+30 MB). Needs Debian's zip. Talks only to loopback; the files are removed at the end.
"""

import argparse
import io
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import Server
from PIL import Image


def sparse_photos(folder, files, size):
    folder.mkdir(parents=True)
    head = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(head, "JPEG")
    for number in range(files):
        with open(folder / f"IMG_{number:04d}.jpg", "wb") as photo:
            photo.write(head.getvalue())
            photo.truncate(size)


def resident_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def web_process(master):
    children = open(f"/proc/{master}/task/{master}/children").read().split()
    return int(children[0])


def read_zip(url, pid, peak):
    """Read GET url to the end; answer (bytes, tail) while noting the web process's peak memory."""
    done, total, tail = threading.Event(), 0, b""

    def watch():
        while not done.wait(0.05):
            peak[0] = max(peak[0], resident_kib(pid))
    threading.Thread(target=watch, daemon=True).start()
    with urllib.request.urlopen(url, timeout=600) as answer:
        while chunk := answer.read(1024 * 1024):
            total += len(chunk)
            tail = (tail + chunk)[-200:]
    done.set()
    return total, tail


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=5)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("zip") is None:
        raise SystemExit("needs Debian's zip (apt-get install zip)")
    work = tempfile.mkdtemp(prefix="lenslet-bench-zip-")
    try:
        root = os.path.join(work, "root")
        sparse_photos(Path(root) / "trip", args.files, int(args.gib * 1024 ** 3 / args.files))
        env = {"LENSLET_ROOT": root, "LENSLET_ZIP_MAX_BYTES": str(1024 ** 4)}
        with Server(["lenslet.app:create_app()"], env, work, workers=1) as server:
            urllib.request.urlopen(server.url + "/folders?path=trip", timeout=60).read()
            pid = web_process(server.process.pid)
            rest = resident_kib(pid)
            times, peak = {"lenslet": [], "zip -0": []}, [rest]
            for turn in range(args.rounds):
                for side in (["lenslet", "zip -0"] if turn % 2 == 0 else ["zip -0", "lenslet"]):
                    start = time.perf_counter()
                    if side == "lenslet":
                        total, tail = read_zip(server.url + "/zip?path=trip", pid, peak)
                        assert total < 4 * 1024 ** 3 or b"PK\x06\x07" in tail, "past 4 GB, no ZIP64 end record"
                    else:
                        subprocess.run(["zip", "-0", "-r", "-q", "-", "trip"], cwd=root, check=True,
                                       stdout=subprocess.DEVNULL)
                    times[side].append(time.perf_counter() - start)
                    print(f"round {turn + 1}: {side:8} {times[side][-1]:6.2f} s")
        ours, theirs = statistics.median(times["lenslet"]), statistics.median(times["zip -0"])
        print(f"median: lenslet {ours:.2f} s ({total / ours / 1e6:.0f} MB/s), zip -0 {theirs:.2f} s "
              f"({total / theirs / 1e6:.0f} MB/s); throughput {theirs / ours:.2f}x zip -0 (target >= 0.8)")
        print(f"web process memory: {rest / 1024:.1f} MB at rest, {peak[0] / 1024:.1f} MB at its peak "
              f"(+{(peak[0] - rest) / 1024:.1f} MB; target < +30)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
