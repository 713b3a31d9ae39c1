"""A broad scope passes the same rules as a narrow one: the trash is gone for every-folder viewers and a link
of the whole gallery on every endpoint; a nested scope is reached through the folders above it; a path out
of a scope answers exactly as a missing one; a stack and a listing's signature tell only what the viewer sees."""

import os

import pytest
import webtest
from helpers import exif_photo, jpeg, wait_until
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main as lenslet
from lenslet.config import Config
from lenslet.people.users import Directory

TAKEN = "2021:06:01 10:00:00"


def make_gallery(tree, users):
    """trips/2024 and trips/2023 of photos, home/ with a raw+JPEG pair and a live photo; tokens by who."""
    for folder, name in (("trips/2024", "sea.jpg"), ("trips/2023", "hill.jpg"), ("home", "porch.jpg"),
                         ("home", "a.jpg"), ("private", "a.mov")):
        (tree / folder).mkdir(parents=True, exist_ok=True)
        (tree / folder / name).write_bytes(exif_photo(taken=TAKEN))
    directory = Directory(str(users))
    tokens = {"admin": directory.add("root", "admin", [""]), "viewer": directory.add("gran", "view", [""]),
              "nested": directory.add("nan", "view", ["trips/2024"]), "bob": directory.add("bob", "edit", ["home"]),
              "carol": directory.add("carol", "edit", ["private"])}
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(tree), users=directory.path))))
    as_ = {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}
    key = client.post_json("/shares", {"path": ""}, headers=as_["admin"], status=201).json["key"]
    as_["link"] = {"X-Lenslet-Share": key}
    return client, as_


@pytest.fixture
def library(tree, tmp_path):
    client, as_ = make_gallery(tree, tmp_path / "users.json")
    client.post_json("/trash", {"paths": ["home/porch.jpg"]}, headers=as_["admin"])
    lenslet(["index", str(tree)])  # a.mov is no real video: counted as a file with errors
    return client, as_


def paths_of(answer):
    return [item["path"] for item in answer.json["items"]]


@pytest.mark.parametrize("who", ["viewer", "link"])
def test_the_trash_is_gone_for_an_every_folder_viewer_and_a_link_of_everything(library, who):
    client, as_ = library
    asks = dict(headers=as_[who], expect_errors=True)
    assert "_trash_" not in [d["name"] for d in client.get("/folders", **asks).json["dirs"]]
    for url in ("/folders?path=_trash_", "/file?path=_trash_/porch.jpg", "/item?path=_trash_/porch.jpg",
                "/thumb?path=_trash_/porch.jpg", "/preview?path=_trash_/porch.jpg"):
        answer = client.get(url, **asks)
        assert answer.status_int == 404 and answer.json["description"] == "no such file or folder", url
    if who == "viewer":  # a link searches nothing at all
        assert client.get("/search?q=porch", **asks).json["total"] == 0
        assert client.get("/search?path=_trash_", **asks).status_int == 404
        assert "_trash_/porch.jpg" not in paths_of(client.get("/timeline", **asks))
        assert sum(m["count"] for m in client.get("/timeline/months", **asks).json["months"]) == 4
        years = client.get("/on-this-day?day=06-01", **asks).json["years"]
        assert "_trash_/porch.jpg" not in [item["path"] for year in years for item in year["items"]]


def test_a_trashed_photo_is_in_the_trash_view_only_even_for_an_admin(library, tree, search_looks_often):
    client, as_ = library
    admin = as_["admin"]
    assert paths_of(client.get("/folders?path=_trash_", headers=admin)) == ["_trash_/porch.jpg"]
    assert client.get("/search?q=porch", headers=admin).json["total"] == 0
    assert "_trash_/porch.jpg" not in paths_of(client.get("/timeline", headers=admin))
    client.post_json("/restore", {"paths": ["_trash_/porch.jpg"]}, headers=admin)
    wait_until(lambda: paths_of(client.get("/search?q=porch", headers=admin)) == ["home/porch.jpg"])
    lenslet(["index", str(tree)])  # the timeline has it once the rollup does
    wait_until(lambda: "home/porch.jpg" in paths_of(client.get("/timeline", headers=admin)))


def test_a_nested_scope_is_reached_through_the_folders_above_it(library):
    client, as_ = library
    root = client.get("/folders", headers=as_["nested"]).json
    assert [(d["name"], d["allImages"]) for d in root["dirs"]] == [("trips", 1)]
    assert root["allImages"] == 1 and root["cover"] == "trips/2024/sea.jpg"
    trips = client.get("/folders?path=trips", headers=as_["nested"]).json
    assert [d["name"] for d in trips["dirs"]] == ["2024"]
    assert paths_of(client.get("/folders?path=trips/2024", headers=as_["nested"])) == ["trips/2024/sea.jpg"]


def test_a_folder_link_above_a_nested_scope_is_no_way_in(tree, tmp_path):
    client, as_ = make_gallery(tree, tmp_path / "users.json")
    (tree / "trips").rename(tree / "elsewhere")
    os.symlink("elsewhere", tree / "trips")  # trips/2024 now opens elsewhere/2024: not the folder nan was given
    lenslet(["index", str(tree)])  # a.mov is no real video: counted as a file with errors
    assert client.get("/folders", headers=as_["nested"]).json["dirs"] == []


@pytest.mark.parametrize("url", ["/folders?path={}", "/item?path={}/sea.jpg", "/file?path={}/sea.jpg",
                                 "/thumb?path={}/sea.jpg", "/search?path={}"])
def test_out_of_scope_and_missing_answer_alike_to_every_header(library, url):
    client, as_ = library
    out = client.get(url.format("trips/2023"), headers=as_["nested"], expect_errors=True)
    missing = client.get(url.format("trips/2024/gone"), headers=as_["nested"], expect_errors=True)  # in scope
    assert out.status_int == missing.status_int == 404
    assert out.json == {**missing.json, **{k: out.json[k] for k in ("path",) if k in out.json}}
    drop = {"date", "content-length"}  # the bodies differ by the path named only
    assert {k.lower(): v for k, v in out.headers.items() if k.lower() not in drop} == \
        {k.lower(): v for k, v in missing.headers.items() if k.lower() not in drop}


def test_a_stack_groups_only_what_the_viewer_may_see(tree, tmp_path):
    client, as_ = make_gallery(tree, tmp_path / "users.json")
    client.post_json("/trash", {"paths": ["home/a.jpg"]}, headers=as_["bob"])
    client.post_json("/trash", {"paths": ["private/a.mov"]}, headers=as_["carol"])
    lenslet(["index", str(tree)])  # a.mov is no real video: counted as a file with errors
    whole = client.get("/folders?path=_trash_", headers=as_["admin"]).json["items"]
    assert {item["name"]: item.get("stack", {}).get("members") for item in whole} == \
        {"a.jpg": ["a.jpg", "a.mov"], "a.mov": ["a.jpg", "a.mov"]}  # the trash as a whole pairs them
    bobs = client.get("/folders?path=_trash_", headers=as_["bob"]).json["items"]
    assert [item["name"] for item in bobs] == ["a.jpg"] and "stack" not in bobs[0]


def test_a_listings_signature_changes_only_with_what_its_viewer_sees(library, tree):
    client, as_ = library
    before = client.get("/folders", headers=as_["nested"]).json["sig"]
    (tree / "trips" / "2023" / "new.jpg").write_bytes(jpeg(color=(1, 2, 3)))
    lenslet(["index", str(tree)])  # a.mov is no real video: counted as a file with errors
    assert client.get("/folders", headers=as_["admin"]).json["allImages"] == 5
    assert client.get("/folders", headers=as_["nested"]).json["sig"] == before
    (tree / "trips" / "2024" / "new.jpg").write_bytes(jpeg(color=(1, 2, 3)))
    lenslet(["index", str(tree)])  # a.mov is no real video: counted as a file with errors
    assert client.get("/folders", headers=as_["nested"]).json["sig"] != before


def test_on_disk_and_in_a_bucket_the_trash_and_what_is_out_of_scope_answer_as_missing(gallery, tmp_path):
    for path in ("trips/2024/sea.jpg", "trips/2023/hill.jpg", "home/porch.jpg"):
        gallery.put(path, exif_photo(taken=TAKEN))
    directory = Directory(str(tmp_path / "users.json"))
    as_ = {who: {"Authorization": f"Bearer {directory.add(name, role, folders)}"} for who, name, role, folders in
           (("admin", "root", "admin", [""]), ("viewer", "gran", "view", [""]),
            ("nested", "nan", "view", ["trips/2024"]))}
    client = gallery.with_settings(users=directory.path)
    gallery.index()
    client.post_json("/trash", {"paths": ["home/porch.jpg"]}, headers=as_["admin"])
    gallery.index()
    assert [d["name"] for d in client.get("/folders", headers=as_["viewer"]).json["dirs"]] == ["home", "trips"]
    client.get("/file?path=_trash_/porch.jpg", headers=as_["viewer"], status=404)
    assert [d["name"] for d in client.get("/folders", headers=as_["nested"]).json["dirs"]] == ["trips"]
    out = client.get("/folders?path=trips/2023", headers=as_["nested"], status=404)
    missing = client.get("/folders?path=trips/2024/gone", headers=as_["nested"], status=404)
    assert out.headers["Cache-Control"] == missing.headers["Cache-Control"] == "no-store"
    assert "ETag" not in out.headers and "ETag" not in missing.headers
