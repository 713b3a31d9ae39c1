"""What several benchmarks share: gunicorn on loopback, drawn and real photos, `lenslet index` with its peak memory."""

import gzip
import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from PIL import Image, ImageDraw, ImageFilter

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Debian's wallpaper packages: big real JPEGs (up to 5640x3172) and PNGs (up to 5120x2880, flat art to
# detailed renders), about 160 MB of downloads, kept outside the repository.
PACKAGES = ("mate-backgrounds", "ukui-wallpapers", "plasma-workspace-wallpapers")
MIN_BYTES = 40_000  # smaller files are previews and icons, not photographs


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, headers=None):
    """(status, body, seconds) of one GET on a new connection, a gzipped body unpacked."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers=headers or {})
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    gzipped = answer.getheader("Content-Encoding") == "gzip"
    return answer.status, gzip.decompress(body) if gzipped else body, time.perf_counter() - started


class Server:
    """gunicorn (args: an app, or -c settings) with `workers` web processes on a free loopback port, this
    checkout's lenslet; stopped by its pid."""

    def __init__(self, args, env, cwd, workers=2):
        self.port, self.started = free_port(), time.monotonic()
        self.url = f"http://127.0.0.1:{self.port}"
        # Run from cwd, not the project folder, unless asked: gunicorn reads gunicorn.conf.py there.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args, "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--log-level", "warning"], cwd=cwd, env=dict(os.environ, PYTHONPATH=PROJECT, **env))

    def wait(self, path="/", timeout=60):
        """Seconds from the start until it answers path (with any status)."""
        while time.monotonic() - self.started < timeout:
            try:
                urllib.request.urlopen(self.url + path, timeout=5).read()
            except urllib.error.HTTPError:
                pass
            except OSError:
                time.sleep(0.02)
                continue
            return time.monotonic() - self.started
        raise SystemExit("gunicorn never answered")

    def __enter__(self):
        self.wait()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


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


def photo_cache():
    return os.environ.get("LENSLET_BENCH_PHOTOS") or os.path.expanduser("~/.cache/lenslet-bench/photos")


def fetch(folder, packages):
    """Download (apt-get download) and unpack (dpkg -x) the packages not yet in folder."""
    for package in packages:
        unpacked = os.path.join(folder, "unpacked", package)
        if os.path.isdir(unpacked):
            continue
        if not shutil.which("apt-get") or not shutil.which("dpkg"):
            raise SystemExit("real photos need apt-get and dpkg (Debian or Ubuntu)")
        debs = os.path.join(folder, "debs")
        os.makedirs(debs, exist_ok=True)
        done = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"apt-get download {package} failed (run apt-get update?):\n{done.stderr}")
        deb = next(name for name in sorted(os.listdir(debs)) if name.startswith(package + "_"))
        partial = unpacked + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(os.path.dirname(partial), exist_ok=True)
        subprocess.run(["dpkg", "-x", os.path.join(debs, deb), partial], check=True)
        os.rename(partial, unpacked)  # only a whole unpack counts as fetched


def photos(packages=PACKAGES):
    """Paths of the real JPEG and PNG photographs, fetched the first time, each content once, sorted."""
    folder = photo_cache()
    fetch(folder, packages)
    seen, found = set(), []
    for package in packages:
        for parent, dirs, files in os.walk(os.path.join(folder, "unpacked", package)):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(parent, name)
                if (not name.lower().endswith((".jpg", ".jpeg", ".png")) or os.path.islink(path)
                        or "screenshot" in name or os.path.getsize(path) < MIN_BYTES):
                    continue
                with open(path, "rb") as f:
                    digest = hashlib.sha1(f.read()).digest()
                if digest not in seen:
                    seen.add(digest)
                    found.append(path)
    return found


def kind(path):
    """'jpeg' or 'png', by the file's first bytes."""
    with open(path, "rb") as f:
        return "png" if f.read(8) == b"\x89PNG\r\n\x1a\n" else "jpeg"


def queue_empty(root):
    """Whether the tree's job queue holds no job, claimed or not."""
    for sub in ("jobs", "claims"):
        folder = os.path.join(root, ".lenslet", sub)
        if os.path.isdir(folder) and any(name.endswith(".json") for name in os.listdir(folder)):
            return False
    return True


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_of(root_pid):
    """root_pid and every process below it."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = [root_pid], [root_pid]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def total_mb(root_pid):
    """(PSS in MB summed over root_pid and every process below it, how many processes)."""
    pids = tree_of(root_pid)
    return sum(pss_kb(pid) for pid in pids) / 1024, len(pids)


def run_index(root, env=None):
    """Run `lenslet index root` in a process of its own: (seconds, peak PSS in MB of it and its
    thumbnail processes, sampled every 0.1 s)."""
    start = time.perf_counter()
    run = subprocess.Popen([sys.executable, "-c", "import sys; from lenslet.cli import main; sys.exit(main())",
                            "index", root], cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=dict(os.environ, PYTHONPATH=PROJECT, **(env or {})))
    highest = [0.0]

    def sample():  # beside the wait, so the time taken ends when the process does
        while run.poll() is None:
            highest[0] = max(highest[0], total_mb(run.pid)[0])
            time.sleep(0.1)
    sampler = threading.Thread(target=sample)
    sampler.start()
    errors = run.communicate()[1]
    seconds = time.perf_counter() - start
    sampler.join()
    if run.returncode != 0:
        raise SystemExit(f"lenslet index failed:\n{errors.decode(errors='replace')}")
    return seconds, highest[0]
