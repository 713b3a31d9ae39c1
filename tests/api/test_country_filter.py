"""The country filter (`country=PT`, `country:pt,es` in q) of listings, search and the timeline: placeless
photos never pass, bad codes are a 400, columns kept before countries are made again, and a share link
that hides places may not filter by them (403: which photos it keeps would tell where they were taken)."""

import orjson
import pytest
import webtest
from helpers import geotagged, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.layout import SEARCH_COLUMNS
from lenslet.search import columns

PHOTOS = {
    "trip/lisbon.jpg": (38.7223, -9.1393),
    "trip/madrid.jpg": (40.4168, -3.7038),
    "trip/atlantic.jpg": (35.0, -40.0),  # mid-ocean: a position, no place
    "trip/plain.jpg": None,
    "home/porto.jpg": (41.1579, -8.6291),
}


@pytest.fixture
def trip(tree, config, storage, client):
    geotagged(tree, PHOTOS)
    index_tree(config, storage)
    return client


def paths(answer):
    return sorted(item["path"] for item in answer.json["items"])


@pytest.mark.parametrize("country, expected", [
    ("PT", ["trip/lisbon.jpg"]),
    ("pt", ["trip/lisbon.jpg"]),
    ("PT,ES", ["trip/lisbon.jpg", "trip/madrid.jpg"]),
    ("FR", []),
])
def test_a_listing_keeps_the_photos_taken_in_a_country(trip, country, expected):
    assert paths(trip.get(f"/folders?path=trip&country={country}")) == expected


def test_search_and_the_timeline_filter_by_country(trip):
    assert paths(trip.get("/search?q=&country=PT")) == ["home/porto.jpg", "trip/lisbon.jpg"]
    assert paths(trip.get("/search?q=country:es")) == ["trip/madrid.jpg"]
    assert paths(trip.get("/search?q=country:pt,es&path=trip")) == ["trip/lisbon.jpg", "trip/madrid.jpg"]
    assert paths(trip.get("/timeline?country=ES")) == ["trip/madrid.jpg"]
    assert trip.get("/timeline/months?country=PT").json["total"] == 2


@pytest.mark.parametrize("value", ["Portugal", "P", "PT,", "P1", "PRT", "ß", "x" * 101])
def test_a_bad_country_is_a_400_naming_it(trip, value):
    for endpoint in ("/folders?path=trip", "/search?q=", "/timeline?"):
        answer = trip.get(endpoint, params={"country": value}, status=400)
        assert "country" in answer.json["description"]


def test_search_columns_kept_before_countries_are_made_again(trip, tree, config):
    assert paths(trip.get("/search?q=&country=PT")) == ["home/porto.jpg", "trip/lisbon.jpg"]
    kept = tree / SEARCH_COLUMNS
    head, _, parts = kept.read_bytes().partition(b"\n")
    head = orjson.loads(head)
    for key in ("format", "countries", "rareCountries", "rareCountrySizes"):  # as the last release kept them
        del head["columns"][key]
    head["sizes"], later = head["sizes"][:-6], head["sizes"][-6:]  # countries, then the map's positions
    kept.write_bytes(orjson.dumps(head) + b"\n" + parts[:len(parts) - sum(later)])
    again = webtest.TestApp(spec_checked(create_app(config)))  # a new process reads the kept files
    assert paths(again.get("/search?q=&country=PT")) == ["home/porto.jpg", "trip/lisbon.jpg"]
    assert orjson.loads(kept.read_bytes().partition(b"\n")[0])["columns"]["format"] == columns.FORMAT


def link(client, **body):
    return {"X-Lenslet-Share": client.post_json("/shares", {"path": "trip", **body}, status=201).json["key"]}


@pytest.mark.parametrize("param", ["country=PT", "country=FR", "camera=canon"])
def test_a_link_that_hides_places_may_not_filter_by_them(trip, param):
    answer = trip.get(f"/folders?path=trip&{param}", headers=link(trip), status=403)
    assert answer.json["param"] == param.partition("=")[0]
    assert len(trip.get("/folders?path=trip&sort=date", headers=link(trip)).json["items"]) == 4


def test_a_link_made_with_details_filters_by_country(trip):
    assert paths(trip.get("/folders?path=trip&country=ES", headers=link(trip, details=True))) == ["trip/madrid.jpg"]
