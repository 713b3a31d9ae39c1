"""A person sets or corrects a photo's place (PATCH or PUT /item, `place`): kept in the sidecar as its parts,
listed, searched and filtered by in place of the one its GPS says, written to the XMP fields other tools read
when lenslet writes XMP, and undone by `null`. The table's places are found by name (GET /places) to choose one.
Bad places change nothing; a forged place in a sidecar is ignored; a share link shows none."""

import dataclasses
import threading
import time

import orjson
import pytest
import webtest
from helpers import gps_photo, image_bytes, index_tree, run_jobs
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.formats import listing_pages
from lenslet.layout import first_page_names

NAZARE = {"city": "Nazaré", "region": "Leiria", "countryCode": "PT"}


@pytest.fixture
def trip(tree, config, storage, client):
    (tree / "trip").mkdir()
    (tree / "trip" / "lisbon.jpg").write_bytes(gps_photo(38.7223, -9.1393))
    (tree / "trip" / "plain.jpg").write_bytes(image_bytes())
    index_tree(config, storage)
    return client


def listed(client, name, **asks):
    return next(item for item in client.get("/folders?path=trip", **asks).json["items"] if item["name"] == name)


def found(client, query):
    return sorted(item["path"] for item in client.get("/search", {"q": query}).json["items"])


def sidecar(tree, name):
    return orjson.loads((tree / "trip" / f"{name}.json").read_bytes())


def test_a_place_set_on_a_geotagged_photo_is_listed_searched_and_filtered_by_instead_of_its_gps(trip, tree):
    answer = trip.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE}).json
    assert (answer["place"], answer["country"], answer["placeSet"]) == ("Nazaré, Leiria, Portugal", "PT", True)
    assert sidecar(tree, "lisbon.jpg")["place"] == {**NAZARE, "country": "Portugal"}
    item = listed(trip, "lisbon.jpg")
    assert (item["place"], item["country"], item["placeSet"]) == ("Nazaré, Leiria, Portugal", "PT", True)
    assert item["gps"] == [38.7223, -9.1393]  # where the camera was stays as it said
    got = trip.get("/item?path=trip/lisbon.jpg").json
    assert (got["place"], got["placeSet"]) == ("Nazaré, Leiria, Portugal", True)
    assert found(trip, "nazare") == found(trip, "leiria") == ["trip/lisbon.jpg"]  # at once, before a rollup


def found_soon(client, query, expected):
    """What a search finds once it has the new rollup (loaded behind the answers that notice it), or at 10 s."""
    deadline = time.monotonic() + 10
    while (answer := found(client, query)) != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def test_a_place_set_is_searched_after_the_rollup_and_null_gives_back_the_gps_place(trip, tree, config, storage,
                                                                                   search_looks_often):
    trip.patch_json("/item?path=trip/lisbon.jpg", {"place": {"city": "Kyoto", "countryCode": "JP"}})
    run_jobs(config, storage)
    assert found_soon(trip, "portugal", []) == []
    assert found(trip, "kyoto") == found(trip, "japan") == ["trip/lisbon.jpg"]
    assert [item["name"] for item in trip.get("/folders?path=trip&country=JP").json["items"]] == ["lisbon.jpg"]
    assert trip.get("/folders?path=trip&country=PT").json["items"] == []

    answer = trip.patch_json("/item?path=trip/lisbon.jpg", {"place": None}).json
    assert answer["place"].endswith("Lisbon, Portugal") and "placeSet" not in answer
    assert "place" not in sidecar(tree, "lisbon.jpg")
    item = listed(trip, "lisbon.jpg")
    assert item["place"].endswith("Lisbon, Portugal") and item["country"] == "PT" and "placeSet" not in item
    run_jobs(config, storage)
    assert found_soon(trip, "portugal", ["trip/lisbon.jpg"]) == ["trip/lisbon.jpg"] and found(trip, "kyoto") == []


def test_a_photo_without_gps_gets_the_place_a_person_gives_it_and_only_that(trip, tree, config, storage):
    trip.patch_json("/item?path=trip/plain.jpg", {"place": {"countryCode": "IS"}, "addTags": ["waterfall"]})
    item = listed(trip, "plain.jpg")
    assert (item["place"], item["country"], item["tags"]) == ("Iceland", "IS", ["waterfall"]) and "gps" not in item
    (tree / "trip" / "new.jpg").write_bytes(image_bytes())  # the folder changed: its listing is built again
    index_tree(config, storage)
    assert listed(trip, "plain.jpg")["place"] == "Iceland"
    assert found(trip, "iceland") == ["trip/plain.jpg"]
    assert trip.get("/map?zoom=2&west=-180&south=-85&east=180&north=85").json["total"] == 1  # Lisbon's GPS only
    trip.patch_json("/item?path=trip/plain.jpg", {"place": None})
    assert not {"place", "country", "placeSet"} & set(listed(trip, "plain.jpg"))


def test_a_put_of_the_get_answer_keeps_the_place_and_stores_no_label(trip, tree):
    trip.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE})
    got = trip.get("/item?path=trip/lisbon.jpg").json
    trip.put_json("/item?path=trip/lisbon.jpg", dict(got, tags=["sea"]))
    stored = sidecar(tree, "lisbon.jpg")
    assert stored["place"] == {**NAZARE, "country": "Portugal"} and stored["tags"] == ["sea"]
    assert not {"country", "placeSet", "mapLink"} & set(stored)
    # A PUT made on the current version (its updatedAt) sets or clears the place; an older one leaves it.
    current = trip.get("/item?path=trip/lisbon.jpg").json["updatedAt"]
    trip.put_json("/item?path=trip/lisbon.jpg", {"place": {"city": "Porto", "countryCode": "PT"}, "updatedAt": current})
    assert listed(trip, "lisbon.jpg")["place"] == "Porto, Portugal"
    trip.put_json("/item?path=trip/lisbon.jpg", {"place": None, "updatedAt": "2001-01-01T00:00:00Z"})
    assert listed(trip, "lisbon.jpg")["place"] == "Porto, Portugal"
    current = trip.get("/item?path=trip/lisbon.jpg").json["updatedAt"]
    trip.put_json("/item?path=trip/lisbon.jpg", {"place": None, "updatedAt": current})
    assert "place" not in sidecar(tree, "lisbon.jpg")
    assert listed(trip, "lisbon.jpg")["place"].endswith("Lisbon, Portugal")


@pytest.mark.parametrize("place", [
    "Lisbon", 7, [], {"city": "Lisbon"}, {"countryCode": "pt"}, {"countryCode": "XX"}, {"countryCode": "PRT"},
    {"countryCode": 620}, {"city": "x" * 101, "countryCode": "PT"}, {"city": "Lis\nbon", "countryCode": "PT"},
    {"city": 5, "countryCode": "PT"}, {"region": ["Leiria"], "countryCode": "PT"},
    {"city": "Lisbon", "countryCode": "PT", "gps": [1, 2]},
])
def test_a_bad_place_is_a_clear_400_and_changes_nothing(trip, tree, place):
    trip.patch_json("/item?path=trip/lisbon.jpg", {"addTags": ["kept"]})
    before = (tree / "trip" / "lisbon.jpg.json").read_bytes()
    # A PUT's place as text is the GET answer's, shown as the listing shows it: not a place to set.
    for method in (trip.patch_json, trip.put_json) if not isinstance(place, str) else (trip.patch_json,):
        answer = method("/item?path=trip/lisbon.jpg", {"place": place, "addTags": ["no"]} if method == trip.patch_json
                        else {"place": place, "tags": ["no"]}, status=400)
        assert answer.json["field"] == "place" and "place" in answer.json["description"]
    assert (tree / "trip" / "lisbon.jpg.json").read_bytes() == before
    assert listed(trip, "lisbon.jpg")["place"].endswith("Lisbon, Portugal")


def test_names_at_their_limit_are_kept(trip):
    place = {"city": "a" * 100, "region": "b" * 100, "countryCode": "PT"}
    assert trip.patch_json("/item?path=trip/lisbon.jpg", {"place": place}).json["place"] == \
        f"{'a' * 100}, {'b' * 100}, Portugal"


@pytest.mark.parametrize("forged", [
    {"city": "Nowhere", "countryCode": "XX"},  # no country name
    {"city": ["Nowhere"], "region": None, "country": "Atlantis", "countryCode": "AT"},
    {"city": "x" * 5000, "region": None, "country": "Atlantis", "countryCode": "AT"},
    {"city": "Nowhere", "region": None, "country": "Atlantis", "countryCode": "atl"},
    "Nowhere, Atlantis", 7, None,
])
def test_a_forged_place_in_a_sidecar_is_ignored(trip, tree, config, storage, forged):
    (tree / "trip" / "lisbon.jpg.json").write_bytes(orjson.dumps({"v": 1, "tags": ["t"], "place": forged}))
    index_tree(config, storage)
    item = listed(trip, "lisbon.jpg")
    assert item["tags"] == ["t"] and item["place"].endswith("Lisbon, Portugal") and "placeSet" not in item
    got = trip.get("/item?path=trip/lisbon.jpg").json
    assert got["place"].endswith("Lisbon, Portugal") and "placeSet" not in got
    assert trip.patch_json("/item?path=trip/lisbon.jpg", {"addTags": ["u"]}).json["tags"] == ["t", "u"]


def test_a_person_s_place_stays_when_the_places_table_changes(trip, tree):
    trip.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE})
    path = next(tree / "trip" / name for name in first_page_names() if (tree / "trip" / name).exists())
    page = orjson.loads(path.read_bytes())
    page[listing_pages.PLACES] = "an older table"
    path.write_bytes(listing_pages.encode_page(page))
    trip.patch_json("/item?path=trip/plain.jpg", {"addTags": ["beach"]})  # the page is patched: places named again
    assert listed(trip, "lisbon.jpg")["place"] == "Nazaré, Leiria, Portugal"


def test_a_link_shows_no_place_a_person_set(trip):
    trip.patch_json("/item?path=trip/plain.jpg", {"place": NAZARE})
    shared = {"X-Lenslet-Share": trip.post_json("/shares", {"path": "trip"}, status=201).json["key"]}
    assert not {"place", "country", "placeSet"} & set(listed(trip, "plain.jpg", headers=shared))
    assert not {"place", "country", "placeSet"} & set(trip.get("/item?path=trip/plain.jpg", headers=shared).json)
    trip.patch_json("/item?path=trip/plain.jpg", {"place": None}, headers=shared, status=403)


def test_another_site_and_another_host_set_no_place(trip, tree):
    trip.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE}, headers={"Sec-Fetch-Site": "cross-site"},
                    status=403)
    trip.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE}, headers={"Host": "evil.example"}, status=421)
    assert not (tree / "trip" / "lisbon.jpg.json").exists()


def test_places_set_and_tags_added_at_once_all_land(trip, tree, config):
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree
    cities = ["Porto", "Braga", "Faro", "Évora"]

    def setting(client, city):
        for round_ in range(5):
            client.patch_json("/item?path=trip/lisbon.jpg", {"place": {"city": city, "countryCode": "PT"},
                                                           "addTags": [f"{city}-{round_}"]})

    threads = [threading.Thread(target=setting, args=(client, city))
               for client, city in zip((trip, other, trip, other), cities, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = sidecar(tree, "lisbon.jpg")
    assert len(stored["tags"]) == 20 and stored["place"]["city"] in cities
    assert listed(trip, "lisbon.jpg")["place"] == f"{stored['place']['city']}, Portugal"


# -- XMP ------------------------------------------------------------------------------------------

def test_with_xmp_written_a_place_goes_to_the_fields_other_tools_read_and_null_takes_it_out(trip, tree, client_with):
    writer = client_with(xmp="write")
    writer.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE})
    [xmp] = (tree / "trip").glob("*.xmp")
    written = xmp.read_text()
    for field in ("<photoshop:City>Nazaré</photoshop:City>", "<photoshop:State>Leiria</photoshop:State>",
                  "<photoshop:Country>Portugal</photoshop:Country>",
                  "<Iptc4xmpCore:CountryCode>PT</Iptc4xmpCore:CountryCode>"):
        assert field in written
    writer.patch_json("/item?path=trip/lisbon.jpg", {"addTags": ["sea"]})  # another edit leaves the place alone
    assert "<photoshop:City>Nazaré</photoshop:City>" in xmp.read_text()
    writer.patch_json("/item?path=trip/lisbon.jpg", {"place": None})
    cleared = xmp.read_text()
    assert "photoshop:City>" not in cleared and "CountryCode>" not in cleared and "sea" in cleared


def test_with_words_kept_in_xmp_a_place_is_refused_and_nothing_changes(trip, tree, tmp_path, config):
    words = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, words="xmp",
                                                                       state=str(tmp_path / "state")))))
    answer = words.patch_json("/item?path=trip/lisbon.jpg", {"place": NAZARE}, status=409).json
    assert answer["field"] == "place" and "LENSLET_WORDS=xmp" in answer["description"]
    assert not (tree / "trip" / "lisbon.jpg.json").exists() and not list((tree / "trip").glob("*.xmp"))


# -- GET /places ----------------------------------------------------------------------------------

def test_places_are_found_by_the_start_of_their_name_then_their_region_or_country(client):
    lisbons = client.get("/places?q=lisbon").json["places"]
    assert {"city": "Lisbon", "region": "Lisbon", "country": "Portugal", "countryCode": "PT"} in lisbons
    assert len(lisbons) <= 10 and all(place["city"].startswith("Lisbon") for place in lisbons)
    assert client.get("/places?q=lisbon, portugal").json["places"][0]["countryCode"] == "PT"
    assert client.get("/places?q=lisbon,pt").json["places"][0]["countryCode"] == "PT"
    assert client.get("/places?q=NAZARE, port").json["places"][0]["city"] == "Nazaré"
    assert client.get("/places?q=zürich").json["places"][0]["city"] == "Zürich"
    assert [place["city"] for place in client.get("/places?q=lisboa").json["places"]] == ["Lisbon"]
    assert client.get("/places?q=aarhus").json["places"][0]["city"] == "Århus"
    assert len(client.get("/places?q=sa&limit=50").json["places"]) == 50
    assert client.get("/places?q=qqqxz").json["places"] == []
    answer = client.get("/places?q=lisbon")
    assert "public" not in answer.headers["Cache-Control"]


def test_the_places_answers_documentation_credits_geonames(client):
    answer = client.get("/openapi.json").json["paths"]["/places"]["get"]["responses"]["200"]
    assert "GeoNames (geonames.org), CC BY 4.0" in answer["description"]


@pytest.mark.parametrize("asks", ["q=l", "q=%20%20l%20", "q=" + "a" * 201, "", "q=lisbon&limit=0",
                                  "q=lisbon&limit=51", "q=lisbon&limit=x"])
def test_a_place_search_out_of_bounds_is_a_clear_400(client, asks):
    assert client.get(f"/places?{asks}", status=400).json["title"]
