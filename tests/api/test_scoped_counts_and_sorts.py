"""A scoped user's counts, covers, sorted listings and sorted search: only what lies in their scope,
so a count or a cover never tells them what another folder holds."""

import pytest
from test_users import World


@pytest.fixture
def world(gallery, tmp_path):
    return World(gallery, tmp_path)


def listing(world, who, url):
    answer = world.get(who, url)
    assert answer.status_int == 200, answer.body
    return answer.json


def test_the_root_counts_only_the_folders_a_scoped_user_sees(world):
    admin = listing(world, "admin", "/folders")
    assert admin["allImages"] == 5
    viewer = listing(world, "viewer", "/folders")  # family/ only: a.jpg and sub/b.jpg
    assert [d["name"] for d in viewer["dirs"]] == ["family"]
    assert (viewer["images"], viewer["allImages"], viewer["total"]) == (0, 2, 0)
    assert viewer["cover"].startswith("family/")
    both = listing(world, "both", "/folders")  # family/ and work/, not family2/ nor top.jpg
    assert sorted(d["name"] for d in both["dirs"]) == ["family", "work"]
    assert both["allImages"] == 3
    assert not (both["cover"] or "").startswith("family2/")


def test_a_sorted_listing_above_a_scope_shows_none_of_its_own_images(world):
    admin = listing(world, "admin", "/folders?sort=name")
    assert [item["name"] for item in admin["items"]] == ["top.jpg"]
    viewer = listing(world, "viewer", "/folders?sort=name&order=desc")
    assert viewer["items"] == [] and viewer["total"] == 0 and viewer["folderTotal"] == 0
    assert [d["name"] for d in viewer["dirs"]] == ["family"] and viewer["allImages"] == 2


def test_a_sorted_search_across_two_scope_folders_is_one_order(world):
    answer = listing(world, "both", "/search?q=beach&sort=name&order=desc")
    names = [item["name"] for item in answer["items"]]
    assert answer["total"] == 3 and names == ["d.jpg", "b.jpg", "a.jpg"]
    answer = listing(world, "both", "/search?q=beach&sort=name&offset=1&limit=1")
    assert [item["name"] for item in answer["items"]] == ["b.jpg"]
