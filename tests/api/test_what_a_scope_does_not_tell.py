"""What lies outside a scope or a link tells nothing: a scoped person's root listing (its sig and its folders)
stays the same when an image they cannot see is added at the root, and changes with what they can see; a shared
smart album shows what its search finds, never the search; the map, the timeline and search answer a link or
pointer inside the scope that leads out exactly as a missing folder (status and headers)."""

import pytest
from helpers import jpeg
from test_albums import five_images
from test_scopes_decide_on_what_is_opened import plant
from test_smart_album_shares import shared, smart
from test_users import World

WORLD = {"zoom": 0, "west": -180, "south": -90, "east": 180, "north": 90}


@pytest.fixture
def world(gallery, tmp_path):
    return World(gallery, tmp_path)


def seen(world, who, url):
    answer = world.get(who, url).json
    return answer["sig"], answer["dirs"], answer["items"]


@pytest.mark.parametrize("url", ["/folders", "/folders?sort=name"])
def test_a_scoped_root_stays_the_same_when_an_image_outside_is_added(world, url):
    before = {who: seen(world, who, url) for who in ("viewer", "both", "editor")}
    world.client.post("/file", {"dest": ""}, upload_files=[("file", "new.jpg", jpeg(color=(9, 2, 3)))],
                      headers=world.as_("admin"), status=201)
    assert world.get("admin", "/folders").json["total"] == 2  # top.jpg and new.jpg: the root did change
    assert {who: seen(world, who, url) for who in before} == before


def test_a_scoped_root_stays_the_same_whoever_browses_meanwhile(world):
    before = {who: seen(world, who, "/folders")[0] for who in ("viewer", "both", "editor")}
    world.client.post("/file", {"dest": ""}, upload_files=[("file", "new.jpg", jpeg(color=(9, 2, 3)))],
                      headers=world.as_("admin"), status=201)
    for folder in ("", "family", "family/sub", "work"):  # lenslet's own files written there move their times
        world.get("admin", f"/folders?path={folder}")
    assert {who: seen(world, who, "/folders")[0] for who in before} == before


def test_a_scoped_root_changes_with_what_the_person_sees(world):
    before = seen(world, "viewer", "/folders")
    world.client.post("/file", {"dest": "family"}, upload_files=[("file", "new.jpg", jpeg(color=(9, 2, 3)))],
                      headers=world.as_("admin"), status=201)
    after = world.get("viewer", "/folders").json
    assert after["sig"] != before[0] and after["allImages"] == 3


@pytest.fixture
def library(tree):
    return five_images(tree)


def test_a_shared_smart_album_never_tells_its_search(client, library):
    album = smart(client, {"q": "beach", "country": "PT", "path": "trips", "star": "4+"})
    link = shared(client.post_json("/shares", {"album": album}, status=201).json["key"])
    through_link = client.get(f"/albums/{album}", headers=link).json
    assert through_link["smart"] == {} and through_link["name"] == "Found"  # a smart album, not what it looks for
    assert "PT" not in client.get(f"/albums/{album}", headers=link).text
    assert client.get(f"/albums/{album}").json["smart"]["country"] == "PT"  # its maker still sees the search


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    where = tmp_path_factory.mktemp("planted")
    (where / "tree").mkdir()
    return plant(where / "tree", where / "users.json")


def answer(client, headers, url, path):
    params = {"path": path, **(WORLD if url == "/map" else {}), **({"cell": "0/0/0"} if url == "/map/photos" else {}),
              **({"q": "doc"} if url == "/search" else {})}
    got = client.get(url, params, headers=headers, expect_errors=True)
    return got.status_int, {name: value for name, value in got.headers.items() if name.lower() != "content-length"}


@pytest.mark.parametrize("url", ["/map", "/map/photos", "/timeline", "/timeline/months", "/on-this-day", "/search"])
@pytest.mark.parametrize("outside", ["family/peek", "family/ptr", "family/x.jpg"])
def test_a_link_leading_out_of_the_scope_answers_as_a_missing_folder(planted, url, outside):
    client, as_ = planted
    missing = answer(client, as_["ann"], url, "family/nope")
    assert missing[0] == 404
    assert answer(client, as_["ann"], url, outside) == missing
    assert answer(client, as_["ann"], url, "family/alias")[0] == 200  # a link to her own kids/ is hers
    assert answer(client, as_["admin"], url, "family/peek")[0] == 200  # the admin sees private/ either way
