"""The timeline (GET /timeline, /timeline/months) and on this day (GET /on-this-day): newest first by
date taken, slices that walk one order both ways, a month jumped to, the listings' filters, edits as
they are now, scoped users' scopes, bad input refused."""

import datetime
import json
import os
import time

import pytest
import webtest
from helpers import exif_photo, index_tree
from openapi_check import spec_checked
from PIL import Image
from test_users import World

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.images import pillow
from lenslet.storage import LocalStorage

CANON = ("Canon", "Canon EOS R5")
# path -> EXIF time taken (None: the file's time, set to 2017-07-14 02:40 UTC)
PHOTOS = {
    "2019/a.jpg": "2019:05:12 10:00:00",
    "2019/b.jpg": "2019:05:12 18:00:00",
    "2019/c.png": None,
    "2020/d.jpg": "2020:05:12 09:00:00",
    "2020/e.jpg": "2020:12:24 20:00:00",
    "2021/f.jpg": "2021:01:01 00:00:01",
    "2021/g.jpg": "2021:05:13 08:00:00",
}


@pytest.fixture
def library(tree):
    for path, taken in PHOTOS.items():
        (tree / path).parent.mkdir(exist_ok=True)
        fmt = "PNG" if path.endswith(".png") else "JPEG"
        (tree / path).write_bytes(exif_photo(CANON if path.startswith("2020") else None, taken, fmt))
        os.utime(tree / path, (1.5e9, 1.5e9))
    (tree / "2020/e.jpg.json").write_text(json.dumps({"star": 5, "tags": ["xmas"]}))
    exif = Image.Exif()  # the camera says its zone: 10:00 at +02:00
    exif.get_ifd(pillow.EXIF_IFD).update({pillow.DATE_TIME_ORIGINAL: "2019:05:12 10:00:00",
                                          pillow.OFFSET_TIME_ORIGINAL: "+02:00"})
    Image.new("RGB", (24, 16)).save(tree / "2019/a.jpg", "JPEG", exif=exif.tobytes())
    os.utime(tree / "2019/a.jpg", (1.5e9, 1.5e9))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


NEWEST_FIRST = ["2021/g.jpg", "2021/f.jpg", "2020/e.jpg", "2020/d.jpg", "2019/b.jpg", "2019/a.jpg", "2019/c.png"]


def paths(answer):
    return [item["path"] for item in answer["items"]]


def test_the_timeline_is_every_image_newest_first_saying_where_its_date_came_from(client, library):
    answer = client.get("/timeline").json
    assert paths(answer) == NEWEST_FIRST and answer["total"] == 7
    items = {item["path"]: item for item in answer["items"]}
    assert (items["2019/a.jpg"]["takenAt"], items["2019/a.jpg"]["dateSource"]) == ("2019-05-12T10:00:00+02:00", "exif")
    assert (items["2019/b.jpg"]["takenAt"], items["2019/b.jpg"]["dateSource"]) == ("2019-05-12T18:00:00", "exif")
    assert (items["2019/c.png"]["takenAt"], items["2019/c.png"]["dateSource"]) == ("2017-07-14T02:40:00", "file")
    assert answer["older"] is None and answer["newer"] is None


def test_slices_walk_one_order_older_and_back_newer(client, library):
    walked, cursor, slices = [], None, []
    while True:
        answer = client.get("/timeline", {"limit": 2, **({"before": cursor} if cursor else {})}).json
        walked += paths(answer)
        slices.append(answer)
        cursor = answer["older"]
        if cursor is None:
            break
    assert walked == NEWEST_FIRST and len(slices) == 4
    back = client.get("/timeline", {"limit": 2, "after": slices[-1]["newer"]}).json
    assert paths(back) == paths(slices[-2]) and back["newer"] == slices[-2]["newer"]
    assert client.get("/timeline", {"limit": 3, "after": slices[1]["newer"]}).json["newer"] is None


@pytest.mark.parametrize("at, expected", [
    ("2020-12", ["2020/e.jpg", "2020/d.jpg"]),
    ("2020-06", ["2020/d.jpg", "2019/b.jpg"]),  # nothing in June: from the newest before it
    ("2019", ["2019/b.jpg", "2019/a.jpg"]),
    ("2019-05-12", ["2019/b.jpg", "2019/a.jpg"]),
    ("2017", ["2019/c.png"]),
    ("2016", []),
])
def test_a_jump_to_a_month_starts_at_its_newest_image(client, library, at, expected):
    answer = client.get("/timeline", {"at": at, "limit": 2}).json
    assert paths(answer) == expected
    assert (answer["newer"] is not None) == bool(expected)


def test_months_count_the_images_of_each_month_newest_first(client, library):
    answer = client.get("/timeline/months").json
    counted = lambda months: [(month["month"], month["count"]) for month in months]  # noqa: E731
    assert answer["total"] == 7
    assert counted(answer["months"]) == [("2021-05", 1), ("2021-01", 1), ("2020-12", 1), ("2020-05", 1),
                                         ("2019-05", 2), ("2017-07", 1)]
    assert counted(client.get("/timeline/months", {"camera": "canon"}).json["months"]) == [
        ("2020-12", 1), ("2020-05", 1)]


@pytest.mark.parametrize("params, expected", [
    ({"star": "4+"}, ["2020/e.jpg"]),
    ({"camera": "canon"}, ["2020/e.jpg", "2020/d.jpg"]),
    ({"type": "png"}, ["2019/c.png"]),
    ({"tagged": "yes"}, ["2020/e.jpg"]),
    ({"tagged": "no", "date": "2019"}, ["2019/b.jpg", "2019/a.jpg"]),
    ({"path": "2020"}, ["2020/e.jpg", "2020/d.jpg"]),
])
def test_the_timeline_takes_the_listings_filters(client, library, params, expected):
    answer = client.get("/timeline", params).json
    assert paths(answer) == expected and answer["total"] == len(expected)


def test_an_edit_counts_as_it_is_now(client, library, search_looks_often):
    client.patch_json("/item?path=2019/a.jpg", {"star": 4})
    deadline = time.monotonic() + 15
    while paths(client.get("/timeline?star=4").json) != ["2020/e.jpg", "2019/a.jpg"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert paths(client.get("/timeline?star=4").json) == ["2020/e.jpg", "2019/a.jpg"]
    assert client.get("/timeline/months?star=4").json["total"] == 2
    client.patch_json("/item?path=2019/a.jpg", {"star": 1})  # edited again: the same image, no longer kept
    while paths(client.get("/timeline?star=4").json) != ["2020/e.jpg"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get("/timeline/months?star=4").json["total"] == 1


def test_on_this_day_shows_earlier_years_of_this_month_and_day(client, library):
    answer = client.get("/on-this-day", {"day": "05-12"}).json
    assert answer["day"] == "05-12"
    assert [(year["year"], year["count"], paths(year)) for year in answer["years"]] == [
        (2020, 1, ["2020/d.jpg"]), (2019, 2, ["2019/b.jpg", "2019/a.jpg"])]
    assert client.get("/on-this-day", {"day": "05-14"}).json["years"] == []
    assert client.get("/on-this-day", {"day": "07-14", "type": "png"}).json["years"][0]["year"] == 2017


def test_on_this_day_without_a_day_is_the_servers_and_leaves_out_this_year(library):
    today = datetime.datetime(2021, 5, 13, 12, tzinfo=datetime.timezone.utc).timestamp()
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(library)), clock=lambda: today)))
    answer = client.get("/on-this-day").json
    assert answer == {"day": "05-13", "years": []}  # 2021/g.jpg is of this very year


@pytest.mark.parametrize("url", [
    "/timeline?before=nonsense", "/timeline?after=1.0", "/timeline?before=nan|a.jpg", "/timeline?at=2024-13",
    "/timeline?at=May", "/timeline?at=2020..2021", "/timeline?before=1.0|a&after=2.0|b", "/timeline?limit=0",
    "/timeline?limit=501", "/timeline?star=9", "/timeline/months?type=doc", "/on-this-day?day=13-01",
    "/on-this-day?day=5-12", "/on-this-day?day=02-30", "/timeline?before=1e400|a",
])
def test_bad_input_is_a_clear_400(client, library, url):
    answer = client.get(url, status=400)
    assert answer.json["title"] and answer.json["description"]


def test_a_folder_that_is_not_there_is_a_404(client, library):
    client.get("/timeline?path=nowhere", status=404)


# -- scopes ------------------------------------------------------------------

@pytest.fixture
def world(gallery, tmp_path):
    return World(gallery, tmp_path)


def test_a_scoped_user_sees_only_their_scope(world):
    everything = world.get("admin", "/timeline").json
    viewer = world.get("viewer", "/timeline").json
    assert viewer["total"] == 2 and all(path.startswith("family/") for path in paths(viewer))
    assert everything["total"] > viewer["total"]
    assert world.get("viewer", "/timeline/months").json["total"] == 2
    both = world.get("both", "/timeline").json
    assert sorted(p.split("/")[0] for p in paths(both)) == ["family", "family", "work"]
    assert world.get("viewer", "/timeline?path=work").status_int == 404  # as a missing folder
    day = world.get("viewer", "/on-this-day").json
    assert all(path.startswith("family/") for year in day["years"] for path in paths(year))


@pytest.mark.parametrize("who", ["nobody", "share"])
def test_nobody_and_share_links_get_no_timeline(world, who):
    for url in ("/timeline", "/timeline/months", "/on-this-day"):
        assert world.get(who, url).status_int in (401, 403)


@pytest.mark.parametrize("offset, read", [("+02:00", "+02:00"), ("-05:30", "-05:30"), ("+14:00", "+14:00"),
                                          ("+15:00", None), ("02:00", None), ("+2:00", None), ("", None),
                                          (b"+01:00\x00", "+01:00"), ("+01:00; drop", None), (None, None)])
def test_only_an_exif_offset_of_its_shape_is_read(offset, read):
    assert pillow.exif_offset(offset) == read
