"""Upload bombs: how much memory a web process takes for a tiny PNG of very many pixels.

    python bench/upload_bomb.py [--width 10000] [--height 9999] [--at-once 3]

A PNG of width x height black pixels is a few KB (written row by row, never whole
in memory). It is uploaded (POST /file, multipart) to lenslet under gunicorn, one
worker of 4 threads: once alone, then --at-once uploads at the same time. Printed:
the growth of the web worker's peak RSS (VmHWM) over its peak before the uploads,
and the peak of its thumbnail process (lenslet/images/pool.py), where big decodes go.

The baseline, measured in the same run, is the old behaviour: every upload decoded
in the web process (Thumbs.make, with no pixel budget), the same uploads at once on
threads of a fresh process, its peak RSS growth printed the same way. The ratio is
the web process's growth now over then (lower is better).
"""

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.request
import uuid
import zlib

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT, Server  # noqa: E402

BASELINE = """
import io, sys, threading
sys.path.insert(0, {project!r})
from lenslet.images import pillow
data, small, at_once = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read(), int(sys.argv[3])

def peak():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024

def decode(image=data):  # what an upload did before: its thumbnail made in the web process, whatever its size
    pillow.make_thumbnail(io.BytesIO(image), 256, 70, 100_000_000)

decode(small)  # imports and first-use costs paid before measuring
started = peak()
decode()
alone = peak()
threads = [threading.Thread(target=decode) for _ in range(at_once)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(alone - started, peak() - started)
"""


def png_bomb(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), bytes(1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def peak_mb(pid, field="VmHWM"):
    """The peak resident memory of a process so far (VmHWM), or another field of its status, in MB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


def upload(url, name, data):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"dest\"\r\n\r\n/\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "/file", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=300) as answer:
        return answer.status


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=10000)
    parser.add_argument("--height", type=int, default=9999)
    parser.add_argument("--at-once", type=int, default=3)
    args = parser.parse_args()
    bomb = png_bomb(args.width, args.height)
    print(f"bomb: {args.width}x{args.height} PNG, {len(bomb) / 1024:.0f} KB; {args.at_once} at once")

    with tempfile.TemporaryDirectory() as scratch:
        path, small = os.path.join(scratch, "bomb.png"), os.path.join(scratch, "small.png")
        for name, data in ((path, bomb), (small, png_bomb(64, 48))):
            with open(name, "wb") as f:
                f.write(data)
        then = subprocess.run([sys.executable, "-W", "ignore", "-c", BASELINE.format(project=PROJECT), path, small,
                               str(args.at_once)],
                              capture_output=True, text=True, check=True).stdout.split()
        then_alone, then_at_once = float(then[0]), float(then[1])

        root = os.path.join(scratch, "tree")
        os.mkdir(root)
        env = {"LENSLET_ROOT": root, "LENSLET_ACCESS_LOG": "false"}
        with Server("lenslet.app:create_app()", env, cwd=scratch, workers=1) as server:
            master = server.process.pid
            web = children(master)[0]
            upload(server.url, "warm.png", png_bomb(64, 48))  # first-request costs paid before measuring
            started = peak_mb(web)
            assert upload(server.url, "alone.png", bomb) == 201
            alone = peak_mb(web)
            statuses = []
            threads = [threading.Thread(target=lambda n=n: statuses.append(upload(server.url, f"b{n}.png", bomb)))
                       for n in range(args.at_once)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            at_once = peak_mb(web)
            makers = [(peak_mb(pid), peak_mb(pid, "VmRSS")) for pid in children(web)]
        assert statuses == [201] * args.at_once, statuses

    print(f"web process peak RSS growth, one upload:    {alone - started:7.1f} MB   (before: {then_alone:7.1f} MB)")
    print(f"web process peak RSS growth, {args.at_once} at once:     {at_once - started:7.1f} MB   "
          f"(before: {then_at_once:7.1f} MB)")
    peak, kept = max(makers, default=(0, 0))
    print(f"thumbnail process peak RSS:                 {peak:7.1f} MB   (before: none; "
          f"{kept:.0f} MB kept after)")
    print(f"ratio now/before ({args.at_once} at once): {(at_once - started) / max(then_at_once, 0.1):.3f}")


if __name__ == "__main__":
    main()
