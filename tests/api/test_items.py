import json
import os
import threading
import time

import pytest
import webtest
from helpers import draw, http, run_jobs, writers_add_tags
from PIL import Image


@pytest.fixture
def photo(tree):
    return draw(tree / "trip" / "a.jpg", size=(64, 48))


def item(client, path="trip/a.jpg", **kwargs):
    return client.get("/item", params={"path": path}, **kwargs)


def put(client, body, path="trip/a.jpg", **kwargs):
    return client.put_json(f"/item?path={path}", body, **kwargs)


def patch(client, body, path="trip/a.jpg", **kwargs):
    return client.patch_json(f"/item?path={path}", body, **kwargs)


def sidecar_file(tree, path="trip/a.jpg"):
    return tree / (path + ".json")


def test_get_without_sidecar_gives_defaults_and_writes_nothing(client, tree, photo):
    answer = item(client)
    body = answer.json
    assert (body["tags"], body["notes"], body["star"], body["hash"]) == ([], "", None, None)
    assert (body["w"], body["h"], body["type"], body["size"]) == (64, 48, "image/jpeg", photo.stat().st_size)
    assert body["updated_at"] is None and body["updatedAt"] is None
    assert answer.headers["ETag"] == '"none"'
    assert sorted(os.listdir(tree / "trip")) == ["a.jpg"]


def test_get_merges_exif(client, tree):
    exif = Image.Exif()
    exif[0x0112], exif[0x010F], exif[0x0110] = 6, "Canon", "EOS R"
    exif.get_ifd(0x8769)[0x9003] = "2023:07:14 18:30:05"
    draw(tree / "p.jpg", size=(64, 48), exif=exif.tobytes())
    body = item(client, "p.jpg").json
    assert body["exif"] == {"width": 48, "height": 64, "orientation": 6, "make": "Canon", "model": "EOS R",
                            "createdAt": "2023-07-14T18:30:05"}


def test_an_image_another_program_replaces_is_read_again(client, tree, photo):
    """What an image says of itself (size, type, EXIF) is kept per process while its size and times stay,
    and read again when another program replaces it, even by bytes of the same length given the old
    mtime back (its time of change tells)."""
    assert (item(client).json["w"], patch(client, {"addTags": ["x"]}).json["h"]) == (64, 48)
    old = photo.stat()
    time.sleep(0.05)  # past the file system's clock tick
    other = draw(tree / "other.jpg", size=(48, 64), quality=5)
    with open(other, "ab") as padded:  # bytes after the end of a JPEG are never read
        padded.write(b"\0" * (old.st_size - other.stat().st_size))
    assert other.stat().st_size == old.st_size
    os.replace(other, photo)
    os.utime(photo, ns=(old.st_atime_ns, old.st_mtime_ns))
    assert (item(client).json["w"], item(client).json["h"]) == (48, 64)
    assert (patch(client, {"addTags": ["y"]}).json["w"], item(client).json["tags"]) == (48, ["x", "y"])


def test_an_image_is_opened_once_for_many_edits_and_looks(client, photo, monkeypatch):
    from lenslet.images import originals
    examine, opened = originals.examine, []
    monkeypatch.setattr(originals, "examine", lambda *args: opened.append(args[1]) or examine(*args))
    for n in range(5):
        assert patch(client, {"addTags": [f"t{n}"]}).json["w"] == 64
        assert item(client).json["h"] == 48
    assert opened == ["trip/a.jpg"]


def test_get_missing_image_is_404_and_non_image_is_415(client, tree, photo):
    assert item(client, "trip/nope.jpg", status=404).json["title"] == "Not found"
    (tree / "trip" / "notes.txt").write_text("x")
    item(client, "trip/notes.txt", status=415)
    item(client, "trip", status=415)


def test_put_creates_and_answers_the_stored_sidecar(client, tree, photo):
    answer = put(client, {"tags": ["cat", " dog ", "cat"], "notes": "hi", "star": 4},
                 headers={"X-Updated-By": "alice"})
    body = answer.json
    assert (body["tags"], body["notes"], body["star"]) == (["cat", "dog"], "hi", 4)
    assert body["updatedBy"] == body["updated_by"] == "alice" and body["updatedAt"] == body["updated_at"]
    assert body["updatedAt"].endswith("Z")
    stored = json.loads(sidecar_file(tree).read_bytes())
    assert "updated_at" not in stored and stored["tags"] == ["cat", "dog"]
    assert answer.headers["ETag"] == item(client).headers["ETag"] != '"none"'


def test_put_of_the_whole_get_answer_round_trips(client, tree, photo):
    """A first-lenscat front end sends back everything it got, aliases and all."""
    sidecar_file(tree).write_text(json.dumps({"tags": ["old"], "color": "red", "hash": "blake3:abc"}))
    got = item(client).json
    got["tags"].append("new")
    got["exif"] = {"forged": True}
    got["hash"] = "blake3:forged"
    body = put(client, got).json
    assert body["tags"] == ["old", "new"] and body["color"] == "red" and body["hash"] == "blake3:abc"
    stored = json.loads(sidecar_file(tree).read_bytes())
    assert not {"path", "size", "w", "h", "type", "updated_at", "updated_by"} & set(stored)
    assert stored["exif"] == {} and stored["color"] == "red"
    # and the next edit is built on the PUT's answer
    body["notes"] = "second edit"
    assert put(client, body).json["notes"] == "second edit"


def test_put_with_an_older_updated_at_merges_tags_and_keeps_newer_notes(client, tree, photo):
    first = put(client, {"tags": ["a"], "notes": "first"}).json
    put(client, dict(first, tags=["a", "b"], notes="second"))
    stale = put(client, {"tags": ["c"], "notes": "stale", "star": 1, "updated_at": first["updatedAt"]}).json
    assert stale["tags"] == ["a", "b", "c"] and stale["notes"] == "second" and stale["star"] is None


def test_put_without_updated_at_onto_an_existing_sidecar_merges(client, tree, photo):
    put(client, {"tags": ["a"], "notes": "kept"})
    assert put(client, {"tags": ["b"], "notes": "lost"}).json["tags"] == ["a", "b"]


def test_legacy_sidecar_is_read_and_rewritten_in_camel_case(client, tree, photo):
    sidecar_file(tree).write_text(json.dumps({
        "tags": ["x"], "notes": "", "updated_at": "2020-01-01T00:00:00Z", "updated_by": "lenscat",
        "exif": {"created_at": "2019-05-05T10:00:00"}, "album": "summer"}))
    body = item(client).json
    assert body["updatedAt"] == body["updated_at"] == "2020-01-01T00:00:00Z"
    assert body["updatedBy"] == "lenscat" and body["exif"]["createdAt"] == "2019-05-05T10:00:00"
    patch(client, {"addTags": ["y"]})
    stored = json.loads(sidecar_file(tree).read_bytes())
    assert "updated_at" not in stored and "created_at" not in stored["exif"]
    assert stored["exif"]["createdAt"] == "2019-05-05T10:00:00" and stored["album"] == "summer"
    assert stored["tags"] == ["x", "y"]


def test_patch_adds_and_removes_tags_and_sets_notes_and_star(client, tree, photo):
    put(client, {"tags": ["a", "b"], "notes": "n", "star": 2})
    body = patch(client, {"addTags": ["c", "a"], "removeTags": ["b"], "star": 5}).json
    assert (body["tags"], body["notes"], body["star"]) == (["a", "c"], "n", 5)
    assert patch(client, {"notes": "", "star": None}).json["star"] is None


def test_patch_with_a_stale_if_match_is_a_412_naming_the_current_etag(client, tree, photo):
    etag = put(client, {"tags": ["a"]}).headers["ETag"]
    fresh = patch(client, {"addTags": ["b"]}, headers={"If-Match": etag})
    answer = patch(client, {"addTags": ["c"]}, headers={"If-Match": etag}, status=412)
    assert answer.json["etag"] == fresh.headers["ETag"]
    patch(client, {"addTags": ["c"]}, headers={"If-Match": f'W/{fresh.headers["ETag"]}'})
    patch(client, {"addTags": ["d"]}, headers={"If-Match": "*"})
    assert item(client).json["tags"] == ["a", "b", "c", "d"]


def test_delete_removes_the_sidecar_only(client, tree, photo):
    put(client, {"tags": ["a"]})
    client.delete("/item?path=trip/a.jpg", status=204)
    assert sorted(os.listdir(tree / "trip")) == ["a.jpg"]
    client.delete("/item?path=trip/a.jpg", status=204)
    client.delete("/item?path=trip/gone.jpg", status=404)


def test_writes_reach_the_folder_listing(client, tree, photo):
    assert client.get("/folders?path=trip").json["items"][0]["hasMeta"] is False
    patch(client, {"addTags": ["sun"], "star": 3})
    entry = json.loads((tree / "trip" / "_index.json").read_bytes())["items"][0]
    assert (entry["tags"], entry["star"], entry["hasMeta"]) == (["sun"], 3, True)
    assert client.get("/folders?path=trip").json["items"][0]["tags"] == ["sun"]
    assert [name.split("-")[1] for name in os.listdir(tree / ".lenslet" / "jobs")] == ["rollup"]
    client.delete("/item?path=trip/a.jpg")
    assert client.get("/folders?path=trip").json["items"][0]["hasMeta"] is False


BAD_BODIES = [
    (b"{not json", 400),
    (b"", 400),
    (b"[]", 400),
    (b'{"tags": "cat"}', 400),
    (b'{"tags": [""]}', 400),
    (b'{"tags": [1]}', 400),
    (json.dumps({"tags": ["x" * 101]}).encode(), 400),
    (json.dumps({"tags": [str(n) for n in range(501)]}).encode(), 400),
    (b'{"notes": 5}', 400),
    (json.dumps({"notes": "x" * 20001}).encode(), 400),
    (b'{"star": 6}', 400),
    (b'{"star": true}', 400),
    (b'{"star": 2.5}', 400),
    (b'{"star": 99999999999999999999999}', 400),
    (b'{"updatedAt": "yesterday"}', 400),
    (b'{"updatedBy": 7}', 400),
    (b'{"tags": ["a"], "pad": "' + b"x" * 300_000 + b'"}', 413),
]


@pytest.mark.parametrize("body, status", BAD_BODIES)
def test_bad_put_changes_nothing(client, tree, photo, body, status):
    put(client, {"tags": ["keep"]})
    before = sidecar_file(tree).read_bytes()
    answer = client.put("/item?path=trip/a.jpg", body, content_type="application/json", status=status)
    assert answer.json["description"]
    assert sidecar_file(tree).read_bytes() == before


@pytest.mark.parametrize("body", [b'{"addTags": "x"}', b'{"rename": "x"}', b"{}", b'{"star": -1}', b"null"])
def test_bad_patch_changes_nothing(client, tree, photo, body):
    put(client, {"tags": ["keep"]})
    before = sidecar_file(tree).read_bytes()
    client.patch("/item?path=trip/a.jpg", body, content_type="application/json", status=400)
    assert sidecar_file(tree).read_bytes() == before


@pytest.mark.parametrize("path, status", [("trip/notes.txt", 415), ("../a.jpg", 400), ("trip", 415),
                                          ("trip/a.jpg.json", 404), ("trip/missing.jpg", 404)])
def test_bad_paths_write_nothing(client, tree, photo, path, status):
    (tree / "trip" / "notes.txt").write_text("x")
    before = sorted(os.listdir(tree / "trip"))
    put(client, {"tags": ["a"]}, path=path, status=status)
    assert sorted(os.listdir(tree / "trip")) == before


def test_concurrent_patches_in_threads_lose_nothing(config, photo):
    from lenslet.app import create_app
    app = create_app(config)
    errors = writers_add_tags(lambda tag: patch(webtest.TestApp(app), {"addTags": [tag]}), writers=8, each=10)
    assert errors == []
    assert len(set(item(webtest.TestApp(app)).json["tags"])) == 80


def test_removal_is_not_undone_by_a_concurrent_add(config, photo):
    from lenslet.app import create_app
    client = webtest.TestApp(create_app(config))
    put(client, {"tags": ["doomed"]})
    threads = [threading.Thread(target=patch, args=(client, {"removeTags": ["doomed"]}))] + [
        threading.Thread(target=patch, args=(client, {"addTags": [f"new{n}"]})) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tags = item(client).json["tags"]
    assert "doomed" not in tags and sorted(tags) == [f"new{n}" for n in range(6)]


def test_concurrent_patches_across_gunicorn_workers_lose_nothing(gunicorn, photo):
    server = gunicorn()
    server.wait_until(lambda: server.get("/health")[0] == 200)
    url = f"{server.url}/item?path=trip/a.jpg"
    errors = writers_add_tags(lambda tag: http("PATCH", url, {"addTags": [tag]}))
    assert errors == []
    assert len(set(http("GET", url)["tags"])) == 200


def test_put_leaving_a_field_out_keeps_it(client, tree, photo):
    stored = put(client, {"tags": ["a", "b"], "notes": "n", "star": 3}).json
    body = put(client, {"notes": "only notes", "updatedAt": stored["updatedAt"]}).json
    assert (body["tags"], body["notes"], body["star"]) == (["a", "b"], "only notes", 3)


def test_tags_compare_case_insensitively_and_the_first_spelling_wins(client, photo):
    assert put(client, {"tags": ["Summer", "summer", "SUMMER", "beach"]}).json["tags"] == ["Summer", "beach"]
    assert patch(client, {"addTags": ["summer", "Sea"]}).json["tags"] == ["Summer", "beach", "Sea"]
    assert patch(client, {"removeTags": ["BEACH", "sea"]}).json["tags"] == ["Summer"]
    current = item(client).json
    assert put(client, dict(current, tags=["summer", "Dunes"])).json["tags"] == ["Summer", "Dunes"]
    assert put(client, {"tags": ["DUNES", "cliff"]}).json["tags"] == ["Summer", "Dunes", "cliff"]  # stale: merged


def test_a_stored_sidecar_with_tags_differing_in_case_reads_as_one(client, tree, photo):
    sidecar_file(tree).write_text(json.dumps({"tags": ["Summer", "summer", "sea"]}))
    assert item(client).json["tags"] == ["Summer", "sea"]


def test_every_item_answer_has_one_shape(client, photo):
    shape = set(item(client).json)
    assert {"path", "size", "type", "w", "h", "mtime", "exif", "hash"} <= shape
    assert set(put(client, {"tags": ["a"]}).json) == shape
    patched = patch(client, {"star": 2}).json
    assert set(patched) == shape
    assert (patched["path"], patched["w"], patched["h"], patched["type"]) == ("trip/a.jpg", 64, 48, "image/jpeg")
    assert patched["exif"]["width"] == 64


def test_delete_clears_the_recorded_hash_everywhere(client, config, tree, photo):
    patch(client, {"star": 2})  # described: its sidecar holds the hash too (else only its listing entry does)
    client.get("/thumb?path=trip/a.jpg")  # making the thumbnail finds the hash, the worker records it
    run_jobs(config)
    assert item(client).json["hash"] == client.get("/folders?path=trip").json["items"][0]["hash"] != None  # noqa: E711
    client.delete("/item?path=trip/a.jpg", status=204)
    assert item(client).json["hash"] is None
    assert client.get("/folders?path=trip").json["items"][0]["hash"] is None


def test_an_image_nobody_described_answers_the_hash_its_listing_holds(client, config, tree, photo):
    # No sidecar holds it (nobody wrote a word of it): /item reads it from the image's listing entry.
    client.get("/thumb?path=trip/a.jpg")
    run_jobs(config)
    assert not (tree / "trip" / "a.jpg.json").exists()
    listed = client.get("/folders?path=trip").json["items"][0]["hash"]
    assert listed.startswith("blake3:") and item(client).json["hash"] == listed
