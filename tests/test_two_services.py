"""More than one lenslet on one tree: every listing, search and thumbnail follows what the tree holds,
whoever wrote it and in whatever order the writers finished.

The first tests run one app on each backend; the last runs two complete services (gunicorn, web
processes, worker, cache folder each) on one bucket of the tests' S3 server.
"""

import os
import signal
import subprocess
import sys
import time

import orjson
import webtest

from helpers import PROJECT, children, jpeg
from lenslet import folders, manifests
from lenslet.app import create_app
from lenslet.config import Config

ROUNDS = 3  # a bucket's times are whole seconds: most rounds land two writes in one second


def tags_listed(client, folder, name):
    [item] = [item for item in client.get("/folders", {"path": folder}).json["items"] if item["name"] == name]
    return sorted(item["tags"])


def found(client, query):
    return sorted(item["path"] for item in client.get("/search", {"q": query}).json["items"])


def test_a_listing_stored_after_an_edit_it_did_not_see_is_corrected(gallery):
    client = gallery.client
    for number in range(ROUNDS):
        folder = f"r{number}"
        gallery.put(f"{folder}/a.jpg", jpeg())
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["first"]})
        # A slow web process lists the folder and reads the sidecar; an edit lands meanwhile (in the same
        # second on S3), and only then does the slow one store the listing it built.
        listing = folders.list_folder(gallery.storage, folder)
        pages = folders.build(gallery.storage, folder, listing, [], 100)
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["second"]})
        folders.store(gallery.storage, folder, listing, pages)
        assert tags_listed(client, folder, "a.jpg") == ["first", "second"]
    gallery.index()
    assert all(tags_listed(client, f"r{number}", "a.jpg") == ["first", "second"] for number in range(ROUNDS))


def test_a_sidecar_rewritten_by_another_program_at_once_is_listed_and_searched(gallery):
    client = gallery.client
    for number in range(ROUNDS):
        folder = f"r{number}"
        gallery.put(f"{folder}/a.jpg", jpeg())
        client.patch_json(f"/item?path={folder}/a.jpg", {"addTags": ["aaaa"]})
        assert tags_listed(client, folder, "a.jpg") == ["aaaa"]
        # Another program puts a sidecar of the very same size, in the same second on S3.
        gallery.put(f"{folder}/a.jpg.json", gallery.read(f"{folder}/a.jpg.json").replace(b"aaaa", b"bbbb"))
        assert tags_listed(client, folder, "a.jpg") == ["bbbb"]
    gallery.index()
    assert found(gallery.client, "bbbb") == [f"r{number}/a.jpg" for number in range(ROUNDS)]


def test_the_worker_thumbnails_a_folder_a_web_process_listed_first(gallery):
    for number in range(3):
        gallery.put(f"new/{number}.jpg", jpeg(color=(number * 60, 0, 0)))
    client = gallery.client
    assert [item["hasThumb"] for item in client.get("/folders", {"path": "new"}).json["items"]] == [False] * 3
    runner = gallery.index()
    assert all(gallery.exists(f"new/{number}.jpg.thumbnail") for number in range(3))
    assert [item["hasThumb"] for item in client.get("/folders", {"path": "new"}).json["items"]] == [True] * 3
    runner.health()
    assert orjson.loads(gallery.read("_health.json"))["missingThumbs"] == 0


def test_a_sidecar_another_program_rewrote_reaches_search_when_a_web_process_lists_it_first(gallery):
    gallery.put("a.jpg", jpeg())
    gallery.put("a.jpg.json", b'{"tags": ["old"]}')
    gallery.index()
    gallery.put("a.jpg.json", b'{"tags": ["new"]}')
    client = gallery.client
    assert tags_listed(client, "", "a.jpg") == ["new"]
    gallery.index()
    assert found(gallery.client, "new") == ["a.jpg"] and found(gallery.client, "old") == []


def test_a_sidecar_rewritten_within_one_step_of_a_coarse_clock_is_read_again_once_it_settles(tmp_path):
    later = [0.0]
    config = Config(root=str(tmp_path / "tree"), recheck=0, create_root=True)
    client = webtest.TestApp(create_app(config, clock=lambda: time.time() + later[0]))
    (tmp_path / "tree" / "a.jpg").write_bytes(jpeg())
    client.patch_json("/item?path=a.jpg", {"addTags": ["aaaa"]})
    assert tags_listed(client, "", "a.jpg") == ["aaaa"]
    # Rewritten at the same size and time, as within one step of a file system's coarse clock.
    sidecar = tmp_path / "tree" / "a.jpg.json"
    before = os.stat(sidecar)
    sidecar.write_bytes(sidecar.read_bytes().replace(b"aaaa", b"bbbb"))
    os.utime(sidecar, ns=(before.st_atime_ns, before.st_mtime_ns))
    later[0] = manifests.RACY + 1
    assert tags_listed(client, "", "a.jpg") == ["bbbb"]


MAKES_A_THUMBNAIL_THEN_WAITS = """
import io, sys
from PIL import Image
from lenslet.pool import ThumbPool
image = io.BytesIO()
Image.new("RGB", (64, 48)).save(image, "JPEG")
pool = ThumbPool(2, 32, 70, 10_000_000)  # kept: a pool dropped is shut down
pool.make(image.getvalue())
print("made", flush=True)
sys.stdin.read()
"""


def running(pid):
    """Whether a process is there and not a zombie (an init that does not reap leaves those)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def wait_until_gone(pids, timeout=15.0):
    """The pids still running after up to timeout seconds (bounded; no time is asserted)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(running, pids)):
        time.sleep(0.1)
    return [pid for pid in pids if running(pid)]


def test_a_killed_process_leaves_no_thumbnail_process_behind():
    process = subprocess.Popen([sys.executable, "-c", MAKES_A_THUMBNAIL_THEN_WAITS], cwd=PROJECT,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    helpers_of_it = []
    try:
        assert process.stdout.readline() == b"made\n"
        helpers_of_it = list(children(process.pid).items())
        assert any("resource_tracker" in line for _, line in helpers_of_it)
        assert any("resource_tracker" not in line for _, line in helpers_of_it)  # the pool's
        process.kill()  # SIGKILL: no atexit, no pool shutdown
        process.wait()
        assert wait_until_gone([pid for pid, _ in helpers_of_it]) == []
    finally:
        for pid, _ in helpers_of_it:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()
