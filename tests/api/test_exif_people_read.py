"""What /item, search and the camera filter say of a photo's EXIF: lens, exposure, GPS (with a map link only
when the admin set LENSLET_MAP_LINK), text cleaned of control characters."""

import pytest
from helpers import index_tree
from unit.test_exif import NORTH_PARIS, R, photo

from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.formats import exif

TAKEN = {exif.LENS_MAKE: "Canon", exif.LENS_MODEL: "EF50mm f/1.8 STM", exif.FOCAL_LENGTH: R(50, 1),
         exif.F_NUMBER: R(18, 10), exif.EXPOSURE_TIME: R(1, 250), exif.ISO: 400}


@pytest.fixture
def photos(tree):
    (tree / "trip").mkdir()
    (tree / "trip" / "eiffel.jpg").write_bytes(photo(TAKEN, NORTH_PARIS, make="Canon", model="Canon EOS R5"))
    (tree / "trip" / "nokia.jpg").write_bytes(photo(make="Nokia\x002 N9", model="N9"))
    return tree


def test_item_says_lens_exposure_and_position_without_a_map_link_by_default(client, photos):
    shown = client.get("/item?path=trip/eiffel.jpg").json
    assert {key: shown["exif"][key] for key in ("lens", "focalLength", "fNumber", "exposureTime", "iso",
                                                 "latitude", "longitude")} == {
        "lens": "Canon EF50mm f/1.8 STM", "focalLength": 50.0, "fNumber": 1.8, "exposureTime": 0.004, "iso": 400,
        "latitude": 48.858367, "longitude": 2.294481}
    assert "mapLink" not in shown


def test_a_map_link_only_when_the_admin_sets_one(client_with, photos):
    client = client_with(map_link="https://www.openstreetmap.org/?mlat={lat}&mlon={lon}")
    assert client.get("/item?path=trip/eiffel.jpg").json["mapLink"] == \
        "https://www.openstreetmap.org/?mlat=48.858367&mlon=2.294481"
    assert "mapLink" not in client.get("/item?path=trip/nokia.jpg").json  # no position, no link


@pytest.mark.parametrize("value", ["http://maps.example/{lat},{lon}", "https://maps.example/?q={lat}",
                                   "javascript:alert(1)//{lat}{lon}"])
def test_a_map_link_that_is_no_https_address_with_both_places_stops_lenslet_at_start(value):
    with pytest.raises(ConfigError, match="LENSLET_MAP_LINK"):
        Config.from_env({"LENSLET_MAP_LINK": value})


def test_a_make_holding_a_nul_is_clean_in_item_listing_and_camera_filter(client, config, storage, photos):
    assert client.get("/item?path=trip/nokia.jpg").json["exif"]["make"] == "Nokia"
    listed = {item["name"]: item for item in client.get("/folders?path=trip").json["items"]}
    assert listed["nokia.jpg"]["camera"] == "Nokia N9"
    index_tree(config, storage)
    found = client.get("/search?q=&camera=nokia").json["items"]
    assert [item["name"] for item in found] == ["nokia.jpg"] and "\x00" not in str(found)


def test_lens_names_are_searched(client, config, storage, photos):
    index_tree(config, storage)
    assert [item["path"] for item in client.get("/search?q=ef50mm").json["items"]] == ["trip/eiffel.jpg"]
    assert client.get("/search?q=stm").json["items"][0]["lens"] == "Canon EF50mm f/1.8 STM"


def test_a_sidecars_forged_exif_makes_no_link_and_no_error(client_with, photos):
    client = client_with(map_link="https://maps.example/?q={lat},{lon}")
    client.put_json("/item?path=trip/nokia.jpg", {"exif": {"latitude": "x", "longitude": [1]}})
    assert "mapLink" not in client.get("/item?path=trip/nokia.jpg").json


def test_a_listing_of_the_last_release_is_rebuilt_with_the_lens_and_keeps_its_tags(client, photos):
    import json

    from lenslet.formats import listing_pages
    client.patch_json("/item?path=trip/eiffel.jpg", {"addTags": ["tower"]})
    client.get("/folders?path=trip")
    index = photos / "trip" / "_index.json"
    page = json.loads(index.read_bytes())
    page["v"] = 2  # as the last release wrote it: no lens
    for item in page["items"]:
        item.pop("lens", None)
    index.write_bytes(json.dumps(page).encode())
    listed = {item["name"]: item for item in client.get("/folders?path=trip").json["items"]}
    assert (listed["eiffel.jpg"]["lens"], listed["eiffel.jpg"]["tags"]) == ("Canon EF50mm f/1.8 STM", ["tower"])
    assert json.loads(index.read_bytes())["v"] == listing_pages.VERSION
