"""people/access.py: one principal's scope as a pure predicate, tested with tables (no tree, no storage)."""

import pytest

from lenslet.errors import NotFound
from lenslet.people.access import Access, Principal, Scope
from lenslet.people.shares import kind_of

FAMILY = Principal("user", "ann", "edit", Scope(["family", "trips/2024"]))
SHARE = Principal("share", "share:1", "view", Scope(["family"]), {"allowDownload": True})
ORIGINS = {"_trash_/a.jpg": "family/a.jpg", "_trash_/b.jpg": "private/b.jpg", "_trash_/c.jpg": None,
           "_trash_/d.jpg": "_trash_/x.jpg", "_trash_/e.jpg": ["family"]}


def access(principal=FAMILY):
    asked = []

    def origin_of(path):
        asked.append(path)
        return ORIGINS.get(path)
    found = Access(principal, origin_of)
    found.asked = asked
    return found


@pytest.mark.parametrize("path, seen", [
    ("family", True),
    ("family/a.jpg", True),
    ("family2/a.jpg", False),  # whole segments: family does not hold family2
    ("trips", False),
    ("trips/2024/x.jpg", True),
    ("trips/2023/x.jpg", False),
    ("", False),
    ("_trash_/a.jpg", True),   # trashed from their folder
    ("_trash_/b.jpg", False),  # trashed from another's
    ("_trash_/c.jpg", False),  # nobody knows where from: only a whole-tree scope has it
    ("_trash_/d.jpg", False),  # an origin in the trash itself says nothing
    ("_trash_/e.jpg", False),  # an origin of another shape says nothing
])
def test_what_a_user_may_see(path, seen):
    assert access().may_see(path) is seen
    if not seen:
        with pytest.raises(NotFound) as refused:
            access().see(path)
        assert refused.value.description == "no such file or folder"  # as a missing path answers


def test_the_origin_is_asked_only_for_a_path_in_the_trash():
    scoped = access()
    for path in ("family/a.jpg", "private/b.jpg", "trips", ""):
        scoped.may_see(path)
    assert scoped.asked == []
    scoped.may_see("_trash_/b.jpg")
    assert scoped.asked == ["_trash_/b.jpg"]


@pytest.mark.parametrize("path, passes", [("", True), ("trips", True), ("family", True), ("private", False),
                                          ("_trash_", True), ("trips/2023", False)])
def test_which_folders_a_user_may_pass_through(path, passes):
    if passes:
        assert access().folder(path) == path
    else:
        with pytest.raises(NotFound):
            access().folder(path)


def test_a_share_link_sees_its_folder_and_passes_through_nothing():
    shared = access(SHARE)
    assert shared.folder("family") == "family"
    for path in ("", "_trash_", "_trash_/a.jpg"):
        with pytest.raises(NotFound):
            shared.folder(path)
    assert shared.asked == []  # a share never opens the trash, so never asks where an image came from


@pytest.mark.parametrize("path, name, shown", [("", "family", True), ("", "trips", True), ("", "private", False),
                                               ("", "_trash_", True), ("trips", "2024", True),
                                               ("trips", "2023", False)])
def test_which_subfolders_a_listing_shows(path, name, shown):
    assert access().shows_folder(path, name) is shown


def test_visible_items_skip_what_is_not_an_entry():
    items = [{"name": "a.jpg"}, {"path": "private/b.jpg"}, "forged", None]
    assert access().visible("family", items) == [{"name": "a.jpg"}]


@pytest.mark.parametrize("path, is_folder, kind", [("family", True, "folder"), ("family/a.jpg", False, "image"),
                                                   ("family/notes.txt", False, None), ("_trash_/a.jpg", False, None),
                                                   ("_trash_", True, None)])
def test_what_a_share_opens(path, is_folder, kind):
    if kind is None:
        with pytest.raises(Exception) as refused:
            kind_of(path, is_folder)
        assert refused.value.status == 400
    else:
        assert kind_of(path, is_folder) == kind
