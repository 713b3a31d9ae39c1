"""A state root (LENSLET_STATE) through the API: lenslet's files in the state root at the library's paths, the
library only read; file operations refused with a reason and nothing changed; what lies in either place that is
not what lenslet expects (another program's .json beside a photo, a link, a FIFO, a torn sidecar) never followed
or trusted; a folder another program renamed keeps its sidecars, reported until re-attached."""

import json
import os
import shutil
import time

import pytest
import webtest
from helpers import draw, index_tree, jpeg
from openapi_check import spec_checked

from lenslet import jobs
from lenslet.app import create_app
from lenslet.cli import main
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.storage import open_storage
from lenslet.worker.handlers import Runner, drain


@pytest.fixture
def library(tmp_path):
    draw(tmp_path / "library" / "trips" / "a.jpg", size=(120, 80), color=(200, 30, 30))
    draw(tmp_path / "library" / "trips" / "b.jpg", size=(80, 120), color=(30, 200, 30))
    draw(tmp_path / "library" / "home" / "cat.png", size=(40, 40), color=(30, 30, 200))
    return tmp_path / "library"


@pytest.fixture
def config(library, tmp_path):
    return Config(root=str(library), state=str(tmp_path / "state"))


@pytest.fixture
def storage(config):
    return open_storage(config)


@pytest.fixture
def client(config, storage):
    return webtest.TestApp(spec_checked(create_app(config, storage)))


def parent_of(path):
    return path.rpartition("/")[0]


def as_it_is(root):
    """Every file and folder below root: (bytes or None, mtime)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def test_everything_lenslet_writes_lands_in_the_state_root_at_the_librarys_paths(library, tmp_path, client, config,
                                                                               storage):
    before = as_it_is(library)
    assert [item["name"] for item in client.get("/folders?path=trips").json["items"]] == ["a.jpg", "b.jpg"]
    assert client.get("/thumb?path=trips/a.jpg").content_type == "image/webp"
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 5})
    index_tree(config, storage)
    assert [item["path"] for item in client.get("/search?q=sea").json["items"]] == ["trips/a.jpg"]
    state = tmp_path / "state"
    assert json.loads((state / "trips" / "a.jpg.json").read_text())["tags"] == ["sea"]
    assert (state / "trips" / "a.jpg.thumbnail").is_file() and (state / "trips" / "_index.json").is_file()
    assert (state / "_rollup.json").is_file() and (state / ".lenslet" / "jobs").is_dir()
    assert as_it_is(library) == before
    listed = {item["name"]: item for item in client.get("/folders?path=trips").json["items"]}
    assert listed["a.jpg"]["tags"] == ["sea"] and listed["a.jpg"]["hasThumb"]


@pytest.mark.parametrize("send", [
    lambda c: c.post("/file", {"dest": "trips"}, upload_files=[("file", "new.jpg", jpeg())], status=403),
    lambda c: c.put("/file?path=trips/a.jpg", jpeg(), content_type="image/jpeg", status=403),
    lambda c: c.post_json("/move", {"src": "trips/a.jpg", "dest": "home"}, status=403),
    lambda c: c.post_json("/move", {"src": "trips/a.jpg", "to": "trips/z.jpg"}, status=403),
    lambda c: c.post_json("/trash", {"paths": ["trips/a.jpg"]}, status=403),
    lambda c: c.post_json("/restore", {"paths": ["_trash_/a.jpg"]}, status=403),
    lambda c: c.post_json("/delete", {"paths": ["trips/a.jpg"], "force": True}, status=403),
    lambda c: c.post_json("/folder", {"path": "new"}, status=403),
    lambda c: c.delete("/folder?path=home", status=403),
    lambda c: c.post("/move", "{torn", content_type="application/json", status=403),  # refused before the body
    lambda c: c.post_json("/duplicates/trash", {"hash": "blake3:" + "0" * 64, "keep": "trips/a.jpg",
                                                "paths": ["trips/b.jpg"]}, status=403),
], ids=["upload", "replace", "move", "rename", "trash", "restore", "delete", "new folder", "remove folder", "torn",
        "trash duplicates"])
def test_file_operations_answer_403_with_the_reason_and_change_nothing(library, tmp_path, client, send):
    client.get("/folders?path=trips")
    before, kept = as_it_is(library), as_it_is(tmp_path / "state")
    answer = send(client).json
    assert answer["reason"] == "library-read-only" and answer["setting"] == "LENSLET_STATE"
    assert "library is read-only" in answer["description"]
    assert as_it_is(library) == before and as_it_is(tmp_path / "state") == kept


def test_a_cross_site_form_and_a_foreign_host_are_refused_before_the_state_root_is_written(library, tmp_path, client):
    client.get("/folders?path=trips")
    kept = as_it_is(tmp_path / "state")
    answer = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, headers={"Origin": "http://evil.example"},
                               status=403).json
    assert "another site" in answer["description"]
    client.post("/trash", {"paths": "trips/a.jpg"}, headers={"Sec-Fetch-Site": "cross-site"}, status=403)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, headers={"Host": "evil.example"}, status=421)
    assert as_it_is(tmp_path / "state") == kept


def test_health_tells_the_page_that_file_operations_are_off(client):
    assert client.get("/health").json["libraryReadonly"] is True


def test_without_a_state_root_nothing_changes(tree):
    draw(tree / "a.jpg")
    plain = webtest.TestApp(spec_checked(create_app(Config(root=str(tree)))))
    assert plain.get("/health").json["libraryReadonly"] is False
    plain.post_json("/folder", {"path": "new"}, status=201)
    assert (tree / "new").is_dir()


@pytest.mark.parametrize("where", ["inside", "around", "same"])
def test_a_state_root_that_overlaps_the_library_is_refused_at_start(library, where):
    state = {"inside": library / "state", "around": library.parent, "same": library}[where]
    with pytest.raises(ConfigError) as refused:
        open_storage(Config(root=str(library), state=str(state)))
    assert refused.value.fields["setting"] == "LENSLET_STATE"
    assert not (library / "state").exists()


@pytest.mark.parametrize("value", ["ftp://host/x", "s3://", "s3://UPPER/x", "s3://a/b"])
def test_a_bad_state_root_setting_is_refused_naming_it(value):
    with pytest.raises(ConfigError) as refused:
        Config.from_env({"LENSLET_STATE": value})
    assert "LENSLET_STATE" in str(refused.value.description)


def test_another_programs_json_beside_a_photo_is_never_read_as_its_sidecar_nor_written(library, client):
    takeout = library / "trips" / "a.jpg.json"
    takeout.write_text('{"title": "a.jpg", "tags": "one string"}')  # a Google Takeout file
    before = as_it_is(library)
    assert client.get("/item?path=trips/a.jpg").json["tags"] == []
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["mine"]})
    assert client.get("/item?path=trips/a.jpg").json["tags"] == ["mine"]
    assert as_it_is(library) == before
    assert [item["name"] for item in client.get("/folders?path=trips").json["items"]] == ["a.jpg", "b.jpg"]


def test_a_link_or_a_fifo_at_a_sidecars_name_in_the_state_root_is_never_followed(library, tmp_path, client):
    client.get("/folders?path=trips")
    secret = tmp_path / "secret.json"
    secret.write_text('{"v": 1, "tags": ["secret"]}')
    (tmp_path / "state" / "trips" / "a.jpg.json").symlink_to(secret)
    os.mkfifo(tmp_path / "state" / "trips" / "b.jpg.json")
    assert "secret" not in client.get("/item?path=trips/a.jpg", status="*").text
    assert client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, status="*").status_int in (400, 409, 422)
    assert client.get("/item?path=trips/b.jpg", status="*").status_int < 500
    assert secret.read_text() == '{"v": 1, "tags": ["secret"]}'


@pytest.mark.parametrize("stray", ["file", "link"])
def test_what_holds_a_folders_place_in_the_state_root_never_hides_the_librarys_folder(library, tmp_path, client,
                                                                                    stray):
    client.get("/folders?path=trips")
    mirror = tmp_path / "state" / "trips"
    for path in mirror.iterdir():
        path.unlink()
    mirror.rmdir()
    (tmp_path / "elsewhere").mkdir()
    mirror.write_text("x") if stray == "file" else mirror.symlink_to(tmp_path / "elsewhere")
    before = as_it_is(library)
    assert [item["name"] for item in client.get("/folders?path=trips").json["items"]] == ["a.jpg", "b.jpg"]
    assert client.get("/file?path=trips/a.jpg").body == (library / "trips" / "a.jpg").read_bytes()
    answer = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, status="*")
    assert 400 <= answer.status_int < 500 and answer.json["path"].startswith("trips")  # says where, writes nothing
    assert as_it_is(library) == before and not list((tmp_path / "elsewhere").iterdir())


def test_a_torn_sidecar_in_the_state_root_is_kept_and_never_merged_into(library, tmp_path, client):
    client.get("/folders?path=trips")
    torn = tmp_path / "state" / "trips" / "a.jpg.json"
    torn.write_text('{"v": 1, "tags": ["half')
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, status="*")
    assert torn.read_text() == '{"v": 1, "tags": ["half'


def test_an_unreadable_sidecar_of_a_long_named_photo_is_replaced_on_request_its_bytes_kept(library, tmp_path,
                                                                                             client):
    name = "x" * 240 + ".jpg"  # its sidecar's name is shortened, and its backup's name too
    draw(library / "trips" / name)
    client.patch_json(f"/item?path=trips/{name}", {"addTags": ["old"]})
    [sidecar] = [path for path in (tmp_path / "state" / "trips").iterdir() if path.name.startswith("xxx")]
    sidecar.write_text('{"v": 1, "tags": ["half')
    before = as_it_is(library)
    client.put_json(f"/item?path=trips/{name}&overwrite=true", {"tags": ["new"]})
    assert client.get(f"/item?path=trips/{name}").json["tags"] == ["new"]
    [backup] = [path for path in (tmp_path / "state" / "trips").iterdir() if ".bad-" in path.name]
    assert backup.read_text() == '{"v": 1, "tags": ["half' and len(backup.name.encode()) <= 255
    assert as_it_is(library) == before


def test_a_photo_whose_name_looks_like_a_kept_sidecar_is_still_a_photo(library, client):
    draw(library / "trips" / "trip.json.bad-day.jpg")
    names = [item["name"] for item in client.get("/folders?path=trips").json["items"]]
    assert names == ["a.jpg", "b.jpg", "trip.json.bad-day.jpg"]
    assert client.get("/thumb?path=trips/trip.json.bad-day.jpg").content_type == "image/webp"
    client.patch_json("/item?path=trips/trip.json.bad-day.jpg", {"addTags": ["odd"]})
    assert client.get("/item?path=trips/trip.json.bad-day.jpg").json["tags"] == ["odd"]

@pytest.mark.parametrize("name", ["export.json", "pics.thumbnail", "trip.jpg.json", "_rollup.json", "_health.json"])
def test_a_library_folder_named_like_one_of_lenslets_files_is_a_folder_as_beside_the_photos(library, tmp_path,
                                                                                             config, storage, name):
    draw(library / name / "c.jpg")
    index_tree(config, storage)  # the rollup and report made before the state root holds a folder of that name
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    before = as_it_is(library)
    assert name in [folder["name"] for folder in client.get("/folders?path=").json["dirs"]]
    assert [item["name"] for item in client.get(f"/folders?path={name}").json["items"]] == ["c.jpg"]
    assert client.get(f"/thumb?path={name}/c.jpg").content_type == "image/webp"
    client.patch_json(f"/item?path={name}/c.jpg", {"addTags": ["odd"]})
    index_tree(config, storage)
    assert client.get(f"/item?path={name}/c.jpg").json["tags"] == ["odd"]
    assert [item["path"] for item in client.get("/search?q=odd").json["items"]] == [f"{name}/c.jpg"]
    assert client.post_json("/shares", {"path": name}).status_int == 201  # a share is bound to the library's folder
    assert (tmp_path / "state" / name / "c.jpg.json").is_file()
    assert as_it_is(library) == before


@pytest.mark.parametrize("name", ["_rollup.json", "_health.json", "_index.json", "trips/_index.json"])
def test_a_library_folder_made_where_the_state_root_keeps_a_file_lenslet_made_is_a_folder(library, tmp_path, config,
                                                                                         storage, client, name):
    """lenslet ran first (the state root keeps its rollup, report and listings at those names); then another program
    makes a folder of that name: it is browsed, described and searched as any folder, and lenslet's file, made again
    elsewhere or kept in memory, gives it its place."""
    index_tree(config, storage)
    assert (tmp_path / "state" / name).is_file()
    draw(library / name / "c.jpg")
    before = as_it_is(library)
    assert name.rpartition("/")[2] in [d["name"] for d in client.get(f"/folders?path={parent_of(name)}").json["dirs"]]
    assert [item["name"] for item in client.get(f"/folders?path={name}").json["items"]] == ["c.jpg"]
    client.patch_json(f"/item?path={name}/c.jpg", {"addTags": ["odd"], "star": 2})
    assert client.get(f"/thumb?path={name}/c.jpg").content_type == "image/webp"
    index_tree(config, storage)
    fresh = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    for reader in (client, fresh):
        assert reader.get(f"/item?path={name}/c.jpg").json["tags"] == ["odd"]
        assert [item["tags"] for item in reader.get(f"/folders?path={name}").json["items"]] == [["odd"]]
        assert reader.get("/item?path=trips/a.jpg").json["path"] == "trips/a.jpg"
    # (a folder `_index.json/` keeps its parent's listing in memory: the rollup takes it from the worker's)
    assert [item["path"] for item in fresh.get("/search?q=odd").json["items"]] == [f"{name}/c.jpg"]
    assert len(fresh.get("/search?q=").json["items"]) == 4
    assert (tmp_path / "state" / name / "c.jpg.json").is_file()
    assert as_it_is(library) == before


def test_a_library_folder_made_at_the_name_of_a_photos_words_keeps_them(library, tmp_path, config, client):
    """The state root keeps the words of trips/a.jpg at trips/a.jpg.json; another program makes a folder of that
    name (beside the photos the name would be taken): the words are kept, the folder is browsed, and lenslet keeps
    nothing for it, saying why, until one of the two is renamed."""
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["kept"]})
    words = (tmp_path / "state" / "trips" / "a.jpg.json").read_bytes()
    draw(library / "trips" / "a.jpg.json" / "c.jpg")
    assert [item["name"] for item in client.get("/folders?path=trips/a.jpg.json").json["items"]] == ["c.jpg"]
    assert client.get("/item?path=trips/a.jpg.json/c.jpg").json["tags"] == []
    assert client.get("/file?path=trips/a.jpg.json/c.jpg").content_type == "image/jpeg"
    for refused in (client.patch_json("/item?path=trips/a.jpg.json/c.jpg", {"addTags": ["x"]}, status=409),
                    client.get("/thumb?path=trips/a.jpg.json/c.jpg", status=409)):
        assert "words" in refused.json["description"]
    assert client.get("/item?path=trips/a.jpg").json["tags"] == ["kept"]
    listed = webtest.TestApp(create_app(config, open_storage(config))).get("/folders?path=trips").json
    assert {item["name"]: item["tags"] for item in listed["items"]} == {"a.jpg": ["kept"], "b.jpg": []}
    assert "a.jpg.json" in [folder["name"] for folder in listed["dirs"]]
    assert (tmp_path / "state" / "trips" / "a.jpg.json").read_bytes() == words
    shutil.rmtree(library / "trips" / "a.jpg.json")
    assert {item["name"]: item["tags"] for item in client.get("/folders?path=trips").json["items"]}["a.jpg"] == ["kept"]


def test_a_library_folder_made_below_one_where_the_state_root_keeps_a_file_is_described(library, tmp_path, config,
                                                                                       storage, client):
    """Two of lenslet's names deep (`trips/_index.json/x/_index.json/`), made after lenslet kept the upper listing:
    the file in the way is cleared from the top, so the photo below is described and thumbnailed."""
    index_tree(config, storage)
    assert (tmp_path / "state" / "trips" / "_index.json").is_file()
    deep = "trips/_index.json/x/_index.json"
    draw(library / deep / "c.jpg")
    before = as_it_is(library)
    client.patch_json(f"/item?path={deep}/c.jpg", {"addTags": ["deep"]})
    assert client.get(f"/thumb?path={deep}/c.jpg").content_type == "image/webp"
    fresh = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    for reader in (client, fresh):
        assert reader.get(f"/item?path={deep}/c.jpg").json["tags"] == ["deep"]
        assert [item["tags"] for item in reader.get(f"/folders?path={deep}").json["items"]] == [["deep"]]
    assert json.loads((tmp_path / "state" / deep / "c.jpg.json").read_text())["tags"] == ["deep"]
    assert as_it_is(library) == before


def test_a_pointer_folder_made_where_the_state_root_keeps_a_file_grafts_its_tree(library, tmp_path):
    """A pointer folder `_rollup.json/` made after lenslet kept its rollup at that name: the target is browsed and
    described, its words kept in the state root below the pointer folder's place, the target untouched."""
    config = Config(root=str(library), state=str(tmp_path / "state"), pointer_roots=(str(tmp_path / "other"),))
    index_tree(config, open_storage(config))
    assert (tmp_path / "state" / "_rollup.json").is_file()
    draw(tmp_path / "other" / "o.jpg")
    (library / "_rollup.json").mkdir()
    (library / "_rollup.json" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(tmp_path / "other")}}))
    before, target = as_it_is(library), as_it_is(tmp_path / "other")
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert [item["name"] for item in client.get("/folders?path=_rollup.json").json["items"]] == ["o.jpg"]
    client.patch_json("/item?path=_rollup.json/o.jpg", {"addTags": ["grafted"]})
    assert client.get("/item?path=_rollup.json/o.jpg").json["tags"] == ["grafted"]
    assert (tmp_path / "state" / "_rollup.json").is_dir()
    assert as_it_is(library) == before and as_it_is(tmp_path / "other") == target


def test_a_folder_link_named_like_a_file_the_state_root_keeps_leads_to_the_folders_words(library, tmp_path, config,
                                                                                          storage, client):
    """`_health.json -> trips` made after lenslet kept its report at that name: the link is browsed and its photos
    described, the words kept once, at the folder's real path."""
    index_tree(config, storage)
    assert (tmp_path / "state" / "_health.json").is_file()
    os.symlink("trips", library / "_health.json")
    before = as_it_is(library)
    assert {item["name"] for item in client.get("/folders?path=_health.json").json["items"]} == {"a.jpg", "b.jpg"}
    client.patch_json("/item?path=_health.json/a.jpg", {"addTags": ["linked"]})
    assert client.get("/item?path=trips/a.jpg").json["tags"] == ["linked"]
    assert json.loads((tmp_path / "state" / "trips" / "a.jpg.json").read_text())["tags"] == ["linked"]
    assert as_it_is(library) == before


def test_a_link_in_the_state_root_is_never_followed(library, tmp_path, config, storage, client):
    """Another program puts a link in the state root (`trips/_index.json -> ../home`) where a library folder then
    comes: words are never read or written through it into another folder's, and nothing is listed from it."""
    client.patch_json("/item?path=home/cat.png", {"addTags": ["home"], "star": 5})
    index_tree(config, storage)
    words = (tmp_path / "state" / "home" / "cat.png.json").read_bytes()
    (tmp_path / "state" / "trips" / "_index.json").unlink()
    os.symlink("../home", tmp_path / "state" / "trips" / "_index.json")
    draw(library / "trips" / "_index.json" / "cat.png")
    before = as_it_is(library)
    refused = client.patch_json("/item?path=trips/_index.json/cat.png", {"addTags": ["other"]}, status=400)
    assert "link" in refused.json["description"] and refused.json["path"].startswith("trips/_index.json")
    assert client.get("/item?path=trips/_index.json/cat.png").json["tags"] == []  # nothing kept for it
    assert [item["tags"] for item in client.get("/folders?path=trips/_index.json").json["items"]] == [[]]
    assert client.get("/item?path=home/cat.png").json["tags"] == ["home"]
    assert (tmp_path / "state" / "home" / "cat.png.json").read_bytes() == words
    assert as_it_is(library) == before


@pytest.mark.parametrize("lead", ["library", "elsewhere"])
def test_a_link_in_the_state_root_at_a_pointer_folders_place_is_never_written_through(library, tmp_path, lead):
    """A pointer folder's words are kept in the state root below its place: a link put there (into the library,
    or anywhere) is refused, and nothing is written where it leads."""
    config = Config(root=str(library), state=str(tmp_path / "state"), pointer_roots=(str(tmp_path / "other"),))
    draw(tmp_path / "other" / "o.jpg")
    (library / "graft").mkdir()
    (library / "graft" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(tmp_path / "other")}}))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "state").mkdir()
    os.symlink(library / "trips" if lead == "library" else tmp_path / "elsewhere", tmp_path / "state" / "graft")
    before, elsewhere = as_it_is(library), as_it_is(tmp_path / "elsewhere")
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert "link" in client.patch_json("/item?path=graft/o.jpg", {"addTags": ["x"]}, status=409).json["description"]
    client.get("/folders?path=graft", status=409)
    client.get("/thumb?path=graft/o.jpg", status=409)
    assert client.get("/folders?path=trips").status_int == 200
    assert as_it_is(library) == before and as_it_is(tmp_path / "elsewhere") == elsewhere


def test_clean_leaves_a_link_in_the_state_root_and_cleans_the_rest(library, tmp_path, config, storage, client,
                                                                   monkeypatch):
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    index_tree(config, storage)
    os.symlink("trips", tmp_path / "state" / "alias")  # another program's
    monkeypatch.setenv("LENSLET_ROOT", str(library))
    monkeypatch.setenv("LENSLET_STATE", str(tmp_path / "state"))
    before = as_it_is(library)
    assert main(["clean", str(library)]) == 0
    left = sorted(str(path.relative_to(tmp_path / "state")) for path in (tmp_path / "state").rglob("*")
                  if path.is_file() or path.is_symlink())
    assert left == ["alias", "trips/a.jpg.json"]
    assert os.readlink(tmp_path / "state" / "alias") == "trips" and as_it_is(library) == before


def test_a_worker_started_again_searches_a_folder_whose_listing_a_kept_folder_holds_the_name_of(library, tmp_path,
                                                                                               config, storage):
    """Words of a photo in a library folder `trips/_index.json/` stay in the state root when another program removes
    that folder (kept for it, reported): `trips`'s listing is kept in memory, and a worker that never built it
    builds it for the rollup, so the folder's photos stay searched."""
    draw(library / "trips" / "_index.json" / "c.jpg")
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    client.patch_json("/item?path=trips/_index.json/c.jpg", {"addTags": ["gone"]})
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["stays"]})
    shutil.rmtree(library / "trips" / "_index.json")
    index_tree(config, open_storage(config))
    fresh = open_storage(config)  # a worker started again
    jobs.enqueue(fresh, "rollup", "", time.time)
    assert drain(Runner(config, fresh), "test").stats["unindexedFolders"] == []
    reader = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    assert [item["path"] for item in reader.get("/search?q=stays").json["items"]] == ["trips/a.jpg"]
    assert (tmp_path / "state" / "trips" / "_index.json" / "c.jpg.json").is_file()


def test_a_library_folder_named_like_a_listing_page_is_kept_as_beside_the_photos(library, tmp_path, client):
    """The root's listing is then kept in memory (never written in the folder's place); the folder's photos are
    listed and described."""
    draw(library / "_index.json" / "c.jpg")
    client.get("/folders?path=")  # the root's listing, before the state root holds a folder of that name
    assert "_index.json" in [folder["name"] for folder in client.get("/folders?path=").json["dirs"]]
    client.patch_json("/item?path=_index.json/c.jpg", {"addTags": ["odd"]})
    assert client.get("/item?path=_index.json/c.jpg").json["tags"] == ["odd"]
    assert [item["name"] for item in client.get("/folders?path=_index.json").json["items"]] == ["c.jpg"]
    assert (tmp_path / "state" / "_index.json" / "c.jpg.json").is_file()



def test_a_folder_link_inside_the_library_leads_to_the_folders_words_as_beside_the_photos(library, tmp_path, config,
                                                                                            storage, client):
    os.symlink("trips", library / "best")
    before = as_it_is(library)
    client.patch_json("/item?path=best/a.jpg", {"addTags": ["through the link"]})
    client.patch_json("/item?path=trips/b.jpg", {"addTags": ["through the folder"], "star": 3})
    client.patch_json("/folders?path=best", {"cover": "b.jpg"})
    index_tree(config, storage)
    fresh = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    for reader in (client, fresh):
        for folder in ("trips", "best"):
            listed = {item["name"]: item["tags"] for item in reader.get(f"/folders?path={folder}").json["items"]}
            assert listed == {"a.jpg": ["through the link"], "b.jpg": ["through the folder"]}
            assert reader.get(f"/item?path={folder}/b.jpg").json["star"] == 3
        assert reader.get("/folders?path=trips").json["cover"] == "trips/b.jpg"
        assert len(reader.get("/search?q=through").json["items"]) == 2  # the folder is indexed once, as beside
    kept = tmp_path / "state"
    assert (kept / "trips" / "a.jpg.json").is_file() and not (kept / "best" / "a.jpg.json").exists()
    os.remove(library / "best")  # the link now leads to another folder: its words are that folder's
    os.symlink("home", library / "best")
    assert client.get("/item?path=best/cat.png").json["tags"] == []
    client.patch_json("/item?path=best/cat.png", {"addTags": ["cat"]})
    assert client.get("/item?path=home/cat.png").json["tags"] == ["cat"]
    del before["best"]  # (the link this test swapped)
    assert {path: kept for path, kept in as_it_is(library).items() if path != "best"} == before


def test_words_kept_at_a_path_that_became_a_folder_link_are_never_hidden(library, tmp_path, client, config,
                                                                          storage):
    """Another program renames trips and leaves a link at its old name: the words kept at trips/ in the state
    root are read and written there still, by /item, the listing and search."""
    index_tree(config, storage)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 4})
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    os.rename(library / "trips", library / "trips-2019")
    os.symlink("trips-2019", library / "trips")
    index_tree(config, storage)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["boat"]})
    item = client.get("/item?path=trips/a.jpg").json
    assert (item["tags"], item["star"]) == (["sea", "boat"], 4)
    listed = client.get("/folders?path=trips").json
    assert {entry["name"]: entry["tags"] for entry in listed["items"]}["a.jpg"] == ["sea", "boat"]
    assert listed["cover"] == "trips/b.jpg"
    assert json.loads((tmp_path / "state" / "trips" / "a.jpg.json").read_text())["tags"] == ["sea", "boat"]


def test_a_folder_moved_out_of_the_library_and_linked_back_keeps_its_words_reported(library, tmp_path, client,
                                                                                     config, storage):
    index_tree(config, storage)
    client.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]})
    client.patch_json("/folders?path=home", {"cover": "cat.png"})
    shutil.move(library / "home", tmp_path / "away")
    os.symlink(tmp_path / "away", library / "home")  # a link out of the library: lenslet never follows it
    index_tree(config, storage)
    index_tree(config, storage)
    files = json.loads((tmp_path / "state" / "_health.json").read_text())["files"]
    assert files["foldersGone"] == ["home"] and files["orphanSidecars"] == ["home/cat.png.json"]
    assert json.loads((tmp_path / "state" / "home" / "cat.png.json").read_text())["tags"] == ["cat"]


def test_a_link_into_the_librarys_own_state_folder_never_leads_into_the_state_roots(library, tmp_path, client):
    draw(library / ".lenslet" / "jobs" / "p.jpg")  # left from the days lenslet kept its files beside the images
    os.symlink(".lenslet/jobs", library / "x")
    client.patch_json("/item?path=x/p.jpg", {"addTags": ["planted"]}, status="*")
    assert not (tmp_path / "state" / ".lenslet" / "jobs" / "p.jpg.json").exists()
    assert not any(path.name.startswith("p.jpg") for path in (tmp_path / "state" / ".lenslet").rglob("*"))


def test_a_folder_another_program_renamed_keeps_its_tags_reported_until_reattached(library, tmp_path, client, config,
                                                                                 storage):
    index_tree(config, storage)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    os.rename(library / "trips", library / "travels")
    index_tree(config, storage)
    assert client.get("/item?path=travels/a.jpg").json["tags"] == ["sea"]
    assert not (tmp_path / "state" / "trips" / "a.jpg.json").exists()  # moved, not copied
    index_tree(config, storage)
    assert not (tmp_path / "state" / "trips").exists()  # nothing left there but what lenslet makes again: swept


def test_a_folders_picked_cover_follows_it_when_another_program_renames_it(library, tmp_path, client, config,
                                                                           storage):
    draw(library / "home" / "dog.jpg", color=(90, 90, 10))
    index_tree(config, storage)
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    client.patch_json("/folders?path=home", {"cover": "dog.jpg"})
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    client.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]})
    before = as_it_is(library)
    os.rename(library / "trips", library / "travels")  # the pick goes with it
    os.rename(library / "home" / "cat.png", library / "cat.png")  # home stays: its pick stays with it
    index_tree(config, storage)
    index_tree(config, storage)
    dirs = {d["name"]: (d["cover"], d["coverPicked"]) for d in client.get("/folders?path=").json["dirs"]}
    assert dirs == {"travels": ("travels/b.jpg", True), "home": ("home/dog.jpg", True)}
    assert client.get("/item?path=travels/a.jpg").json["tags"] == ["sea"]
    assert client.get("/item?path=cat.png").json["tags"] == ["cat"]
    assert not (tmp_path / "state" / "trips").exists()
    assert {path for path in as_it_is(library)} == {path.replace("trips", "travels") for path in before
                                                     if path != "home/cat.png"} | {"cat.png"}


def test_the_pick_of_a_folder_nobody_described_follows_it_by_its_pictures_content(library, tmp_path, client, config,
                                                                                 storage):
    draw(library / "elsewhere" / "z.jpg", color=(1, 2, 3))
    index_tree(config, storage)
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    client.patch_json("/folders?path=elsewhere", {"cover": "z.jpg"})
    os.rename(library / "trips", library / "travels")
    os.rename(library / "elsewhere", library / "other")
    index_tree(config, storage)
    index_tree(config, storage)
    dirs = {d["name"]: (d["cover"], d["coverPicked"]) for d in client.get("/folders?path=").json["dirs"]}
    assert dirs["travels"] == ("travels/b.jpg", True) and dirs["other"] == ("other/z.jpg", True)
    assert not (tmp_path / "state" / "trips").exists() and not (tmp_path / "state" / "elsewhere").exists()


@pytest.mark.parametrize("described", [False, True])
def test_a_pick_never_goes_to_a_folder_the_photos_were_moved_into(library, tmp_path, client, config, storage,
                                                                   described):
    """Another program moves trips' photos into home, which was there, and removes trips: as beside the images,
    where the pick goes with the removed folder, home is not given it."""
    index_tree(config, storage)
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    if described:
        client.patch_json("/item?path=trips/b.jpg", {"addTags": ["kept"]})
    for name in ("a.jpg", "b.jpg"):
        os.rename(library / "trips" / name, library / "home" / name)
    os.rmdir(library / "trips")
    index_tree(config, storage)
    index_tree(config, storage)
    assert client.get("/folders?path=home").json["coverPicked"] is False
    assert (tmp_path / "state" / "trips" / ".lenslet.meta.json").is_file()  # kept, and reported
    assert client.get("/item?path=home/b.jpg").json["tags"] == (["kept"] if described else [])


def test_the_pick_of_a_folder_nobody_described_stays_when_its_picture_is_in_two_folders(library, tmp_path, client,
                                                                                      config, storage):
    (library / "copies").mkdir()
    shutil.copy(library / "trips" / "b.jpg", library / "copies")
    index_tree(config, storage)
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    os.rename(library / "trips", library / "travels")
    index_tree(config, storage)
    index_tree(config, storage)
    assert client.get("/folders?path=travels").json["coverPicked"] is False
    assert client.get("/folders?path=copies").json["coverPicked"] is False
    assert (tmp_path / "state" / "trips" / ".lenslet.meta.json").is_file()  # kept, and reported
    assert json.loads((tmp_path / "state" / "_health.json").read_text())["files"]["foldersGone"] == ["trips"]


@pytest.mark.parametrize("there", ["link", "fifo", "pick"])
def test_a_cover_never_replaces_nor_follows_what_holds_its_name_where_the_folder_went(library, tmp_path, client,
                                                                                    config, storage, there):
    index_tree(config, storage)
    client.patch_json("/folders?path=trips", {"cover": "b.jpg"})
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    os.rename(library / "trips", library / "travels")
    (tmp_path / "state" / "travels").mkdir()
    held, secret = tmp_path / "state" / "travels" / ".lenslet.meta.json", tmp_path / "secret"
    secret.write_text('{"v": 1, "cover": "a.jpg"}')
    {"link": lambda: held.symlink_to(secret), "fifo": lambda: os.mkfifo(held),
     "pick": lambda: client.patch_json("/folders?path=travels", {"cover": "a.jpg"})}[there]()
    index_tree(config, storage)
    assert client.get("/item?path=travels/a.jpg").json["tags"] == ["sea"]  # the tags follow all the same
    assert (tmp_path / "state" / "trips" / ".lenslet.meta.json").exists()  # the old pick is kept where it was
    assert secret.read_text() == '{"v": 1, "cover": "a.jpg"}'
    travels = next(entry for entry in client.get("/folders?path=").json["dirs"] if entry["name"] == "travels")
    assert travels["coverPicked"] == (there == "pick")


def test_metadata_of_an_image_that_disappeared_is_kept_and_reported_then_reattached_when_it_comes_back(
        library, tmp_path, client, config, storage):
    index_tree(config, storage)
    client.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]})
    gone = (library / "home" / "cat.png").read_bytes()
    os.rename(library / "home", tmp_path / "away")  # another program takes the whole folder away
    index_tree(config, storage)
    report = client.get("/health").json["report"]
    assert report["orphanSidecars"] == 1 and report["foldersGone"] == 1
    files = json.loads((tmp_path / "state" / "_health.json").read_text())["files"]
    assert files["orphanSidecars"] == ["home/cat.png.json"] and files["foldersGone"] == ["home"]
    assert json.loads((tmp_path / "state" / "home" / "cat.png.json").read_text())["tags"] == ["cat"]
    (library / "back").mkdir()
    (library / "back" / "kitty.png").write_bytes(gone)
    index_tree(config, storage)
    assert client.get("/item?path=back/kitty.png").json["tags"] == ["cat"]
    index_tree(config, storage)  # the next pass of the scanner: nothing left behind
    assert client.get("/health").json["report"]["orphanSidecars"] == 0
    assert client.get("/health").json["report"]["foldersGone"] == 0 and not (tmp_path / "state" / "home").exists()


def test_a_scoped_user_never_sees_outside_their_scope(library, tmp_path, config, storage, capsys):
    from lenslet.cli import main
    users = tmp_path / "users.json"
    assert main(["user", "--file", str(users), "add", "bob", "--role", "edit", "--folders", "home"]) == 0
    bob = {"Authorization": f"Bearer {capsys.readouterr().out.strip()}"}
    app = webtest.TestApp(spec_checked(create_app(Config(root=config.root, state=config.state, users=str(users)),
                                                  storage)))
    index_tree(config, storage)
    app.patch_json("/item?path=home/cat.png", {"addTags": ["cat"]}, headers=bob)
    assert [d["name"] for d in app.get("/folders?path=", headers=bob).json["dirs"]] == ["home"]
    assert app.get("/item?path=trips/a.jpg", headers=bob, status=404).json["title"]
    assert app.get("/thumb?path=trips/a.jpg", headers=bob, status=404).json["title"]
    assert app.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, headers=bob, status=404)
    assert not (tmp_path / "state" / "trips" / "a.jpg.json").exists()


def test_words_both_write_an_xmp_sidecar_beside_the_described_photo_only(library, tmp_path):
    config = Config(root=str(library), state=str(tmp_path / "state"), words="both")
    storage = open_storage(config)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    index_tree(config, storage)
    before = as_it_is(library)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 3})
    added = set(as_it_is(library)) - set(before)
    assert added == {"trips/a.jpg.xmp"}
    assert b"sea" in (library / "trips" / "a.jpg.xmp").read_bytes()
    assert json.loads((tmp_path / "state" / "trips" / "a.jpg.json").read_text())["tags"] == ["sea"]
    client.post_json("/trash", {"paths": ["trips/b.jpg"]}, status=403)  # still no file operation
    after = as_it_is(library)
    assert all(after[path] == kept for path, kept in before.items() if path != "trips")  # its folder got the XMP


def test_words_state_writes_nothing_beside_the_photos(library, client):
    before = as_it_is(library)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    assert as_it_is(library) == before
