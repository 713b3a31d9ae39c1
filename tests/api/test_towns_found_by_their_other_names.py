"""A search of photos finds a big town's photos by the names people use for it in other languages (aarhus for
Århus, lisboa, münchen, praha, firenze, cologne for Köln), folded, beside the words of other photos; AND-ed
with other terms, within a person's folders, and for a place a person set themselves."""

import dataclasses

import pytest
import webtest
from helpers import geotagged, index_tree, run_jobs
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people.users import Directory
from lenslet.text import fold

TOWNS = {  # each photo shows its town by the table's name; no path holds a name asked below
    "towns/dk.jpg": (56.1567, 10.2108),  # "Århus, Central Jutland, Denmark"
    "towns/pt.jpg": (38.7223, -9.1393),
    "towns/de-by.jpg": (48.1374, 11.5755),
    "towns/de-nw.jpg": (50.9375, 6.9603),  # "Köln, North Rhine-Westphalia, Germany"
    "towns/cz.jpg": (50.0755, 14.4378),
    "towns/it.jpg": (43.7696, 11.2558),
    "towns/pl.jpg": (52.2297, 21.0122),
    "trips/lisboa-tram.jpg": (41.1579, -8.6291),  # in Porto, its name holds "lisboa"
    "trips/plain.jpg": None,
    "trips/scan.jpg": None,
}


@pytest.fixture
def towns(tree, config, storage, client):
    geotagged(tree, TOWNS)
    index_tree(config, storage)
    return client


def found(client, query, **asks):
    return sorted(item["path"] for item in client.get("/search", {"q": query}, **asks).json["items"])


@pytest.mark.parametrize("asked, expected", [
    ("aarhus", ["towns/dk.jpg"]),  # English and Danish since 2011, for Århus
    ("Aarhus", ["towns/dk.jpg"]),
    ("lisboa", ["towns/pt.jpg", "trips/lisboa-tram.jpg"]),  # Portuguese; and a photo's own name
    ("lissabon", ["towns/pt.jpg"]),  # German
    ("münchen", ["towns/de-by.jpg"]),  # German, with its accent or without
    ("munchen", ["towns/de-by.jpg"]),
    ("muenchen", ["towns/de-by.jpg"]),
    ("cologne", ["towns/de-nw.jpg"]),  # English and French, for Köln
    ("köln", ["towns/de-nw.jpg"]),
    ("praha", ["towns/cz.jpg"]),  # Czech
    ("firenze", ["towns/it.jpg"]),  # Italian
    ("warszawa", ["towns/pl.jpg"]),  # Polish
    ("lisbon", ["towns/pt.jpg"]),
    ("munich", ["towns/de-by.jpg"]),
])
def test_a_town_is_found_by_the_names_people_use_for_it(towns, asked, expected):
    assert found(towns, asked) == expected
    assert found(towns, f"{asked} towns") == [path for path in expected if path.startswith("towns/")]


def test_the_other_names_are_searched_not_shown(towns):
    places = {item["name"]: item["place"] for item in towns.get("/folders?path=towns").json["items"]}
    assert places["dk.jpg"] == "Århus, Central Jutland, Denmark" and places["de-nw.jpg"].startswith("Köln")
    for name, asked in [("dk.jpg", "aarhus"), ("pt.jpg", "lisboa"), ("de-by.jpg", "munchen"),
                        ("cz.jpg", "praha"), ("it.jpg", "firenze"), ("de-nw.jpg", "cologne")]:
        assert asked not in fold(places[name]), name  # found by the town's other name, not its own


@pytest.mark.parametrize("asked, expected", [
    ("lisboa tram", ["trips/lisboa-tram.jpg"]),  # each term by either way, all of them
    ("lisboa portugal", ["towns/pt.jpg", "trips/lisboa-tram.jpg"]),
    ("lisboa praha", []),
    ("praha czechia", ["towns/cz.jpg"]),
    ("praha lisbon", []),
    ("munche", []),  # a whole name only: the start of one is searched as any other text
    ("praga", ["towns/cz.jpg"]),
    ("prah", []),
    ("cat", []),  # the start of Cotonou's other names, never its photos
])
def test_other_names_are_and_ed_with_the_other_terms(towns, asked, expected):
    assert found(towns, asked) == expected


def test_a_person_never_finds_a_folder_they_cannot_see_through_its_towns_names(towns, config, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    kid = {"Authorization": f"Bearer {directory.add('kid', 'edit', ['trips'])}"}
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))))
    assert found(client, "lisboa", headers=kid) == ["trips/lisboa-tram.jpg"]
    for asked in ("praha", "aarhus", "cologne", "lisboa towns", "munchen"):
        assert found(client, asked, headers=kid) == [], asked
    assert client.get("/search", {"q": "praha", "path": "towns"}, headers=kid, status=404)


def test_a_place_a_person_set_is_found_by_the_towns_other_names(towns, config, storage):
    towns.patch_json("/item?path=trips/plain.jpg", {"place": {"city": "Prague", "countryCode": "CZ"}})
    towns.patch_json("/item?path=trips/scan.jpg", {"place": {"city": "Lisboa", "countryCode": "PT"}})
    for client in (towns, None):  # from the edits before a rollup, then from a new process's index
        client = client or webtest.TestApp(create_app(config))
        assert found(client, "praha") == ["towns/cz.jpg", "trips/plain.jpg"]
        assert found(client, "lisbon") == ["towns/pt.jpg", "trips/scan.jpg"]  # set by another of its names
        run_jobs(config, storage)


def test_a_photo_of_a_town_edited_since_the_rollup_is_found_once(towns):
    towns.patch_json("/item?path=towns/cz.jpg", {"addTags": ["bridge"]})
    answer = towns.get("/search", {"q": "praha"}).json
    assert (answer["total"], [item["path"] for item in answer["items"]]) == (1, ["towns/cz.jpg"])
    assert found(towns, "praha bridge") == ["towns/cz.jpg"]


@pytest.mark.parametrize("asked, expected", [
    ("(", []), ("praha)", []), ("lisboa\\", []), ("*", []), ("[a-z]+", []), ("57", []), ("\t7", []),
    ("x" * 1000, []), ("ą" * 500, []), ("\u0000praha\u001f", ["towns/cz.jpg"]),
])
def test_a_term_at_the_limits_finds_what_it_holds(towns, asked, expected):
    assert found(towns, asked) == expected
    towns.get("/search", {"q": "x" * 1001}, status=400)
