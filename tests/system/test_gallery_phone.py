"""The gallery page on a phone (390x844) and on a desktop: the first photos near the top and fetched first, search
usable, the rarer actions behind "More", the viewer's photo full screen with its details behind a
button, a sign while a preview is on its way, and a question before notes not saved are lost."""

import json
import time

import pytest
from helpers import draw

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


@pytest.fixture
def phone(fresh_page, shapes):
    """Answer a function making a Page of a new server (with its environment), seen on a phone."""
    def start(**env):
        page = fresh_page(env=env)
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        return page
    return start


@pytest.fixture(autouse=True)
def desktop_again(browser):
    """The module's browser goes back to the desktop's size and speed after each test."""
    yield
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})


def box(page, css):
    """{left, top, width, height, right, bottom} of the element css finds."""
    return page.script("return document.querySelector(arguments[0]).getBoundingClientRect().toJSON()", css)


def shown(page, css):
    return page.script("const e = document.querySelector(arguments[0]);"
                       " return e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden'", css)


def test_on_a_phone_the_first_photos_are_near_the_top_and_search_is_usable(phone, tmp_path):
    page = phone()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4 and all(page.thumbs_drawn()))
    assert box(page, ".bar")["height"] < 60  # one row: folders, search, More
    assert box(page, "#search")["width"] >= 200
    assert box(page, ".tile.image")["top"] < 844 * 0.25
    tiles = page.script("return [...document.querySelectorAll('.tile.image')]"
                        ".map(tile => tile.getBoundingClientRect().toJSON())")
    assert len({tile["top"] for tile in tiles}) == 1  # four a row
    assert tiles[0]["left"] == 0 and tiles[3]["right"] == 390  # edge to edge
    gaps = [right["left"] - left["right"] for left, right in zip(tiles, tiles[1:], strict=False)]
    assert all(0 < gap <= 2 for gap in gaps)  # thin gaps
    assert not shown(page, ".tile.image .caption") and not shown(page, ".tile.image .pick")
    assert not shown(page, "#upload-button") and not shown(page, "#new-folder")
    page.screenshot(tmp_path, "phone-grid.png")

    page.labelled("More actions").click()
    page.until(lambda: shown(page, "#upload-button") and shown(page, "#upload-folder-button"))
    page.screenshot(tmp_path, "phone-bar-menu.png")
    page.labelled("More actions").click()  # its button closes it again
    page.until(lambda: not shown(page, "#upload-button"))
    page.labelled("Folder actions").click()
    page.until(lambda: shown(page, "#new-folder") and shown(page, "#share-folder"))
    page.screenshot(tmp_path, "phone-folder-menu.png")
    page.find("#new-folder").click()  # a choice closes its menu and does what it says
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open")
               and not shown(page, "#new-folder"))

    page.keys(page.Keys.ESCAPE)
    page.until_every_process(lambda: json.loads(page.server.get("/search?q=square")[1])["total"] == 1)
    seen = time.monotonic()  # both web processes have the rollup (as in test_gallery_browser.py)
    page.until(lambda: time.monotonic() - seen >= 1.0)
    page.find("#search").send_keys("square\n")
    page.until(lambda: [tile.get_attribute("data-path") for tile in page.driver.find_elements(
        page.by.CSS_SELECTOR, ".tile.image")] == ["trip/square.jpg"])


def test_on_a_phone_the_photos_at_the_top_of_the_screen_are_fetched_before_the_rest(phone, tree):
    for number in range(60):  # 15 rows of four: the screen shows 8 of them
        draw(tree / "many" / f"{number:02}.jpg")
    page = phone()
    page.open("#path=many")
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, ".tile.image img[src]")) > 40)
    asked = page.script("return [...document.querySelectorAll('.tile.image img[src]')]"
                        ".map(img => [img.getBoundingClientRect().top < innerHeight / 3, img.fetchPriority])")
    assert {at_top for at_top, priority in asked if priority == "high"} == {True}
    assert {at_top for at_top, priority in asked if priority == "low"} == {False}
    assert sum(priority == "low" for at_top, priority in asked) >= 20


def test_on_a_phone_a_photo_opened_by_a_link_comes_before_the_grid_behind_it(phone, tree):
    for number in range(20):
        draw(tree / "many" / f"{number:02}.jpg")
    page = phone()
    page.open("#path=many&view=many/05.jpg")
    page.until(lambda: page.viewer_name() == "05.jpg" and len(page.driver.find_elements(
        page.by.CSS_SELECTOR, ".tile.image img[src]")) == 20)
    assert set(page.script("return [...document.querySelectorAll('.tile.image img')].map(img => img.fetchPriority)")) \
        == {"low"}


# The folder's listing held back by the page's fetch until the test lets it go.
HOLD_LISTING = """
const realFetch = window.fetch;
window.fetch = (url, options) => !String(url).includes("/folders?path=many") ? realFetch(url, options)
  : new Promise((go) => { const wait = setInterval(() => window.listingLetGo && (clearInterval(wait), go()), 20); })
    .then(() => realFetch(url, options));
"""


def test_a_photo_opened_by_a_link_shows_before_its_folder_is_read_and_an_arrow_pressed_meanwhile_counts(phone, tree):
    for number in range(20):
        draw(tree / "many" / f"{number:02}.jpg")
    page = phone()
    held = page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOLD_LISTING})
    try:
        page.open("#path=many&view=many/05.jpg")
        page.until(lambda: page.viewer_name() == "05.jpg" and page.script(
            "return document.getElementById('view-image').naturalWidth") > 0)
        assert page.script("return document.querySelectorAll('.tile.image').length") == 0  # the grid not drawn
        assert not page.find("#view-next").is_enabled()
        page.keys(page.Keys.ARROW_RIGHT)
        page.script("window.listingLetGo = true")
        page.until(lambda: page.viewer_name() == "06.jpg" and page.find("#view-next").is_enabled())
    finally:
        page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": held["identifier"]})


def test_on_a_phone_the_viewer_shows_the_photo_full_screen_and_the_details_on_asking(phone, shapes, tmp_path):
    draw(shapes / "trip" / "tall.jpg", size=(1000, 2000), color=(30, 160, 90))
    page = phone()
    page.open("#path=trip&view=trip/tall.jpg")
    page.until(lambda: page.viewer_name() == "tall.jpg" and page.script(
        "return document.getElementById('view-image').naturalWidth") > 0)
    stage, image = box(page, "#stage"), box(page, "#view-image")
    assert stage["width"] * stage["height"] >= 390 * 844 * 0.99
    assert image["width"] * image["height"] >= 390 * 844 * 0.85  # a photo of a phone's shape fills the screen
    assert not shown(page, "#view-info") and not shown(page, "#view-zoom")
    assert box(page, ".tools")["height"] < 60  # its tools in one row over the photo
    assert not shown(page, "#view-loading")
    page.screenshot(tmp_path, "phone-viewer.png")

    page.find("#view-details").click()
    page.until(lambda: shown(page, "#view-info") and shown(page, "#view-notes"))
    info = box(page, "#view-info")
    assert (info["left"], info["right"], info["bottom"]) == (0, 390, 844) and info["top"] > 844 / 3  # at its foot
    page.until(lambda: box(page, "#view-image")["bottom"] <= info["top"] + 0.5)  # the photo fits above them
    assert page.find("#view-details").get_attribute("aria-expanded") == "true"
    page.screenshot(tmp_path, "phone-viewer-details.png")
    page.labelled("More actions on this image").click()
    page.until(lambda: shown(page, "#view-trash") and shown(page, "#view-download"))
    page.screenshot(tmp_path, "phone-viewer-menu.png")
    page.keys(page.Keys.ESCAPE)  # closes the menu, not the viewer
    page.until(lambda: not shown(page, "#view-trash"))
    assert page.viewer_name() == "tall.jpg"

    page.open("#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg" and page.script(
        "return document.getElementById('view-image').naturalWidth") > 0)
    assert abs(box(page, "#view-image")["width"] - 390) < 1  # as wide as the screen


def test_on_a_phone_select_or_a_long_press_picks_photos_and_shows_their_names(phone):
    page = phone()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    page.labelled("Folder actions").click()
    page.find("#select-mode").click()
    page.until(lambda: shown(page, ".tile.image .caption") and shown(page, "#selection-bar"))
    page.find('[data-path="trip/square.jpg"] .open').click()  # picks it, opens nothing
    page.until(lambda: page.find("#selection-count").text == "1 selected")
    assert page.script("return document.getElementById('viewer').open") is False
    page.find("#clear-selection").click()
    page.until(lambda: not shown(page, ".tile.image .caption") and not shown(page, "#selection-bar"))

    page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        page.script("document.querySelector('[data-path=\"trip/portrait.jpg\"] .open')"
                    ".dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true}))")
        page.until(lambda: page.find("#selection-count").text == "1 selected" and shown(page, ".tile.image .pick"))
    finally:
        page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})


def test_a_sign_shows_while_the_preview_is_on_its_way(phone, shapes):
    draw(shapes / "trip" / "big.jpg", size=(1600, 1200), color=(200, 80, 40))
    page = phone()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 5)
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1})
    page.script("location.hash = '#path=trip&view=trip%2Fbig.jpg'")
    page.until(lambda: page.viewer_name() == "big.jpg" and shown(page, "#view-loading"))
    assert page.find("#view-loading").text == "Loading"
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") > 0)
    page.until(lambda: not shown(page, "#view-loading"))


def typed_notes(page, text):
    page.find("#view-notes").send_keys(text)


def test_notes_not_saved_are_never_lost_without_a_question(fresh_page, shapes):
    page = fresh_page()
    page.open("#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg" and page.item("trip/landscape.jpg") is not None)
    typed_notes(page, "the harbour at dawn")
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.script("return document.getElementById('leave-dialog').open"))
    assert "landscape.jpg" in page.find("#leave-text").text
    page.keys(page.Keys.ESCAPE)  # Escape again stays, the notes as typed
    page.until(lambda: not page.script("return document.getElementById('leave-dialog').open"))
    assert page.viewer_name() == "landscape.jpg"
    assert page.find("#view-notes").get_attribute("value") == "the harbour at dawn"

    page.find("#view-next").click()
    page.until(lambda: page.script("return document.getElementById('leave-dialog').open"))
    page.find("#leave-dialog button[value=discard]").click()
    page.until(lambda: page.viewer_name() == "panorama.jpg")
    assert page.item("trip/landscape.jpg")["notes"] == ""

    typed_notes(page, "long and thin")
    page.find("#view-close").click()
    page.until(lambda: page.script("return document.getElementById('leave-dialog').open"))
    page.find("#leave-dialog button[value=save]").click()
    page.until(lambda: page.viewer_name() is None)
    assert page.item("trip/panorama.jpg")["notes"] == "long and thin"

    page.open("#path=trip&view=trip/square.jpg")  # the back button, with notes typed, asks too
    page.until(lambda: page.viewer_name() == "square.jpg")
    typed_notes(page, "square")
    page.driver.back()
    page.until(lambda: page.script("return document.getElementById('leave-dialog').open"))
    page.find("#leave-dialog button[value=stay]").click()
    page.until(lambda: "view=trip%2Fsquare.jpg" in page.script("return location.hash"))
    assert page.viewer_name() == "square.jpg"


def test_notes_typed_before_the_photos_details_come_are_kept(fresh_page, shapes):
    page = fresh_page()
    page.patch("trip/landscape.jpg", {"notes": "kept since last year"})
    page.open("#path=trip")
    # The page's GET /item held until the notes are typed, as on a slow network.
    page.script("const fetched = window.fetch; const held = new Promise((go) => { window.release = go; });"
                "window.fetch = (url, options) => String(url).startsWith('/item?') && options?.method === 'GET'"
                " ? held.then(() => fetched(url, options)) : fetched(url, options);")
    page.script("location.hash = '#path=trip&view=trip%2Flandscape.jpg'")
    page.until(lambda: page.viewer_name() == "landscape.jpg")
    typed_notes(page, "typed before the details came")
    page.script("window.release()")
    page.until(page.details_drawn)
    assert page.find("#view-notes").get_attribute("value") == "typed before the details came"
    assert page.find("#view-message q").text == "kept since last year"  # what a save would replace is shown
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.script("return document.getElementById('leave-dialog').open"))


def test_on_a_desktop_the_viewer_keeps_its_column_and_no_pale_strip(fresh_page, shapes, tmp_path):
    page = fresh_page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    assert shown(page, "#upload-button") and shown(page, "#new-folder") and not shown(page, "#bar-more")
    page.open("#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg")
    width = page.script("return window.innerWidth")
    assert box(page, "#viewer")["right"] == width  # the black reaches the window's edge
    assert box(page, ".info")["right"] == width
    assert shown(page, "#view-info") and shown(page, "#view-zoom") and not shown(page, "#view-details")
    assert box(page, ".tools")["left"] == box(page, ".info")["left"]  # the tools head the details' column
    page.screenshot(tmp_path, "desktop-viewer.png")


def test_on_a_phone_rotate_is_in_the_viewer_s_menu_and_the_date_in_its_details(phone, shapes, tmp_path):
    page = phone()
    page.open("#path=trip&view=trip/landscape.jpg")
    natural = "const i = document.getElementById('view-image'); return [i.naturalWidth, i.naturalHeight]"
    page.until(lambda: page.viewer_name() == "landscape.jpg" and page.script(natural) == [600, 400])
    page.labelled("More actions on this image").click()
    page.until(lambda: shown(page, "#view-rotate-right"))
    page.find("#view-rotate-right").click()
    page.until(lambda: page.script(natural) == [400, 600])
    page.screenshot(tmp_path, "phone-viewer-rotated.png")

    page.until(lambda: not shown(page, "#view-rotate-right"))  # the menu closes as the photo turns
    page.find("#view-details").click()
    page.until(lambda: shown(page, "#view-info") and shown(page, "#view-date"))
    date = box(page, "#view-date")
    assert date["left"] >= 0 and date["right"] <= 390 and date["bottom"] <= 844  # within the screen
    page.screenshot(tmp_path, "phone-viewer-date.png")


def test_on_a_phone_a_share_links_page_does_not_shift_as_it_starts(phone, tree):
    for number in range(8):
        draw(tree / "party" / f"{number}.jpg")
    page = phone()
    page.open("#path=party")
    made = page.script("return fetch('/shares', {method: 'POST', headers: {'Content-Type': 'application/json'}, "
                       "body: JSON.stringify({path: 'party'})}).then(r => r.json())")
    watch = page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.shifts = [];
        new PerformanceObserver((list) => shifts.push(...list.getEntries().map((shift) => shift.value)))
          .observe({type: "layout-shift", buffered: true});"""})
    try:
        page.driver.get(page.server.url + "/static/offline.html")  # off the gallery: a new hash alone loads no page
        page.driver.get(page.server.url + made["link"])
        page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, ".tile.image img[src]")) == 8)
        assert page.script("return document.body.classList.contains('readonly')")  # every part of the start done
        assert page.script("return shifts") == []  # the bar's parts a share hides were hidden from the first paint
    finally:
        page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": watch["identifier"]})
