"""Thumbnails and previews asked for by the version of what they are (`&v=`, made from the listing's item
and /health's imageSettings, as the page makes it) are cached for good; any other version, an image
changed since, a thumbnail of other settings, a turned photo's upright version and a credential's answer are
not cached `public` for good."""

import io
import os

import pytest
from helpers import jpeg
from PIL import Image

from lenslet.people.users import Directory

YEAR = "max-age=31536000"


def is_tall(body):
    width, height = Image.open(io.BytesIO(body)).size
    return height > width


@pytest.fixture
def album(tree):
    (tree / "album").mkdir()
    (tree / "album" / "a.jpg").write_bytes(jpeg(size=(300, 200)))
    return tree / "album"


def version(client, path, kind, headers=None):
    """The URL version the page makes from a listing's item and /health (static/api.js versionOf)."""
    folder, _, name = path.rpartition("/")
    item = next(i for i in client.get(f"/folders?path={folder}", headers=headers).json["items"] if i["name"] == name)
    settings = client.get("/health", headers=headers).json["imageSettings"][kind]
    turn = f"-t{item['turn']}" if item.get("turn", 1) > 1 else ""
    return f"{item['size']:x}-{int(item['mtime'] * 1_000_000):x}-{settings}{turn}"


@pytest.mark.parametrize("kind, url", [("thumb", "/thumb"), ("preview", "/preview")])
def test_an_image_asked_for_by_its_version_is_cached_for_good(client, album, kind, url):
    plain = client.get(f"{url}?path=album/a.jpg")
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    v = version(client, "album/a.jpg", kind)
    kept = client.get(f"{url}?path=album/a.jpg&v={v}")
    assert kept.headers["Cache-Control"] == f"public, {YEAR}, immutable" and kept.body == plain.body
    client.get(f"{url}?path=album/a.jpg&v={v}", headers={"If-None-Match": kept.headers["ETag"]}, status=304)


@pytest.mark.parametrize("kind, url", [("thumb", "/thumb"), ("preview", "/preview")])
@pytest.mark.parametrize("asked", ["", "0-0-256-80", "x" * 190, "%00", "../a.jpg"])
def test_any_other_version_is_answered_as_without_one(client, album, kind, url, asked):
    answer = client.get(f"{url}?path=album/a.jpg&v={asked}")
    assert answer.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("kind, url", [("thumb", "/thumb"), ("preview", "/preview")])
def test_a_version_from_before_the_image_changed_is_not_kept_for_good(client, album, kind, url):
    old = version(client, "album/a.jpg", kind)
    client.get(f"{url}?path=album/a.jpg&v={old}")
    (album / "a.jpg").write_bytes(jpeg(size=(300, 200), color=(10, 200, 10)))
    os.utime(album / "a.jpg", (1, 1))
    answer = client.get(f"{url}?path=album/a.jpg&v={old}")
    assert answer.headers["Cache-Control"] == "public, max-age=3600"  # the bytes of now, under the old URL
    new = version(client, "album/a.jpg", kind)
    assert new != old
    assert YEAR in client.get(f"{url}?path=album/a.jpg&v={new}").headers["Cache-Control"]


@pytest.mark.parametrize("kind, url", [("thumb", "/thumb?"), ("large", "/thumb?size=large&"), ("preview", "/preview?")])
def test_a_turned_photo_is_kept_for_good_under_its_turn_s_version_only(gallery, kind, url):
    gallery.put("album/a.jpg", jpeg(size=(300, 200)))
    client = gallery.client
    upright = version(client, "album/a.jpg", kind)
    client.post_json("/item/rotate?path=album/a.jpg", {"turn": 90})
    turned = version(client, "album/a.jpg", kind)
    assert turned == upright + "-t6"
    answer = client.get(f"{url}path=album/a.jpg&v={turned}")
    assert answer.headers["Cache-Control"] == f"public, {YEAR}, immutable" and is_tall(answer.body)
    assert client.get(f"{url}path=album/a.jpg&v={upright}").headers["Cache-Control"] == "public, max-age=3600"
    client.post_json("/item/rotate?path=album/a.jpg", {"turn": -90})  # undone: the upright URL again
    answer = client.get(f"{url}path=album/a.jpg&v={upright}")
    assert answer.headers["Cache-Control"] == f"public, {YEAR}, immutable" and not is_tall(answer.body)


def test_a_thumbnail_of_other_settings_served_while_made_again_is_not_kept_for_good(client_with, album):
    client_with(thumb_size=128).get("/thumb?path=album/a.jpg")  # made with other settings
    client = client_with()
    v = version(client, "album/a.jpg", "thumb")
    assert client.get("/health").json["imageSettings"]["thumb"] != "128-80"
    answer = client.get(f"/thumb?path=album/a.jpg&v={v}")
    assert answer.headers["Cache-Control"] == "public, max-age=3600"


@pytest.mark.parametrize("kind, url", [("thumb", "/thumb"), ("preview", "/preview")])
def test_with_a_credential_it_is_kept_for_good_by_that_browser_only(client_with, album, tmp_path, kind, url):
    directory = Directory(str(tmp_path / "users.json"))
    ann = {"Authorization": f"Bearer {directory.add('ann', 'view', ['album'])}"}
    client = client_with(users=directory.path)
    v = version(client, "album/a.jpg", kind, ann)
    answer = client.get(f"{url}?path=album/a.jpg&v={v}", headers=ann)
    assert answer.headers["Cache-Control"] == f"private, {YEAR}, immutable"
    client.get(f"{url}?path=album/a.jpg&v={v}", status=401)


def test_with_accel_redirect_nginx_sends_thumbnails_and_previews(client_with, album):
    client = client_with(accel_redirect="/_originals/")
    thumb = client.get("/thumb?path=album/a.jpg")
    assert thumb.headers["X-Accel-Redirect"] == "/_originals/album/a.jpg.thumbnail" and thumb.body == b""
    assert thumb.headers["Content-Type"] == "image/webp" and (album / "a.jpg.thumbnail").read_bytes()[:4] == b"RIFF"
    preview = client.get("/preview?path=album/a.jpg")
    sent = preview.headers["X-Accel-Redirect"]
    assert sent.startswith("/_originals/.lenslet/previews/") and preview.body == b""
    assert (album.parent / sent.removeprefix("/_originals/")).read_bytes()[:4] == b"RIFF"
    again = client.get("/thumb?path=album/a.jpg", headers={"If-None-Match": thumb.headers["ETag"]}, status=304)
    assert "X-Accel-Redirect" not in again.headers  # lenslet answers a revalidation itself
