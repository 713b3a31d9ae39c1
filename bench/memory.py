"""Memory of the whole service: total PSS at rest and at peak, against the pool kept resident.

    python bench/memory.py [--photos 120] [--new 50] [--clients 8] [--idle 30] [--skip-index | --index-only]

The default service from this checkout (its gunicorn.conf.py: two web processes, the worker, its thumbnail processes)
on a tmp tree of 12 MP JPEGs, one in three a 4K PNG; PSS summed over the gunicorn master and every process below it:
at rest (the tree indexed, LENSLET_THUMB_IDLE passed), at peak (sampled every 0.2 s while --new photos are
thumbnailed and --clients threads browse), at rest again; beside the processes kept (LENSLET_THUMB_IDLE=0). Then
`lenslet index` of a fresh copy: its peak PSS. Targets: rest <= 100 MB, peak <= 400 MB, index peak <= 300 MB.
"""

import argparse
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT, Server, photo, pss_kb, queue_empty, run_index, total_mb, tree_of  # noqa: E402

IDLE = 30.0  # lenslet.pool.IDLE, the default this bench waits out


def role(pid, root_pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if pid == root_pid:
        return "master"
    if "resource_tracker" in command:
        return "tracker"
    if "multiprocessing" in command:
        return "pool"
    return "worker" if "lenslet.worker" in command else "web"


def by_role(root_pid):
    """'role MB, ...' for each process below root_pid."""
    parts = sorted((role(pid, root_pid), pss_kb(pid) / 1024) for pid in tree_of(root_pid))
    return ", ".join(f"{name} {mb:.0f}" for name, mb in parts)


def make_photos(folder, count):
    """count pictures in folders of 30: 12 MP JPEGs (decoded at 1/8 a side), one in three a 4K PNG (decoded whole)."""
    bases = []
    for seed in range(3):
        out = io.BytesIO()
        photo(4000, 3000, seed + 1).save(out, "JPEG", quality=90)
        bases.append((".JPG", out.getvalue()))
        if seed < 2:
            out = io.BytesIO()
            photo(3840, 2160, seed + 7, grain=0.05).save(out, "PNG", compress_level=1)
            bases.append((".PNG", out.getvalue()))
    order = [bases[0], bases[1], bases[2], bases[4], bases[3], bases[2]]  # every third a PNG
    for n in range(count):
        sub = os.path.join(folder, f"album{n // 30}")
        os.makedirs(sub, exist_ok=True)
        ext, data = order[n % len(order)]
        with open(os.path.join(sub, f"IMG_{n:04d}{ext}"), "wb") as f:
            f.write(data)


def count(root, ends):
    return sum(name.endswith(ends) for _, _, names in os.walk(root) for name in names)


def wait_idle(root, timeout=600):
    """Until every image has a thumbnail and the queue stays empty for 3 s."""
    deadline, quiet = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if queue_empty(root) and count(root, ".thumbnail") >= count(root, (".JPG", ".PNG")) else 0
        if quiet >= 15:
            return
        time.sleep(0.2)
    raise SystemExit("the worker did not finish in time")


def at_rest(pid, wait):
    time.sleep(wait)
    samples = []
    for _ in range(5):
        samples.append(total_mb(pid))
        time.sleep(1)
    print(f"  at rest: {by_role(pid)}", flush=True)
    return statistics.median(mb for mb, _ in samples), max(n for _, n in samples)


def get(url):
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=10) as answer:  # HTTP errors included
        answer.read()


def browse(url, root, stop):
    """One client: the new folder's listing and thumbnails, the other albums' listings."""
    while not stop.is_set():
        get(f"{url}/folders?path=new")
        for name in sorted(os.listdir(os.path.join(root, "new"))):
            if stop.is_set():
                return
            if name.endswith((".JPG", ".PNG")):
                get(f"{url}/thumb?path=new/{name}")
        for album in sorted(os.listdir(root)):
            if album.startswith("album"):
                get(f"{url}/folders?path={album}")


def peak(pid, url, root, source, new, clients):
    os.makedirs(os.path.join(root, "new"))
    names = sorted(os.listdir(source))
    for n in range(new):
        name = names[n % len(names)]
        shutil.copy(os.path.join(source, name), os.path.join(root, "new", f"IMG_{9000 + n}{name[-4:]}"))
    stop = threading.Event()
    threads = [threading.Thread(target=browse, args=(url, root, stop)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    highest, deadline, detail = 0.0, time.monotonic() + 600, ""
    try:
        while time.monotonic() < deadline:
            now = total_mb(pid)[0]
            if now > highest:
                highest, detail = now, by_role(pid)
            if count(root, ".thumbnail") >= count(root, (".JPG", ".PNG")) and queue_empty(root):
                break
            time.sleep(0.2)
        for _ in range(10):  # the clients' last round
            highest = max(highest, total_mb(pid)[0])
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(f"  at peak: {detail}", flush=True)
    return highest


def service(photos, env, args):
    """(rest, processes at rest, peak, rest after the peak) of one service run on a fresh copy of the tree."""
    work = tempfile.mkdtemp(prefix="lenslet-memory-")
    root = os.path.join(work, "tree")
    shutil.copytree(photos, root)
    # From the project folder: gunicorn reads its gunicorn.conf.py, the default service.
    server = Server([], dict(env, LENSLET_ROOT=root, LENSLET_ACCESS_LOG="false"), PROJECT)
    pid = server.process.pid
    try:
        wait_idle(root)
        rest, count = at_rest(pid, args.idle + 5)
        high = peak(pid, server.url, root, os.path.join(photos, "album0"), args.new, args.clients)
        after, _ = at_rest(pid, args.idle + 5)
        return rest, count, high, after
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def index_peak(photos):
    with tempfile.TemporaryDirectory(prefix="lenslet-memory-index-") as work:
        return run_index(shutil.copytree(photos, os.path.join(work, "tree")))[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=120)
    parser.add_argument("--new", type=int, default=50)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--idle", type=float, default=IDLE, help="LENSLET_THUMB_IDLE (seconds; lenslet's default)")
    parser.add_argument("--skip-index", action="store_true")
    parser.add_argument("--index-only", action="store_true")
    args = parser.parse_args()
    photos = tempfile.mkdtemp(prefix="lenslet-memory-photos-")
    try:
        make_photos(photos, args.photos)
        print(f"{args.photos} photos of 12 MP, {args.new} new ones while {args.clients} clients browse")
        if not args.index_only:
            runs = {"pool resident (before)": service(photos, {"LENSLET_THUMB_IDLE": "0"}, args),
                    "pool ends when idle (default)": service(photos, {"LENSLET_THUMB_IDLE": f"{args.idle:g}"}, args)}
            print(f"{'':32} {'rest MB':>8} {'procs':>6} {'peak MB':>8} {'rest after':>10}")
            for name, (rest, count, high, after) in runs.items():
                print(f"{name:32} {rest:8.0f} {count:6d} {high:8.0f} {after:10.0f}")
            print("targets: rest <= 100 MB, peak <= 400 MB")
        if not args.skip_index:
            print(f"lenslet index peak: {index_peak(photos):.0f} MB (target <= 300 MB)")
    finally:
        shutil.rmtree(photos, ignore_errors=True)


if __name__ == "__main__":
    main()
