"""lenslet/formats/listing_pages.py: sorting a listing, what a rebuild must read, pages, and their order."""

import orjson
import pytest

from lenslet.formats import listing_pages
from lenslet.places.table import table_version
from lenslet.storage.base import Entry

BUILT = 1000.0


def entry(name, size=10, mtime=100.0, version=None, is_dir=False):
    return Entry(name, is_dir, size, mtime, version)


def listing(*names, **entries):
    """A listing of files by name (and of Entry objects given by keyword), classified."""
    return listing_pages.classify([entry(name) for name in names] + list(entries.values()))


# -- sorting a listing ------------------------------------------------------------------------

def test_a_listing_is_sorted_into_images_sidecars_thumbnails_pages_and_folders():
    found = listing_pages.classify([
        entry("a.jpg"), entry("a.jpg.json"), entry("a.jpg.thumbnail"), entry("notes.txt"), entry("b.PNG"),
        entry("_index.json"), entry("_index_2.json"), entry("_rollup.json"), entry("_health.json"),
        entry("c.jpg.xmp"), entry("c.xmp"), entry(".hidden.jpg"), entry("2019", is_dir=True),
        entry(".lenslet", is_dir=True),
    ])
    assert sorted(found.images) == ["a.jpg", "b.PNG"]
    assert list(found.sidecars) == ["a.jpg"] and list(found.thumbs) == ["a.jpg"]
    assert sorted(found.pages) == ["_index.json", "_index_2.json"]
    assert list(found.dirs) == ["2019"]  # a hidden folder is not the gallery's
    assert sorted(found.xmps) == ["c.jpg.xmp", "c.xmp"]
    assert found.pointer is False


def test_a_pointer_file_makes_a_pointer_folder():
    assert listing(".lenslet.folder.json").pointer is True
    assert listing(".lenslet.folder.json").signature.endswith("-p")


def test_thumbnails_kept_elsewhere_are_taken_from_there_and_not_from_beside_the_images():
    found = listing_pages.classify([entry("a.jpg"), entry("a.jpg.thumbnail")],
                               [entry("b.jpg.thumbnail"), entry("_index.json"), entry("x.thumbnail", is_dir=True)])
    assert list(found.thumbs) == ["b.jpg"] and list(found.pages) == ["_index.json"]


def test_a_long_names_shortened_sidecar_and_thumbnail_are_filed_under_it():
    from lenslet.layout import derived_name
    long = "x" * 248 + ".jpg"  # 252 bytes: no room for a suffix
    short = listing("b.jpg", long, derived_name(long, ".json"), derived_name(long, ".thumbnail"))
    assert derived_name(long, ".json") != long + ".json"
    assert list(short.sidecars) == [long] and list(short.thumbs) == [long]


# -- the signature ----------------------------------------------------------------------------

def test_the_signature_ignores_listing_order():
    entries = [entry("a.jpg"), entry("b.jpg", size=20), entry("a.jpg.json")]
    assert listing_pages.classify(entries).signature == listing_pages.classify(entries[::-1]).signature


@pytest.mark.parametrize("changed", [
    entry("a.jpg", size=11), entry("a.jpg", mtime=100.5), entry("a.jpg", version="v2"), entry("b.jpg"),
])
def test_the_signature_changes_with_any_one_entry(changed):
    assert listing_pages.classify([entry("a.jpg")]).signature != listing_pages.classify([changed]).signature


# -- what a rebuild must read -----------------------------------------------------------------

def old_item(size=10, mtime=100.0, **fields):
    return dict({"size": size, "mtime": mtime, "hasMeta": False}, **fields)


@pytest.mark.parametrize("previous, probe", [
    ({}, ["a.jpg"]),                                 # new
    ({"a.jpg": old_item()}, []),                     # unchanged
    ({"a.jpg": old_item(size=9)}, ["a.jpg"]),        # rewritten
    ({"a.jpg": old_item(mtime=99.0)}, ["a.jpg"]),    # touched
])
def test_only_new_or_changed_images_are_read_again(previous, probe):
    assert listing_pages.plan(listing("a.jpg"), previous, {}, BUILT).probe == probe


@pytest.mark.parametrize("meta, item, read", [
    (entry("a.jpg.json", mtime=100.0), old_item(hasMeta=True, metaMtime=100.0, metaVersion="x"), False),
    (entry("a.jpg.json", mtime=BUILT - 1), old_item(hasMeta=True, metaMtime=BUILT - 1, metaVersion="x"), True),
    (entry("a.jpg.json", mtime=100.0), old_item(hasMeta=True, metaMtime=99.0, metaVersion="x"), True),
    (entry("a.jpg.json", mtime=100.0), old_item(hasMeta=True, metaMtime=100.0, metaVersion=None), True),
    (entry("a.jpg.json", mtime=100.0), old_item(), True),
    (entry("a.jpg.json", version="e1"), old_item(hasMeta=True, metaVersion="e1"), False),
    (entry("a.jpg.json", version="e2"), old_item(hasMeta=True, metaVersion="e1"), True),
])
def test_a_sidecar_is_read_again_unless_the_item_was_surely_made_from_it(meta, item, read):
    """By version where the listing gives one; else by time, for one left alone RACY seconds before the build."""
    plan = listing_pages.plan(listing("a.jpg", meta=meta), {"a.jpg": item}, {}, BUILT)
    assert plan.sidecars == (["a.jpg"] if read else [])


def test_only_folders_whose_time_moved_are_looked_at_again():
    found = listing(old=entry("old", is_dir=True, mtime=5.0), new=entry("new", is_dir=True, mtime=6.0))
    before = {"old": {"mtime": 5.0, "kind": "leaf-real"}, "new": {"mtime": 1.0, "kind": "leaf-real"}}
    assert listing_pages.plan(found, {}, before, BUILT).dirs == ["new"]


def test_turning_xmp_reading_on_reads_every_image_again():
    assert listing_pages.plan(listing("a.jpg"), {"a.jpg": old_item()}, {}, BUILT, reading=True).probe == ["a.jpg"]


def test_a_changed_xmp_sidecar_reads_the_image_and_the_xmp_again():
    found = listing("a.jpg", "a.jpg.xmp")
    plan = listing_pages.plan(found, {"a.jpg": old_item(xmp=["a.jpg.xmp", 10, 99.0])}, {}, BUILT, True, True)
    assert (plan.probe, plan.xmps) == (["a.jpg"], ["a.jpg"])
    same = listing_pages.plan(found, {"a.jpg": old_item(xmp=["a.jpg.xmp", 10, 100.0])}, {}, BUILT, True, True)
    assert (same.probe, same.xmps) == ([], [])


@pytest.mark.parametrize("mtimes, settle", [
    ([], None),
    ([100.0], None),                      # old enough
    ([BUILT - 0.5], BUILT - 0.5 + listing_pages.RACY),
    ([BUILT - 1.0, BUILT + 1.0], BUILT + 1.0 + listing_pages.RACY),
])
def test_a_manifest_settles_once_its_youngest_sidecar_is_racy_seconds_old(mtimes, settle):
    names = [f"{n}.jpg" for n in range(len(mtimes))]
    metas = {f"m{n}": entry(f"{n}.jpg.json", mtime=mtime) for n, mtime in enumerate(mtimes)}
    assert listing_pages.settle_at(listing(*names, **metas), BUILT) == settle


def test_a_sidecar_with_a_version_or_without_its_image_never_delays_settling():
    found = listing("a.jpg", meta=entry("a.jpg.json", mtime=BUILT, version="e1"),
                    orphan=entry("gone.jpg.json", mtime=BUILT))
    assert listing_pages.settle_at(found, BUILT) is None


# -- thumbnails, kinds, XMP names -------------------------------------------------------------

@pytest.mark.parametrize("thumb_mtime, has", [(99.0, False), (100.0, True), (101.0, True), (None, False)])
def test_a_thumbnail_counts_only_when_not_older_than_its_image(thumb_mtime, has):
    thumb = {} if thumb_mtime is None else {"thumb": entry("a.jpg.thumbnail", mtime=thumb_mtime)}
    found = listing("a.jpg", **thumb)
    assert listing_pages.has_thumb_in(found, "a.jpg") is has
    assert listing_pages.lacking_thumbs(found) == ([] if has else ["a.jpg"])


@pytest.mark.parametrize("has_pointer, has_subfolders, kind", [
    (True, True, "leaf-pointer"), (True, False, "leaf-pointer"), (False, True, "branch"), (False, False, "leaf-real"),
])
def test_dir_kind(has_pointer, has_subfolders, kind):
    assert listing_pages.dir_kind(has_pointer, has_subfolders) == kind


@pytest.mark.parametrize("names, chosen, both", [
    (["a.jpg.xmp", "a.xmp"], "a.jpg.xmp", True),
    (["a.xmp"], "a.xmp", False),
    (["a.XMP"], "a.XMP", False),
    (["b.xmp"], None, False),
])
def test_the_xmp_sidecar_of_an_image(names, chosen, both):
    xmps = dict.fromkeys(names)
    assert listing_pages.xmp_sidecar("a.jpg", xmps) == chosen
    assert listing_pages.two_xmps("a.jpg", xmps) is both


def test_xmp_keys_that_say_nothing_are_left_out():
    assert listing_pages.lean({"tags": [], "star": None, "rejected": None, "xmp": None, "xmpError": "bad"}) == \
        {"tags": [], "star": None, "xmpError": "bad"}


# -- items ------------------------------------------------------------------------------------

def test_an_unchanged_item_is_the_old_one():
    found = listing("a.jpg")
    previous = {"name": "a.jpg", "hasThumb": False, "hasMeta": False, "metaMtime": None, "w": 1, "kind": "image",
                "preview": True}
    assert listing_pages.item("", "a.jpg", found, previous, None, None) is previous


def test_a_new_item_takes_its_sizes_from_the_probe_and_its_fields_from_the_sidecar():
    found = listing("a.jpg", meta=entry("a.jpg.json", mtime=50.0))
    made = listing_pages.item("trip", "a.jpg", found, None, {"w": 64, "h": 48, "type": "image/jpeg"},
                          ({"tags": ["sun"], "notes": "n", "star": 2, "hash": "h"}, "v1"))
    assert made == {"path": "trip/a.jpg", "name": "a.jpg", "type": "image/jpeg", "w": 64, "h": 48, "size": 10,
                    "mtime": 100.0, "hasThumb": False, "hasMeta": True, "hash": "h", "tags": ["sun"], "notes": "n",
                    "star": 2, "metaMtime": 50.0, "metaVersion": "v1", "kind": "image", "preview": True}


def test_an_unreadable_image_keeps_its_error():
    made = listing_pages.item("", "a.jpg", listing("a.jpg"), None, {"error": "truncated"}, None)
    assert made["error"] == "truncated" and made["type"] == "image/jpeg" and made["w"] is None


# -- pages ------------------------------------------------------------------------------------

@pytest.mark.parametrize("items, size, pages", [(0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3)])
def test_page_count(items, size, pages):
    assert listing_pages.page_count(items, size) == pages


def test_items_are_split_into_pages_each_carrying_the_folders_and_the_signature():
    pages = listing_pages.paginate("trip", list(range(25)), ["sub"], "sig", 10, 7.0, built_at=5.0)
    assert [page["items"] for page in pages] == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert {(page["pageCount"], page["total"], page["sig"], page["builtAt"], tuple(page["dirs"]))
            for page in pages} == {(3, 25, "sig", 5.0, ("sub",))}
    assert [page["page"] for page in pages] == [0, 1, 2] and all(listing_pages.usable(page) for page in pages)


def test_an_empty_folder_has_one_empty_page():
    (page,) = listing_pages.paginate("", [], [], "sig", 10, 7.0)
    assert page["items"] == [] and page["pageCount"] == 1 and page["builtAt"] == 0.0


@pytest.mark.parametrize("page, usable", [
    ({"v": listing_pages.VERSION, "items": [], "dirs": [], "pageCount": 1}, True),
    ({"v": 0, "items": [], "dirs": [], "pageCount": 1}, False),
    ({"v": listing_pages.VERSION, "items": {}, "dirs": [], "pageCount": 1}, False),
    ({"v": listing_pages.VERSION, "items": [], "pageCount": 1}, False),
    ({"v": listing_pages.VERSION, "items": [], "dirs": [], "pageCount": "1"}, False),
    ([], False),
    (None, False),
])
def test_a_stored_page_of_another_shape_is_not_usable(page, usable):
    assert listing_pages.usable(page) is usable


@pytest.mark.parametrize("value, seconds", [(5, 5.0), (5.5, 5.5), (None, 0.0), ("5", 0.0), (True, 0.0)])
def test_built_at_of_a_stored_page(value, seconds):
    assert listing_pages.built_at({"builtAt": value}) == seconds


@pytest.mark.parametrize("names, order", [
    (["img10.jpg", "img9.jpg", "IMG1.jpg"], ["IMG1.jpg", "img9.jpg", "img10.jpg"]),  # digits by value
    (["b.jpg", "A.jpg", "a.jpg"], ["A.jpg", "a.jpg", "b.jpg"]),                        # case set aside
    (["2019", "2019-06", "201"], ["201", "2019", "2019-06"]),
    (["x1y2", "x1y10", "x01y3"], ["x1y2", "x01y3", "x1y10"]),
    (["1", "a", ""], ["", "1", "a"]),                                                  # never mixes str and int
])
def test_names_sort_the_way_people_read_them(names, order):
    assert sorted(names, key=listing_pages.sort_key) == order


# -- a stored page: its head on a line, then one item a line; an edit changes its item's line only ------

NAMES = ["a.jpg", 'quote".jpg', "back\\slash.jpg", "new\nline.jpg", "caf\u0065\u0301.jpg", "IMG_1.jpg",
         "IMG_1.jpg.jpg", "x" * 251 + ".jpg"]


def a_page(names=NAMES, **extra):
    items = [{"path": f"f/{name}", "name": name, "tags": [], "star": None, **extra} for name in names]
    return listing_pages.paginate("f", items, [{"name": "sub", "kind": "leaf-real", "mtime": 1.0}], "sig", 1000,
                              "2026-01-01T00:00:00+00:00")[0]


def items_of(data):
    return {item["name"]: item for item in orjson.loads(data)["items"]}


def test_a_page_is_stored_a_line_an_item_and_read_as_the_json_it_was():
    page = a_page()
    data = listing_pages.encode_page(page)
    assert orjson.loads(data) == orjson.loads(orjson.dumps(page))
    assert data.count(b"\n") == len(NAMES) + 1  # names' own newlines are escaped
    assert listing_pages.page_head(data)["pageCount"] == 1 and listing_pages.page_head(data)["items"] == []
    empty = listing_pages.encode_page(a_page([]))
    assert orjson.loads(empty)["items"] == [] and listing_pages.page_head(empty) is not None


@pytest.mark.parametrize("name", NAMES)
def test_an_edit_changes_its_own_items_line_and_nothing_else(name):
    data = listing_pages.encode_page(a_page())
    new, held, count = listing_pages.patch_page(data, {name: {"tags": ["beach"], "star": 4}})
    assert held == [name] and count == 1
    before, after = items_of(data), items_of(new)
    assert after[name] == dict(before[name], tags=["beach"], star=4)
    assert {k: v for k, v in after.items() if k != name} == {k: v for k, v in before.items() if k != name}
    assert new.splitlines()[0] == data.splitlines()[0]  # the head is the same bytes
    assert listing_pages.page_head(new) is not None  # still a page of lines: the next edit splices too


def test_a_name_written_in_anothers_tag_or_note_is_never_taken_for_it():
    page = a_page(["a.jpg", "b.jpg"])
    page["items"][0].update(notes='"name":"b.jpg",', tags=['{"name":"b.jpg","x":1}'])
    data = listing_pages.encode_page(page)
    new, held, _ = listing_pages.patch_page(data, {"b.jpg": {"star": 5}})
    assert held == ["b.jpg"] and items_of(new)["b.jpg"]["star"] == 5 and items_of(new)["a.jpg"]["star"] is None
    assert listing_pages.patch_page(data, {"c.jpg": {"star": 5}}) == (None, [], 1)  # not in it: nothing written


def test_several_items_change_in_one_pass_and_xmp_fields_set_to_none_go():
    data = listing_pages.encode_page(a_page(["a.jpg", "b.jpg", "c.jpg"], xmpError="old"))
    new, held, _ = listing_pages.patch_page(data, {"c.jpg": {"star": 1, "xmpError": None}, "a.jpg": {"star": 2}})
    assert sorted(held) == ["a.jpg", "c.jpg"]
    items = items_of(new)
    assert (items["a.jpg"]["star"], items["b.jpg"]["star"], items["c.jpg"]["star"]) == (2, None, 1)
    assert "xmpError" not in items["c.jpg"] and items["a.jpg"]["xmpError"] == "old"


def test_a_page_an_older_lenslet_wrote_on_one_line_is_changed_and_stored_as_lines():
    legacy = orjson.dumps(a_page(["a.jpg", "b.jpg"]))
    assert listing_pages.page_head(legacy) is None
    new, held, count = listing_pages.patch_page(legacy, {"b.jpg": {"tags": ["kept"]}})
    assert held == ["b.jpg"] and count == 1 and items_of(new)["b.jpg"]["tags"] == ["kept"]
    assert listing_pages.page_head(new) is not None


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"v":2}', b'{"v":1,"items":[],"dirs":[],"pageCount":1}',
                                  listing_pages.encode_page(a_page())[:-40], b'{"v":2,"items":[\n{"name":"a.jpg"}\n]}'],
                         ids=["empty", "torn", "a list", "no items", "an older format", "cut short", "no head"])
def test_a_page_torn_or_of_another_shape_is_never_patched(data):
    assert listing_pages.patch_page(data, {"a.jpg": {"star": 5}}) is None


def test_a_page_answered_with_another_head_is_the_json_of_that_head_and_the_stored_items():
    data = listing_pages.encode_page(a_page())
    head = listing_pages.page_head(data)
    head.update(images=9, allImages=12, cover="f/a.jpg")
    head["dirs"][0]["allImages"] = 3
    expected = dict(orjson.loads(data), images=9, allImages=12, cover="f/a.jpg")
    expected["dirs"][0]["allImages"] = 3
    assert orjson.loads(listing_pages.with_items_of(head, data)) == expected


@pytest.mark.parametrize("name", NAMES)
def test_an_items_entry_is_found_in_a_page_by_its_line_or_in_an_older_page_whole(name):
    page = a_page(hash="blake3:0")
    for data in (listing_pages.encode_page(page), orjson.dumps(page)):
        assert listing_pages.entry_in_page(data, name)["name"] == name
        assert listing_pages.entry_in_page(data, name + "x") is None


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"v":2}', b'{"v":1,"items":[],"dirs":[],"pageCount":1}',
                                  listing_pages.encode_page(a_page())[:-40]],
                         ids=["empty", "torn", "a list", "no items", "an older format", "cut short"])
def test_no_entry_is_found_in_a_page_torn_or_of_another_shape(data):
    assert listing_pages.entry_in_page(data, "a.jpg") is None


@pytest.mark.parametrize("xmps, chosen, two", [
    ({}, None, False),                                       # most folders: none at all
    ({"b.jpg.xmp": 1}, None, False),                         # another image's only
    ({"a.jpg.xmp": 1}, "a.jpg.xmp", False),
    ({"a.XMP": 1}, "a.XMP", False),                          # the stem's, either case
    ({"a.xmp": 1, "b.jpg.xmp": 1}, "a.xmp", False),          # two in the folder, one of them a's
    ({"a.xmp": 1, "a.jpg.xmp": 1}, "a.jpg.xmp", True),       # both of a's: its own name's is chosen
    ({"a.jpg.XMP": 1, "a.XMP": 1, "c.xmp": 1}, "a.jpg.XMP", True),
    ({"a.Xmp": 1, "a.JPG.xmp": 1}, None, False),             # only .xmp or .XMP, after the image's very name
])
def test_which_xmp_sidecar_an_image_has_and_whether_it_has_two(xmps, chosen, two):
    assert listing_pages.xmp_sidecar("a.jpg", xmps) == chosen
    assert listing_pages.two_xmps("a.jpg", xmps) is two


@pytest.mark.parametrize("entry, named", [
    ({"name": "a.jpg", "gps": [39.6016, -9.0713]}, {"place": "Nazaré, Leiria, Portugal", "country": "PT"}),
    ({"name": "a.jpg", "gps": [35.0, -40.0], "place": "Atlantis", "country": "XX"}, {}),  # now in mid-ocean
    ({"name": "a.jpg", "place": "Atlantis"}, {}),  # a place without a position is dropped
    ({"name": "a.jpg", "gps": ["39", "-9"], "place": "Atlantis"}, {}),  # a forged position names nothing
    ({"name": "a.jpg", "gps": [39.6016, -9.0713, 0.0]}, {}),
])
def test_an_entry_is_named_again_from_its_own_position(entry, named):
    again = listing_pages.named_again(entry)
    assert {key: again[key] for key in listing_pages.PLACE_KEYS if key in again} == named
    assert again["name"] == "a.jpg" and again.get("gps") == entry.get("gps")


def test_places_are_named_again_only_when_the_head_names_another_table():
    items = {"a.jpg": {"name": "a.jpg", "gps": [39.6016, -9.0713], "place": "Atlantis"}}
    current = {listing_pages.PLACES: table_version()}
    assert listing_pages.placed_again(items, current) is items
    assert listing_pages.placed_again(items, None) is items  # nothing stored
    assert listing_pages.placed_again(items, {})["a.jpg"]["place"] == "Nazaré, Leiria, Portugal"  # an older lenslet's
    assert listing_pages.paginate("", [], [], "sig", 10, "now")[0][listing_pages.PLACES] == table_version()
