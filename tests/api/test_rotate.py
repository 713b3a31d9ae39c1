"""A person turns or flips a photo shown sideways (POST /item/rotate): kept in its sidecar as a turn over the
camera's orientation, the original's bytes untouched; the item, the listing, thumbnails and previews follow at
once. Bad input, other sites, read-only folders and links change nothing; a forged turn in a sidecar is ignored."""

import io
import json
import subprocess
import threading
import time

import orjson
import pytest
import webtest
from helpers import EXIFTOOL, index_tree, needs_exiftool
from openapi_check import spec_checked
from PIL import Image

from lenslet.app import create_app

RED, BLUE = (220, 20, 20), (20, 20, 220)


def two_colours(orientation=1):
    """A 60x40 JPEG, its left half red and right half blue as stored, with an EXIF orientation."""
    image = Image.new("RGB", (60, 40), BLUE)
    image.paste(RED, (0, 0, 30, 40))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def photos(tree, client):
    (tree / "trip").mkdir()
    (tree / "trip" / "wide.jpg").write_bytes(two_colours())
    (tree / "trip" / "phone.jpg").write_bytes(two_colours(orientation=6))  # a camera that says "turn right"
    return client


def picture(client, url):
    """The picture at url: its size and the colours at its top and bottom middle."""
    image = Image.open(io.BytesIO(client.get(url).body)).convert("RGB")
    middle = image.width // 2
    return image.size, near(image.getpixel((middle, 2))), near(image.getpixel((middle, image.height - 3)))


def near(colour):
    return min((RED, BLUE), key=lambda known: sum(abs(a - b) for a, b in zip(known, colour, strict=True)))


def listed(client, name):
    return next(item for item in client.get("/folders?path=trip").json["items"] if item["name"] == name)


def sidecar(tree, name):
    path = tree / "trip" / f"{name}.json"
    return orjson.loads(path.read_bytes()) if path.exists() else None


def test_turning_right_shows_the_photo_upright_in_the_item_listing_thumbnail_and_preview(photos, tree):
    original = (tree / "trip" / "wide.jpg").read_bytes()
    assert picture(photos, "/thumb?path=trip/wide.jpg")[0] == (60, 40)  # seen before the turn
    answer = photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}).json
    assert (answer["w"], answer["h"], answer["orientation"]) == (40, 60, 6)
    assert sidecar(tree, "wide.jpg")["turn"] == 6
    assert (listed(photos, "wide.jpg")["w"], listed(photos, "wide.jpg")["h"]) == (40, 60)
    # turned right: the left (red) side is on top
    assert picture(photos, "/thumb?path=trip/wide.jpg") == ((40, 60), RED, BLUE)
    assert picture(photos, "/preview?path=trip/wide.jpg") == ((40, 60), RED, BLUE)
    assert (tree / "trip" / "wide.jpg").read_bytes() == original


def test_a_browser_that_kept_the_thumbnail_or_preview_gets_the_turned_one(photos):
    urls = ("/thumb?path=trip/wide.jpg", "/thumb?path=trip/wide.jpg&size=large", "/preview?path=trip/wide.jpg")
    kept = {url: photos.get(url).headers["ETag"] for url in urls}
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": -90})
    for url, etag in kept.items():
        answer = photos.get(url, headers={"If-None-Match": etag}, status=200)  # never a 304 of the old picture
        assert Image.open(io.BytesIO(answer.body)).size == (40, 60)


def found_soon(client, expected):
    """(turn, w, h) of what search and the timeline show of wide.jpg once they read the edit (noticed behind the
    answers), or at 10 s."""
    def shown():
        [found] = client.get("/search", {"q": "wide"}).json["items"]
        [dated] = [item for item in client.get("/timeline").json["items"] if item["name"] == "wide.jpg"]
        return [(item.get("turn"), item["w"], item["h"]) for item in (found, dated)]

    deadline = time.monotonic() + 10
    while (answer := shown()) != [expected] * 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    return answer


def test_search_and_the_timeline_show_the_turn_before_the_rollup_is_made_again(photos, config, storage):
    index_tree(config, storage)
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90})
    assert found_soon(photos, (6, 40, 60)) == [(6, 40, 60)] * 2
    index_tree(config, storage)  # the rollup holds the turn
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": -90})
    assert found_soon(photos, (None, 60, 40)) == [(None, 60, 40)] * 2


def test_a_turn_goes_over_the_cameras_orientation_and_turns_add_up(photos, tree):
    assert photos.get("/item?path=trip/phone.jpg").json["orientation"] == 6
    answer = photos.post_json("/item/rotate?path=trip/phone.jpg", {"turn": -90}).json
    assert (answer["w"], answer["h"], answer["orientation"]) == (60, 40, 1)  # as stored
    assert picture(photos, "/thumb?path=trip/phone.jpg") == ((60, 40), BLUE, BLUE)
    photos.post_json("/item/rotate?path=trip/phone.jpg", {"turn": 180})
    assert photos.get("/item?path=trip/phone.jpg").json["orientation"] == 3
    photos.post_json("/item/rotate?path=trip/phone.jpg", {"turn": 180})
    photos.post_json("/item/rotate?path=trip/phone.jpg", {"turn": 90})
    assert "turn" not in sidecar(tree, "phone.jpg")  # back to the camera's: nothing kept
    assert photos.get("/item?path=trip/phone.jpg").json["orientation"] == 6


def test_an_orientation_set_or_a_flip_shows_the_picture_so(photos):
    photos.post_json("/item/rotate?path=trip/phone.jpg", {"orientation": 1})
    assert picture(photos, "/thumb?path=trip/phone.jpg")[0] == (60, 40)
    answer = photos.post_json("/item/rotate?path=trip/wide.jpg", {"flip": "horizontal"}).json
    assert (answer["orientation"], answer["w"]) == (2, 60)
    image = Image.open(io.BytesIO(photos.get("/thumb?path=trip/wide.jpg").body)).convert("RGB")
    assert near(image.getpixel((2, 20))) == BLUE and near(image.getpixel((57, 20))) == RED


@pytest.mark.parametrize("turn", [0, 9, "x", 10**30, -1, [6], {"turn": 6}, None, 6.0])
def test_a_forged_turn_in_a_sidecar_is_ignored_and_the_cameras_orientation_holds(photos, tree, turn):
    (tree / "trip" / "phone.jpg.json").write_text(json.dumps({"v": 1, "tags": ["kept"], "turn": turn}))
    item = photos.get("/item?path=trip/phone.jpg").json
    assert (item["orientation"], item["w"], item["h"], item["tags"]) == (6, 40, 60, ["kept"])
    assert "turn" not in listed(photos, "phone.jpg")
    assert picture(photos, "/thumb?path=trip/phone.jpg") == ((40, 60), RED, BLUE)


def test_a_sidecar_of_before_turns_serves_as_it_did(photos, tree):
    (tree / "trip" / "wide.jpg.json").write_bytes(orjson.dumps({"v": 1, "tags": ["old"], "updated_at": None}))
    item = photos.get("/item?path=trip/wide.jpg").json
    assert (item["w"], item["h"], item["orientation"], item["tags"]) == (60, 40, 1, ["old"])


@pytest.mark.parametrize("body", [{}, [], {"turn": 45}, {"turn": 0}, {"turn": "90"}, {"turn": True},
                                  {"flip": "diagonal"}, {"orientation": 9}, {"orientation": 0},
                                  {"orientation": 6, "turn": 90}, {"spin": 90}, {"turn": 10**40},
                                  {"flip": ["horizontal"]}, {"flip": {"horizontal": 1}}])
def test_bad_input_is_a_clear_400_and_writes_nothing(photos, tree, body):
    answer = photos.post_json("/item/rotate?path=trip/wide.jpg", body, status=400).json
    assert answer["title"] and answer["description"]
    assert sidecar(tree, "wide.jpg") is None


def test_another_site_another_host_and_a_read_only_server_turn_nothing(photos, tree, client_with):
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, headers={"Sec-Fetch-Site": "cross-site"},
                     status=403)
    photos.post("/item/rotate?path=trip/wide.jpg", {"turn": "90"}, headers={"Origin": "http://evil.example"},
                status=403)  # a form another site posts
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, headers={"Host": "evil.example"}, status=421)
    client_with(readonly=True).post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, status=403)
    assert sidecar(tree, "wide.jpg") is None


def test_a_read_only_pointer_folder_refuses_a_turn(tree, tmp_path, client):
    outside = tmp_path / "scans"
    outside.mkdir()
    (outside / "scan.jpg").write_bytes(two_colours())
    (tree / "scans").mkdir()
    (tree / "scans" / ".lenslet.folder.json").write_bytes(orjson.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(outside)}, "readonly": True}))
    client.post_json("/item/rotate?path=scans/scan.jpg", {"turn": 90}, status=403)
    assert list(outside.iterdir()) == [outside / "scan.jpg"]


def test_a_share_link_turns_nothing(photos, tree):
    shared = {"X-Lenslet-Share": photos.post_json("/shares", {"path": "trip"}, status=201).json["key"]}
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, headers=shared, status=403)
    assert sidecar(tree, "wide.jpg") is None


@pytest.mark.parametrize("blocker", ["folder", "link"])
def test_a_turn_refused_for_a_folder_or_link_at_the_thumbnail_stores_no_turn(photos, tree, blocker):
    thumb = tree / "trip" / "wide.jpg.thumbnail"
    thumb.mkdir() if blocker == "folder" else thumb.symlink_to("phone.jpg")
    answer = photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, status=409).json
    assert answer["path"] == "trip/wide.jpg.thumbnail" and sidecar(tree, "wide.jpg") is None
    thumb.rmdir() if blocker == "folder" else thumb.unlink()
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90})  # the retry turns once
    assert sidecar(tree, "wide.jpg")["turn"] == 6


def test_a_thumbnail_or_preview_asked_while_its_photo_turns_is_always_there_and_ends_turned(photos, config):
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree
    turned, asked = [], []

    def turning():
        for _ in range(31):
            turned.append(photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}).status_int)

    def looking(url):
        for _ in range(31):
            answer = other.get(url, status="*")
            asked.append(answer.status_int if answer.status_int == 200 else answer.text)

    urls = ["/thumb?path=trip/wide.jpg"] * 2 + ["/preview?path=trip/wide.jpg"] * 2
    threads = [threading.Thread(target=turning)] + [threading.Thread(target=looking, args=(url,)) for url in urls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert turned == [200] * 31 and [answer for answer in asked if answer != 200] == []
    for url in urls[1:3]:
        assert picture(other, url) == ((40, 60), BLUE, RED)  # three quarters right


def test_a_preview_made_while_its_photo_turns_is_kept_as_the_turn_it_was_asked_for(photos, config, monkeypatch):
    from lenslet.images import pillow
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90})
    make, turned = pillow.make_thumbnail, []

    def turning_meanwhile(*args, **kwargs):
        if not turned:  # once, while the preview asked at a quarter turn is being made
            turned.append(other.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}).status_int)
        return make(*args, **kwargs)

    monkeypatch.setattr(pillow, "make_thumbnail", turning_meanwhile)
    assert picture(photos, "/preview?path=trip/wide.jpg") == ((40, 60), RED, BLUE) and turned == [200]
    for _ in range(3):  # round to a quarter turn again: the preview kept for it is the one asked
        photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90})
    assert picture(other, "/preview?path=trip/wide.jpg") == ((40, 60), RED, BLUE)


def test_a_whole_sidecar_put_back_keeps_the_turn(photos, tree):
    item = photos.get("/item?path=trip/wide.jpg").json
    photos.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90})
    photos.put_json("/item?path=trip/wide.jpg", dict(item, tags=["sea"], turn=3))  # an older copy, a forged turn
    assert sidecar(tree, "wide.jpg")["turn"] == 6 and sidecar(tree, "wide.jpg")["tags"] == ["sea"]


def test_two_people_turning_and_tagging_one_photo_at_once_lose_nothing(photos, tree, config):
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree

    turned = []

    def turning(client):
        for _ in range(8):
            turned.append(client.post_json("/item/rotate?path=trip/wide.jpg", {"turn": 90}, status="*").status_int)

    def tagging(client, who):
        for round_ in range(8):
            client.patch_json("/item?path=trip/wide.jpg", {"addTags": [f"{who}-{round_}"]})

    threads = [threading.Thread(target=turning, args=(client,)) for client in (photos, other)] + \
        [threading.Thread(target=tagging, args=(client, who)) for client, who in ((photos, "a"), (other, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = sidecar(tree, "wide.jpg")
    assert turned == [200] * 16
    assert len(stored["tags"]) == 16 and "turn" not in stored  # 16 quarter turns: upright again
    assert picture(photos, "/thumb?path=trip/wide.jpg")[0] == (60, 40)


@needs_exiftool
def test_with_xmp_written_the_orientation_shown_is_read_back_by_exiftool(photos, tree, client_with):
    writer = client_with(xmp="write")
    writer.post_json("/item/rotate?path=trip/phone.jpg", {"turn": 90})
    writer.patch_json("/item?path=trip/phone.jpg", {"addTags": ["sea"]})  # another edit keeps it
    [xmp] = (tree / "trip").glob("*.xmp")

    def read_back():
        return subprocess.run([EXIFTOOL, "-XMP-tiff:Orientation", "-n", "-s3", str(xmp)], capture_output=True,
                              text=True, check=True).stdout.strip()

    assert read_back() == "3"  # the camera's quarter turn right, and one more
    writer.post_json("/item/rotate?path=trip/phone.jpg", {"orientation": 8})
    assert read_back() == "8"
    assert "sea" in xmp.read_text()
