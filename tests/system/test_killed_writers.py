"""A process killed while it writes: every sidecar stays whole; a move caught half way is settled by
whoever starts next."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from helpers import PROJECT, draw, jpeg, tagged, where

from lenslet.files.operations import recover
from lenslet.worker.loop import Worker

WRITER = """
import sys
from lenslet.config import Config
from lenslet.app import create_app
import webtest
client = webtest.TestApp(create_app(Config(root=sys.argv[1])))
n = 0
while True:
    n += 1
    client.patch_json(f"/item?path=trip/{'ab'[n % 2]}.jpg", {"addTags": [f"tag{n}"], "notes": "x" * (n % 5000)})
    print(n, flush=True)
"""


def test_sigkill_mid_writes_leaves_every_sidecar_whole(client, tree, photo):
    draw(tree / "trip" / "b.jpg")
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tree)], cwd=PROJECT,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and int(writer.stdout.readline() or 0) < 200:
        pass
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    client.get("/folders?path=trip")  # listing the folder clears what a killed writer left
    for name in ("a.jpg.json", "b.jpg.json"):
        assert len(json.loads((tree / "trip" / name).read_bytes())["tags"]) > 50
    assert sorted(os.listdir(tree / "trip")) == ["_index.json", "a.jpg", "a.jpg.json", "b.jpg", "b.jpg.json"]


KILLED_MOVE = """
import json, os, signal, sys
from lenslet.config import Config
from lenslet.files.operations import Files
from lenslet.listings import Folders
from lenslet.storage import open_storage
from lenslet.images.thumbs import Thumbs
from lenslet.tree.tree import Tree

config = Config(**json.loads(sys.argv[1]))
storage = open_storage(config)
tree = Tree(config, storage)
at, rename, renamed = int(sys.argv[2]), storage.rename, [0]

def rename_then_die(*args, **kwargs):
    # Killed once `at` steps (renames) of the move are taken; 0: its journal is written, no step yet.
    if at == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    rename(*args, **kwargs)
    renamed[0] += 1
    if renamed[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)

storage.rename = rename_then_die
Files(tree, Folders(tree, config), Thumbs(tree, config), config).move(sys.argv[3], to=sys.argv[4])
"""


def settings_of(config):
    keep = ("root", "s3_bucket", "s3_prefix", "s3_endpoint", "s3_region", "cache_dir")
    return json.dumps({name: getattr(config, name) for name in keep})


@pytest.mark.parametrize("step", [0, 1, 2, 3])
def test_a_move_killed_at_any_step_is_settled(gallery, step):
    tagged(gallery, "a/x.jpg", "safe")
    gallery.put("b/other.jpg", jpeg())
    script = subprocess.run([sys.executable, "-c", KILLED_MOVE, settings_of(gallery.config), str(step),
                             "a/x.jpg", "b/x.jpg"], cwd=PROJECT, capture_output=True, timeout=60)
    assert script.returncode == -9, script.stderr.decode()
    if step < 3:
        assert where(gallery, "a/x.jpg", "b/x.jpg") != {"new"}  # caught in the middle
    assert len(gallery.storage.list_folder(".lenslet/moves")) == 1  # the journal is left behind
    # Settled by whoever starts next: a web process (create_app) or the worker.
    if step % 2:
        Worker(gallery.config, gallery.storage).recover()
    client = gallery.client
    settled = where(gallery, "a/x.jpg", "b/x.jpg")
    assert settled == ({"new"} if step == 3 else {"old"})
    final = "b/x.jpg" if step == 3 else "a/x.jpg"
    assert client.get(f"/item?path={final}").json["tags"] == ["safe"]
    assert recover(gallery.storage) == 0


@pytest.fixture
def photo(tree):
    return draw(tree / "trip" / "a.jpg", size=(64, 48))
