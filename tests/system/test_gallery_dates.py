"""A person fixes dates in the gallery page, headless Chromium against gunicorn: the viewer says "No date" for a
scan without one, sets a date with its datetime field and gives back the camera's, and the selection bar's
"Shift dates…" moves every photo picked by one amount."""

import os

import orjson
import pytest
from helpers import exif_photo, index_tree

from lenslet.config import Config
from lenslet.storage import LocalStorage

pytestmark = pytest.mark.system


@pytest.fixture
def trip(tree):
    (tree / "trip").mkdir()
    (tree / "trip" / "camera.jpg").write_bytes(exif_photo(taken="2019:05:12 10:00:00", size=(60, 40)))
    (tree / "trip" / "scan.jpg").write_bytes(exif_photo(size=(60, 40)))
    os.utime(tree / "trip" / "scan.jpg", (1.5e9, 1.5e9))  # 2017-07-14 02:40 UTC
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


def taken_at(tree, name):
    sidecar = tree / "trip" / f"{name}.json"
    return orjson.loads(sidecar.read_bytes()).get("takenAt") if sidecar.exists() else None


def test_a_person_sets_a_date_gives_back_the_camera_s_and_shifts_a_selection(fresh_page, trip):
    page = fresh_page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    page.labelled("scan.jpg").click()
    page.until(lambda: page.viewer_name() == "scan.jpg" and "No date" in page.find("#view-exif").text)
    assert not page.find("#view-date-clear").is_displayed()  # no date of a person's to give back

    page.script("arguments[0].value = '1987-08-01T15:30'", page.find("#view-date"))  # what the picker types
    page.find("#date-form button[type=submit]").click()
    page.until(lambda: "1987-08-01 15:30:00 (set by a person)" in page.find("#view-exif").text)
    assert taken_at(trip, "scan.jpg") == "1987-08-01T15:30:00"
    page.find("#view-date-clear").click()
    page.until(lambda: "No date" in page.find("#view-exif").text and not page.find("#view-date-clear").is_displayed())
    assert taken_at(trip, "scan.jpg") is None
    page.keys(page.Keys.ESCAPE)

    page.find('[data-path="trip/camera.jpg"] .pick').click()
    page.find('[data-path="trip/scan.jpg"] .pick').click()
    page.find("#shift-dates-button").click()
    page.find("#ask-input").send_keys("-1 y 2 d")
    page.find("#ask-ok").click()
    page.until(lambda: taken_at(trip, "scan.jpg") == "2016-07-12T02:40:00")
    assert taken_at(trip, "camera.jpg") == "2018-05-10T10:00:00"
    page.until(lambda: "Shifted 2 dates" in page.find("#status").text)
