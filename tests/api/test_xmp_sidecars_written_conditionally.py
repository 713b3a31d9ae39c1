"""LENSLET_XMP=write beside other programs: an XMP sidecar is replaced only if unchanged since lenslet
read it (the merge done again on a change), every property lenslet does not own is kept byte for byte,
and a link, a FIFO or a folder holding the sidecar's name is never followed nor written through."""

import json
import os
import re

import pytest
from helpers import at_once, draw, image_bytes, without

from lenslet.formats import xmp
from lenslet.storage import open_storage

EDITS = 40  # each side's, in the race

# darktable's layout, with what only a careful writer keeps: attributes one a line, single quotes,
# spaces around "=", entity and character references, CDATA, a comment, a namespace lenslet has never heard of.
DARKTABLE = b"""<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:darktable="http://darktable.sf.net/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lr="http://ns.adobe.com/lightroom/1.0/"
    xmlns:acme='http://example.com/acme/1.0/'
   xmp:Rating="1"
   darktable:xmp_version="5"
   darktable:history_end="2"
   acme:Mood = 'calm &amp; &#x41;'>
   <darktable:history>
    <rdf:Seq>
     <rdf:li
      darktable:num="0"
      darktable:operation="exposure"
      darktable:params="0000c0bf"/>
     <rdf:li
      darktable:num="1"
      darktable:operation="flip"
      darktable:params="ffffffff"/>
    </rdf:Seq>
   </darktable:history>
   <acme:Note><![CDATA[kept <as> it is]]><!-- and this --></acme:Note>
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">Shot at dawn &amp; edited</rdf:li>
     <rdf:li xml:lang='de'>Bei Tagesanbruch</rdf:li>
    </rdf:Alt>
   </dc:description>
   <dc:subject>
    <rdf:Bag>
     <rdf:li>Aurora</rdf:li>
     <rdf:li>darktable</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <lr:hierarchicalSubject>
    <rdf:Bag>
     <rdf:li>Places|Iceland</rdf:li>
     <rdf:li>darktable|format|jpg</rdf:li>
    </rdf:Bag>
   </lr:hierarchicalSubject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
"""
DESCRIPTION = re.search(rb" *<dc:description>.*</dc:description>\n", DARKTABLE, re.S).group()
KEYWORDS = ("dc:subject", "lr:hierarchicalSubject")


def xmp_with_subjects(*tags):
    items = "".join(f"<rdf:li>{tag}</rdf:li>" for tag in tags)
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def item(client, path="a.jpg"):
    return client.get("/item", params={"path": path}).json


def patch(client, body, path="a.jpg", status=200):
    return client.patch_json("/item?path=" + path, body, status=status)


# ---------------------------------------------------------------------------------------------
# Replaced only if unchanged since read


def another_program_adds(storage, key, tag):
    """Add a keyword to dc:subject as a careful program does: read, change, write back only if unchanged
    (storage.update: a conditional PUT on S3, under the file's lock on disk), never knowing lenslet's merge."""
    def add(old, version):
        return old.replace(b"</rdf:Bag>", f"<rdf:li>{tag}</rdf:li></rdf:Bag>".encode(), 1)
    storage.update(key, add)


def test_keywords_another_program_adds_during_lenslets_edits_are_all_kept(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp", xmp_with_subjects("start"))
    client = gallery.with_settings(xmp="write")
    other = open_storage(gallery.config)  # its own storage, as another process would have

    def side(number):
        for k in range(EDITS):
            if number:
                another_program_adds(other, "a.jpg.xmp", f"other{k}")
                continue
            for _ in range(20):  # a client that honours 503 and Retry-After
                if patch(client, {"addTags": [f"lenslet{k}"]}, status=(200, 503)).status_int == 200:
                    break
            else:
                pytest.fail("lenslet answered 503 twenty times in a row")

    at_once(side, 2)
    expected = {"start"} | {f"{who}{k}" for who in ("lenslet", "other") for k in range(EDITS)}
    found = set(xmp.parse(gallery.read("a.jpg.xmp")).tags)
    assert len(expected - found) == 0, f"lost: {sorted(expected - found)}"
    assert set(item(client)["tags"]) == expected


def test_an_xmp_that_keeps_changing_answers_503_and_nothing_is_stored_or_lost(client_with, tree, monkeypatch):
    draw(tree / "a.jpg")
    (tree / "a.jpg.xmp").write_bytes(xmp_with_subjects("start"))
    client = client_with(xmp="write")
    fsync, added = os.fsync, []

    def another_program_writes_whenever_lenslet_syncs(fd):
        fsync(fd)
        added.append(f"other{len(added)}")
        item_added = f"<rdf:li>{added[-1]}</rdf:li></rdf:Bag>".encode()
        data = (tree / "a.jpg.xmp").read_bytes().replace(b"</rdf:Bag>", item_added)
        (tree / "other.tmp").write_bytes(data)
        os.replace(tree / "other.tmp", tree / "a.jpg.xmp")

    monkeypatch.setattr(os, "fsync", another_program_writes_whenever_lenslet_syncs)
    answer = patch(client, {"addTags": ["dog"]}, status=503)
    monkeypatch.undo()
    assert answer.headers["Retry-After"] and "XMP sidecar kept changing" in answer.json["description"]
    assert not (tree / "a.jpg.json").exists() and len(added) > 1
    assert set(xmp.parse((tree / "a.jpg.xmp").read_bytes()).tags) == {"start", *added}


# ---------------------------------------------------------------------------------------------
# What lenslet does not own, kept byte for byte


def test_a_tag_and_a_star_keep_every_byte_lenslet_does_not_own(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp", DARKTABLE)
    client = gallery.with_settings(xmp="write")
    body = patch(client, {"addTags": ["dog"], "star": 3}).json
    out = gallery.read("a.jpg.xmp")
    assert without(out, *KEYWORDS, "xmp:Rating", "xmp:MetadataDate") == \
        without(DARKTABLE, *KEYWORDS, "xmp:Rating", "xmp:MetadataDate")
    assert DESCRIPTION in out and b'xmp:Rating="3"' in out
    found = xmp.parse(out)
    assert (sorted(found.tags), found.rating, found.description) == (["Aurora", "Iceland", "dog"], 3,
                                                                    "Shot at dawn & edited")
    assert (body["notes"], body["description"]) == ("", "Shot at dawn & edited")  # darktable's, not lenslet's


def test_notes_go_to_dc_description_only_when_the_edit_changes_them(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp", DARKTABLE)
    client = gallery.with_settings(xmp="write")
    patch(client, {"notes": "From lenslet"})
    noted = gallery.read("a.jpg.xmp")
    assert xmp.parse(noted).description == "From lenslet"
    assert b"<rdf:li xml:lang='de'>Bei Tagesanbruch</rdf:li>" in noted  # only the default language is lenslet's
    assert without(noted, "dc:description", "xmp:MetadataDate") == \
        without(DARKTABLE, "dc:description", "xmp:MetadataDate")
    described = re.search(rb"<dc:description>.*</dc:description>", noted, re.S).group()
    patch(client, {"addTags": ["dog"], "star": 2})
    assert described in gallery.read("a.jpg.xmp")
    # darktable changes the description it shares with lenslet's notes: an edit of tags does not undo it
    gallery.put("a.jpg.xmp", gallery.read("a.jpg.xmp").replace(b">From lenslet<", b">From darktable<"))
    patch(client, {"addTags": ["cat"]})
    assert xmp.parse(gallery.read("a.jpg.xmp")).description == "From darktable"
    assert item(client)["notes"] == "From darktable"


def test_notes_lenslet_had_before_xmp_writing_stay_out_of_the_xmp_until_edited(client_with, tree):
    draw(tree / "a.jpg")
    client_with(xmp="read").patch_json("/item?path=a.jpg", {"notes": "lenslet's own"})
    (tree / "a.jpg.xmp").write_bytes(DARKTABLE)
    client = client_with(xmp="write")
    patch(client, {"addTags": ["dog"]})
    assert DESCRIPTION in (tree / "a.jpg.xmp").read_bytes()
    assert item(client)["notes"] == "lenslet's own"


# ---------------------------------------------------------------------------------------------
# A link, a FIFO or a folder in the sidecar's place


def put_in_place(kind, tree, outside):
    """Put a link (out of the root, or to another .xmp inside it), a FIFO or a folder where a.jpg.xmp goes."""
    place = tree / "a.jpg.xmp"
    if kind == "link out of the root":
        place.symlink_to(outside)
    elif kind == "link inside the root":
        (tree / "other.xmp").write_bytes(xmp_with_subjects("private"))
        place.symlink_to(tree / "other.xmp")
    elif kind == "fifo":
        os.mkfifo(place)
    else:
        place.mkdir()
        (place / "inner.txt").write_bytes(b"someone's")
    return place


KINDS = ["link out of the root", "link inside the root", "fifo", "folder"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", ["read", "write"])
def test_a_link_fifo_or_folder_as_the_xmp_shows_the_rest_with_the_problem(client_with, tree, tmp_path, kind, mode):
    draw(tree / "a.jpg")
    outside = tmp_path / "outside.xmp"
    outside.write_bytes(xmp_with_subjects("secret"))
    client_with(xmp="read").patch_json("/item?path=a.jpg", {"addTags": ["mine"], "star": 2})
    place = put_in_place(kind, tree, outside)
    body = item(client_with(xmp=mode))
    assert (body["tags"], body["star"]) == (["mine"], 2)  # never what the link leads to
    assert "a.jpg.xmp" in body["error"] and "secret" not in json.dumps(body)
    assert client_with(xmp=mode).get("/folders").json["items"][0]["name"] == "a.jpg"
    assert place.is_symlink() or kind in ("fifo", "folder")


@pytest.mark.parametrize("kind", KINDS)
def test_an_edit_is_refused_while_a_link_fifo_or_folder_holds_the_xmps_name(client_with, tree, tmp_path, kind):
    draw(tree / "a.jpg")
    outside = tmp_path / "outside.xmp"
    outside.write_bytes(xmp_with_subjects("secret"))
    client_with(xmp="read").patch_json("/item?path=a.jpg", {"addTags": ["mine"]})
    sidecar = (tree / "a.jpg.json").read_bytes()
    place = put_in_place(kind, tree, outside)
    target = os.readlink(place) if place.is_symlink() else None
    client = client_with(xmp="write")
    for call in (lambda: patch(client, {"addTags": ["dog"]}, status=409),
                 lambda: client.put_json("/item?path=a.jpg", {"tags": ["mine", "dog"]}, status=409)):
        answer = call().json
        assert "a.jpg.xmp" in answer["description"] and "nothing" in answer["description"]
    assert (tree / "a.jpg.json").read_bytes() == sidecar
    assert outside.read_bytes() == xmp_with_subjects("secret")
    assert (os.readlink(place) if place.is_symlink() else None) == target
    # the same edit in read mode lands in lenslet's own sidecar, and the link is still left alone
    patch(client_with(xmp="read"), {"addTags": ["dog"]})
    assert json.loads((tree / "a.jpg.json").read_bytes())["tags"] == ["mine", "dog"]
    assert outside.read_bytes() == xmp_with_subjects("secret")


def test_lenslets_tags_still_show_when_the_xmp_it_wrote_becomes_a_link(client_with, tree, tmp_path):
    client = client_with(xmp="write")
    draw(tree / "a.jpg")
    patch(client, {"addTags": ["mine"]})  # written to a.jpg.xmp too, its base kept in a.jpg.json
    (tree / "a.jpg.xmp").unlink()
    outside = tmp_path / "outside.xmp"
    outside.write_bytes(xmp_with_subjects("secret"))
    (tree / "a.jpg.xmp").symlink_to(outside)
    body = item(client)
    assert body["tags"] == ["mine"] and "a.jpg.xmp" in body["error"]  # a link is no sign of a removal


def test_a_folder_as_the_xmp_on_either_backend(gallery):
    gallery.put("a.jpg", image_bytes())
    gallery.put("a.jpg.xmp/inner.txt", b"someone's")
    client = gallery.with_settings(xmp="write")
    body = item(client)
    assert body["tags"] == [] and "a.jpg.xmp" in body["error"]
    assert "a.jpg.xmp" in patch(client, {"addTags": ["dog"]}, status=409).json["description"]
    assert not gallery.exists("a.jpg.json") and gallery.read("a.jpg.xmp/inner.txt") == b"someone's"
