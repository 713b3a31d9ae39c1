"""What a person waits for: `lenslet serve` on a new library, from start until it is searchable, listed and settled.

    python bench/settle.py --folders 20000 [--base 57d4a0a] [--rounds 2]
    python bench/settle.py --images 500000 [--base aaf15b9] [--rounds 1] [--timeout 900]
    python bench/settle.py --folders 200 --base none      # a quick run: this checkout alone

--folders N: N folders (100 to a level-one folder) of one small JPEG each. --images N: N camera-named
images in about 523 folders (one in 50 with a sidecar of tags), each with its thumbnail already beside it
and no `.lenslet/` (a copied library, a restored backup).

Each round builds a fresh tree for each side in turn (this checkout, then --base in a temporary `git
worktree add --detach`, the order alternating) and serves it with that side's `lenslet serve` (two web
processes, the worker) on loopback. Every half second it looks, and prints when each was first true:
searchable (three rounds in a row of 8 searches at once, so both web processes answer, found every
image), listed (every folder has its `_index.json`), thumbnails (every image has one), settled (all of
these, and the job queue empty). Medians of the rounds per side and their ratio at the end.
"""

import argparse
import concurrent.futures
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.common import PROJECT, free_port, queue_empty  # noqa: E402

STEPS = ("searchable", "listed", "thumbnails", "settled")
CAMERAS = ["IMG_{:04d}.JPG", "DSC{:05d}.JPG", "P10{:05d}.JPG", "PXL_2023{:04d}_{:06d}.jpg", "IMG_2024{:04d}_{:06d}.jpg",
           "Screenshot 2024-05-{:02d} at {:06d}.png"]


def jpeg(size, colour):
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG", quality=80)
    return out.getvalue()


def folders_tree(root, count):
    """count folders, 100 to a level-one folder, one 64x48 JPEG each (bench/many_folders.py's tree)."""
    data = jpeg((64, 48), (40, 90, 160))
    folders = []
    for n in range(count):
        folder = os.path.join(f"d{n // 100:04d}", f"s{n % 100:03d}")
        os.makedirs(os.path.join(root, folder))
        with open(os.path.join(root, folder, "IMG_0001.jpg"), "wb") as out:
            out.write(data)
        folders.append(folder)
    return folders, [os.path.join(folder, "IMG_0001.jpg") for folder in folders]


def thumbnail_of(path):
    """The thumbnail this checkout makes of an image with the default settings."""
    from lenslet.config import Config
    from lenslet.images.thumbs import Thumbs
    from lenslet.storage import LocalStorage
    from lenslet.tree.tree import Tree
    root, name = os.path.split(path)
    config = Config(root=root)
    storage = LocalStorage(root)
    Thumbs(Tree(config, storage), config).make(storage, name)
    with open(path + ".thumbnail", "rb") as made:
        return made.read()


def images_tree(root, count):
    """count camera-named images in folders of about count/523, a thumbnail beside each, a sidecar for one in 50."""
    sources = os.path.join(root, ".sources")
    os.makedirs(sources)
    originals = []
    for n in range(max(4, count // 20_000 + 1)):  # ext4 allows 65,000 links to a file
        path = os.path.join(sources, f"s{n}.jpg")
        with open(path, "wb") as out:
            out.write(jpeg((320 + 16 * n, 240), (30 + n % 200, 120, 90)))
        thumb = path + ".thumbnail"
        with open(thumb, "wb") as out:
            out.write(thumbnail_of(path))
        sidecar = os.path.join(sources, f"s{n}.json")
        with open(sidecar, "w") as out:
            json.dump({"v": 1, "tags": ["family", f"roll{n % 7}"], "notes": f"beach {n}", "star": n % 5 + 1}, out)
        originals.append((path, thumb, sidecar))
    per_folder = max(1, count // 523)
    folders, images = [], []
    for n in range(count):
        if n % per_folder == 0:
            folder = os.path.join(f"{2000 + n // per_folder // 40}", f"{n // per_folder % 40:02d}")
            os.makedirs(os.path.join(root, folder))
            folders.append(folder)
        pattern = CAMERAS[n % len(CAMERAS)]
        name = pattern.format(*([n % 10_000, n] if pattern.count("{") == 2 else [n % 100_000]))
        image, thumb, sidecar = originals[n % len(originals)]
        path = os.path.join(folder, name)
        os.link(image, os.path.join(root, path))
        os.link(thumb, os.path.join(root, path + ".thumbnail"))
        if n % 50 == 0:
            os.link(sidecar, os.path.join(root, path + ".json"))
        images.append(path)
    shutil.rmtree(sources)
    return folders, images


def all_there(paths):
    """Whether every path exists, dropping those found from the end of the list (so a look costs what is new)."""
    while paths and os.path.exists(paths[-1]):
        paths.pop()
    return not paths


def search_total(url):
    with urllib.request.urlopen(url + "/search?q=&limit=1", timeout=30) as answer:
        return json.loads(answer.read())["total"]


def serve_and_watch(checkout, root, folders, images, timeout):
    """Serve root with checkout's lenslet; return {step: seconds from start}."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from lenslet.cli import main; sys.exit(main(sys.argv[1:]))",
         "serve", root, "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=tempfile.gettempdir(), env=dict(os.environ, PYTHONPATH=checkout, LENSLET_DEEP_SCAN="3600"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    unlisted = [os.path.join(root, folder, "_index.json") for folder in reversed(folders)]
    unmade = [os.path.join(root, image + ".thumbnail") for image in reversed(images)]
    found, agreed = {}, 0
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            while len(found) < len(STEPS) and time.monotonic() - started < timeout:
                time.sleep(0.5)
                now = time.monotonic() - started
                if "searchable" not in found:
                    try:
                        totals = list(pool.map(search_total, [url] * 8))
                    except OSError:
                        totals = []
                    agreed = agreed + 1 if totals and all(total == len(images) for total in totals) else 0
                    if agreed == 3:
                        found["searchable"] = now
                if "listed" not in found and all_there(unlisted):
                    found["listed"] = now
                if "thumbnails" not in found and all_there(unmade):
                    found["thumbnails"] = now
                if len(found) == 3 and queue_empty(root):
                    found["settled"] = now
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    if len(found) < len(STEPS):
        queued = [name for folder in (".lenslet/jobs", ".lenslet/claims") if os.path.isdir(os.path.join(root, folder))
                  for name in os.listdir(os.path.join(root, folder))]
        print(f"  left at the end: {len(unlisted)} folders unlisted, {len(unmade)} thumbnails unmade, "
              f"queued or claimed {sorted(queued)[:5]}{' ...' if len(queued) > 5 else ''}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--folders", type=int)
    size.add_argument("--images", type=int)
    parser.add_argument("--base", help="the revision to compare with (default: 57d4a0a, or aaf15b9 with --images)")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds a side may take to settle")
    args = parser.parse_args()
    base = args.base or ("57d4a0a" if args.folders else "aaf15b9")
    scratch = tempfile.mkdtemp(prefix="lenslet-bench-settle-")
    worktree = os.path.join(scratch, "base")
    if base != "none":
        subprocess.run(["git", "-C", PROJECT, "worktree", "add", "--detach", worktree, base],
                       check=True, capture_output=True)
    sides = {"this checkout": PROJECT, base: worktree}
    if base == "none":  # this checkout alone
        sides.pop(base)
    results = {side: {step: [] for step in STEPS} for side in sides}
    try:
        for round_ in range(args.rounds):
            order = list(sides) if round_ % 2 == 0 else list(sides)[::-1]
            for side in order:
                root = os.path.join(scratch, "tree")
                built = time.monotonic()
                if args.folders:
                    folders, images = folders_tree(root, args.folders)
                else:
                    folders, images = images_tree(root, args.images)
                print(f"round {round_ + 1}, {side}: tree of {len(images)} images in {len(folders)} folders "
                      f"built in {time.monotonic() - built:.0f} s", flush=True)
                found = serve_and_watch(sides[side], root, folders, images, args.timeout)
                for step in STEPS:
                    results[side][step].append(found.get(step, float("inf")))
                print("  " + ", ".join(f"{step} {found[step]:.1f} s" if step in found else f"{step} not in "
                                       f"{args.timeout:.0f} s" for step in STEPS), flush=True)
                shutil.rmtree(root)
    finally:
        subprocess.run(["git", "-C", PROJECT, "worktree", "remove", "--force", worktree], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)
    print(f"\nmedians over {args.rounds} round(s), seconds from start:")
    print(f"  {'':12} {'this checkout':>14} {base:>14} {'ratio':>7}")
    for step in STEPS:
        ours, theirs = (statistics.median(results[side][step]) for side in sides) if len(sides) == 2 else \
            (statistics.median(results["this checkout"][step]), float("nan"))
        print(f"  {step:12} {ours:14.1f} {theirs:14.1f} {ours / theirs:7.2f}x")


if __name__ == "__main__":
    main()
