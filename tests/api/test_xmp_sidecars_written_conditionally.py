"""LENSLET_XMP=write beside other programs: every property lenslet does not own is kept byte for byte."""

import re

from helpers import draw, image_bytes, without

from lenslet.formats import xmp

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


def item(client, path="a.jpg"):
    return client.get("/item", params={"path": path}).json


def patch(client, body, path="a.jpg", status=200):
    return client.patch_json("/item?path=" + path, body, status=status)


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
