"""The map (/map, /map/photos): every photo with a GPS position a principal may see, in counted clusters that split as
the map zooms in, across the antimeridian too; a scoped person's map holds their photos only, a share link gets none,
the trash is not on it, and bad views are 400."""

import math
from array import array

import pytest
import webtest
from helpers import gps_photo, index_tree
from openapi_check import spec_checked
from PIL import Image

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people.users import Directory
from lenslet.storage import open_storage

HERE = {"Origin": "http://localhost:80"}
PLACES = {  # name: (folder, latitude, longitude)
    "lisbon-1.jpg": ("family", 38.7223, -9.1393), "lisbon-2.jpg": ("family", 38.7169, -9.1399),
    "nazare.jpg": ("family", 39.6016, -9.0713), "paris.jpg": ("kids", 48.8566, 2.3522),
    "suva.jpg": ("kids", -18.1248, 178.4501), "taveuni.jpg": ("family", -16.85, -179.95),
}


@pytest.fixture
def home(tmp_path):
    tree = tmp_path / "tree"
    for name, (folder, latitude, longitude) in PLACES.items():
        (tree / folder).mkdir(parents=True, exist_ok=True)
        (tree / folder / name).write_bytes(gps_photo(latitude, longitude))
    Image.new("RGB", (8, 8)).save(tree / "family" / "no-gps.jpg")
    config = Config(root=str(tree), users=str(tmp_path / "users.json"))
    directory = Directory(config.users)
    tokens = {name: directory.add(name, role, folders) for name, role, folders in
              (("mum", "admin", [""]), ("kid", "edit", ["kids"]))}
    index_tree(config, open_storage(config))
    app = webtest.TestApp(spec_checked(create_app(config)))
    app.as_of = lambda name: {"Authorization": f"Bearer {tokens[name]}"}
    app.reindex = lambda: index_tree(config, open_storage(config))
    return app


WORLD = {"zoom": 0, "west": -180, "south": -85, "east": 180, "north": 85}


def clusters(home, who="mum", **view):
    answer = home.get("/map", {**WORLD, **view}, headers=home.as_of(who))
    assert answer.headers["Cache-Control"].startswith(("no-store", "private")) and "public" not in \
        answer.headers["Cache-Control"]
    return answer.json


def test_the_world_holds_every_geotagged_photo_in_counted_clusters(home):
    world = clusters(home)
    assert world["total"] == len(PLACES)  # the photo without a position is not on the map
    assert sum(found["count"] for found in world["clusters"]) == len(PLACES)
    portugal = [found for found in world["clusters"] if -10 < found["lon"] < -8]
    assert len(portugal) == 1 and portugal[0]["count"] == 3 and portugal[0]["cover"].startswith("family/")


def test_clusters_split_as_the_map_zooms_in(home):
    near_lisbon = clusters(home, zoom=9, west=-10.5, south=38.0, east=-8.0, north=40.5)["clusters"]
    assert sorted(found["count"] for found in near_lisbon) == [1, 2]
    street = clusters(home, zoom=16, west=-9.145, south=38.714, east=-9.135, north=38.725)["clusters"]
    assert sorted(found["count"] for found in street) == [1, 1]


def test_a_view_across_the_antimeridian_holds_both_sides(home):
    pacific = clusters(home, zoom=5, west=170, south=-25, east=-170, north=-10)
    assert sum(found["count"] for found in pacific["clusters"]) == 2


def test_a_clusters_photos_open_in_path_order(home):
    lisbon = next(found for found in clusters(home, zoom=9, west=-10.5, south=38.0, east=-8.0, north=40.5)[
        "clusters"] if found["count"] == 2)
    photos = home.get("/map/photos", {"cell": lisbon["cell"]}, headers=home.as_of("mum")).json
    assert photos["total"] == 2 and [item["name"] for item in photos["items"]] == ["lisbon-1.jpg", "lisbon-2.jpg"]
    assert home.get("/map/photos", {"cell": lisbon["cell"], "offset": 1, "limit": 1},
                    headers=home.as_of("mum")).json["items"][0]["name"] == "lisbon-2.jpg"


def test_a_scoped_persons_map_holds_their_photos_only(home):
    world = clusters(home, who="kid")
    assert world["total"] == 2 and sum(found["count"] for found in world["clusters"]) == 2
    for found in world["clusters"]:
        items = home.get("/map/photos", {"cell": found["cell"]}, headers=home.as_of("kid")).json["items"]
        assert all(item["path"].startswith("kids/") for item in items)
    portugal = clusters(home, who="mum", zoom=3, west=-20, south=30, east=0, north=45)["clusters"][0]["cell"]
    assert home.get("/map/photos", {"cell": portugal}, headers=home.as_of("kid")).json["total"] == 0
    assert home.get("/map", {**WORLD, "path": "family"}, headers=home.as_of("kid"), expect_errors=True
                    ).status_int == 404


def test_a_share_link_gets_no_map(home):
    share = home.post_json("/shares", {"path": "kids", "kind": "folder", "details": True},
                           headers=home.as_of("mum")).json
    key = share.get("key") or share["url"].rpartition("#")[2]
    answer = home.get("/map", WORLD, headers={"X-Lenslet-Share": key}, expect_errors=True)
    assert answer.status_int == 403


def test_the_trash_is_not_on_the_map(home):
    home.post_json("/trash", {"paths": ["kids/paris.jpg"]}, headers=home.as_of("mum"))
    home.reindex()
    world = clusters(home)
    assert world["total"] == len(PLACES) - 1
    items = [item for found in world["clusters"] for item in home.get(
        "/map/photos", {"cell": found["cell"]}, headers=home.as_of("mum")).json["items"]]
    assert not any(item["path"].startswith("_trash_") for item in items)


@pytest.mark.parametrize("view", [{"zoom": 23}, {"zoom": -1}, {"west": 181}, {"north": 91}, {"south": 80, "north": 10},
                                  {"east": "nan"}, {"west": "east"}, {"zoom": None}])
def test_a_bad_view_is_400(home, view):
    params = {key: value for key, value in {**WORLD, **view}.items() if value is not None}
    answer = home.get("/map", params, headers=home.as_of("mum"), expect_errors=True)
    assert answer.status_int == 400 and answer.json["description"]


@pytest.mark.parametrize("cell", ["", "1/2", "17/0/0", "2/4/0", "a/b/c", "1/1/1/1", "9" * 20 + "/0/0", "\u00b2/0/0"])
def test_a_bad_cell_is_400(home, cell):
    answer = home.get("/map/photos", {"cell": cell}, headers=home.as_of("mum"), expect_errors=True)
    assert answer.status_int == 400


def test_forged_positions_in_the_rollup_are_not_on_the_map():
    from lenslet.search.clusters import point_of
    for gps in ([math.nan, 1], [91, 0], [0, 181], [math.inf, 0], "x", [True, 0], ["38", "-9"], [1, 2, 3], None):
        assert point_of({"gps": gps}) is None, gps
    assert point_of({"gps": [38.7, -9.1]})[1:] == (38.7, -9.1)


def test_the_positions_are_kept_with_the_columns_and_forged_ones_are_refused():
    from lenslet.search.clusters import Positions
    from lenslet.search.columns import Columns
    columns = Columns.build([{"path": "a.jpg", "name": "a.jpg", "gps": [38.7, -9.1]},
                             {"path": "b.jpg", "name": "b.jpg"},
                             {"path": "c.jpg", "name": "c.jpg", "gps": [-33.9, 151.2]}])
    header, parts = columns.to_parts()
    again = Columns.from_parts(header, parts).positions
    assert list(again.ids) == list(columns.positions.ids) and sorted(again.ids) == [0, 2]
    assert sorted(again.latitudes) == [-33.9, 38.7]
    def positions(*rows):
        made = Positions(array("Q"), array("I"), array("d"), array("d"))
        for item_id, latitude in rows:
            made.add(item_id, 0, latitude, 1.0)
        return made

    for forged in (positions((3, 1.0)), positions((0, 95.0)), positions(*[(0, 1.0)] * 4)):
        with pytest.raises(ValueError):
            Columns.from_parts(header, parts[:14] + forged.to_parts() + parts[18:])
    with pytest.raises(ValueError):
        Columns.from_parts(header, parts[:14] + [parts[14][:-1], *parts[15:]])  # torn
    with pytest.raises(ValueError):
        Columns.from_parts(header, parts[:17])  # of an older shape
