"""A person fixes a photo's date (PATCH /item `takenAt`) or shifts many (POST /dates): kept in the sidecar with
dateSource "person", winning over EXIF and the file's time in listings, sorting, search by date and the timeline,
written to XMP when lenslet writes it, and given back to the camera by `null`. Bad input changes nothing."""

import json
import os
import subprocess
import threading

import orjson
import pytest
import webtest
from helpers import EXIFTOOL, exif_photo, index_tree, needs_exiftool, run_jobs, wait_until
from openapi_check import spec_checked
from test_read_only import read_only_pointer
from test_users import World

from lenslet.app import create_app


@pytest.fixture
def trip(tree, config, storage, client):
    (tree / "trip").mkdir()
    (tree / "trip" / "camera.jpg").write_bytes(exif_photo(taken="2019:05:12 10:00:00"))
    (tree / "trip" / "scan.jpg").write_bytes(exif_photo())
    os.utime(tree / "trip" / "scan.jpg", (1.5e9, 1.5e9))  # 2017-07-14 02:40 UTC
    index_tree(config, storage)
    return client


def listed(client, name):
    return next(item for item in client.get("/folders?path=trip").json["items"] if item["name"] == name)


def sidecar(tree, name):
    return orjson.loads((tree / "trip" / f"{name}.json").read_bytes())


def test_a_date_set_wins_over_the_file_s_time_in_the_item_listing_sorting_and_search(trip, tree):
    answer = trip.patch_json("/item?path=trip/scan.jpg", {"takenAt": "1987-08-01T15:30+01:00"}).json
    assert (answer["takenAt"], answer["dateSource"]) == ("1987-08-01T15:30:00+01:00", "person")
    assert {key: sidecar(tree, "scan.jpg")[key] for key in ("takenAt", "dateSource")} == \
        {"takenAt": "1987-08-01T15:30:00+01:00", "dateSource": "person"}
    assert listed(trip, "scan.jpg")["dateSet"] == "1987-08-01T15:30:00+01:00"
    by_date = trip.get("/folders?path=trip&sort=date").json["items"]
    assert [item["name"] for item in by_date] == ["scan.jpg", "camera.jpg"]
    assert [item["path"] for item in trip.get("/search?q=date:1987").json["items"]] == ["trip/scan.jpg"]
    assert trip.get("/search?q=date:2017").json["items"] == []


def test_a_photo_without_any_date_says_none_and_a_camera_s_date_says_exif(trip):
    assert trip.get("/item?path=trip/scan.jpg").json["takenAt"] is None
    camera = trip.get("/item?path=trip/camera.jpg").json
    assert (camera["takenAt"], camera["dateSource"]) == ("2019-05-12T10:00:00", "exif")


def test_null_gives_back_the_camera_s_date_everywhere(trip, tree):
    trip.patch_json("/item?path=trip/camera.jpg", {"takenAt": "2001-01-01T00:00:00", "addTags": ["kept"]})
    answer = trip.patch_json("/item?path=trip/camera.jpg", {"takenAt": None}).json
    assert (answer["takenAt"], answer["dateSource"]) == ("2019-05-12T10:00:00", "exif")
    assert not {"takenAt", "dateSource"} & set(sidecar(tree, "camera.jpg")) and answer["tags"] == ["kept"]
    assert "dateSet" not in listed(trip, "camera.jpg")


def test_a_put_of_the_get_answer_keeps_a_person_s_date_and_stores_no_camera_date(trip, tree):
    got = trip.get("/item?path=trip/camera.jpg").json
    trip.put_json("/item?path=trip/camera.jpg", dict(got, tags=["sea"]))
    assert "takenAt" not in sidecar(tree, "camera.jpg")
    trip.patch_json("/item?path=trip/camera.jpg", {"takenAt": "2020-02-02T02:02:02"})
    got = trip.get("/item?path=trip/camera.jpg").json
    trip.put_json("/item?path=trip/camera.jpg", dict(got, tags=["sun"]))
    assert sidecar(tree, "camera.jpg")["takenAt"] == "2020-02-02T02:02:02"


def test_a_shift_moves_each_photo_from_its_own_date_and_the_timeline_follows(trip, tree, config, storage):
    answer = trip.post_json("/dates", {"paths": ["trip/camera.jpg", "trip/scan.jpg"], "shift": "-1 y 2 d"}).json
    assert answer["items"] == [
        {"path": "trip/camera.jpg", "takenAt": "2018-05-10T10:00:00", "dateSource": "person"},
        {"path": "trip/scan.jpg", "takenAt": "2016-07-12T02:40:00", "dateSource": "person"}]
    trip.post_json("/dates", {"paths": ["trip/scan.jpg"] * 2, "shift": "+30 min"})  # from the person's date, once
    assert sidecar(tree, "scan.jpg")["takenAt"] == "2016-07-12T03:10:00"
    timeline = trip.get("/timeline").json["items"]  # at once: the dates; the order with the rollup
    assert {item["path"]: item["takenAt"] for item in timeline}["trip/scan.jpg"] == "2016-07-12T03:10:00"
    trip.post_json("/dates", {"paths": ["trip/scan.jpg"], "shift": "+3 y"})
    run_jobs(config, storage)
    assert wait_until(lambda: [item["path"] for item in trip.get("/timeline").json["items"]] ==
                      ["trip/scan.jpg", "trip/camera.jpg"])
    assert trip.get("/on-this-day?day=07-12").json["years"][0]["items"][0]["dateSource"] == "person"


def test_a_timeline_walked_a_photo_at_a_time_after_a_shift_shows_each_photo_once(trip):
    trip.post_json("/dates", {"paths": ["trip/camera.jpg"], "shift": "-3 y"})  # now older than the scan
    seen, cursor = [], {}
    for _ in range(4):
        answer = trip.get("/timeline", {"limit": 1, **cursor}).json
        seen += [item["path"] for item in answer["items"]]
        if answer["older"] is None:
            break
        cursor = {"before": answer["older"]}
    assert sorted(seen) == ["trip/camera.jpg", "trip/scan.jpg"]


def test_a_date_with_its_offset_is_shifted_with_it_and_months_keep_to_the_month_s_end(trip, tree):
    trip.patch_json("/item?path=trip/scan.jpg", {"takenAt": "2024-01-31T23:00:00-05:00"})
    trip.post_json("/dates", {"paths": ["trip/scan.jpg"], "shift": "+1 mo 1 h"})
    assert sidecar(tree, "scan.jpg")["takenAt"] == "2024-03-01T00:00:00-05:00"


@pytest.mark.parametrize("taken", ["yesterday", "2024-05-12", "0000-01-01T00:00:00", "99999-01-01T00:00:00",
                                   "2024-02-30T10:00:00", "2024-05-12T10:00:00+15:00", "2024-05-12T10:00:00Z",
                                   "2024-05-12T10:00:00" + " " * 5000, 20240512, ["2024-05-12T10:00"], {}])
def test_a_bad_date_is_a_clear_400_and_changes_nothing(trip, tree, taken):
    trip.patch_json("/item?path=trip/scan.jpg", {"addTags": ["kept"]})
    before = (tree / "trip" / "scan.jpg.json").read_bytes()
    answer = trip.patch_json("/item?path=trip/scan.jpg", {"takenAt": taken, "addTags": ["no"]}, status=400).json
    assert answer["field"] == "takenAt"
    trip.put_json("/item?path=trip/scan.jpg", {"takenAt": taken, "dateSource": "person"}, status=400)
    assert (tree / "trip" / "scan.jpg.json").read_bytes() == before


@pytest.mark.parametrize("body", [
    {"paths": ["trip/scan.jpg"], "shift": "1 h"}, {"paths": ["trip/scan.jpg"], "shift": "+1 week"},
    {"paths": ["trip/scan.jpg"], "shift": "+"}, {"paths": ["trip/scan.jpg"], "shift": 3600},
    {"paths": ["trip/scan.jpg"], "shift": "+1 h" * 40}, {"paths": [], "shift": "+1 h"}, {"shift": "+1 h"},
    {"paths": ["trip/scan.jpg"] * 1001, "shift": "+1 h"}, {"paths": [7], "shift": "+1 h"}, ["trip/scan.jpg"],
])
def test_a_bad_shift_is_a_clear_400_and_changes_nothing(trip, tree, body):
    assert trip.post_json("/dates", body, status=400).json["title"]
    assert not (tree / "trip" / "scan.jpg.json").exists()


@pytest.mark.parametrize("shift", ["-2020 y", "+8000 y"])
def test_a_shift_that_would_leave_years_1_to_9999_is_refused_whole(trip, tree, shift):
    trip.patch_json("/item?path=trip/camera.jpg", {"takenAt": "9000-01-01T00:00:00"})
    before = (tree / "trip" / "camera.jpg.json").read_bytes()
    answer = trip.post_json("/dates", {"paths": ["trip/scan.jpg", "trip/camera.jpg"], "shift": shift}, status=400)
    assert "1 to 9999" in answer.json["description"]
    assert (tree / "trip" / "camera.jpg.json").read_bytes() == before
    assert not (tree / "trip" / "scan.jpg.json").exists()


def test_a_shift_lands_in_a_bucket_as_on_disk_and_its_listing_follows(gallery):
    gallery.put("trip/camera.jpg", exif_photo(taken="2019:05:12 10:00:00"))
    gallery.index()
    client = gallery.client
    client.post_json("/dates", {"paths": ["trip/camera.jpg"], "shift": "+1 d"})
    assert orjson.loads(gallery.read("trip/camera.jpg.json"))["takenAt"] == "2019-05-13T10:00:00"
    assert client.get("/folders?path=trip").json["items"][0]["dateSet"] == "2019-05-13T10:00:00"


def test_a_shift_naming_a_missing_photo_changes_none(trip, tree):
    answer = trip.post_json("/dates", {"paths": ["trip/scan.jpg", "trip/gone.jpg"], "shift": "+1 h"}, status=404)
    assert answer.json["path"] == "trip/gone.jpg"
    assert not (tree / "trip" / "scan.jpg.json").exists()


def test_a_shift_with_a_torn_sidecar_among_its_photos_changes_none_and_a_retry_shifts_once(gallery):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        gallery.put(f"trip/{name}", exif_photo(taken="2019:05:12 10:00:00"))
    gallery.put("trip/b.jpg.json", b'{"v":1,"tags":["half')  # torn by another program
    client, paths = gallery.client, ["trip/a.jpg", "trip/b.jpg", "trip/c.jpg"]
    answer = client.post_json("/dates", {"paths": paths, "shift": "+1 d"}, status=409).json
    assert answer["path"] == "trip/b.jpg" and not gallery.exists("trip/a.jpg.json")
    gallery.put("trip/b.jpg.json", b'{"v":1,"tags":[]}')
    client.post_json("/dates", {"paths": paths, "shift": "+1 d"})
    assert orjson.loads(gallery.read("trip/a.jpg.json"))["takenAt"] == "2019-05-13T10:00:00"


@pytest.mark.parametrize("forged", ["not a date", "0000-01-01T00:00:00", "99999-01-01T00:00:00", "2024" * 10000,
                                    20240512, ["2024-05-12T10:00:00"], None])
def test_a_forged_date_in_a_sidecar_is_ignored(trip, tree, config, storage, forged):
    (tree / "trip" / "scan.jpg.json").write_bytes(orjson.dumps(
        {"v": 1, "tags": ["t"], "takenAt": forged, "dateSource": "person"}))
    index_tree(config, storage)
    assert "dateSet" not in listed(trip, "scan.jpg")
    assert trip.get("/item?path=trip/scan.jpg").json["takenAt"] is None
    assert trip.get("/search?q=date:2024").json["items"] == []
    assert trip.patch_json("/item?path=trip/scan.jpg", {"addTags": ["u"]}).json["tags"] == ["t", "u"]


def test_a_sidecar_without_a_date_serves_as_before(trip, tree, config, storage):
    (tree / "trip" / "camera.jpg.json").write_text(json.dumps({"v": 1, "tags": ["old"], "star": 3}))
    index_tree(config, storage)
    item = listed(trip, "camera.jpg")
    assert (item["tags"], item["star"], item["taken"]) == (["old"], 3, "2019-05-12T10:00:00")
    assert "dateSet" not in item


def test_another_site_another_host_and_a_link_change_no_date(trip, tree):
    for headers, status in (({"Sec-Fetch-Site": "cross-site"}, 403), ({"Origin": "https://evil.example"}, 403),
                            ({"Host": "evil.example"}, 421)):
        trip.patch_json("/item?path=trip/scan.jpg", {"takenAt": "2000-01-01T00:00"}, headers=headers, status=status)
        trip.post_json("/dates", {"paths": ["trip/scan.jpg"], "shift": "+1 h"}, headers=headers, status=status)
    trip.post("/dates", "paths=trip/scan.jpg&shift=%2B1+h", content_type="text/plain", status=415)
    shared = {"X-Lenslet-Share": trip.post_json("/shares", {"path": "trip"}, status=201).json["key"]}
    trip.post_json("/dates", {"paths": ["trip/scan.jpg"], "shift": "+1 h"}, headers=shared, status=403)
    trip.patch_json("/item?path=trip/scan.jpg", {"takenAt": "2000-01-01T00:00"}, headers=shared, status=403)
    assert not (tree / "trip" / "scan.jpg.json").exists()


def test_a_date_outside_a_person_s_folders_is_missing_to_them_and_a_viewer_shifts_none(gallery, tmp_path):
    world = World(gallery, tmp_path)
    before = gallery.read("work/d.jpg.json")
    for who, status in (("editor", 404), ("viewer", 403)):  # family/ is not the editor's; a viewer changes nothing
        world.client.post_json("/dates", {"paths": ["work/d.jpg", "family/a.jpg"], "shift": "+1 h"},
                               headers=world.as_(who), status=status)
    assert gallery.read("work/d.jpg.json") == before
    assert "takenAt" not in orjson.loads(gallery.read("family/a.jpg.json"))


def test_a_read_only_folder_changes_no_date(client, tree, tmp_path, config, storage):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "a.jpg").write_bytes(exif_photo())
    read_only_pointer(tree / "archive", tmp_path / "elsewhere")
    index_tree(config, storage)
    client.post_json("/dates", {"paths": ["archive/a.jpg"], "shift": "+1 h"}, status=403)
    client.patch_json("/item?path=archive/a.jpg", {"takenAt": "2000-01-01T00:00"}, status=403)
    assert not (tmp_path / "elsewhere" / "a.jpg.json").exists()


def test_two_people_shifting_and_tagging_one_photo_at_once_lose_nothing(trip, tree, config):
    other = webtest.TestApp(spec_checked(create_app(config)))  # a second web process on the tree

    def shifting(client, n):
        for round_ in range(5):
            client.post_json("/dates", {"paths": ["trip/camera.jpg"], "shift": "+1 h"})
            client.patch_json("/item?path=trip/camera.jpg", {"addTags": [f"t{n}-{round_}"]})

    threads = [threading.Thread(target=shifting, args=(client, n)) for n, client in enumerate((trip, other) * 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = sidecar(tree, "camera.jpg")
    assert stored["takenAt"] == "2019-05-13T06:00:00" and len(stored["tags"]) == 20


# -- XMP ------------------------------------------------------------------------------------------

@needs_exiftool
def test_with_xmp_written_a_date_is_read_back_by_exiftool_and_null_takes_it_out(trip, tree, client_with):
    writer = client_with(xmp="write")
    writer.patch_json("/item?path=trip/scan.jpg", {"takenAt": "1987-08-01T15:30:00+01:00"})
    [xmp] = (tree / "trip").glob("*.xmp")

    def read_back():
        done = subprocess.run([EXIFTOOL, "-j", "-G1", "-XMP:all", str(xmp)], capture_output=True, timeout=120,
                              check=True)
        return json.loads(done.stdout)[0]

    said = read_back()
    assert said["XMP-exif:DateTimeOriginal"] == "1987:08:01 15:30:00+01:00"
    assert said["XMP-photoshop:DateCreated"] == "1987:08:01 15:30:00+01:00"
    writer.patch_json("/item?path=trip/scan.jpg", {"addTags": ["sea"]})  # another edit leaves the date alone
    assert read_back()["XMP-exif:DateTimeOriginal"] == "1987:08:01 15:30:00+01:00"
    writer.patch_json("/item?path=trip/scan.jpg", {"takenAt": None})
    assert not {"XMP-exif:DateTimeOriginal", "XMP-photoshop:DateCreated"} & set(read_back())
