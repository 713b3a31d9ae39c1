"""XMP sidecars: read the way the real tools write them, update keeping everything else, merge three ways."""

import json
import random
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import EXIFTOOL, PROJECT, needs_exiftool, without

from lenslet import layout
from lenslet.errors import Unreadable
from lenslet.formats import xmp

SHARED = Path(PROJECT).parent / "shared" / "xmp"  # real sidecars, kept beside the project
NOW = 1_700_000_000  # 2023-11-14T22:13:20Z

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/xmp (real sidecars) is not beside the project")

# The fields update() may change; exiftool must read every other one the same before and after.
CHANGED = {"SourceFile", "XMP-dc:Subject", "XMP-lr:HierarchicalSubject", "XMP-digiKam:TagsList",
           "XMP-microsoft:LastKeywordXMP", "XMP-mediapro:CatalogSets", "XMP-xmp:Rating", "XMP-dc:Description",
           "XMP-xmp:MetadataDate"}


def shared(name):
    return (SHARED / name).read_bytes()


def exiftool(*paths, tags=("-XMP:all",)):
    """exiftool's reading of files, one dict each, grouped by namespace (XMP-dc:Subject, ...)."""
    done = subprocess.run([EXIFTOOL, "-j", "-struct", "-G1", *tags, "-ExifTool:Warning", *map(str, paths)],
                          capture_output=True, timeout=120)
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


def written(tmp_path, data, name="out.xmp"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def sidecar(*properties, namespaces=""):
    """An XMP sidecar with one rdf:Description holding the given property elements."""
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:lr="http://ns.adobe.com/lightroom/1.0/" '
            f'xmlns:digiKam="http://www.digikam.org/ns/1.0/" {namespaces}>'
            + "".join(properties) + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def bag(prop, *items, kind="Bag"):
    return f"<{prop}><rdf:{kind}>" + "".join(f"<rdf:li>{item}</rdf:li>" for item in items) + f"</rdf:{kind}></{prop}>"


# ---------------------------------------------------------------------------------------------
# Reading the real tools' sidecars (../shared/xmp/README.md says what each holds)


REAL = [
    ("darktable-aurora.jpg.xmp", ["Aurora", "Iceland", "Nature", "Places", "Reykjavik"], 1, None,
     "XMP Test - Aurora", "Test fixture for darktable  XMP sidecar"),
    ("digikam-aurora.jpg.xmp", ["Nature", "Places", "Reykjavik", "Iceland", "Aurora"], None, "NoColor",
     "XMP Test - Aurora", "Test fixture for digiKam XMP sidecar "),
    ("photoshop-2020.xmp", ["desk", "coffee", "computer"], 4, None,
     "Night Shift / Berlin / 2020", "Example file for development"),
    ("lightroom6-via-exiftool.xmp", ["Ladybug"], 1, None, "Ladybug", None),
    ("apple-photos.xmp", ["Krokus", "Blume", "Schöne Wiese"], None, None, "Botanischer Garten", "Tulpen am See"),
    ("photoshop-cs2.xmp", ["test1", "&-&amp;-&"], 1, None, None, None),
    ("exiv2-rating-rejected.xmp", [], -1, None, None, None),
]


@needs_shared
@pytest.mark.parametrize("name, tags, rating, label, title, description", REAL)
def test_real_sidecars_read_as_their_tools_wrote_them(name, tags, rating, label, title, description):
    found = xmp.parse(shared(name))
    assert (found.tags, found.rating, found.label, found.title, found.description, found.problems) == \
        (tags, rating, label, title, description, ())


@needs_shared
def test_darktable_bookkeeping_is_not_tags_but_its_users_keywords_are():
    found = xmp.parse(shared("darktable-aurora.jpg.xmp"))
    assert {"darktable", "exported", "format", "jpg"}.isdisjoint(found.tags)
    assert found.keywords[0] == xmp.Keyword("Aurora", ("dc:subject", "lr:hierarchicalSubject"))
    assert found.paths == ()  # darktable|format|jpg is not searchable text either
    assert (found.star, found.rejected) == (1, False)


@needs_shared
def test_digikam_keywords_say_every_field_they_came_from():
    found = xmp.parse(shared("digikam-aurora.jpg.xmp"))
    assert {keyword.fields for keyword in found.keywords} == {
        ("dc:subject", "lr:hierarchicalSubject", "digiKam:TagsList")}


@needs_shared
def test_a_rejected_image_has_no_star():
    found = xmp.parse(shared("exiv2-rating-rejected.xmp"))
    assert (found.rating, found.star, found.rejected) == (-1, None, True)


@needs_shared
@needs_exiftool
def test_exiftool_reads_the_real_sidecars_as_the_readme_says():
    """The table above is what exiftool reads too (the README's own check)."""
    readings = exiftool(*(SHARED / name for name, *_ in REAL), tags=("-XMP-dc:Subject", "-XMP-xmp:Rating"))
    for (name, tags, rating, *_), reading in zip(REAL, readings, strict=True):
        subjects = reading.get("XMP-dc:Subject", [])
        subjects = subjects if isinstance(subjects, list) else [subjects]
        assert set(tags) <= set(subjects), name
        assert reading.get("XMP-xmp:Rating") == rating, name


# ---------------------------------------------------------------------------------------------
# Reading: the forms XMP takes


@pytest.mark.parametrize("data, tags", [
    (sidecar(bag("dc:subject", "a", "b")), ["a", "b"]),
    (sidecar(bag("dc:subject", "a", "b", kind="Seq")), ["a", "b"]),
    (sidecar("<dc:subject>lonely</dc:subject>"), ["lonely"]),
    (sidecar(bag("dc:subject", " Summer ", "summer", "SUMMER", "")), ["Summer"]),  # one tag, as in lenslet
    (sidecar(bag("lr:hierarchicalSubject", "Places|Iceland|Reykjavik", "Animals | Birds")), ["Reykjavik", "Birds"]),
    (sidecar(bag("digiKam:TagsList", "Places/Iceland", "People/Ann")), ["Iceland"]),  # a person, not a tag
    (sidecar(bag("lr:hierarchicalSubject", "AC/DC")), ["AC/DC"]),  # a '/' is Lightroom's to keep
    (sidecar(bag("dc:subject", "a"), bag("lr:hierarchicalSubject", "x|b"), bag("digiKam:TagsList", "y/c")),
     ["a", "b", "c"]),
    (sidecar(bag("dc:subject", "&amp;-<![CDATA[&amp;<b>]]>")), ["&-&amp;<b>"]),
    (sidecar(bag("dc:subject", "darktable", "jpg"), bag("lr:hierarchicalSubject", "darktable|format|jpg")), []),
    (sidecar(bag("dc:subject", "darktable", "jpg"), bag("lr:hierarchicalSubject", "darktable|format|jpg", "jpg")),
     ["jpg"]),  # also a keyword of its own
    (sidecar('<dc:subject><rdf:Bag><rdf:li rdf:parseType="Resource"><rdf:value>q</rdf:value></rdf:li>'
             "</rdf:Bag></dc:subject>"), ["q"]),  # a qualified value
])
def test_keywords_in_every_form(data, tags):
    assert xmp.parse(data).tags == tags


def test_hierarchical_paths_are_searchable_text_and_only_leaves_are_tags():
    found = xmp.parse(sidecar(bag("lr:hierarchicalSubject", "Places|Iceland", "Flat"),
                              bag("digiKam:TagsList", "Animals/Birds/Owl")))
    assert found.tags == ["Iceland", "Flat", "Owl"]
    assert found.paths == ("Places|Iceland", "Animals/Birds/Owl")


def test_exiftool_style_one_description_per_namespace_and_attributes():
    data = b"""<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about="" xmlns:d="http://purl.org/dc/elements/1.1/">
        <d:subject><rdf:Bag><rdf:li>one</rdf:li></rdf:Bag></d:subject></rdf:Description>
      <rdf:Description rdf:about="" xmlns:xap="http://ns.adobe.com/xap/1.0/" xap:Rating="5" xap:Label="Red"/>
      <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
        <dc:subject><rdf:Bag><rdf:li>two</rdf:li></rdf:Bag></dc:subject></rdf:Description>
    </rdf:RDF></x:xmpmeta>"""
    found = xmp.parse(data)
    assert (found.tags, found.rating, found.label) == (["one", "two"], 5, "Red")


@pytest.mark.parametrize("title, expected", [
    ('<rdf:Alt><rdf:li xml:lang="de">Hallo</rdf:li><rdf:li xml:lang="x-default">Hello</rdf:li></rdf:Alt>', "Hello"),
    ('<rdf:Alt><rdf:li xml:lang="de">Hallo</rdf:li><rdf:li xml:lang="fr">Salut</rdf:li></rdf:Alt>', "Hallo"),
    ("Plain", "Plain"),
    ("", None),
])
def test_language_alternatives(title, expected):
    found = xmp.parse(sidecar(f"<dc:title>{title}</dc:title>", f"<dc:description>{title}</dc:description>"))
    assert (found.title, found.description) == (expected, expected)


@pytest.mark.parametrize("rating, expected, star", [
    ("-1", -1, None), ("0", 0, None), ("3", 3, 3), ("5", 5, 5), ("4.0", 4, 4), (" 2 ", 2, 2), ("", None, None),
])
def test_ratings(rating, expected, star):
    found = xmp.parse(sidecar(f"<xmp:Rating>{rating}</xmp:Rating>"))
    assert (found.rating, found.star, found.problems) == (expected, star, ())


@pytest.mark.parametrize("rating", ["6", "-2", "2.5", "three", "nan"])
def test_a_rating_out_of_range_is_a_problem(rating):
    found = xmp.parse(sidecar(f"<xmp:Rating>{rating}</xmp:Rating>", bag("dc:subject", "kept")))
    assert (found.rating, found.tags) == (None, ["kept"])
    assert "xmp:Rating" in found.problems[0]


def test_a_bare_rdf_root_and_the_old_xapmeta_wrapper():
    bare = (b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
            b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:Rating="2"/></rdf:RDF>')
    old = b'<x:xapmeta xmlns:x="adobe:ns:meta/">' + bare + b"</x:xapmeta>"
    assert xmp.parse(bare).rating == xmp.parse(old).rating == 2


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
def test_the_encodings_xmp_allows(encoding):
    text = sidecar(bag("dc:subject", "Schöne Wiese")).decode()
    assert xmp.parse(text.encode(encoding)).tags == ["Schöne Wiese"]


def test_a_packet_padded_with_nuls_and_whitespace():
    data = b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>' + sidecar(bag("dc:subject", "a")) \
        + b' ' * 2000 + b'<?xpacket end="w"?>' + b"\0" * 10
    assert xmp.parse(data).tags == ["a"]


def test_more_keywords_than_an_image_holds_are_cut_with_a_problem():
    found = xmp.parse(sidecar(bag("dc:subject", *(f"k{number}" for number in range(600)))))
    assert len(found.tags) == 500
    assert "more than 500 keywords" in found.problems[0]


def test_a_reading_survives_the_manifest_and_a_forged_one_does_not():
    found = xmp.parse(sidecar(bag("lr:hierarchicalSubject", "Places|Iceland"), "<xmp:Rating>-1</xmp:Rating>"))
    assert xmp.from_dict(json.loads(json.dumps(found.to_dict()))) == found
    for forged in ({}, {"keywords": [["a"]]}, {"keywords": [], "paths": [], "problems": [], "rating": 9},
                   {"keywords": [[" ", []]], "paths": [], "problems": []}, [], None):
        assert xmp.from_dict(forged) is None


def test_combine_unites_keywords_and_keeps_the_first_value():
    sidecar_reading = xmp.parse(sidecar(bag("dc:subject", "Beach"), "<xmp:Rating>2</xmp:Rating>"))
    image_reading = xmp.with_iptc(xmp.parse(sidecar(bag("dc:subject", "beach", "sea"), "<xmp:Rating>5</xmp:Rating>",
                                                    "<dc:title>t</dc:title>")), ["Sea", "Salt"])
    both = xmp.combine(sidecar_reading, image_reading)
    assert both.tags == ["Beach", "sea", "Salt"]
    assert both.keywords[1] == xmp.Keyword("sea", ("dc:subject", "IPTC:Keywords"))
    assert (both.rating, both.title) == (2, "t")


# ---------------------------------------------------------------------------------------------
# Hostile and broken packets: a problem, fast, never an exception


LAUGHS = [(level, (b"&lol%d;" % (level - 1) if level > 1 else b"&lol;") * 10) for level in range(1, 10)]
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(b'<!ENTITY lol%d "%s">' % laugh for laugh in LAUGHS)
                  + b']><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
                    b'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject>&lol9;'
                    b"</dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>")


def external_entity(secret):
    return (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]>'.encode()
            + sidecar("<dc:subject>&e;</dc:subject>"))


@pytest.mark.parametrize("data, problem", [
    (BILLION_LAUGHS, "document type"),
    (BILLION_LAUGHS.decode().encode("utf-16"), "document type"),  # where a search of the bytes would miss it
    (b"<x:xmpmeta>" + b" " * (10 * 1024 * 1024) + b"</x:xmpmeta>", "larger than 4 MB"),
    (b"<a>" * 100_000 + b"</a>" * 100_000, "deeper than 64"),
    (b"<a>" + b"<b/>" * 200_000 + b"</a>", "more than 100000 elements"),
    (sidecar("<dc:subject>&nope;</dc:subject>"), "undefined entity"),
    (sidecar(bag("dc:subject", "a"))[:-20], "not well-formed"),
    (b"", "not well-formed"),
    (b"\xfd\xff garbage", "not UTF-8"),
    (b"\xff\xfe\x00\xd8 broken", "not UTF-16"),
    (b'<?xml version="1.0" encoding="cp037"?><x/>'.replace(b"<x/>", "<x/>".encode("cp037")), "not UTF-8"),
    (b"<x/>", "no rdf:RDF"),
    (None, "not text"),
    (42, "not text"),
])
def test_hostile_and_broken_packets_are_problems(data, problem):
    found = xmp.parse(data)
    assert found.tags == [] and found.rating is None
    assert problem in found.problems[0]


def test_an_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret")
    found = xmp.parse(external_entity(secret))
    assert "document type" in found.problems[0]
    assert "the secret" not in repr(found)
    with pytest.raises(Unreadable):
        xmp.update(external_entity(secret), {"star": 1}, now=NOW)


def test_a_hostile_sidecar_is_never_overwritten():
    for data in (BILLION_LAUGHS, b"<a>" * 1000 + b"</a>" * 1000, b"not xml", b"<x/>"):
        with pytest.raises(Unreadable):
            xmp.update(data, {"tags": ["a"]}, now=NOW)


@needs_shared
def test_damaged_real_sidecars_give_problems_or_readings_never_exceptions():
    chance = random.Random(22)
    for name, *_ in REAL:
        data = shared(name)
        for _ in range(40):
            damaged = bytearray(data)
            for _ in range(chance.randint(1, 8)):
                damaged[chance.randrange(len(damaged))] = chance.randrange(256)
            cut = bytes(damaged[:chance.randrange(len(damaged) + 1)]) if chance.random() < 0.3 else bytes(damaged)
            assert isinstance(xmp.parse(cut), xmp.Metadata)
            try:
                xmp.update(cut, {"tags": ["x"], "star": 2, "notes": "n"}, now=NOW)
            except Unreadable:
                pass


# ---------------------------------------------------------------------------------------------
# Writing


@needs_shared
@needs_exiftool
@pytest.mark.parametrize("name", [name for name, *_ in REAL])
def test_an_update_changes_lenslets_fields_and_keeps_every_other(tmp_path, name):
    data = shared(name)
    tags = xmp.parse(data).tags
    out = xmp.update(data, {"tags": tags[1:] + ["Sunset"], "star": 3, "notes": "from lenslet"}, now=NOW)
    before, after = exiftool(SHARED / name, written(tmp_path, out))
    subjects = after["XMP-dc:Subject"] if isinstance(after["XMP-dc:Subject"], list) else [after["XMP-dc:Subject"]]
    assert "Sunset" in subjects and (not tags or tags[0] not in subjects)
    assert (after["XMP-xmp:Rating"], after["XMP-dc:Description"]) == (3, "from lenslet")
    assert after["XMP-xmp:MetadataDate"] == "2023:11:14 22:13:20+00:00"
    assert {key: value for key, value in after.items() if key not in CHANGED} == \
        {key: value for key, value in before.items() if key not in CHANGED}
    assert xmp.parse(out).tags == tags[1:] + ["Sunset"]


# What a tag and star edit owns, as the real files spell it (Photoshop CS2 writes the xmp namespace as xap:),
# and the declarations it may add for a namespace the file lacks.
OWNED = ("dc:subject", "lr:hierarchicalSubject", "digiKam:TagsList", "MicrosoftPhoto:LastKeywordXMP",
         "mediapro:CatalogSets", "xmp:Rating", "xap:Rating", "xmp:MetadataDate", "xap:MetadataDate", "xmlns:xmp",
         "xmlns:dc")


@needs_shared
@pytest.mark.parametrize("name", [name for name, *_ in REAL])
def test_an_update_keeps_every_byte_it_does_not_own(name):
    data = shared(name)
    tags = xmp.parse(data).tags
    out = xmp.update(data, {"tags": tags[1:] + ["Sunset"], "star": 3}, now=NOW)
    assert without(out, *OWNED) == without(data, *OWNED)  # dc:description, history, develop settings...
    found = xmp.parse(out)
    assert (found.tags, found.rating, found.problems) == (tags[1:] + ["Sunset"], 3, ())


def test_the_untouched_parts_of_a_packet_in_another_encoding_keep_their_text():
    data = sidecar(bag("dc:subject", "Café"), "<dc:title>Crème</dc:title>").decode()
    packet = ('<?xml version="1.0" encoding="UTF-16"?>' + data).encode("utf-16")
    out = xmp.update(packet, {"addTags": ["Thé"]}, now=NOW)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')  # written back as UTF-8, and says so
    assert b"<dc:title>Cr\xc3\xa8me</dc:title>" in out and xmp.parse(out).tags == ["Café", "Thé"]


@needs_shared
@needs_exiftool
def test_darktable_history_and_bookkeeping_stay(tmp_path):
    data = shared("darktable-aurora.jpg.xmp")
    out = xmp.update(data, {"removeTags": ["Aurora", "Places"], "addTags": ["Sunset"]}, now=NOW)
    (after,) = exiftool(written(tmp_path, out))
    assert [step["Operation"] for step in after["XMP-darktable:History"]] == ["colorin", "colorout", "gamma", "flip"]
    assert after["XMP-darktable:History_end"] == 4
    assert after["XMP-dc:Subject"] == ["Iceland", "Nature", "Reykjavik", "darktable", "exported", "format", "jpg",
                                       "Sunset"]
    # Sunset goes into lr:hierarchicalSubject too: darktable reads that field first
    assert after["XMP-lr:HierarchicalSubject"] == ["Iceland", "Nature", "Reykjavik", "darktable|exported",
                                                   "darktable|format|jpg", "Sunset"]


@needs_shared
@needs_exiftool
def test_a_removal_leaves_every_keyword_field_of_digikam(tmp_path):
    out = xmp.update(shared("digikam-aurora.jpg.xmp"), {"removeTags": ["iceland"], "addTags": ["Sunset"]}, now=NOW)
    (after,) = exiftool(written(tmp_path, out))
    expected = ["Nature", "Places", "Reykjavik", "Aurora", "Sunset"]
    for field in ("XMP-dc:Subject", "XMP-digiKam:TagsList", "XMP-lr:HierarchicalSubject",
                  "XMP-microsoft:LastKeywordXMP", "XMP-mediapro:CatalogSets"):
        assert after[field] == expected, field
    assert after["XMP-acdsee:Categories"].count("<Category") == 5  # not a keyword field lenslet reads: untouched


@needs_exiftool
def test_removing_a_leaf_removes_its_paths_in_every_field(tmp_path):
    data = sidecar(bag("dc:subject", "Places", "Iceland"),
                   bag("lr:hierarchicalSubject", "Places|Iceland", "Places"),
                   bag("digiKam:TagsList", "Places/Iceland", "Places"),
                   '<MicrosoftPhoto:LastKeywordXMP><rdf:Bag><rdf:li>Places/Iceland</rdf:li><rdf:li>Places</rdf:li>'
                   "</rdf:Bag></MicrosoftPhoto:LastKeywordXMP>",
                   '<mediapro:CatalogSets><rdf:Bag><rdf:li>Places|Iceland</rdf:li></rdf:Bag></mediapro:CatalogSets>',
                   namespaces='xmlns:MicrosoftPhoto="http://ns.microsoft.com/photo/1.0/" '
                              'xmlns:mediapro="http://ns.iview-multimedia.com/mediapro/1.0/"')
    out = xmp.update(data, {"removeTags": ["Iceland"]}, now=NOW)
    (after,) = exiftool(written(tmp_path, out))
    assert [after.get(field) for field in ("XMP-dc:Subject", "XMP-lr:HierarchicalSubject", "XMP-digiKam:TagsList",
                                           "XMP-microsoft:LastKeywordXMP", "XMP-mediapro:CatalogSets")] == \
        [["Places"], ["Places"], ["Places"], ["Places"], None]  # an emptied field goes
    assert xmp.parse(out).tags == ["Places"]


@needs_shared
def test_an_rdf_seq_subject_becomes_a_bag():
    out = xmp.update(shared("apple-photos.xmp"), {"addTags": ["Sonne"]}, now=NOW)
    subject = ET.fromstring(out).find(".//{http://purl.org/dc/elements/1.1/}subject")
    assert [child.tag.rpartition("}")[2] for child in subject] == ["Bag"]
    assert [li.text for li in subject[0]] == ["Krokus", "Blume", "Schöne Wiese", "Sonne"]


@needs_shared
@needs_exiftool
def test_photoshop_cs2_keeps_its_xap_prefix_and_entities(tmp_path):
    out = xmp.update(shared("photoshop-cs2.xmp"), {"star": 5, "addTags": ["a<b & c"]}, now=NOW)
    assert b'xmlns:xap="http://ns.adobe.com/xap/1.0/"' in out and b"xmlns:xmp=" not in out
    assert b'xap:Rating="5"' in out
    (after,) = exiftool(written(tmp_path, out))
    assert after["XMP-dc:Subject"] == ["test1", "&-&amp;-&", "a<b & c"]
    assert (after["XMP-dc:Rights"], after["XMP-dc:Rights-fr"]) == ("© Copyright Phil Harvey",
                                                                  "© Droit d'auteur Phil Harvey")


@needs_shared
@needs_exiftool
def test_lightroom_keeps_its_develop_settings_and_descriptions(tmp_path):
    data = shared("lightroom6-via-exiftool.xmp")
    out = xmp.update(data, {"star": None, "notes": "n"}, now=NOW)
    before, after = exiftool(SHARED / "lightroom6-via-exiftool.xmp", written(tmp_path, out))
    crs = {key: value for key, value in before.items() if key.startswith("XMP-crs:")}
    assert len(crs) > 50 and all(after[key] == value for key, value in crs.items())
    assert "XMP-xmp:Rating" not in after  # no star: no xmp:Rating
    assert out.count(b"<rdf:Description") == data.count(b"<rdf:Description")


@needs_exiftool
def test_unknown_namespaces_structs_and_other_descriptions_are_kept(tmp_path):
    data = b"""<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:foo="http://example.com/foo/1.0/" foo:Plain="1 &lt; 2">
   <foo:Struct rdf:parseType="Resource"><foo:Inner>deep &amp; kept</foo:Inner></foo:Struct>
   <foo:List><rdf:Seq><rdf:li>x</rdf:li><rdf:li>y</rdf:li></rdf:Seq></foo:List>
  </rdf:Description>
  <rdf:Description rdf:about="" xmlns:bar="http://example.com/bar/" bar:Tab="a&#9;b"/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    out = xmp.update(data, {"tags": ["new"], "star": 1}, now=NOW)
    before, after = exiftool(written(tmp_path, data, "in.xmp"), written(tmp_path, out))
    kept = {key: value for key, value in before.items() if key not in CHANGED}
    assert len(kept) >= 4 and {key: after[key] for key in kept} == kept
    assert (after["XMP-dc:Subject"], after["XMP-xmp:Rating"]) == (["new"], 1)
    assert "ExifTool:Warning" not in after


@needs_exiftool
def test_a_new_sidecar(tmp_path):
    out = xmp.update(None, {"tags": ["Beach", "Sea"], "star": 4, "notes": "Line one\nline two"}, now=NOW)
    (after,) = exiftool(written(tmp_path, out))
    assert (after["XMP-dc:Subject"], after["XMP-xmp:Rating"], after["XMP-dc:Description"]) == \
        (["Beach", "Sea"], 4, "Line one\nline two")
    assert after["XMP-xmp:MetadataDate"] == "2023:11:14 22:13:20+00:00"
    assert "ExifTool:Warning" not in after
    assert xmp.parse(out).tags == ["Beach", "Sea"]


@pytest.mark.parametrize("changes, tags, rating, description", [
    ({"tags": []}, [], 2, "old"),
    ({"tags": ["a", "B"]}, ["a", "b"], 2, "old"),          # b and B are one: the file's spelling stays
    ({"addTags": ["c", "C"]}, ["a", "b", "c"], 2, "old"),
    ({"removeTags": ["A"], "addTags": ["a"]}, ["b"], 2, "old"),  # as lenslet's PATCH: removal wins
    ({"star": None}, ["a", "b"], None, "old"),
    ({"star": 0}, ["a", "b"], 0, "old"),
    ({"notes": ""}, ["a", "b"], 2, None),
    ({"notes": "bell\x07 and tab\t"}, ["a", "b"], 2, "bell and tab\t"),  # what XML 1.0 cannot hold is left out
])
def test_update_table(changes, tags, rating, description):
    data = sidecar(bag("dc:subject", "a", "b"), "<xmp:Rating>2</xmp:Rating>",
                   '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">old</rdf:li></rdf:Alt></dc:description>')
    found = xmp.parse(xmp.update(data, changes, now=NOW))
    assert (found.tags, found.rating, found.description, found.problems) == (tags, rating, description, ())


def test_notes_replace_only_the_default_language_and_plain_strings_become_alternatives():
    data = sidecar('<dc:description><rdf:Alt><rdf:li xml:lang="de">alt</rdf:li></rdf:Alt></dc:description>',
                   "<dc:title>plain</dc:title>")
    out = xmp.update(data, {"notes": "neu"}, now=NOW)
    alt = ET.fromstring(out).find(".//{http://purl.org/dc/elements/1.1/}description")[0]
    assert [(li.get("{http://www.w3.org/XML/1998/namespace}lang"), li.text) for li in alt] == \
        [("x-default", "neu"), ("de", "alt")]
    plain = xmp.update(sidecar("<dc:description>plain</dc:description>"), {"notes": "new"}, now=NOW)
    assert b'<rdf:li xml:lang="x-default">new</rdf:li>' in plain
    assert xmp.parse(xmp.update(data, {"notes": ""}, now=NOW)).description == "alt"


def test_an_attribute_value_is_changed_where_it_is():
    data = sidecar(namespaces='xmp:Rating="1" dc:subject="solo"').replace(
        b'xmlns:xmp="http://ns.adobe.com/xap/1.0/"', b'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmp:MetadataDate="x"')
    out = xmp.update(data, {"star": 4, "addTags": ["duo"]}, now=NOW)
    assert b'xmp:Rating="4"' in out and b'xmp:MetadataDate="2023-11-14T22:13:20+00:00"' in out
    assert xmp.parse(out).tags == ["solo", "duo"]


def test_a_keyword_holding_a_path_separator_stays_flat():
    data = sidecar(bag("dc:subject", "a"), bag("lr:hierarchicalSubject", "a"), bag("digiKam:TagsList", "a"))
    out = xmp.update(data, {"addTags": ["AC/DC", "this|that"]}, now=NOW)
    assert xmp.parse(out).tags == ["a", "AC/DC", "this|that"]
    assert b"<rdf:li>AC/DC</rdf:li>" in out and b"<rdf:li>this|that</rdf:li>" in out


@needs_shared
def test_an_update_is_stable():
    data = shared("digikam-aurora.jpg.xmp")
    changes = {"tags": ["Nature", "Sunset"], "star": 2, "notes": "n"}
    once = xmp.update(data, changes, now=NOW)
    assert xmp.update(once, changes, now=NOW) == once


@needs_shared
def test_whitespace_follows_the_file():
    out = xmp.update(shared("photoshop-2020.xmp"), {"addTags": ["tea"]}, now=NOW).decode()
    assert ("               <rdf:li>computer</rdf:li>\n               <rdf:li>tea</rdf:li>\n"
            "            </rdf:Bag>") in out


# ---------------------------------------------------------------------------------------------
# Merging


@pytest.mark.parametrize("base, ours, theirs, tags", [
    ([], ["a"], ["b"], ["a", "b"]),                      # additions on both sides survive
    (["a", "b"], ["a"], ["a", "b"], ["a"]),              # removed by lenslet
    (["a", "b"], ["a", "b"], ["b"], ["b"]),              # removed by the other tool
    (["a", "b"], ["a", "c"], ["b", "d"], ["c", "d"]),    # a removal on either side is a removal
    (["a"], ["A"], ["a"], ["A"]),                        # case only: one tag, lenslet's spelling
    (["a"], ["a", "x"], ["a", "X"], ["a", "x"]),         # both added the same tag
    (None, ["a"], ["b", "a"], ["a", "b"]),               # never synced: a union
    (["a"], [], [], []),
    (["a"], ["b"], ["a"], ["b"]),
])
def test_merge_keywords(base, ours, theirs, tags):
    merged = xmp.merge(None if base is None else {"tags": base}, {"tags": ours}, {"tags": theirs})
    assert merged["tags"] == tags


@pytest.mark.parametrize("base, ours, ours_time, theirs, theirs_time, result", [
    (1, 1, 10, 4, 20, 4),        # only theirs changed
    (1, 3, 10, 1, 20, 3),        # only ours changed
    (1, 3, 30, 4, 20, 3),        # both: the later wins
    (1, 3, 10, 4, 20, 4),
    (1, 3, 20, 4, 20, 3),        # a tie: lenslet's
    (None, 3, 10, None, 20, 3),  # the sidecar has none, never had
    (2, None, 10, 2, 20, None),  # lenslet cleared it
    (None, 3, None, 4, 20, 4),   # a side with no time is the older
])
def test_merge_star_and_notes(base, ours, ours_time, theirs, theirs_time, result):
    merged = xmp.merge({"star": base, "notes": base}, {"star": ours, "notes": ours, "time": ours_time},
                       {"star": theirs, "notes": theirs, "time": theirs_time})
    assert (merged["star"], merged["notes"]) == (result, result)


# ---------------------------------------------------------------------------------------------
# Names


@pytest.mark.parametrize("image, names", [
    ("foo.jpg", ("foo.jpg.xmp", "foo.jpg.XMP", "foo.xmp", "foo.XMP")),
    ("IMG.1.CR2", ("IMG.1.CR2.xmp", "IMG.1.CR2.XMP", "IMG.1.xmp", "IMG.1.XMP")),
    ("x" * 250 + ".jpg", ("x" * 250 + ".xmp", "x" * 250 + ".XMP")),  # foo.jpg.xmp would pass 255 bytes
])
def test_xmp_sidecar_names(image, names):
    assert layout.xmp_names(image) == names


@pytest.mark.parametrize("name, expected", [("a.jpg.xmp", True), ("a.XMP", True), ("a.Xmp", True),
                                            ("a.jpg", False), ("xmp", False)])
def test_is_xmp(name, expected):
    assert layout.is_xmp(name) is expected
    assert not (expected and layout.is_image(name))  # a sidecar is never listed as an image
