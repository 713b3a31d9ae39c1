"""XMP wired into the gallery: the setting, GET /item, listings and search, files moving with their XMP."""

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import (
    EXIFTOOL,
    PROJECT,
    draw,
    image_bytes,
    index_tree,
    needs_exiftool,
    on_disk_alone,
    wait_until,
    writers_add_tags,
)

from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.files import moves

SHARED = Path(PROJECT).parent / "shared" / "xmp"  # real sidecars, kept beside the project

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/xmp (real sidecars) is not beside the project")


def shared(name):
    return (SHARED / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# The setting


@pytest.mark.parametrize("raw, value", [("off", "off"), (" Read ", "read"), ("WRITE", "write")])
def test_the_xmp_setting_is_parsed(raw, value):
    assert Config.from_env({"LENSLET_XMP": raw}).xmp == value
    assert Config.from_env({}).xmp == "read"


@pytest.mark.parametrize("raw", ["on", "", "readwrite"])
def test_a_bad_xmp_setting_stops_lenslet_naming_it(raw):
    with pytest.raises(ConfigError, match="LENSLET_XMP"):
        Config.from_env({"LENSLET_XMP": raw})


def test_lenslet_settings_lists_xmp(capsys, monkeypatch):
    from lenslet.cli import main
    monkeypatch.setenv("LENSLET_XMP", "off")
    assert main(["settings"]) == 0
    assert "LENSLET_XMP=off" in capsys.readouterr().out
    monkeypatch.setenv("LENSLET_XMP", "sometimes")
    assert main(["settings"]) == 2
    assert "LENSLET_XMP" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# GET /item: lenslet's fields with the XMP sidecar's and the image's own


def xmp_sidecar(*properties):
    """An XMP sidecar with one rdf:Description holding the given property elements."""
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/">'
            + "".join(properties) + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def subjects(*tags):
    return "<dc:subject><rdf:Bag>" + "".join(f"<rdf:li>{tag}</rdf:li>" for tag in tags) + "</rdf:Bag></dc:subject>"


def rating(value):
    return f"<xmp:Rating>{value}</xmp:Rating>"


def item(client, path):
    return client.get("/item", params={"path": path}).json


@on_disk_alone  # in a bucket: test_move_trash_restore_and_delete_carry_the_xmp_sidecars
@needs_shared
def test_a_darktable_sidecar_shows_in_get_item(gallery):
    gallery.put("trip/aurora.jpg", image_bytes())
    gallery.put("trip/aurora.jpg.xmp", shared("darktable-aurora.jpg.xmp"))
    body = item(gallery.client, "trip/aurora.jpg")
    assert body["tags"] == ["Aurora", "Iceland", "Nature", "Places", "Reykjavik"]
    assert (body["star"], body["rejected"]) == (1, False)
    assert (body["title"], body["description"]) == ("XMP Test - Aurora", "Test fixture for darktable  XMP sidecar")
    assert body["sources"]["tags"]["Aurora"] == ["aurora.jpg.xmp"]
    assert body["sources"]["star"] == body["sources"]["title"] == "aurora.jpg.xmp"
    assert "error" not in body


@needs_shared
@pytest.mark.parametrize("sample, name", [("photoshop-2020.xmp", "ps.XMP"), ("photoshop-cs2.xmp", "ps.xmp")])
def test_an_adobe_sidecar_named_after_the_stem_in_either_case(client, tree, sample, name):
    draw(tree / "ps.jpg")
    (tree / name).write_bytes(shared(sample))
    body = item(client, "ps.jpg")
    expected = {"photoshop-2020.xmp": (["desk", "coffee", "computer"], 4),
                "photoshop-cs2.xmp": (["test1", "&-&amp;-&"], 1)}
    assert (body["tags"], body["star"]) == expected[sample]
    assert body["sources"]["star"] == name


@needs_shared
def test_a_rejected_rating_is_no_star_but_shown_as_rejected(client, tree):
    draw(tree / "rej.jpg")
    (tree / "rej.jpg.xmp").write_bytes(shared("exiv2-rating-rejected.xmp"))
    body = item(client, "rej.jpg")
    assert (body["star"], body["rejected"], body["tags"]) == (None, True, [])


def test_lenslets_own_star_wins_and_tags_are_united(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("Beach", "sun"), rating(2), "<xmp:Label>Red</xmp:Label>"))
    client.patch_json("/item?path=a.jpg", {"addTags": ["Sun", "dog"], "star": 5})
    body = item(client, "a.jpg")
    assert (body["tags"], body["star"], body["label"]) == (["Sun", "dog", "Beach"], 5, "Red")
    assert body["sources"]["tags"] == {"Sun": ["lenslet", "a.jpg.xmp"], "dog": ["lenslet"], "Beach": ["a.jpg.xmp"]}
    assert body["sources"]["star"] == "lenslet" and body["sources"]["label"] == "a.jpg.xmp"


def test_zero_is_no_star(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(rating(0)))
    body = item(client, "a.jpg")
    assert (body["star"], body["rejected"]) == (None, False)


def test_foo_jpg_xmp_is_chosen_over_foo_xmp(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.xmp").write_bytes(xmp_sidecar(subjects("adobe")))
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("darktable-user")))
    assert item(client, "a.jpg")["tags"] == ["darktable-user"]


@on_disk_alone  # in a bucket: test_move_trash_restore_and_delete_carry_the_xmp_sidecars
@needs_exiftool
def test_keywords_and_rating_embedded_in_the_image_show(gallery, tmp_path):
    photo = draw(tmp_path / "phone.jpg")
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-dc:Subject=Harbour", "-IPTC:Keywords=Boats",
                    "-XMP-xmp:Rating=3", "-XMP-dc:Title=At sea", str(photo)], check=True, timeout=60)
    gallery.put("phone.jpg", photo.read_bytes())
    body = item(gallery.client, "phone.jpg")
    assert (sorted(body["tags"]), body["star"], body["title"]) == (["Boats", "Harbour"], 3, "At sea")
    assert body["sources"]["tags"]["Boats"] == ["embedded"] and body["sources"]["star"] == "embedded"


@pytest.mark.parametrize("data", [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
     b'<x:xmpmeta xmlns:x="adobe:ns:meta/">&lol2;</x:xmpmeta>'),
    b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    b"<x:xmpmeta " + b"<a>" * 10,
    b"<a>" * 200 + b"</a>" * 200,
    b" " * (5 * 1024 * 1024),
])
def test_a_malformed_or_hostile_xmp_is_reported_never_a_5xx(client, tree, data):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(data)
    body = item(client, "a.jpg")
    assert "a.jpg.xmp: " in body["error"] and body["tags"] == []
    assert client.get("/folders").json["items"][0]["name"] == "a.jpg"


def test_with_xmp_off_lenslet_ignores_it(client_with, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("beach"), rating(3)))
    client = client_with(xmp="off")
    body = item(client, "a.jpg")
    assert (body["tags"], body["star"]) == ([], None) and "sources" not in body
    assert client.get("/folders").json["items"][0]["tags"] == []


def test_removing_a_tag_kept_in_xmp_answers_409_and_changes_nothing(client, tree):
    draw(tree / "a.jpg")
    data = xmp_sidecar(subjects("beach", "sun"))
    (tree / "a.jpg.xmp").write_bytes(data)
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"]})
    before = (tree / "a.jpg.json").read_bytes()
    answer = client.patch_json("/item?path=a.jpg", {"removeTags": ["Beach", "dog"]}, status=409)
    assert "a.jpg.xmp" in answer.json["description"] and answer.json["tags"] == ["Beach"]
    assert (tree / "a.jpg.json").read_bytes() == before and (tree / "a.jpg.xmp").read_bytes() == data
    client.patch_json("/item?path=a.jpg", {"removeTags": ["dog"]})
    assert item(client, "a.jpg")["tags"] == ["beach", "sun"]


@needs_exiftool
def test_removing_a_tag_only_in_the_original_answers_409(client, tree):
    photo = draw(tree / "a.jpg")
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-IPTC:Keywords=Boats", str(photo)], check=True,
                   timeout=60)
    original = photo.read_bytes()
    answer = client.patch_json("/item?path=a.jpg", {"removeTags": ["boats"]}, status=409)
    assert "never modified" in answer.json["description"]
    assert photo.read_bytes() == original


def test_sending_back_what_get_showed_copies_nothing_of_xmp_into_lenslets_sidecar(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("beach"), rating(4)))
    body = item(client, "a.jpg")
    body["tags"].append("dog")
    answer = client.put_json("/item?path=a.jpg", body).json
    assert (answer["tags"], answer["star"]) == (["dog", "beach"], 4)
    stored = json.loads((tree / "a.jpg.json").read_bytes())
    assert (stored["tags"], stored["star"]) == (["dog"], None)
    assert not {"sources", "title", "label", "rejected", "xmpPaths"} & set(stored)


# ---------------------------------------------------------------------------------------------
# Listings, search


def hierarchical(*paths):
    return "<lr:hierarchicalSubject><rdf:Bag>" + "".join(f"<rdf:li>{path}</rdf:li>" for path in paths) + \
        "</rdf:Bag></lr:hierarchicalSubject>"


def listed(client, folder=""):
    return {entry["name"]: entry for entry in client.get("/folders", params={"path": folder}).json["items"]}


def test_a_listing_shows_the_merged_tags_and_star_and_never_an_xmp_as_an_image(gallery):
    gallery.put("trip/a.jpg", image_bytes())
    gallery.put("trip/a.jpg.xmp", xmp_sidecar(subjects("beach"), hierarchical("Places|Iceland|Reykjavik"), rating(-1)))
    gallery.put("trip/b.png", image_bytes(fmt="PNG"))
    gallery.put("trip/b.XMP", xmp_sidecar(rating(3)))
    gallery.put("trip/orphan.xmp", xmp_sidecar(subjects("nobody")))
    client = gallery.client
    client.patch_json("/item?path=trip/a.jpg", {"addTags": ["dog"]})
    entries = listed(client, "trip")
    assert set(entries) == {"a.jpg", "b.png"}
    a, b = entries["a.jpg"], entries["b.png"]
    assert (a["tags"], a["star"], a["rejected"], a["xmpPaths"]) == \
        (["dog", "beach", "Reykjavik"], None, True, ["Places|Iceland|Reykjavik"])
    assert (b["tags"], b["star"]) == ([], 3) and "rejected" not in b


def test_another_tools_edit_of_an_xmp_shows_in_the_listing(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp", xmp_sidecar(subjects("beach")))
    client = gallery.client
    assert listed(client)["a.jpg"]["tags"] == ["beach"]
    gallery.put("a.jpg.xmp", xmp_sidecar(subjects("beach", "sunset"), rating(5)))  # a new size: seen by recheck
    assert (listed(client)["a.jpg"]["tags"], listed(client)["a.jpg"]["star"]) == (["beach", "sunset"], 5)
    gallery.put("a.xmp", xmp_sidecar(subjects("adobe")))  # not chosen: foo.jpg.xmp is there
    assert listed(client)["a.jpg"]["tags"] == ["beach", "sunset"]


def test_a_warm_listing_uses_the_reading_kept_by_size_and_time(client, tree):
    """The entry keeps its XMP reading; only another size or time makes lenslet read the file again."""
    draw(tree / "a.jpg")
    sidecar = tree / "a.jpg.xmp"
    sidecar.write_bytes(xmp_sidecar(subjects("beach")))
    assert listed(client)["a.jpg"]["tags"] == ["beach"]
    stat = sidecar.stat()
    sidecar.write_bytes(xmp_sidecar(subjects("BEACH")))  # same size, and its time put back
    os.utime(sidecar, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    draw(tree / "b.jpg")  # the folder changed: rebuilt, a.jpg's reading kept
    assert listed(client)["a.jpg"]["tags"] == ["beach"]
    os.utime(sidecar, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert listed(client)["a.jpg"]["tags"] == ["BEACH"]


def test_an_edit_through_lenslet_keeps_the_xmp_tags_in_the_listing(client, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("beach"), rating(2)))
    assert listed(client)["a.jpg"]["tags"] == ["beach"]
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"], "notes": "hi"})
    entry = json.loads((tree / "_index.json").read_bytes())["items"][0]  # as patched, not rebuilt
    assert (entry["tags"], entry["star"], entry["notes"]) == (["dog", "beach"], 2, "hi")


def test_turning_xmp_off_and_on_rebuilds_the_listing(client_with, tree):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("beach")))
    assert listed(client_with(xmp="off"))["a.jpg"]["tags"] == []
    assert listed(client_with(xmp="read"))["a.jpg"]["tags"] == ["beach"]
    assert listed(client_with(xmp="off"))["a.jpg"]["tags"] == []


def search(client, q):
    return [entry["path"] for entry in client.get("/search", params={"q": q}).json["items"]]


@on_disk_alone  # in a bucket: test_health_names_unreadable_xmp_and_images_with_two_xmp_sidecars
def test_search_finds_xmp_keywords_and_their_paths(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("b.jpg", image_bytes())
    gallery.put("a.jpg.xmp", xmp_sidecar(hierarchical("Places|Iceland|Reykjavik")))
    gallery.index()
    client = gallery.client
    assert search(client, "reykjavik") == ["a.jpg"] and search(client, "iceland") == ["a.jpg"]
    gallery.put("b.jpg.xmp", xmp_sidecar(subjects("glacier")))  # another tool, then the worker's scan
    gallery.index()
    assert search(gallery.client, "glacier") == ["b.jpg"]


# ---------------------------------------------------------------------------------------------
# Files: an image's XMP sidecars go where it goes


@pytest.mark.parametrize("src, dst, expected", [
    ("a/x.jpg", "b/y.jpg", [("a/x.jpg.xmp", "b/y.jpg.xmp"), ("a/x.jpg.XMP", "b/y.jpg.XMP"),
                            ("a/x.xmp", "b/y.xmp"), ("a/x.XMP", "b/y.XMP")]),
    ("x.tar.jpg", "_trash_/x.tar (1).jpg", [("x.tar.jpg.xmp", "_trash_/x.tar (1).jpg.xmp"),
                                            ("x.tar.jpg.XMP", "_trash_/x.tar (1).jpg.XMP"),
                                            ("x.tar.xmp", "_trash_/x.tar (1).xmp"),
                                            ("x.tar.XMP", "_trash_/x.tar (1).XMP")]),
])
def test_image_steps_carry_xmp_before_the_image(src, dst, expected):
    steps = moves.image_steps(src, dst, xmp=True)
    assert steps[2:-1] == expected and steps[-1] == (src, dst)
    assert moves.journal_problem({"v": 1, "kind": "image", "steps": [list(step) for step in steps], "startedAt": 1}) \
        is None


@pytest.mark.parametrize("names, shared", [
    (["x.jpg", "x.xmp"], False), (["x.jpg", "x.cr2", "x.xmp"], True), (["x.jpg", "x.jpg.json", "x.XMP"], False),
    (["x.jpg", "x.png"], True), (["x.jpg", "x.jpg.xmp", "xy.cr2"], False),
])
def test_a_stem_is_shared_by_another_file_of_it(names, shared):
    assert moves.stem_shared("x.jpg", names) is shared


def test_move_trash_restore_and_delete_carry_the_xmp_sidecars(gallery):
    gallery.put("a/x.jpg", image_bytes())
    gallery.put("a/x.jpg.xmp", xmp_sidecar(subjects("darktable")))
    gallery.put("a/x.XMP", xmp_sidecar(subjects("adobe")))
    gallery.put("b/.keep", b"")
    client = gallery.client
    assert client.post_json("/move", {"src": "a/x.jpg", "to": "b/y.jpg"}).json["path"] == "b/y.jpg"
    assert [gallery.exists(name) for name in ("a/x.jpg.xmp", "a/x.XMP", "b/y.jpg.xmp", "b/y.XMP")] == \
        [False, False, True, True]
    assert item(client, "b/y.jpg")["tags"] == ["darktable"]
    client.post_json("/trash", {"paths": ["b/y.jpg"]})
    assert gallery.exists("_trash_/y.jpg.xmp") and gallery.exists("_trash_/y.XMP")
    assert set(listed(client, "_trash_")) == {"y.jpg"}
    client.post_json("/restore", {"paths": ["_trash_/y.jpg"]})
    assert gallery.exists("b/y.jpg.xmp") and gallery.exists("b/y.XMP") and not gallery.exists("_trash_/y.XMP")
    client.post_json("/delete", {"paths": ["b/y.jpg"], "force": True})
    assert not any(gallery.exists(name) for name in ("b/y.jpg", "b/y.jpg.xmp", "b/y.XMP"))


def test_an_adobe_sidecar_shared_with_a_raw_file_stays(client, tree):
    # A PNG beside the raw: no stack (a JPEG would take its raw along, see test_stacks.py).
    draw(tree / "a" / "x.png")
    (tree / "a" / "x.cr2").write_bytes(b"raw")
    (tree / "a" / "x.xmp").write_bytes(xmp_sidecar(subjects("adobe")))
    (tree / "b").mkdir()
    (tree / "b" / "y.png.xmp").write_bytes(xmp_sidecar(subjects("someone else's")))
    (tree / "a" / "x.png.xmp").write_bytes(xmp_sidecar(subjects("mine")))
    client.post_json("/move", {"src": "a/x.png", "to": "b/y.png"})
    assert (tree / "a" / "x.xmp").exists() and not (tree / "b" / "y.xmp").exists()
    assert b"someone else" in (tree / "b" / "y.png.xmp").read_bytes()  # never over another's file
    assert (tree / "a" / "x.png.xmp").exists()
    draw(tree / "a" / "x.png")
    client.post_json("/delete", {"paths": ["a/x.png"], "force": True})
    assert (tree / "a" / "x.xmp").exists()  # x.cr2 keeps it


def test_with_xmp_off_moves_leave_xmp_sidecars_alone(client_with, tree):
    draw(tree / "a" / "x.jpg")
    (tree / "a" / "x.xmp").write_bytes(xmp_sidecar(subjects("adobe")))
    client_with(xmp="off").post_json("/move", {"src": "a/x.jpg", "to": "a/y.jpg"})
    assert (tree / "a" / "x.xmp").exists() and not (tree / "a" / "y.xmp").exists()


# ---------------------------------------------------------------------------------------------
# LENSLET_XMP=write: edits written to the XMP sidecar, merged three ways, read back by exiftool


def exiftool(path, *tags):
    """exiftool's reading of one file (grouped by namespace: XMP-dc:Subject, ...)."""
    done = subprocess.run([EXIFTOOL, "-j", "-G1", *(tags or ("-XMP:all",)), str(path)], capture_output=True,
                          timeout=120, check=False)
    assert done.stdout, done.stderr
    return json.loads(done.stdout)[0]


def as_list(value):
    return value if isinstance(value, list) else [] if value is None else [value]


def writer(client_with, tree, name="a.jpg"):
    draw(tree / name)
    return client_with(xmp="write")


@needs_exiftool
def test_an_edit_makes_a_new_xmp_sidecar_exiftool_reads(gallery, tmp_path):
    gallery.put("a.jpg", image_bytes())
    original = gallery.read("a.jpg")
    client = gallery.with_settings(xmp="write")
    body = client.patch_json("/item?path=a.jpg", {"addTags": ["beach", "Sun"], "star": 4, "notes": "at dawn"}).json
    assert (body["tags"], body["star"], body["sources"]["star"]) == (["beach", "Sun"], 4, "lenslet")
    written = tmp_path / "read.xmp"
    written.write_bytes(gallery.read("a.jpg.xmp"))
    found = exiftool(written)
    assert (as_list(found["XMP-dc:Subject"]), found["XMP-xmp:Rating"], found["XMP-dc:Description"]) == \
        (["beach", "Sun"], 4, "at dawn")
    assert gallery.read("a.jpg") == original


@needs_exiftool
@needs_shared
def test_a_keyword_added_in_lenslet_joins_darktables_sidecar_keeping_its_history(client_with, tree):
    client = writer(client_with, tree)
    path = tree / "a.jpg.xmp"
    path.write_bytes(shared("darktable-aurora.jpg.xmp"))
    before = exiftool(path, "-XMP-darktable:all", "-XMP-exif:all", "-XMP-xmp:Rating")
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"]})
    after = exiftool(path)
    assert "dog" in as_list(after["XMP-dc:Subject"]) and {"darktable", "jpg"} <= set(as_list(after["XMP-dc:Subject"]))
    assert exiftool(path, "-XMP-darktable:all", "-XMP-exif:all", "-XMP-xmp:Rating") == before
    assert sorted(item(client, "a.jpg")["tags"]) == ["Aurora", "Iceland", "Nature", "Places", "Reykjavik", "dog"]


@needs_exiftool
@needs_shared
def test_a_removal_in_lenslet_clears_every_keyword_field_digikam_keeps(client_with, tree):
    client = writer(client_with, tree)
    path = tree / "a.jpg.xmp"
    path.write_bytes(shared("digikam-aurora.jpg.xmp"))
    client.patch_json("/item?path=a.jpg", {"removeTags": ["aurora"]})
    found = exiftool(path)
    for field in ("XMP-dc:Subject", "XMP-digiKam:TagsList", "XMP-lr:HierarchicalSubject",
                  "XMP-microsoft:LastKeywordXMP", "XMP-mediapro:CatalogSets"):
        assert field in found and not any("Aurora" in value for value in as_list(found[field])), field
    assert "Aurora" not in item(client, "a.jpg")["tags"]


@needs_exiftool
def test_removals_and_additions_on_both_sides_all_count(client_with, tree):
    client = writer(client_with, tree)
    path = tree / "a.jpg.xmp"
    client.patch_json("/item?path=a.jpg", {"addTags": ["beach", "sun", "dog"]})
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-dc:Subject-=sun", "-XMP-dc:Subject+=cat",
                    str(path)], check=True, timeout=60)  # another tool: one removal, one addition
    assert sorted(item(client, "a.jpg")["tags"]) == ["beach", "cat", "dog"]
    client.patch_json("/item?path=a.jpg", {"addTags": ["bird"], "removeTags": ["dog"]})
    assert sorted(as_list(exiftool(path)["XMP-dc:Subject"])) == ["beach", "bird", "cat"]
    assert sorted(item(client, "a.jpg")["tags"]) == ["beach", "bird", "cat"]
    assert sorted(listed(client)["a.jpg"]["tags"]) == ["beach", "bird", "cat"]


@needs_exiftool
def test_a_rating_changed_by_another_tool_wins_until_lenslet_changes_it(client_with, tree):
    client = writer(client_with, tree)
    path = tree / "a.jpg.xmp"
    client.patch_json("/item?path=a.jpg", {"star": 2})
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-xmp:Rating=-1", str(path)], check=True, timeout=60)
    body = item(client, "a.jpg")
    assert (body["star"], body["rejected"]) == (None, True)
    client.patch_json("/item?path=a.jpg", {"addTags": ["x"]})
    assert exiftool(path)["XMP-xmp:Rating"] == -1  # an edit of something else keeps the rejection
    client.patch_json("/item?path=a.jpg", {"star": 5})
    assert exiftool(path)["XMP-xmp:Rating"] == 5 and item(client, "a.jpg")["star"] == 5


def test_read_mode_writes_no_xmp(client, tree):
    draw(tree / "a.jpg")
    client.patch_json("/item?path=a.jpg", {"addTags": ["beach"], "star": 3})
    assert not (tree / "a.jpg.xmp").exists()
    data = xmp_sidecar(subjects("sun"))
    (tree / "a.xmp").write_bytes(data)
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"]})
    assert (tree / "a.xmp").read_bytes() == data and not (tree / "a.jpg.xmp").exists()


def test_an_xmp_sidecar_lenslet_cannot_read_is_never_overwritten(client_with, tree):
    client = writer(client_with, tree)
    data = b"<x:xmpmeta not xml"
    (tree / "a.jpg.xmp").write_bytes(data)
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"]}, status=409)
    assert (tree / "a.jpg.xmp").read_bytes() == data and not (tree / "a.jpg.json").exists()


@needs_exiftool
def test_in_write_mode_a_keyword_only_in_the_original_still_answers_409(client_with, tree):
    client = writer(client_with, tree)
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-dc:Subject=Boats", str(tree / "a.jpg")],
                   check=True, timeout=60)
    original = (tree / "a.jpg").read_bytes()
    client.patch_json("/item?path=a.jpg", {"removeTags": ["Boats"]}, status=409)
    client.patch_json("/item?path=a.jpg", {"addTags": ["dog"]})
    assert (tree / "a.jpg").read_bytes() == original


@on_disk_alone  # in a bucket: test_move_trash_restore_and_delete_carry_the_xmp_sidecars
@needs_exiftool
def test_xmp_after_a_large_webps_picture_is_read_and_a_lying_chunk_is_harmless(gallery, tmp_path):
    import random

    from PIL import Image
    rng = random.Random(7)
    picture = Image.frombytes("RGB", (400, 400), bytes(rng.randrange(256) for _ in range(400 * 400 * 3)))
    photo = tmp_path / "far.webp"
    picture.save(photo, "WEBP", lossless=True)
    assert photo.stat().st_size > 300 * 1024  # its XMP lies past the head lenslet reads first
    subprocess.run([EXIFTOOL, "-q", "-overwrite_original", "-XMP-dc:Subject=Far", str(photo)], check=True, timeout=60)
    gallery.put("far.webp", photo.read_bytes())
    lying = bytearray(photo.read_bytes())
    assert lying[12:16] == b"VP8X" and lying[30:34] == b"VP8L"
    # The picture's chunk claims 5,000 bytes more than the file holds, the container more still:
    # the next chunk header lenslet looks for lies past the end of the file.
    lying[34:38] = (int.from_bytes(lying[34:38], "little") + 5000).to_bytes(4, "little")
    lying[4:8] = (len(lying) + 10_000).to_bytes(4, "little")
    gallery.put("lying.webp", bytes(lying))
    client = gallery.client
    assert item(client, "far.webp")["tags"] == ["Far"]
    assert item(client, "lying.webp")["tags"] == []
    assert set(listed(client)) == {"far.webp", "lying.webp"}


@pytest.mark.usefixtures("search_looks_often")
def test_a_moved_image_is_found_by_its_xmp_keywords_before_the_next_rollup(client, tree, config, storage):
    draw(tree / "a" / "x.jpg")
    (tree / "a" / "x.jpg.xmp").write_bytes(xmp_sidecar(subjects("glacier"), hierarchical("Places|Iceland|Vik")))
    (tree / "b").mkdir()
    index_tree(config, storage)
    assert search(client, "glacier") == ["a/x.jpg"]
    rollup = (tree / "_rollup.json").read_bytes()
    client.post_json("/move", {"src": "a/x.jpg", "dest": "b"})
    wait_until(lambda: search(client, "glacier") == ["b/x.jpg"], timeout=10)
    assert search(client, "glacier") == ["b/x.jpg"] and search(client, "iceland") == ["b/x.jpg"]
    assert (tree / "_rollup.json").read_bytes() == rollup  # found through the edit journal


def test_health_names_unreadable_xmp_and_images_with_two_xmp_sidecars(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp", b"<x:xmpmeta not xml")
    gallery.put("b.jpg", image_bytes())
    gallery.put("b.jpg.xmp", xmp_sidecar(subjects("darktable")))
    gallery.put("b.XMP", xmp_sidecar(subjects("adobe")))
    gallery.index()
    report = json.loads(gallery.read("_health.json"))
    assert (report["xmpErrors"], report["twoXmps"]) == (1, 1)
    assert "a.jpg.xmp: " in report["files"]["xmpErrors"]["a.jpg"] and report["files"]["twoXmps"] == ["b.jpg"]


@needs_exiftool
def test_concurrent_edits_in_write_mode_all_reach_the_xmp_sidecar(config, tree):
    import dataclasses

    import webtest

    from lenslet.app import create_app
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_sidecar(subjects("from-darktable")))
    app = create_app(dataclasses.replace(config, xmp="write"))
    errors = writers_add_tags(
        lambda tag: webtest.TestApp(app).patch_json("/item?path=a.jpg", {"addTags": [tag]}), writers=4, each=10)
    assert errors == []
    tags = set(as_list(exiftool(tree / "a.jpg.xmp", "-XMP-dc:Subject")["XMP-dc:Subject"]))
    assert len(tags) == 41 and "from-darktable" in tags
    assert set(item(webtest.TestApp(app), "a.jpg")["tags"]) == tags


def test_what_lenslet_wrote_to_one_xmp_is_no_base_for_another(client_with, tree):
    client = writer(client_with, tree)
    client.patch_json("/item?path=a.jpg", {"addTags": ["beach", "dog"]})
    (tree / "a.jpg.xmp").unlink()  # another tool's cleanup; an Adobe sidecar is there instead
    (tree / "a.xmp").write_bytes(xmp_sidecar(subjects("adobe")))
    assert sorted(item(client, "a.jpg")["tags"]) == ["adobe", "beach", "dog"]  # not taken as removed there
    client.patch_json("/item?path=a.jpg", {"star": 1})
    assert sorted(item(client, "a.jpg")["tags"]) == ["adobe", "beach", "dog"]
    assert b"beach" in (tree / "a.xmp").read_bytes()
