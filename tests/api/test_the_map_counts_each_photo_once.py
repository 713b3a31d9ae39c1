"""The map's clusters add up exactly to the photos in the part of the world a view shows, each photo once: across the
antimeridian, the whole world at every zoom, a sliver and the poles, over a generated set of positions."""

import random

import pytest
import webtest
from helpers import gps_photo, index_tree

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.search.clusters import MAX_ZOOM, cell
from lenslet.storage import open_storage

EDGES = [(0.0, 179.99), (1.0, -179.99), (-17.0, 180.0), (-16.0, -180.0), (89.5, 10.0), (-89.5, -10.0), (0.0, 0.0)]
WORLD = {"zoom": 0, "west": -180, "south": -85, "east": 180, "north": 85}
VIEWS = [
    {"zoom": 0, "west": 170, "south": -85, "east": 160, "north": 85},  # the world less a sliver, across
    {"zoom": 2, "west": 10.5, "south": -85, "east": 3.2, "north": 85},
    {"zoom": 5, "west": 170, "south": -25, "east": -170, "north": -10},
    {"zoom": 3, "west": 180, "south": -60, "east": -180, "north": 60},
    {"zoom": 1, "west": -40, "south": -85, "east": -50, "north": 85},
    {"zoom": 22, "west": 10.00001, "south": -85, "east": 10.00002, "north": 85},  # a sliver
    {"zoom": 12, "west": -180, "south": 84.9, "east": 180, "north": 90},  # the poles
    {"zoom": 12, "west": 90, "south": -90, "east": -90, "north": -84.9},
    {"zoom": 4, "west": -12.3, "south": 30.1, "east": 40.7, "north": 60.2},
] + [{**WORLD, "zoom": zoom} for zoom in range(MAX_ZOOM + 1)]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tree = tmp_path_factory.mktemp("tree")
    draw = random.Random(74)
    positions = EDGES + [(draw.uniform(-90, 90), draw.uniform(-180, 180)) for _ in range(60)] + \
        [(draw.gauss(38.7, 0.3), draw.gauss(-9.1, 0.3)) for _ in range(20)] + \
        [(draw.gauss(-17.5, 1.0), 179.5 + draw.gauss(0, 0.8)) for _ in range(20)]
    positions = [(round(latitude, 4), round((longitude + 180) % 360 - 180 if abs(longitude) > 180 else longitude, 4))
                 for latitude, longitude in positions]
    for at, (latitude, longitude) in enumerate(positions):
        (tree / f"{at:03}.jpg").write_bytes(gps_photo(max(-90, min(90, latitude)), longitude))
    config = Config(root=str(tree))
    index_tree(config, open_storage(config))
    return webtest.TestApp(create_app(config)), positions


def in_view(view, level, latitude, longitude):
    """Whether a photo's cell at a level meets the view: longitudes as intervals, across the antimeridian too."""
    size = 1 << level
    x, y = cell(latitude, longitude, level)
    start = x * 360 / size - 180
    end = 360.0 if x == size - 1 else start + 360 / size  # the last column holds 180 itself
    sides = [(view["west"], view["east"])] if view["west"] <= view["east"] else \
        [(view["west"], 180.0), (-180.0, view["east"])]
    rows = range(cell(view["north"], 0, level)[1], cell(view["south"], 0, level)[1] + 1)
    return y in rows and any(start <= east and end > west for west, east in sides)


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: "{zoom}/{west}/{south}/{east}/{north}".format(**view))
def test_the_clusters_add_up_to_the_photos_of_the_view(world, view):
    app, positions = world
    answer = app.get("/map", view).json
    cells = [found["cell"] for found in answer["clusters"]]
    assert len(cells) == len(set(cells))  # no cell answered twice
    shown = sum(found["count"] for found in answer["clusters"])
    assert shown == sum(in_view(view, answer["level"], *where) for where in positions)
    assert answer["total"] == len(positions) and shown <= len(positions)


@pytest.mark.parametrize("zoom", range(MAX_ZOOM + 1))
def test_the_whole_world_holds_every_photo_once_at_every_zoom(world, zoom):
    app, positions = world
    for west, east in ((-180, 180), (0.01, 0.0), (-179.99, -180.0)):
        answer = app.get("/map", {**WORLD, "zoom": zoom, "west": west, "east": east, "south": -90, "north": 90}).json
        assert sum(found["count"] for found in answer["clusters"]) == len(positions), (west, east)
