"""Read-only mode (LENSLET_READONLY) and read-only pointer folders: every write refused, nothing written
into the tree or the pointer's target; what lenslet makes (manifests, thumbnails, previews) goes to the
cache folder, and `lenslet clean` removes it from there."""

import io
import json
import os

from helpers import draw, index_tree, jpeg
from PIL import Image

from lenslet.cli import main
from lenslet.config import Config
from lenslet.storage import open_storage


def read_only(client_with, tmp_path):
    return client_with(readonly=True, cache_dir=str(tmp_path / "cache"))


def webp(answer):
    assert answer.status_int == 200 and answer.content_type == "image/webp"
    with Image.open(io.BytesIO(answer.body)) as img:
        return img.size


def read_only_pointer(folder, target):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(target)}, "readonly": True}))


# -- read-only mode --------------------------------------------------------------------------

def test_read_only_mode_writes_nothing_inside_the_root(client_with, tree, tmp_path):
    draw(tree / "trip" / "a.jpg")
    draw(tree / "trip" / "b.png")
    (tree / "trip" / "a.jpg.json").write_text('{"tags": ["kept"]}')
    before = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None) for p in tree.rglob("*")}
    folder_times = os.stat(tree).st_mtime_ns
    config = Config(root=str(tree), readonly=True, cache_dir=str(tmp_path / "cache"))
    client = read_only(client_with, tmp_path)
    client.get("/folders?path=trip")
    client.get("/thumb?path=trip/a.jpg")
    client.get("/item?path=trip/a.jpg")
    client.get("/search?q=kept")
    for method, url in (("put", "/item?path=trip/a.jpg"), ("patch", "/item?path=trip/a.jpg"),
                        ("delete", "/item?path=trip/a.jpg")):
        assert getattr(client, method)(url, status=403).json["title"] == "Forbidden"
    storage = open_storage(config)  # and the worker too
    index_tree(config, storage)
    after = {p: (p.stat().st_mtime_ns, p.read_bytes() if p.is_file() else None) for p in tree.rglob("*")}
    assert after == before and os.stat(tree).st_mtime_ns == folder_times


def test_read_only_mode_refuses_sidecar_writes_and_changes_nothing(client_with, tree, tmp_path):
    draw(tree / "trip" / "a.jpg")
    client = read_only(client_with, tmp_path)
    assert client.put_json("/item?path=trip/a.jpg", {"tags": ["a"]}, status=403).json["title"] == "Forbidden"
    client.patch_json("/item?path=trip/a.jpg", {"addTags": ["a"]}, status=403)
    client.delete("/item?path=trip/a.jpg", status=403)
    assert sorted(os.listdir(tree / "trip")) == ["a.jpg"]


def test_read_only_mode_refuses_put_health(client_with):
    assert client_with(readonly=True).put("/health", status=403).json["title"] == "Forbidden"


def test_read_only_mode_refuses_a_move(client_with, tree):
    draw(tree / "x.jpg")
    client_with(readonly=True).post_json("/move", {"src": "x.jpg", "to": "y.jpg"}, status=403)
    assert sorted(os.listdir(tree)) == ["x.jpg"]


def test_read_only_mode_deletes_no_temp_file_of_a_dead_writer(tree, client_with):
    draw(tree / "a.jpg")
    temp = tree / ".999999999-abcdef.lenslet-tmp"  # its writer (no such pid) is dead
    temp.write_bytes(b"someone's")
    assert client_with(readonly=True, cache_dir=str(tree.parent / "cache")).get("/folders").status_int == 200
    assert temp.read_bytes() == b"someone's"


def test_read_only_mode_keeps_manifests_in_the_cache_folder(client_with, tree, tmp_path):
    draw(tree / "a.jpg")
    listed = read_only(client_with, tmp_path).get("/folders").json
    assert [item["name"] for item in listed["items"]] == ["a.jpg"]
    assert sorted(os.listdir(tree)) == ["a.jpg"]


def test_read_only_mode_keeps_thumbnails_in_the_cache_folder(client_with, tree, tmp_path):
    draw(tree / "a.jpg")
    client = read_only(client_with, tmp_path)
    webp(client.get("/thumb?path=a.jpg"))
    webp(client.get("/thumb?path=a.jpg"))  # and serves it from there
    assert sorted(os.listdir(tree)) == ["a.jpg"]
    assert any(name.endswith(".thumbnail") for _, _, names in os.walk(tmp_path / "cache") for name in names)


def test_read_only_mode_keeps_previews_in_the_cache_folder(client_with, tree, tmp_path):
    draw(tree / "a.jpg", size=(400, 300))
    before = sorted(p.name for p in tree.rglob("*"))
    assert webp(read_only(client_with, tmp_path).get("/preview?path=a.jpg")) == (400, 300)
    assert sorted(p.name for p in tree.rglob("*")) == before
    assert [p for p in (tmp_path / "cache").rglob("*.webp") if p.parent.name == "previews"]


def test_clean_removes_what_read_only_mode_kept_in_the_cache_folder(tree, tmp_path, client_with, monkeypatch):
    draw(tree / "a.jpg", size=(800, 600))
    client = read_only(client_with, tmp_path)
    client.get("/thumb", params={"path": "a.jpg"})
    client.get("/preview", params={"path": "a.jpg"})
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    monkeypatch.setenv("LENSLET_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["clean", str(tree)]) == 0
    assert sorted(str(p.relative_to(tree)) for p in tree.rglob("*")) == ["a.jpg"]
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]


# -- read-only pointer folders ---------------------------------------------------------------

def test_a_read_only_pointer_is_listed_without_writing_into_its_target(client_with, tree, tmp_path):
    archive = tmp_path / "archive"
    draw(archive / "2019" / "x.jpg")
    draw(archive / "top.jpg")
    read_only_pointer(tree / "trips", archive)
    client = client_with(pointer_roots=(str(archive),))
    before = sorted(os.listdir(archive))
    assert [item["name"] for item in client.get("/folders?path=trips").json["items"]] == ["top.jpg"]
    assert sorted(os.listdir(archive)) == before


def test_a_read_only_pointer_refuses_sidecar_writes(client_with, tree, tmp_path):
    archive = tmp_path / "archive"
    draw(archive / "x.jpg")
    read_only_pointer(tree / "arch", archive)
    client = client_with(pointer_roots=(str(tmp_path),))
    assert client.get("/item?path=arch/x.jpg").json["w"] == 64
    client.put_json("/item?path=arch/x.jpg", {"tags": ["a"]}, status=403)
    assert sorted(os.listdir(archive)) == ["x.jpg"]


def test_a_read_only_pointer_refuses_file_operations(client_with, tree, tmp_path):
    archive = tmp_path / "archive"
    draw(archive / "p.jpg", size=(8, 8))
    read_only_pointer(tree / "arch", archive)
    client = client_with(pointer_roots=(str(tmp_path),))
    client.post_json("/trash", {"paths": ["arch/p.jpg"]}, status=403)
    client.post_json("/move", {"src": "arch/p.jpg", "to": "arch/q.jpg"}, status=403)
    client.post_json("/delete", {"paths": ["arch/p.jpg"], "force": True}, status=403)
    client.post("/file", {"dest": "/arch"}, upload_files=[("file", "n.jpg", jpeg())], status=403)
    client.post("/folder?path=arch/sub", status=403)
    assert sorted(os.listdir(archive)) == ["p.jpg"]
