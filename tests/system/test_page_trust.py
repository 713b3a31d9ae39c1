"""What the gallery page relies on from the API so that it loses nothing people do (issue 20).

The page itself is driven in tests/test_browser.py; these pin the answers it reads.
"""

import json
import re
import shutil
from pathlib import Path

from helpers import PROJECT, draw

STATIC = Path(PROJECT) / "lenslet" / "static"


def test_a_restore_recreates_the_folder_and_takes_the_recorded_name(client, tree):
    draw(tree / "2023" / "snow.jpg")
    draw(tree / "2022" / "snow.jpg")
    client.post_json("/trash", {"paths": ["2023/snow.jpg"]})
    assert client.post_json("/trash", {"paths": ["2022/snow.jpg"]}).json["path"] == "_trash_/snow (1).jpg"
    shutil.rmtree(tree / "2022")
    assert client.post_json("/restore", {"paths": ["_trash_/snow (1).jpg"]}).json["path"] == "2022/snow.jpg"
    assert (tree / "2022" / "snow.jpg").exists()


def test_a_restore_onto_a_taken_name_is_the_409_the_page_offers_a_new_name_for(client, tree):
    draw(tree / "2023" / "snow.jpg")
    client.post_json("/trash", {"paths": ["2023/snow.jpg"]})
    draw(tree / "2023" / "snow.jpg", color=(0, 0, 200))
    refused = client.post_json("/restore", {"paths": ["_trash_/snow.jpg"]}, status=409).json
    # api.js nameTaken() keys on this title, and shows the path and the description.
    assert refused["title"] == "Already exists" and refused["path"] == "2023/snow.jpg" and refused["description"]
    kept = client.post_json("/restore", {"paths": ["_trash_/snow.jpg"], "conflict": "rename"}).json
    assert kept["path"] == "2023/snow (1).jpg"


def test_a_restore_whose_origin_is_unknown_is_a_409_of_another_kind(client, tree):
    draw(tree / "_trash_" / "stray.jpg")
    refused = client.post_json("/restore", {"paths": ["_trash_/stray.jpg"]}, status=409).json
    assert refused["title"] != "Already exists"  # nothing to offer: a new name would not help


def test_only_the_setting_makes_health_say_read_only(client_with, tree, tmp_path):
    archive = tmp_path / "archive"
    draw(archive / "old.jpg")
    (tree / "archive").mkdir()
    (tree / "archive" / ".lenslet.folder.json").write_text(json.dumps(
        {"kind": "pointer", "target": {"type": "local", "path": str(archive)}, "readonly": True}))
    client = client_with(pointer_roots=(str(archive),))
    client.patch_json("/item?path=archive/old.jpg", {"star": 2}, status=403)
    assert client.get("/health").json["readonly"] is False  # so the page keeps the rest editable
    assert client_with(readonly=True, cache_dir=str(tmp_path / "cache")).get("/health").json["readonly"] is True


def test_every_request_of_the_page_goes_through_the_one_function_that_labels_json():
    calls = {path.name: len(re.findall(r"\bfetch\(", path.read_text())) for path in STATIC.glob("*.js")}
    assert calls.pop("sw.js") == 2  # the service worker passes on the page's own navigations and files
    assert calls.pop("api.js") == 1 and not any(calls.values()), calls  # request(): the browser tests watch it
