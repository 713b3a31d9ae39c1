"""A share link shows where a photo was taken and with what camera only when its maker chose so (off by
default); signed-in people see them as before."""

import io
import json

import pytest
from PIL import Image

from lenslet.cli import main as lenslet
from lenslet.images import pillow

GPS_IFD = 0x8825


def photo_at_home():
    """A JPEG saying a camera and a GPS position (52.37 N, 4.89 E)."""
    exif = Image.Exif()
    exif[pillow.MAKE], exif[pillow.MODEL] = "Canon", "Canon EOS R5"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 24.0)})
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (90, 120, 200)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def home(client, tree):
    (tree / "home").mkdir()
    (tree / "home" / "porch.jpg").write_bytes(photo_at_home())
    assert lenslet(["index", str(tree)]) == 0
    return client


def link(client, **body):
    return {"X-Lenslet-Share": client.post_json("/shares", {"path": "home", **body}).json["key"]}


def test_a_link_shows_no_place_or_camera_by_default(home):
    signed_in = home.get("/item?path=home/porch.jpg").json["exif"]
    assert signed_in["latitude"] == pytest.approx(52.37, abs=0.01) and signed_in["model"] == "Canon EOS R5"
    for shared in (link(home), link(home, allowDownload=False), link(home, details=False)):
        exif = home.get("/item?path=home/porch.jpg", headers=shared).json["exif"]
        assert not {"latitude", "longitude", "make", "model"} & set(exif), exif
        listed = home.get("/folders?path=home", headers=shared).json["items"][0]
        assert "camera" not in listed and listed["name"] == "porch.jpg"


def test_a_link_made_to_show_them_shows_them(home):
    shared = link(home, details=True)
    exif = home.get("/item?path=home/porch.jpg", headers=shared).json["exif"]
    assert exif["latitude"] == pytest.approx(52.37, abs=0.01) and exif["model"] == "Canon EOS R5"
    assert "camera" in home.get("/folders?path=home", headers=shared).json["items"][0]
    assert home.get("/shares").json["shares"][0]["details"] is True


def test_details_is_true_or_false(home):
    home.post_json("/shares", {"path": "home", "details": "yes"}, status=400)
    assert home.get("/shares").json["shares"] == []


@pytest.mark.parametrize("forged", ["yes", 1, None, ["true"]])
def test_a_share_file_whose_details_is_forged_opens_nothing(home, tree, forged):
    shared = link(home)
    share_file = next((tree / ".lenslet" / "shares").glob("*.json"))
    record = json.loads(share_file.read_text())
    share_file.write_text(json.dumps(dict(record, details=forged)))
    home.get("/item?path=home/porch.jpg", headers=shared, status=404)


def test_a_link_of_the_last_release_shows_no_place(home, tree):
    shared = link(home, details=True)
    share_file = next((tree / ".lenslet" / "shares").glob("*.json"))
    record = json.loads(share_file.read_text())
    del record["details"]  # as the last release wrote it
    share_file.write_text(json.dumps(record))
    assert "latitude" not in home.get("/item?path=home/porch.jpg", headers=shared).json["exif"]
