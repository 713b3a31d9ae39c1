"""A folder's cover is an item lenslet can draw: never a raw without a preview (it has no thumbnail and gets
none), else the folder's placeholder (null)."""

import dataclasses

import pytest
import webtest
from helpers import draw, index_tree
from openapi_check import spec_checked
from test_raw import BYTE, LONG, LOSSLESS, SHORT, Tiff, nef

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.formats import covers
from lenslet.storage import open_storage


def bare_raw():
    """A DNG holding only sensor data: no JPEG preview to draw."""
    t = Tiff()
    sensor = t.blob(LOSSLESS)
    return t.done(t.ifd([(0x0103, SHORT, 7), (0x0111, LONG, sensor), (0x0117, LONG, len(LOSSLESS)),
                         (0xC612, BYTE, [1, 4, 0, 0])]))


def covers_of(client, folder=""):
    return {entry["name"]: entry["cover"] for entry in client.get(f"/folders?path={folder}").json["dirs"]}


@pytest.fixture
def shoots(tree, config, storage):
    """raws/ of raws without previews, mixed/ of one and a JPEG, shown/ of a raw with one; all indexed."""
    for path in ("raws/a.dng", "raws/b.dng", "mixed/a.dng"):
        (tree / path).parent.mkdir(exist_ok=True)
        (tree / path).write_bytes(bare_raw())
    draw(tree / "mixed" / "b.jpg")
    (tree / "shown").mkdir()
    (tree / "shown" / "x.nef").write_bytes(nef())
    index_tree(config, storage)
    return tree


def test_a_folder_of_raws_without_previews_has_no_cover_and_a_mixed_one_its_drawable_image(client, shoots):
    assert covers_of(client) == {"mixed": "mixed/b.jpg", "raws": None, "shown": "shown/x.nef"}
    assert client.get("/folders?path=raws").json["cover"] is None
    client.get("/thumb?path=shown/x.nef", status=200)


def test_a_raw_without_a_preview_picked_as_cover_is_passed_over(client, shoots):
    client.patch_json("/folders?path=mixed", {"cover": "a.dng"})
    assert covers_of(client)["mixed"] == "mixed/b.jpg"


@pytest.mark.parametrize("names, picked, thumbed, cover", [
    (["a.cr2", "b.jpg"], None, set(), "b.jpg"),
    (["a.cr2", "b.jpg"], None, {"a.cr2"}, "a.cr2"),
    (["a.cr2", "b.cr2"], None, set(), None),
    (["a.cr2", "b.jpg"], "a.cr2", set(), "b.jpg"),
    (["a.jpg", "b.jpg"], None, set(), "a.jpg"),  # an image can always be drawn (its thumbnail made when asked)
])
def test_cover_of_takes_a_raw_only_with_its_thumbnail(names, picked, thumbed, cover):
    assert covers.cover_of(names, picked, thumbed) == cover


def test_under_a_state_root_a_raw_with_a_preview_is_the_cover_once_its_thumbnail_is_made(tree, tmp_path):
    (tree / "shown").mkdir()
    (tree / "shown" / "x.nef").write_bytes(nef())
    (tree / "raws").mkdir()
    (tree / "raws" / "a.dng").write_bytes(bare_raw())
    config = dataclasses.replace(Config(root=str(tree)), state=str(tmp_path / "state"))
    client = webtest.TestApp(spec_checked(create_app(config)))
    assert covers_of(client) == {"raws": None, "shown": None}  # no thumbnail made yet
    index_tree(config, open_storage(config))
    assert covers_of(client) == {"raws": None, "shown": "shown/x.nef"}
