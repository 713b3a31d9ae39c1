"""LENSLET_WORDS=xmp: a person's words (tags, stars, notes) kept only in XMP sidecars beside the photos, for
darktable, digiKam and Lightroom. lenslet writes no sidecar of its own for them: the XMP sidecar is the one copy,
changed in place (every byte lenslet does not own kept) only if unchanged since read, the edit made again on
another program's change; under a state root the library gains nothing but .xmp files of described images; a
link, a FIFO, a folder, a torn or oversized file in the XMP's place is never followed, written or merged into."""

import json
import os

import pytest
import webtest
from helpers import draw, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.formats import xmp
from lenslet.storage import open_storage

# darktable's kind of sidecar: its history and a namespace lenslet has never heard of, which must survive every edit
DARKTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
   xmp:Rating="-1"
   darktable:history_end="1">
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:params="0000c0bf"/>
    </rdf:Seq>
   </darktable:history>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Aurora</rdf:li>
    </rdf:Bag>
   </dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
HISTORY = b'<rdf:li darktable:num="0" darktable:operation="exposure" darktable:params="0000c0bf"/>'


@pytest.fixture
def library(tmp_path):
    draw(tmp_path / "library" / "trips" / "a.jpg", size=(120, 80), color=(200, 30, 30))
    draw(tmp_path / "library" / "trips" / "b.jpg", size=(80, 120), color=(30, 200, 30))
    draw(tmp_path / "library" / "home" / "cat.png", size=(40, 40), color=(30, 30, 200))
    return tmp_path / "library"


@pytest.fixture
def config(library, tmp_path):
    return Config(root=str(library), state=str(tmp_path / "state"), words="xmp", recheck=0)


@pytest.fixture
def storage(config):
    return open_storage(config)


@pytest.fixture
def client(config, storage):
    return webtest.TestApp(spec_checked(create_app(config, storage)))


def as_it_is(root):
    """Every file and folder below root: (bytes or None, mtime)."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def words_of(path):
    said = xmp.parse(path.read_bytes())
    return sorted(said.tags), said.rating, said.description


def another_program_writes(path, data):
    """Replace a file as a careful program does (a new file renamed over it), its time a step later."""
    stamp = path.stat().st_mtime + 2 if path.exists() else None
    path.with_name(path.name + ".tmp").write_bytes(data)
    os.replace(path.with_name(path.name + ".tmp"), path)
    if stamp is not None:
        os.utime(path, (stamp, stamp))


def added_subject(data, tag):
    return data.replace(b"</rdf:Bag>", f"<rdf:li>{tag}</rdf:li></rdf:Bag>".encode(), 1)


# ---------------------------------------------------------------------------------------------
# The words round trip through the XMP sidecar only


def test_tags_star_and_notes_round_trip_through_the_xmp_sidecar_only(library, tmp_path, client, config, storage):
    index_tree(config, storage)
    before = as_it_is(library)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea", "Boat"], "star": 4, "notes": "at dawn"})
    client.put_json("/item?path=home/cat.png", {"tags": ["cat"], "star": 2, "notes": "Tom"})
    assert words_of(library / "trips" / "a.jpg.xmp") == (["Boat", "sea"], 4, "at dawn")
    assert words_of(library / "home" / "cat.xmp" if (library / "home" / "cat.xmp").exists()
                    else library / "home" / "cat.png.xmp") == (["cat"], 2, "Tom")
    added = set(as_it_is(library)) - set(before)
    assert added == {"trips/a.jpg.xmp", "home/cat.png.xmp"}  # b.jpg, which nobody described, gets nothing
    assert all(as_it_is(library)[path] == kept for path, kept in before.items() if path not in ("trips", "home"))
    state = tmp_path / "state"
    assert not [p for p in state.rglob("*.json") if p.name.endswith((".jpg.json", ".png.json"))]  # no words-sidecar
    body = client.get("/item?path=trips/a.jpg").json
    assert (sorted(body["tags"]), body["star"], body["notes"]) == (["Boat", "sea"], 4, "at dawn")
    listed = {item["name"]: item for item in client.get("/folders?path=trips").json["items"]}
    assert (sorted(listed["a.jpg"]["tags"]), listed["a.jpg"]["star"], listed["a.jpg"]["notes"]) == \
        (["Boat", "sea"], 4, "at dawn")
    index_tree(config, storage)
    assert [item["path"] for item in client.get("/search?q=sea").json["items"]] == ["trips/a.jpg"]
    assert [item["path"] for item in client.get("/search?q=dawn").json["items"]] == ["trips/a.jpg"]
    assert [item["path"] for item in client.get("/search?q=tom").json["items"]] == ["home/cat.png"]


def test_removing_a_tag_a_star_and_the_notes_takes_them_out_of_the_xmp(library, client):
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea", "sky"], "star": 3, "notes": "x"})
    client.patch_json("/item?path=trips/a.jpg", {"removeTags": ["SEA"], "star": None, "notes": ""})
    assert words_of(library / "trips" / "a.jpg.xmp") == (["sky"], None, None)
    client.delete("/item?path=trips/a.jpg")
    assert words_of(library / "trips" / "a.jpg.xmp") == ([], None, None)
    assert client.get("/item?path=trips/a.jpg").json["tags"] == []


def test_another_programs_sidecar_keeps_every_byte_lenslet_does_not_own(library, client):
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(DARKTABLE)
    body = client.get("/item?path=trips/a.jpg").json
    assert (body["tags"], body["star"], body["rejected"]) == (["Aurora"], None, True)  # darktable's reject shows
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["night"], "notes": "cold"})
    data = path.read_bytes()
    assert HISTORY in data and b'xmp:Rating="-1"' in data  # the star was not edited: the reject stays
    assert words_of(path) == (["Aurora", "night"], -1, "cold")
    client.patch_json("/item?path=trips/a.jpg", {"star": 5})
    assert words_of(path)[1] == 5 and HISTORY in path.read_bytes()


def test_a_tag_only_the_image_itself_holds_cannot_be_removed(library, client):
    from PIL import Image
    packet = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag>'
              '<rdf:li>Inside</rdf:li></rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>')
    Image.new("RGB", (20, 20)).save(library / "home" / "in.jpg", xmp=packet.encode())
    assert "Inside" in client.get("/item?path=home/in.jpg").json["tags"]
    original = (library / "home" / "in.jpg").read_bytes()
    assert client.patch_json("/item?path=home/in.jpg", {"removeTags": ["Inside"]}, status=409).json["tags"] == \
        ["Inside"]
    assert (library / "home" / "in.jpg").read_bytes() == original and not (library / "home" / "in.jpg.xmp").exists()


# ---------------------------------------------------------------------------------------------
# Another program's edit between lenslet's read and its write is never overwritten


def test_another_programs_edit_between_read_and_write_is_kept(library, client, storage, monkeypatch):
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(DARKTABLE)
    replace_if, raced = storage.library.replace_if, []

    def another_program_first(key, data, version):
        if not raced:  # once: darktable writes the file after lenslet read it, before lenslet writes
            raced.append(key)
            another_program_writes(path, added_subject(path.read_bytes(), "Theirs"))
        return replace_if(key, data, version)

    monkeypatch.setattr(storage.library, "replace_if", another_program_first)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["mine"]})
    assert raced == ["trips/a.jpg.xmp"]
    assert words_of(path)[0] == ["Aurora", "Theirs", "mine"] and HISTORY in path.read_bytes()


def test_a_new_xmp_another_program_makes_meanwhile_is_merged_into_not_replaced(library, client, storage,
                                                                                monkeypatch):
    path = library / "trips" / "a.jpg.xmp"
    replace_if = storage.library.replace_if

    def another_program_first(key, data, version):
        if not path.exists():
            path.write_bytes(DARKTABLE)
        return replace_if(key, data, version)

    monkeypatch.setattr(storage.library, "replace_if", another_program_first)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["mine"], "star": 2})
    assert words_of(path)[:2] == (["Aurora", "mine"], 2) and HISTORY in path.read_bytes()


def test_an_xmp_that_keeps_changing_answers_503_and_keeps_every_change(library, client, storage, monkeypatch):
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(DARKTABLE)
    replace_if, added = storage.library.replace_if, []

    def another_program_every_time(key, data, version):
        added.append(f"other{len(added)}")
        another_program_writes(path, added_subject(path.read_bytes(), added[-1]))
        return replace_if(key, data, version)

    monkeypatch.setattr(storage.library, "replace_if", another_program_every_time)
    answer = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["mine"]}, status=503)
    assert answer.headers["Retry-After"] and "kept changing" in answer.json["description"]
    assert set(words_of(path)[0]) == {"Aurora", *added}


def test_an_edit_made_on_an_older_read_is_refused_with_if_match(library, client):
    path = library / "trips" / "a.jpg.xmp"
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    etag = client.get("/item?path=trips/a.jpg").headers["ETag"]
    another_program_writes(path, added_subject(path.read_bytes(), "Theirs"))
    theirs = path.read_bytes()
    client.patch_json("/item?path=trips/a.jpg", {"removeTags": ["sea"]}, headers={"If-Match": etag}, status=412)
    assert path.read_bytes() == theirs
    etag = client.get("/item?path=trips/a.jpg").headers["ETag"]
    client.patch_json("/item?path=trips/a.jpg", {"removeTags": ["sea"]}, headers={"If-Match": etag})
    assert words_of(path)[0] == ["Theirs"]


def test_a_put_of_an_older_copy_keeps_the_tags_another_program_added_since(library, client):
    path = library / "trips" / "a.jpg.xmp"
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    copy = client.get("/item?path=trips/a.jpg").json
    another_program_writes(path, added_subject(path.read_bytes(), "Theirs"))
    client.put_json("/item?path=trips/a.jpg", dict(copy, tags=["sea", "sky"]))
    assert words_of(path)[0] == ["Theirs", "sea", "sky"]


def test_another_programs_edit_shows_in_the_listing_and_search(library, client, config, storage):
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"]})
    path = library / "trips" / "a.jpg.xmp"
    another_program_writes(path, added_subject(path.read_bytes(), "Lighthouse"))
    listed = {item["name"]: item for item in client.get("/folders?path=trips").json["items"]}
    assert sorted(listed["a.jpg"]["tags"]) == ["Lighthouse", "sea"]
    index_tree(config, storage)
    assert [item["path"] for item in client.get("/search?q=lighthouse").json["items"]] == ["trips/a.jpg"]


def test_a_listing_made_with_words_elsewhere_is_made_again(library, tmp_path):
    (library / "trips" / "a.jpg.xmp").write_bytes(DARKTABLE)
    state = Config(root=str(library), state=str(tmp_path / "state"), xmp="off")
    webtest.TestApp(create_app(state, open_storage(state))).get("/folders?path=trips")
    words = Config(root=str(library), state=str(tmp_path / "state"), words="xmp", xmp="off")
    listed = webtest.TestApp(create_app(words, open_storage(words))).get("/folders?path=trips").json["items"]
    assert listed[0]["tags"] == ["Aurora"]  # read although LENSLET_XMP=off: it holds the words


# ---------------------------------------------------------------------------------------------
# What lies in the XMP's place is never followed, written or merged into


def put_in_place(kind, path, outside):
    if kind == "link out of the root":
        path.symlink_to(outside)
    elif kind == "link inside the root":
        path.symlink_to("b.jpg")
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
        (path / "inner.txt").write_bytes(b"someone's")


@pytest.mark.parametrize("kind", ["link out of the root", "link inside the root", "fifo", "folder"])
def test_a_link_fifo_or_folder_as_the_xmp_is_never_followed_nor_written(library, tmp_path, client, kind):
    outside = tmp_path / "outside.xmp"
    outside.write_bytes(DARKTABLE)
    path = library / "trips" / "a.jpg.xmp"
    put_in_place(kind, path, outside)
    before = as_it_is(library)
    body = client.get("/item?path=trips/a.jpg").json
    assert body["tags"] == [] and "a.jpg.xmp" in body["error"] and "Aurora" not in json.dumps(body)
    for send in (lambda: client.patch_json("/item?path=trips/a.jpg", {"addTags": ["dog"]}, status=409),
                 lambda: client.put_json("/item?path=trips/a.jpg", {"tags": ["dog"]}, status=409),
                 lambda: client.delete("/item?path=trips/a.jpg", status=409)):
        answer = send().json
        assert "a.jpg.xmp" in answer["description"] and "nothing" in answer["description"]
    assert as_it_is(library) == before and outside.read_bytes() == DARKTABLE
    assert [item["tags"] for item in client.get("/folders?path=trips").json["items"]] == [[], []]


@pytest.mark.parametrize("data", [DARKTABLE[:200], b"<x:xmpmeta><rdf:RDF>" + b"<a>" * 100 + b"</x:xmpmeta>",
                                  b"\x00\xff" * 30, b"<!DOCTYPE x [<!ENTITY a 'b'>]>" + DARKTABLE[40:]],
                         ids=["torn", "unbalanced", "binary", "doctype"])
def test_a_torn_or_forged_xmp_is_left_as_it_is(library, client, data):
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(data)
    body = client.get("/item?path=trips/a.jpg").json
    assert body["tags"] == [] and "a.jpg.xmp" in body["error"]
    answer = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["dog"]}, status=409).json
    assert "left as it is" in answer["description"]
    assert path.read_bytes() == data


def test_an_xmp_larger_than_lenslet_reads_is_left_as_it_is(library, client):
    path = library / "trips" / "a.jpg.xmp"
    data = DARKTABLE.replace(b"</x:xmpmeta>", b"<!--" + b"x" * xmp.MAX_XMP + b"--></x:xmpmeta>")
    path.write_bytes(data)
    assert client.patch_json("/item?path=trips/a.jpg", {"addTags": ["dog"]}, status=409).json["title"]
    assert path.read_bytes() == data


# ---------------------------------------------------------------------------------------------
# The writes' doors: other sites, foreign hosts, bad input change nothing


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                                     {"Host": "evil.example"}], ids=["origin", "fetch-site", "host"])
def test_cross_site_and_foreign_host_edits_change_nothing(library, client, headers):
    before = as_it_is(library)
    answer = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["x"]}, headers=headers, status=(403, 421))
    assert answer.json["title"] and as_it_is(library) == before


@pytest.mark.parametrize("body", [{"addTags": ["x" * 10_000]}, {"star": 6}, {"notes": 5}, {"nope": 1}])
def test_bad_input_is_refused_and_nothing_is_written(library, client, body):
    before = as_it_is(library)
    assert client.patch_json("/item?path=trips/a.jpg", body, status=(400, 413)).json["title"]
    assert as_it_is(library) == before


def test_an_image_outside_the_library_or_missing_gets_no_xmp(library, client):
    before = as_it_is(library)
    client.patch_json("/item?path=trips/none.jpg", {"addTags": ["x"]}, status=404)
    client.patch_json("/item?path=../escape.jpg", {"addTags": ["x"]}, status=(400, 404))
    assert as_it_is(library) == before


# ---------------------------------------------------------------------------------------------
# Beside the images: no words-sidecar either, and moves carry the XMP with the photo


@pytest.fixture
def beside(library):
    config = Config(root=str(library), words="xmp", recheck=0)
    return webtest.TestApp(spec_checked(create_app(config)))


def test_beside_the_images_an_edit_writes_the_xmp_and_no_sidecar(library, beside):
    beside.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 1})
    assert words_of(library / "trips" / "a.jpg.xmp") == (["sea"], 1, None)
    assert not list(library.rglob("*.jpg.json"))


def test_moves_carry_the_xmp_with_the_photo(library, beside):
    beside.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "notes": "far"})
    beside.post_json("/move", {"src": "trips/a.jpg", "dest": "home"})
    assert not (library / "trips" / "a.jpg.xmp").exists()
    assert words_of(library / "home" / "a.jpg.xmp") == (["sea"], None, "far")
    beside.post_json("/move", {"src": "home/a.jpg", "to": "home/renamed.jpg"})
    assert words_of(library / "home" / "renamed.jpg.xmp") == (["sea"], None, "far")
    body = beside.get("/item?path=home/renamed.jpg").json
    assert (body["tags"], body["notes"]) == (["sea"], "far")
    listed = {item["name"]: item for item in beside.get("/folders?path=home").json["items"]}
    assert listed["renamed.jpg"]["tags"] == ["sea"]
    assert not list(library.rglob("*.jpg.json"))


def test_the_setting_names_xmp():
    assert Config.from_env({"LENSLET_WORDS": "xmp"}).words == "xmp"


# ---------------------------------------------------------------------------------------------
# A library bucket: the XMP written with a conditional PUT, another program's write between read and write kept


def test_a_library_bucket_gets_only_the_xmp_and_another_programs_write_is_kept(bucket, s3_endpoint, tmp_path,
                                                                               monkeypatch):
    import hashlib

    import boto3
    from helpers import jpeg
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    for key in ("trips/a.jpg", "trips/b.jpg"):
        s3.put_object(Bucket=bucket, Key=f"photos/{key}", Body=jpeg())
    s3.put_object(Bucket=bucket, Key="photos/trips/a.jpg.xmp", Body=DARKTABLE)

    def objects():
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        return {item["Key"]: hashlib.sha256(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()).digest()
                for item in listed}

    config = Config(s3_bucket=bucket, s3_prefix="photos", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                    state=str(tmp_path / "state"), words="xmp", recheck=0, cache_dir=str(tmp_path / "cache"))
    storage = open_storage(config)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    before = objects()
    replace_if, raced = storage.library.replace_if, []

    def another_program_first(key, data, version):
        if not raced:  # darktable on another machine writes the object after lenslet read it
            raced.append(key)
            theirs = s3.get_object(Bucket=bucket, Key=f"photos/{key}")["Body"].read()
            s3.put_object(Bucket=bucket, Key=f"photos/{key}", Body=added_subject(theirs, "Theirs"))
        return replace_if(key, data, version)

    monkeypatch.setattr(storage.library, "replace_if", another_program_first)
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["mine"], "notes": "cold"})
    client.patch_json("/item?path=trips/b.jpg", {"star": 2})
    written = s3.get_object(Bucket=bucket, Key="photos/trips/a.jpg.xmp")["Body"].read()
    said = xmp.parse(written)
    assert raced and sorted(said.tags) == ["Aurora", "Theirs", "mine"] and said.description == "cold"
    assert HISTORY in written
    after = objects()
    assert set(after) - set(before) == {"photos/trips/b.jpg.xmp"}
    assert all(after[key] == digest for key, digest in before.items() if key != "photos/trips/a.jpg.xmp")
    assert not (tmp_path / "state" / "trips" / "a.jpg.json").exists()
    assert sorted(client.get("/item?path=trips/a.jpg").json["tags"]) == ["Aurora", "Theirs", "mine"]


def test_words_a_sidecar_kept_from_before_stay_in_it_unshown_and_untouched(library, tmp_path):
    earlier = Config(root=str(library), state=str(tmp_path / "state"), words="both")
    webtest.TestApp(create_app(earlier, open_storage(earlier))).patch_json(
        "/item?path=trips/a.jpg", {"addTags": ["old"], "star": 1, "notes": "before"})
    (library / "trips" / "a.jpg.xmp").unlink()  # darktable's clean-up, say: the words now only in the sidecar
    sidecar = (tmp_path / "state" / "trips" / "a.jpg.json").read_bytes()
    config = Config(root=str(library), state=str(tmp_path / "state"), words="xmp")
    client = webtest.TestApp(spec_checked(create_app(config, open_storage(config))))
    body = client.get("/item?path=trips/a.jpg").json
    assert (body["tags"], body["star"], body["notes"]) == ([], None, "")
    client.patch_json("/item?path=trips/a.jpg", {"addTags": ["new"]})
    assert words_of(library / "trips" / "a.jpg.xmp") == (["new"], None, None)
    assert (tmp_path / "state" / "trips" / "a.jpg.json").read_bytes() == sidecar
    assert [item["tags"] for item in client.get("/folders?path=trips").json["items"]] == [["new"], []]


def test_keywords_lenslet_and_another_program_add_at_once_are_all_kept(library, client, config):
    from helpers import at_once
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(DARKTABLE)
    # A careful program: read, change, write back only if unchanged (under the file's lock on disk, as lenslet's own
    # writers: what a disk cannot promise a program that takes no lock is in docs/files.md), in a storage of its own.
    other = open_storage(config)
    edits = 30

    def side(number):
        for k in range(edits):
            if number:
                other.update("trips/a.jpg.xmp", lambda old, version, k=k: added_subject(old, f"other{k}"))
                continue
            for _ in range(20):  # a client that honours 503 and Retry-After
                if client.patch_json("/item?path=trips/a.jpg", {"addTags": [f"lenslet{k}"]},
                                     status=(200, 503)).status_int == 200:
                    break
            else:
                pytest.fail("lenslet answered 503 twenty times in a row")

    at_once(side, 2)
    expected = {"Aurora"} | {f"{who}{k}" for who in ("lenslet", "other") for k in range(edits)}
    assert set(words_of(path)[0]) == expected and HISTORY in path.read_bytes()
    assert set(client.get("/item?path=trips/a.jpg").json["tags"]) == expected


def test_a_program_that_takes_no_lock_of_lenslets_never_loses_a_keyword_to_lenslet(library, client):
    from helpers import at_once
    path = library / "trips" / "a.jpg.xmp"
    path.write_bytes(DARKTABLE)
    # Its own lock folder (the library's), never lenslet's: it writes back what it read, whatever came meanwhile,
    # so it may drop lenslet's keywords (docs/files.md says so); lenslet, which writes only if unchanged, never
    # drops one of its.
    other = open_storage(Config(root=str(library)))
    edits = 30

    def side(number):
        for k in range(edits):
            if number:
                other.update("trips/a.jpg.xmp", lambda old, version, k=k: added_subject(old, f"other{k}"))
            else:
                client.patch_json("/item?path=trips/a.jpg", {"addTags": [f"lenslet{k}"]}, status=(200, 503))

    at_once(side, 2)
    theirs = {"Aurora"} | {f"other{k}" for k in range(edits)}
    assert theirs <= set(words_of(path)[0]) and HISTORY in path.read_bytes()
