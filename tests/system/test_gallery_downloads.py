"""Downloading many photos at once from the gallery page, in headless Chromium against gunicorn: a folder with its
subfolders, the images picked, on a desktop and on a phone-sized screen, saved by the browser as one ZIP."""

import os
import time
import zipfile

import pytest
from helpers import SHAPES, draw


@pytest.fixture
def page(fresh_page, shapes, tmp_path, browser):
    draw(shapes / "trip" / "day two" / "harbour.jpg", color=(10, 90, 140))
    saved = tmp_path / "downloads"
    saved.mkdir()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(saved)})
    page = fresh_page()
    page.saved = saved
    return page


def downloaded(page, name):
    """The names in the ZIP the browser saved as name, once it is whole."""
    path = page.saved / name
    page.until(lambda: path.exists() and not any(found.endswith(".crdownload") for found in os.listdir(page.saved)))
    time.sleep(0.1)
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return sorted(archive.namelist())


def test_a_folder_downloads_with_its_subfolders(page):
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == len(SHAPES))
    page.find("#download-zip").click()
    assert downloaded(page, "trip.zip") == sorted(["day two/harbour.jpg", *SHAPES])


def test_the_images_picked_download_on_a_phone_sized_screen(page):
    page.driver.set_window_size(390, 844)
    try:
        page.open("#path=trip")
        page.until(lambda: len(page.thumbs_drawn()) == len(SHAPES))
        first, second = sorted(SHAPES)[:2]
        page.labelled("Folder actions").click()
        page.find("#select-mode").click()  # a phone's photos show their checkboxes only while selecting
        page.find(f'[aria-label="Select {first}"]').click()
        page.find(f'[aria-label="Select {second}"]').click()
        page.until(lambda: page.find("#selection-count").text == "2 selected")
        assert not page.find("#download-zip").is_displayed()  # behind the folder's "More"
        page.labelled("Folder actions").click()
        page.find("#download-zip").click()
        assert downloaded(page, "photos.zip") == [first, second]
    finally:
        page.driver.set_window_size(1280, 900)


def test_a_live_photo_picked_downloads_with_its_video(page, shapes):
    (shapes / "trip" / "live.mov").write_bytes(b"\x00\x00\x00\x14ftypqt  " + bytes(64))  # the picture's video
    draw(shapes / "trip" / "live.jpg", color=(90, 90, 9))
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == len(SHAPES) + 1)  # one tile for the two
    page.find('[aria-label="Select live.jpg"]').click()
    page.find("#download-zip").click()
    assert downloaded(page, "photos.zip") == ["live.jpg", "live.mov"]
