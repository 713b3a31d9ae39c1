"""A link in the trash is judged by what it opens there: a relative link trashed beside another person's trashed
photo opens that photo's bytes, and a person who could not see the photo gets nothing of it."""

import base64
import dataclasses
import io
import os
import zipfile

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people.users import Directory

HERS, OURS = jpeg(color=(250, 0, 0)), jpeg(color=(0, 0, 250))


@pytest.fixture
def home(tree, config, tmp_path):
    (tree / "family").mkdir()
    (tree / "private").mkdir()
    (tree / "private" / "a.jpg").write_bytes(HERS)
    (tree / "family" / "b.jpg").write_bytes(OURS)
    directory = Directory(str(tmp_path / "users.json"))
    tokens = {name: directory.add(name, role, folders) for name, role, folders in
              (("bob", "edit", ["family"]), ("ann", "edit", ["private"]), ("mum", "admin", [""]))}
    phone = directory.add_app_password(directory.users()["bob"], "Phone", 1.0)[1]
    client = webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, users=directory.path))),
                             extra_environ={"REMOTE_ADDR": "127.0.0.1"})
    client.as_ = lambda who: {"Authorization": f"Bearer {tokens[who]}"}
    client.bobs_phone = {"Authorization": "Basic " + base64.b64encode(f"bob:{phone}".encode()).decode()}
    return client


@pytest.mark.parametrize("how", ["trash", "a WebDAV PUT over it"])
def test_a_trashed_link_leading_to_another_persons_trashed_photo_opens_nothing(home, tree, how):
    os.symlink("a.jpg", tree / "family" / "fav.jpg")  # a relative link: it leads to a.jpg wherever it goes
    (tree / "family" / "a.jpg").write_bytes(OURS)
    home.post_json("/trash", {"paths": ["private/a.jpg"]}, headers=home.as_("ann"))
    if how == "trash":
        home.post_json("/trash", {"paths": ["family/fav.jpg"]}, headers=home.as_("bob"))
    else:
        home.put("/dav/family/fav.jpg", jpeg(color=(0, 250, 0)), headers=home.bobs_phone, status=204)
    assert os.readlink(tree / "_trash_" / "fav.jpg") == "a.jpg"
    assert home.get("/file?path=_trash_/a.jpg", headers=home.as_("ann")).body == HERS
    home.get("/file?path=_trash_/fav.jpg", headers=home.as_("bob"), status=404)
    home.get("/preview?path=_trash_/fav.jpg", headers=home.as_("bob"), status=404)
    listed = [item["path"] for item in home.get("/folders?path=_trash_", headers=home.as_("bob")).json["items"]]
    assert "_trash_/fav.jpg" not in listed
    answer = home.get("/zip?path=_trash_", headers=home.as_("bob"))
    with zipfile.ZipFile(io.BytesIO(answer.body)) as archive:
        assert HERS not in [archive.read(name) for name in archive.namelist()]
    assert home.get("/file?path=_trash_/fav.jpg", headers=home.as_("mum")).body == HERS  # an admin sees all


def test_a_trashed_link_leading_to_a_photo_the_person_sees_still_opens(home, tree):
    os.symlink("../family/b.jpg", tree / "family" / "fav.jpg")
    home.post_json("/trash", {"paths": ["family/fav.jpg"]}, headers=home.as_("bob"))
    assert os.readlink(tree / "_trash_" / "fav.jpg") == "../family/b.jpg"
    assert home.get("/file?path=_trash_/fav.jpg", headers=home.as_("bob")).body == OURS
    home.get("/file?path=_trash_/fav.jpg", headers=home.as_("ann"), status=404)
