"""Places through the whole path: photos whose EXIF says where they were taken, indexed by the worker, show
their place in /folders, /item and search; a place is named again from its kept position when the places
table changes; a share link shows place and GPS only when its maker chose; a scoped person's search finds
only their photos; hostile GPS EXIF leaves a photo placeless, never unlisted."""

import dataclasses

import orjson
import pytest
import webtest
from helpers import geotagged, gps_exif, image_bytes, index_tree, jpeg_with_exif
from openapi_check import spec_checked

from lenslet import jobs
from lenslet.app import create_app
from lenslet.formats import listing_pages
from lenslet.layout import first_page_names
from lenslet.people.users import Directory
from lenslet.places.table import table_version
from lenslet.worker.handlers import Runner, drain
from lenslet.worker.scanner import Scanner

# Pillow warns of the broken EXIF the hostile photos hand it, as it should.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PHOTOS = {
    "trip/lisbon.jpg": (38.7223, -9.1393),
    "trip/nazare.jpg": (39.6016, -9.0713),
    "trip/kiritimati.jpg": (1.9, -157.45),  # beside the antimeridian
    "trip/atlantic.jpg": (35.0, -40.0),  # mid-ocean: placeless
    "trip/plain.jpg": None,  # no GPS at all
    "family/porto.jpg": (41.1579, -8.6291),
}


@pytest.fixture
def trip(tree, config, storage, client):
    geotagged(tree, PHOTOS)
    index_tree(config, storage)
    return client


def by_name(answer):
    return {item["name"]: item for item in answer.json["items"]}


def found(client, query, **asks):
    return sorted(item["path"] for item in client.get(f"/search?q={query}", **asks).json["items"])


def test_a_listing_names_each_photos_place(trip):
    listed = by_name(trip.get("/folders?path=trip"))
    assert listed["lisbon.jpg"]["gps"] == [38.7223, -9.1393]
    assert listed["lisbon.jpg"]["place"].endswith("Lisbon, Portugal") and listed["lisbon.jpg"]["country"] == "PT"
    assert listed["nazare.jpg"]["place"] == "Nazaré, Leiria, Portugal"
    assert listed["kiritimati.jpg"]["place"].endswith("Line Islands, Kiribati")
    assert listed["atlantic.jpg"]["gps"] == [35.0, -40.0] and "place" not in listed["atlantic.jpg"]
    assert not {"gps", "place", "country"} & set(listed["plain.jpg"])


def test_search_finds_a_city_a_region_and_a_country_accents_folded(trip):
    assert found(trip, "lisbon") == ["trip/lisbon.jpg"]
    assert found(trip, "portugal") == ["family/porto.jpg", "trip/lisbon.jpg", "trip/nazare.jpg"]
    assert found(trip, "nazare") == found(trip, "Nazaré") == ["trip/nazare.jpg"]
    assert found(trip, "leiria") == ["trip/nazare.jpg"]
    assert found(trip, "kiribati") == ["trip/kiritimati.jpg"]
    assert found(trip, "portugal lisbon") == ["trip/lisbon.jpg"]


def test_the_item_says_its_place_beside_its_exif(trip):
    item = trip.get("/item?path=trip/nazare.jpg").json
    assert (item["place"], item["country"]) == ("Nazaré, Leiria, Portugal", "PT")
    assert item["exif"]["latitude"] == pytest.approx(39.6016)
    assert "place" not in trip.get("/item?path=trip/atlantic.jpg").json
    assert "place" not in trip.get("/item?path=trip/plain.jpg").json


# -- a share link, a scoped person ------------------------------------------------------------------

DETAILS = {"gps", "place", "country", "camera"}


def link(client, **body):
    return {"X-Lenslet-Share": client.post_json("/shares", body, status=201).json["key"]}


@pytest.mark.parametrize("chosen", [None, False])
def test_a_link_shows_no_place_or_gps_unless_its_maker_chose(trip, chosen):
    body = {} if chosen is None else {"details": chosen}
    for shared in (link(trip, path="trip", **body), link(trip, path="", **body)):  # a folder, the whole gallery
        for item in trip.get("/folders?path=trip", headers=shared).json["items"]:
            assert not DETAILS & set(item), item
        for query in ("?path=trip", "?path=trip&sort=date"):
            assert not any(DETAILS & set(item) for item in trip.get("/folders" + query, headers=shared).json["items"])
        item = trip.get("/item?path=trip/lisbon.jpg", headers=shared).json
        assert not DETAILS & set(item) and "latitude" not in item["exif"]
        trip.get("/search?q=lisbon&path=trip", headers=shared, status=403)  # a link searches nothing
    album = trip.post_json("/albums", {"name": "Portugal", "images": ["trip/lisbon.jpg", "trip/nazare.jpg"]}).json
    shared = link(trip, album=album["id"], **body)
    items = trip.get(f"/albums/{album['id']}", headers=shared).json["items"]
    assert len(items) == 2 and not any(DETAILS & set(item) for item in items)


def test_a_link_made_with_details_shows_place_and_gps(trip):
    shared = link(trip, path="trip", details=True)
    assert by_name(trip.get("/folders?path=trip", headers=shared))["lisbon.jpg"]["gps"] == [38.7223, -9.1393]
    assert trip.get("/item?path=trip/nazare.jpg", headers=shared).json["place"] == "Nazaré, Leiria, Portugal"
    album = trip.post_json("/albums", {"name": "Portugal", "images": ["trip/lisbon.jpg"]}).json
    shown = trip.get(f"/albums/{album['id']}", headers=link(trip, album=album["id"], details=True)).json
    assert shown["items"][0]["country"] == "PT"


def test_a_scoped_persons_search_for_a_place_finds_only_their_photos(trip, config, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    kid = {"Authorization": f"Bearer {directory.add('kid', 'edit', ['family'])}"}
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))))
    assert found(client, "portugal", headers=kid) == ["family/porto.jpg"]
    assert found(client, "lisbon", headers=kid) == []
    assert by_name(client.get("/folders?path=family", headers=kid))["porto.jpg"]["place"].endswith("Portugal")


# -- a new places table --------------------------------------------------------------------------------

def stored_page(tree, folder):
    name = next(name for name in first_page_names() if (tree / folder / name).exists())
    return tree / folder / name


def listed_with_an_older_table(tree):
    """Make trip's stored listing look written with an older places table, Lisbon's place named wrong and its
    position moved to Nazaré's: only a place named from the kept position, not from the image, is Nazaré."""
    path = stored_page(tree, "trip")
    page = orjson.loads(path.read_bytes())
    for item in page["items"]:
        if item["name"] == "lisbon.jpg":
            item.update(gps=[39.6016, -9.0713], place="Nowhere, Atlantis", country="XX")
    page[listing_pages.PLACES] = "an older table"
    path.write_bytes(listing_pages.encode_page(page))


def test_a_rebuild_names_places_again_from_their_kept_position_when_the_table_changed(trip, tree, config, storage):
    listed_with_an_older_table(tree)
    (tree / "trip" / "new.jpg").write_bytes(image_bytes())  # the folder changed: its listing is rebuilt
    index_tree(config, storage)
    page = orjson.loads(stored_page(tree, "trip").read_bytes())
    assert page[listing_pages.PLACES] == table_version()
    lisbon = next(item for item in page["items"] if item["name"] == "lisbon.jpg")
    assert (lisbon["place"], lisbon["country"]) == ("Nazaré, Leiria, Portugal", "PT")  # the image was not read again
    assert found(trip, "atlantis") == []


def test_an_edit_patching_a_listing_of_an_older_table_names_its_places_again(trip, tree):
    listed_with_an_older_table(tree)
    trip.patch_json("/item?path=trip/plain.jpg", {"addTags": ["beach"]})
    page = orjson.loads(stored_page(tree, "trip").read_bytes())
    assert page[listing_pages.PLACES] == table_version()
    items = {item["name"]: item for item in page["items"]}
    assert items["lisbon.jpg"]["place"] == "Nazaré, Leiria, Portugal" and items["plain.jpg"]["tags"] == ["beach"]


def listed_by_the_last_release(tree, folder):
    """Make a folder's stored listing one a lenslet that kept no positions wrote."""
    path = stored_page(tree, folder)
    page = orjson.loads(path.read_bytes())
    del page[listing_pages.PLACES]
    for item in page["items"]:
        for key in ("gps", "place", "country"):
            item.pop(key, None)
    path.write_bytes(listing_pages.encode_page(page))


def test_a_listing_of_the_last_release_reads_and_the_worker_reads_its_photos_gps_last(trip, tree, config, storage):
    digest = by_name(trip.get("/folders?path=family"))["porto.jpg"]["hash"]  # kept in the listing: no sidecar
    for folder in ("trip", "family"):
        listed_by_the_last_release(tree, folder)
    thumbs = {path: path.stat().st_mtime_ns for path in tree.rglob("*.thumbnail")}
    upgraded = webtest.TestApp(spec_checked(create_app(config)))  # the new release starts on the tree
    assert not any("place" in item for item in upgraded.get("/folders?path=family").json["items"])  # read as it is

    runner = Runner(config, storage)  # its worker starts: every folder is looked at
    scanner = Scanner(runner)
    scanner.scan(deep=True)
    assert scanner.unplaced == {"trip", "family"}
    assert runner.sweep_places(scanner.unplaced) == 2
    assert jobs.backlog(storage)["places"] == 1  # one job of both, at the lowest priority
    drain(runner, "test")
    listed = by_name(upgraded.get("/folders?path=trip"))
    assert listed["lisbon.jpg"]["place"].endswith("Lisbon, Portugal") and "place" not in listed["atlantic.jpg"]
    porto = by_name(upgraded.get("/folders?path=family"))["porto.jpg"]
    assert porto["place"].endswith("Portugal") and porto["hash"] == digest
    assert {path: path.stat().st_mtime_ns for path in tree.rglob("*.thumbnail")} == thumbs  # no thumbnail remade
    assert found(upgraded, "porto") == ["family/porto.jpg"]

    again = Scanner(Runner(config, storage))  # the next start: nothing left to read
    again.scan(deep=True)
    assert again.unplaced == set()


def test_a_library_placed_with_an_older_table_is_named_again_when_the_worker_starts_and_a_persons_place_stays(
        tree, config, storage, client):
    geotagged(tree, {"madeira/se.jpg": (32.6479, -16.9081), "madeira/set.jpg": (32.6479, -16.9081)})
    index_tree(config, storage)
    client.patch_json("/item?path=madeira/set.jpg", {"place": {"city": "Santa Luzia", "region": "Madeira",
                                                                "countryCode": "PT"}})
    path = stored_page(tree, "madeira")  # as the last release listed it: its table, which named the parish
    page = orjson.loads(path.read_bytes())
    page[listing_pages.PLACES] = "geonames-cities1000-522610b1f7f1"
    next(item for item in page["items"] if item["name"] == "se.jpg")["place"] = "Santa Luzia, Madeira, Portugal"
    path.write_bytes(listing_pages.encode_page(page))
    thumbs = {path: path.stat().st_mtime_ns for path in tree.rglob("*.thumbnail")}
    upgraded = webtest.TestApp(spec_checked(create_app(config)))

    runner = Runner(config, storage)  # its worker starts
    scanner = Scanner(runner)
    scanner.scan(deep=True)
    assert scanner.unplaced == {"madeira"} and runner.sweep_places(scanner.unplaced) == 1
    drain(runner, "test")
    listed = by_name(upgraded.get("/folders?path=madeira"))
    assert listed["se.jpg"]["place"] == "Funchal, Madeira, Portugal"
    assert listed["set.jpg"]["place"] == "Santa Luzia, Madeira, Portugal" and listed["set.jpg"]["placeSet"]
    assert {path: path.stat().st_mtime_ns for path in tree.rglob("*.thumbnail")} == thumbs  # no thumbnail remade
    assert found(upgraded, "funchal") == ["madeira/se.jpg"] and found(upgraded, "luzia") == ["madeira/set.jpg"]
    again = Scanner(Runner(config, storage))
    again.scan(deep=True)
    assert again.unplaced == set()


def test_an_edit_and_a_rebuild_of_a_listing_of_the_last_release_keep_words_and_read_gps(trip, tree, config,
                                                                                        storage):
    listed_by_the_last_release(tree, "trip")
    upgraded = webtest.TestApp(spec_checked(create_app(config)))
    upgraded.patch_json("/item?path=trip/plain.jpg", {"addTags": ["beach"]})
    (tree / "trip" / "new.jpg").write_bytes(image_bytes())  # the folder changed: listed again
    index_tree(config, storage)
    listed = by_name(upgraded.get("/folders?path=trip"))
    assert listed["plain.jpg"]["tags"] == ["beach"] and listed["nazare.jpg"]["place"] == "Nazaré, Leiria, Portugal"


def test_a_forged_places_job_lists_nothing_it_should_not(trip, tree, config, storage):
    runner = Runner(config, storage)
    for folders in (["../etc"], ["nowhere"], ["trip/lisbon.jpg"], [""]):
        runner.place_all(folders)  # each refused or passed over, never a crash
    assert not (tree.parent / "etc").exists()


# -- hostile GPS EXIF -------------------------------------------------------------------------------

def rationals(*pairs):
    return b"".join(pair[0].to_bytes(4, "little") + pair[1].to_bytes(4, "little") for pair in pairs)


N, S = (1, 2, 2, b"N\x00"), (3, 2, 2, b"W\x00")
HOSTILE = {
    "zero.jpg": [N, (2, 5, 3, rationals((38, 0), (0, 0), (0, 0))), S, (4, 5, 3, rationals((9, 1), (8, 1), (0, 1)))],
    "pole.jpg": [N, (2, 5, 3, rationals((95, 1), (0, 1), (0, 1))), S, (4, 5, 1, rationals((9, 1)))],
    "nan.jpg": [N, (2, 12, 1, b"\x00\x00\x00\x00\x00\x00\xf8\x7f"), S, (4, 5, 1, rationals((9, 1)))],
    "huge.jpg": [N, (2, 5, 0xFFFFFFFF, rationals((38, 1))), S, (4, 5, 1, rationals((9, 1)))],
    "text.jpg": [N, (2, 2, 8, b"38.7223\x00"), S, (4, 2, 8, b"-9.1393\x00")],
    "past-the-end.jpg": [N, (2, 5, 3, (1 << 30).to_bytes(4, "little")), S, (4, 5, 1, rationals((9, 1)))],
}


def test_hostile_gps_exif_is_indexed_placeless(tree, config, storage, client):
    (tree / "odd").mkdir()
    for name, entries in HOSTILE.items():
        (tree / "odd" / name).write_bytes(jpeg_with_exif(gps_exif(entries)))
    (tree / "odd" / "loop.jpg").write_bytes(jpeg_with_exif(gps_exif(HOSTILE["zero.jpg"], gps_at=8)))
    (tree / "odd" / "far.jpg").write_bytes(jpeg_with_exif(gps_exif(HOSTILE["zero.jpg"], gps_at=1 << 31)))
    index_tree(config, storage)
    assert stored_page(tree, "odd").exists()
    listed = by_name(client.get("/folders?path=odd"))
    assert sorted(listed) == sorted([*HOSTILE, "loop.jpg", "far.jpg"])
    for name, item in listed.items():
        assert not {"gps", "place", "country", "error"} & set(item), item
        assert "place" not in client.get(f"/item?path=odd/{name}").json


def test_a_gps_directory_claiming_more_entries_than_it_holds_is_read_alike_by_the_listing_and_the_item(
        tree, config, storage, client):
    good = [N, (2, 5, 3, rationals((38, 1), (43, 1), (20, 1))), S, (4, 5, 3, rationals((9, 1), (8, 1), (21, 1)))]
    claims = bytearray(gps_exif(good))
    claims[32:34] = (65535).to_bytes(2, "little")  # the GPS directory's count: "Exif\0\0", header, IFD0 before it
    (tree / "odd").mkdir()
    (tree / "odd" / "claims.jpg").write_bytes(jpeg_with_exif(bytes(claims)))
    (tree / "odd" / "good.jpg").write_bytes(jpeg_with_exif(gps_exif(good)))
    index_tree(config, storage)
    listed = by_name(client.get("/folders?path=odd"))
    for name in ("claims.jpg", "good.jpg"):
        item = client.get(f"/item?path=odd/{name}").json
        assert listed[name].get("place") == item.get("place") and ("gps" in listed[name]) == (
            "latitude" in item["exif"]), name
    assert "gps" not in listed["claims.jpg"] and listed["good.jpg"]["place"].startswith("Lisbon")
