"""Real photographs for the benchmarks: Debian's wallpaper packages, fetched once.

    python bench/photos.py            # fetch (first time) and list what the cache holds

The photos go to a cache folder outside the repository, ~/.cache/lenslet-bench/photos
or $LENSLET_BENCH_PHOTOS: each package is fetched with `apt-get download`, unpacked
with `dpkg -x`, and its JPEG and PNG files are collected (byte-identical copies, which
the KDE package ships one per screen size, counted once; screenshots skipped). Nothing
of it is committed. Needs apt-get and dpkg (Debian or Ubuntu) and a package index
(`apt-get update`).
"""

import hashlib
import os
import shutil
import subprocess
import sys

# Big real JPEGs (up to 5640x3172, 16 MB) and PNGs (up to 5120x2880, RGB and RGBA,
# 75 KB flat art to 13 MB detailed renders): about 160 MB of downloads.
PACKAGES = ("mate-backgrounds", "ukui-wallpapers", "plasma-workspace-wallpapers")
EXTENSIONS = (".jpg", ".jpeg", ".png")
# Smaller files are previews and icons, not photographs.
MIN_BYTES = 40_000


def cache_dir():
    """The folder the photos are kept in."""
    return os.environ.get("LENSLET_BENCH_PHOTOS") or os.path.expanduser("~/.cache/lenslet-bench/photos")


def fetch(packages=PACKAGES, folder=None):
    """Download and unpack the packages not yet in the cache; return the cache folder."""
    folder = folder or cache_dir()
    for package in packages:
        unpacked = os.path.join(folder, "unpacked", package)
        if os.path.isdir(unpacked):
            continue
        if not shutil.which("apt-get") or not shutil.which("dpkg"):
            raise SystemExit("bench/photos.py needs apt-get and dpkg (Debian or Ubuntu)")
        debs = os.path.join(folder, "debs")
        os.makedirs(debs, exist_ok=True)
        before = set(os.listdir(debs))
        done = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"apt-get download {package} failed (run apt-get update?):\n{done.stderr}")
        new = [name for name in set(os.listdir(debs)) - before if name.endswith(".deb")]
        deb = new[0] if new else next(name for name in os.listdir(debs) if name.startswith(package + "_"))
        partial = unpacked + ".partial"
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(os.path.dirname(partial), exist_ok=True)
        subprocess.run(["dpkg", "-x", os.path.join(debs, deb), partial], check=True)
        os.rename(partial, unpacked)  # only a whole unpack counts as fetched
    return folder


def photos(packages=PACKAGES, folder=None):
    """Paths of the real JPEG and PNG photographs, fetched if needed, each content once, sorted."""
    folder = fetch(packages, folder)
    seen, found = set(), []
    for package in packages:
        for parent, dirs, files in os.walk(os.path.join(folder, "unpacked", package)):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(parent, name)
                if not name.lower().endswith(EXTENSIONS) or os.path.islink(path) or "screenshot" in name:
                    continue
                if os.path.getsize(path) < MIN_BYTES:
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


def main():
    paths = photos()
    total = sum(os.path.getsize(path) for path in paths)
    counts = {}
    for path in paths:
        counts[kind(path)] = counts.get(kind(path), 0) + 1
    print(f"{len(paths)} photos ({', '.join(f'{n} {k}' for k, n in sorted(counts.items()))}), "
          f"{total / 1e6:.0f} MB in {cache_dir()}")
    if "-v" in sys.argv:
        for path in paths:
            print(f"  {os.path.getsize(path) // 1024:>6} KiB  {os.path.relpath(path, cache_dir())}")


if __name__ == "__main__":
    main()
