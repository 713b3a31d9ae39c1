"""The gallery page in a real headless Chromium against gunicorn: browse, view, edit, search."""

import json
import shutil
import time
import urllib.parse
import urllib.request

import pytest
from helpers import draw, http
from PIL import Image


def assert_writes_say_what_they_send(fetches):
    """Every write the page made sent a form or JSON labelled application/json (lenslet reads no other)."""
    writes = [sent for sent in fetches if sent["method"] != "GET"]
    assert writes, "the page made no write"
    for sent in writes:
        assert sent["body"] == "FormData" or (sent["body"] == "text" and sent["type"] == "application/json"), sent


def exif_camera(make, model):
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    return exif


@pytest.fixture
def photos(tree):
    """A small tree: 2024 with three photos (one with a camera in its EXIF), 2023 with one."""
    draw(tree / "2024" / "beach.jpg", size=(320, 240), color=(30, 120, 200), exif=exif_camera("Canon", "Canon EOS 5D"))
    draw(tree / "2024" / "hills.jpg", size=(240, 320), color=(40, 160, 60))
    draw(tree / "2024" / "night.png", size=(300, 200), color=(20, 20, 60))
    draw(tree / "2023" / "snow.jpg", color=(230, 230, 240))
    return tree


@pytest.fixture
def page(page_for, gunicorn, photos):
    """Start gunicorn over the photos and answer a helper that drives the browser against it."""
    def start(**env):
        server = gunicorn(env=env)
        server.wait_until(lambda: server.get("/health")[0] == 200)
        return page_for(server)
    return start


def test_browse_view_edit_reload_and_search(page, photos, tmp_path):
    for n in range(9):
        draw(photos / "2024" / f"frame{n}.jpg", color=(200, 20 * n, 90))
    page = page(LENSLET_PAGE_SIZE="10")  # 2024's twelve images come in two manifest pages
    page.open()
    page.until(lambda: page.script(
        "return document.querySelector('.tile.folder[data-folder=\"2024\"] .count').textContent") == "12")
    page.find('.tile.folder[data-folder="2024"]').click()
    page.until(lambda: page.thumbs_drawn() and all(page.thumbs_drawn()))
    assert len(page.thumbs_drawn()) == 12 and "path=2024" in page.driver.current_url
    assert page.find("#count").text == "12 images" and page.script(
        "return [...document.querySelectorAll('#crumbs a')].map(a => a.textContent)") == ["All photos", "2024"]
    page.screenshot(tmp_path, "grid.png")  # for people to look at: LENSLET_SCREENSHOT_DIR keeps it

    page.labelled("beach.jpg").click()
    page.until(lambda: page.viewer_name() == "beach.jpg")
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") == 320)
    page.until(lambda: "Canon EOS 5D" in page.find("#view-exif").text)
    assert "320 \u00d7 240 px" in page.find("#view-exif").text

    page.keys("4")
    page.until(lambda: page.stars() == 4)
    page.labelled("Tags").send_keys("sunset\n")
    page.until(lambda: page.tags() == ["sunset"])
    page.labelled("Notes").send_keys("first swim of the year")
    page.find("#view-save-notes").click()
    page.until(lambda: page.item("2024/beach.jpg")["notes"] == "first swim of the year")
    assert page.item("2024/beach.jpg")["star"] == 4 and page.item("2024/beach.jpg")["tags"] == ["sunset"]
    edited = time.monotonic()  # every edit is stored by now

    page.driver.refresh()
    page.until(lambda: page.viewer_name() == "beach.jpg" and page.tags() == ["sunset"])
    assert page.stars() == 4 and page.labelled("Notes").get_attribute("value") == "first swim of the year"
    page.until(lambda: page.script("return document.querySelector('.tile.image .rating').textContent") == "\u2605" * 4)

    page.keys(page.Keys.ARROW_RIGHT)
    page.until(lambda: page.viewer_name() == "frame0.jpg")
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.viewer_name() is None and "view=" not in page.driver.current_url)

    # Every gunicorn worker reads new edits within a second (docs/search.md, Search): wait for that,
    # as a person typing would, so the page's one search is not raced against it. (Two answers
    # of 1 may both come from one of the two web processes: the second since the edits is what
    # holds for both.)
    page.until(lambda: time.monotonic() - edited >= 1.0 and
               json.loads(page.server.get("/search?q=sunset")[1])["total"] == 1 and
               json.loads(page.server.get("/search?q=sunset")[1])["total"] == 1)
    page.labelled("Search").send_keys("sunset\n")
    page.until(lambda: "q=sunset" in page.driver.current_url and page.find("#count").text == "1 image found")
    shown = page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path)")
    assert shown == ["2024/beach.jpg"]
    page.driver.back()
    page.until(lambda: "q=" not in page.driver.current_url and page.find("#count").text == "12 images")


def test_their_version_after_a_lost_race_loads_every_field_and_a_save_keeps_their_notes(page, fetches):
    page = page()
    page.open("#path=2024&view=2024/hills.jpg")
    # Its details drawn (GET /item answered), so the page holds the version before the other person's edit.
    page.until(lambda: page.viewer_name() == "hills.jpg" and page.stars() == 0 and page.details_drawn())
    page.patch("2024/hills.jpg", {"notes": "theirs", "addTags": ["wet"], "star": 2})  # someone else, meanwhile
    page.labelled("Notes").send_keys("mine")
    page.find("#view-save-notes").click()
    page.until(lambda: "Someone else changed this image" in page.find("#view-message").text)
    assert page.labelled("Notes").get_attribute("value") == "mine" and page.item("2024/hills.jpg")["notes"] == "theirs"

    page.find("#view-message button").click()  # Load their version
    page.until(lambda: page.labelled("Notes").get_attribute("value") == "theirs")
    assert page.tags() == ["wet"] and page.stars() == 2
    assert page.find("#view-message .unsaved").text == "mine"  # what was typed is still there to copy
    page.find("#view-save-notes").click()
    page.until(lambda: page.find("#status").text == "Saved notes.")
    assert page.item("2024/hills.jpg")["notes"] == "theirs"

    page.labelled("Notes").send_keys(", and mine")
    page.find("#view-save-notes").click()
    page.until(lambda: page.item("2024/hills.jpg")["notes"] == "theirs, and mine")
    assert page.item("2024/hills.jpg")["tags"] == ["wet"] and page.item("2024/hills.jpg")["star"] == 2
    assert_writes_say_what_they_send(fetches())


def test_the_token_is_asked_once_and_kept(page):
    page = page(LENSLET_TOKEN="s3cret")
    page.open("#path=2024&view=2024/night.png")
    page.until(lambda: page.viewer_name() == "night.png" and page.stars() == 0)
    page.labelled("3 stars").click()
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.labelled("Token").send_keys("s3cret\n")
    page.until(lambda: page.item("2024/night.png")["star"] == 3)
    assert page.script("return localStorage.getItem('lenslet.token')") == "s3cret"
    page.labelled("5 stars").click()  # the kept token is sent: no second question
    page.until(lambda: page.item("2024/night.png")["star"] == 5)
    assert not page.script("return document.getElementById('token-dialog').open")


def test_a_mistyped_token_is_asked_for_again_and_the_action_completes(page, fetches):
    page = page(LENSLET_TOKEN="s3cret")
    page.open("#path=2024&view=2024/night.png")
    page.until(lambda: page.viewer_name() == "night.png" and page.stars() == 0)
    page.labelled("3 stars").click()
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    assert not page.find("#token-refused").is_displayed()
    page.labelled("Token").send_keys("s3crte\n")
    page.until(lambda: page.script("return document.getElementById('token-dialog').open") and
               page.find("#token-refused").is_displayed())
    assert not page.item("2024/night.png")["star"] and page.labelled("Token").get_attribute("value") == ""
    page.labelled("Token").send_keys("s3cret\n")
    page.until(lambda: page.item("2024/night.png")["star"] == 3)
    assert page.script("return localStorage.getItem('lenslet.token')") == "s3cret"
    assert_writes_say_what_they_send(fetches())


def test_read_only_shows_no_edit_controls(page, tmp_path):
    page = page(LENSLET_READONLY="true", LENSLET_CACHE_DIR=str(tmp_path / "cache"))
    page.open("#path=2024&view=2024/beach.jpg")
    page.until(lambda: page.viewer_name() == "beach.jpg" and "Canon" in page.find("#view-exif").text)
    assert not page.labelled("Tags").is_displayed() and not page.find("#view-save-notes").is_displayed()
    assert not page.find("#upload-button").is_displayed() and not page.find("#view-trash").is_displayed()
    assert page.labelled("1 star").get_attribute("disabled") and page.labelled("Notes").get_attribute("readonly")


def test_a_phone_sized_screen_hides_the_folders_behind_a_button(page, tmp_path):
    page = page()
    page.driver.set_window_size(390, 844)
    try:
        page.open("#path=2024")
        page.until(lambda: page.thumbs_drawn() and all(page.thumbs_drawn()))
        assert page.script("return document.getElementById('sidebar').getBoundingClientRect().right") <= 0
        page.labelled("Folders").click()
        page.until(lambda: page.script("return document.getElementById('sidebar').getBoundingClientRect().left") == 0)
        page.screenshot(tmp_path, "phone.png")
    finally:
        page.driver.set_window_size(1280, 900)


def draw_upload(tmp_path):
    return str(draw(tmp_path / "upload" / "harbour.jpg", color=(10, 90, 140)))


def test_upload_by_the_button(page, tmp_path, photos):
    page = page()
    page.open("#path=2023")
    page.until(lambda: len(page.thumbs_drawn()) == 1)
    page.find("#upload-input").send_keys(draw_upload(tmp_path))
    page.until(lambda: (photos / "2023" / "harbour.jpg").exists())
    page.until(lambda: page.script("return document.querySelector('[data-path=\"2023/harbour.jpg\"]') !== null"))


def test_trash_and_restore_from_the_viewer(page, photos):
    page = page()
    page.open("#path=2023&view=2023/snow.jpg")
    page.until(lambda: page.viewer_name() == "snow.jpg")
    page.find("#view-trash").click()
    page.until(lambda: (photos / "_trash_" / "snow.jpg").exists() and not (photos / "2023" / "snow.jpg").exists())
    # The page has its answer too: with no other image to show, the viewer closed (a link followed
    # before that would be left by the page's own step to the next image).
    page.until(lambda: page.viewer_name() is None and "view=" not in page.driver.current_url)
    page.open("#path=_trash_&view=_trash_/snow.jpg")
    page.until(lambda: page.find("#view-trash").text == "Restore")
    page.find("#view-trash").click()
    page.until(lambda: (photos / "2023" / "snow.jpg").exists())


def test_select_several_then_tag_trash_and_delete_forever(page, photos):
    page = page()
    page.open("#path=2024")
    page.until(lambda: len(page.thumbs_drawn()) == 3)
    page.find('[aria-label="Select beach.jpg"]').click()
    from selenium.webdriver.common.action_chains import ActionChains
    ActionChains(page.driver).key_down(page.Keys.SHIFT).click(page.labelled("night.png")).key_up(page.Keys.SHIFT).perform()
    page.until(lambda: page.find("#selection-count").text == "3 selected")
    page.labelled("Tag for the selected images").send_keys("trip\n")
    page.until(lambda: all(page.item(f"2024/{name}")["tags"] == ["trip"]
                           for name in ("beach.jpg", "hills.jpg", "night.png")))
    page.find('[aria-label="Select hills.jpg"]').click()  # two left
    page.find("#trash-button").click()
    page.until(lambda: sorted(p.name for p in (photos / "_trash_").glob("*.*g")) == ["beach.jpg", "night.png"])
    page.open("#path=_trash_")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    page.find('[aria-label="Select beach.jpg"]').click()
    page.find("#delete-button").click()
    page.driver.switch_to.alert.accept()
    page.until(lambda: not (photos / "_trash_" / "beach.jpg").exists())


def test_restore_goes_to_the_recorded_name_even_in_a_folder_removed_meanwhile(page, photos, fetches):
    draw(photos / "2022" / "snow.jpg", color=(20, 220, 20))
    page = page()
    http("POST", f"{page.server.url}/trash", {"paths": ["2023/snow.jpg"]})
    http("POST", f"{page.server.url}/trash", {"paths": ["2022/snow.jpg"]})  # a second snow.jpg: "snow (1).jpg"
    shutil.rmtree(photos / "2022")
    page.open("#" + urllib.parse.urlencode({"path": "_trash_", "view": "_trash_/snow (1).jpg"}))
    page.until(lambda: page.find("#view-trash").text == "Restore")
    page.find("#view-trash").click()
    page.until(lambda: (photos / "2022" / "snow.jpg").exists())
    with Image.open(photos / "2022" / "snow.jpg") as restored:
        assert restored.getpixel((8, 8))[1] > 180  # the green one
    assert sorted(path.name for path in (photos / "2022").glob("*.jpg")) == ["snow.jpg"]
    assert_writes_say_what_they_send(fetches())


def test_a_restore_onto_a_taken_name_says_why_and_can_keep_both(page, photos, fetches):
    page = page()
    http("POST", f"{page.server.url}/trash", {"paths": ["2023/snow.jpg"]})
    draw(photos / "2023" / "snow.jpg", color=(200, 20, 20))  # another snow.jpg took its place meanwhile
    page.open("#path=_trash_")
    page.until(lambda: len(page.thumbs_drawn()) == 1)
    page.find('[aria-label="Select snow.jpg"]').click()
    page.find("#restore-button").click()
    page.until(lambda: "snow.jpg was not restored" in page.find("#notice").text)
    assert "2023/snow.jpg" in page.find("#notice").text and (photos / "_trash_" / "snow.jpg").exists()
    page.find("#notice button").click()
    page.until(lambda: (photos / "2023" / "snow (1).jpg").exists())
    with Image.open(photos / "2023" / "snow.jpg") as kept:
        assert kept.getpixel((8, 8))[0] > 180  # the red newcomer is untouched
    page.until(lambda: page.find("#notice").text == "")
    assert_writes_say_what_they_send(fetches())


def test_a_refused_write_in_a_read_only_pointer_folder_leaves_the_rest_editable(page, photos, tmp_path, fetches):
    archive = tmp_path / "archive"
    draw(archive / "old.jpg", color=(90, 90, 90))
    (photos / "archive").mkdir()
    (photos / "archive" / ".lenslet.folder.json").write_text(json.dumps(
        {"kind": "pointer", "target": {"type": "local", "path": str(archive)}, "readonly": True}))
    page = page(LENSLET_POINTER_ROOTS=str(archive))
    page.open("#path=archive&view=archive/old.jpg")
    page.until(lambda: page.viewer_name() == "old.jpg" and page.find("#view-exif").text)
    page.labelled("2 stars").click()
    page.until(lambda: "read-only" in page.find("#view-message").text)
    assert not page.script("return document.body.classList.contains('readonly')")

    page.script("location.hash = arguments[0]", "#path=2024&view=2024/beach.jpg")  # same page: no reload
    page.until(lambda: page.viewer_name() == "beach.jpg" and "Canon" in page.find("#view-exif").text)
    assert page.labelled("Tags").is_displayed() and not page.labelled("4 stars").get_attribute("disabled")
    page.labelled("4 stars").click()
    page.until(lambda: page.item("2024/beach.jpg")["star"] == 4)
    assert not page.item("archive/old.jpg")["star"]
    assert_writes_say_what_they_send(fetches())
