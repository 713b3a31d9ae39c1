"""The timeline, on this day and albums in the gallery page, headless Chromium against gunicorn: a
2,000-image timeline scrubbed to a month and scrolled, the viewer following it; the start page's "On this
day"; an album made from a selection across two folders, reordered, shared and opened in a fresh
profile, then one of its images moved with `mv` and still there; a smart album shared from its page, its
link showing what the search finds now; an album asked for while the timeline's module still comes is what shows."""

import datetime
import io
import os

import pytest
from helpers import http, index_tree
from PIL import Image

from lenslet.config import Config
from lenslet.storage import LocalStorage

pytestmark = pytest.mark.system


def photo(path, taken, color=(90, 120, 200)):
    """A tiny JPEG with EXIF DateTimeOriginal set (a datetime)."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
    out = io.BytesIO()
    Image.new("RGB", (16, 12), color).save(out, "JPEG", exif=exif.tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def taken_of(n):
    """Image n of the big tree: 2,000 images over 2010-2024, every one at its own minute."""
    return datetime.datetime(2010 + n % 15, 1 + (n // 15) % 12, 1 + n % 28, n % 24, n % 60)


@pytest.fixture
def library(tree):
    for n in range(2000):
        photo(tree / f"f{n % 20:02d}" / f"p{n:04d}.jpg", taken_of(n), color=(n % 250, 100, 150))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


def shown(page):
    return page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path)")


def test_the_timeline_scrolls_and_its_scrubber_jumps_to_a_month(fresh_page, library):
    page = fresh_page()
    page.open("#timeline=now")
    newest = sorted(range(2000), key=taken_of)[::-1]
    page.until(lambda: shown(page)[:3] == [f"f{n % 20:02d}/p{n:04d}.jpg" for n in newest[:3]])
    page.until(lambda: page.script("return document.querySelectorAll('#scrubber a.month').length") > 100)

    page.find('#scrubber a.year[href="#timeline=2015"]').click()  # the rail shows a year's months when it is open
    page.until(lambda: page.find('#scrubber a[data-month="2015-03"]').is_displayed())
    page.find('#scrubber a[data-month="2015-03"]').click()
    in_march = [n for n in newest if taken_of(n) < datetime.datetime(2015, 4, 1)]
    expected = [f"f{n % 20:02d}/p{n:04d}.jpg" for n in in_march]
    page.until(lambda: shown(page)[:5] == expected[:5])
    assert page.find('#scrubber a[data-month="2015-03"]').get_attribute("aria-current") == "true"

    first = len(shown(page))
    page.script("window.scrollTo(0, document.body.scrollHeight)")  # the next slice, as the person scrolls
    page.until(lambda: len(shown(page)) > first)
    assert shown(page) == expected[:len(shown(page))]

    page.find(f'[data-path="{expected[0]}"] .open').click()
    page.until(lambda: page.viewer_name() == expected[0].split("/")[1])
    page.keys(page.Keys.ARROW_RIGHT)  # next by date, whatever its folder
    page.until(lambda: page.viewer_name() == expected[1].split("/")[1])


def test_on_this_day_shows_earlier_years_on_the_start_page(fresh_page, tree):
    today = datetime.date.today()
    years = [today.year - ago for ago in ((4, 8) if (today.month, today.day) == (2, 29) else (1, 3))]
    for year in years:
        photo(tree / "memories" / f"{year}.jpg", datetime.datetime.combine(today.replace(year=year), datetime.time(12)))
    photo(tree / "memories" / "other-day.jpg", datetime.datetime(2001, 1 if today.month != 1 else 2, 15, 12))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    page = fresh_page()
    page.open("#")
    page.until(lambda: page.script("return !document.getElementById('on-this-day').hidden"))
    memories = page.script("return [...document.querySelectorAll('#on-this-day .memory')].map(b => b.title)")
    assert memories == [f"memories/{year}.jpg" for year in years]  # newest year first
    page.find("#on-this-day .memory").click()
    page.until(lambda: page.viewer_name() is not None and page.viewer_name().endswith(".jpg"))
    assert "timeline=" in page.script("return location.hash")

    page.open("#path=memories")
    page.until(lambda: page.script("return document.getElementById('on-this-day').hidden"))


@pytest.fixture
def two_folders(tree):
    for n, path in enumerate(["trips/a.jpg", "trips/b.jpg", "home/c.jpg", "home/d.jpg"]):
        photo(tree / path, datetime.datetime(2020, 1, 1 + n, 12), color=(60 * n, 120, 90))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


def add_selected_to_album(page, name):
    before = page.find("#status").text  # the last add's message may still show: this add's own is awaited
    page.find("#add-to-album").click()
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    field = page.find("#ask-input")
    field.clear()
    field.send_keys(name + "\n")
    page.until(lambda: page.find("#status").text != before and "Added to the album" in page.find("#status").text)


def pick(page, path):
    page.until(lambda: page.find(f'[data-path="{path}"] .pick'))
    page.find(f'[data-path="{path}"] .pick').click()


def test_an_album_across_two_folders_reordered_shared_and_its_image_moved(fresh_page, browser, two_folders):
    page = fresh_page()
    page.open("#path=trips")
    pick(page, "trips/a.jpg")
    add_selected_to_album(page, "Holiday")
    page.open("#path=home")
    pick(page, "home/d.jpg")
    add_selected_to_album(page, "Holiday")  # the album of that name, now holding both

    page.until(lambda: page.script("return document.querySelectorAll('#album-list a').length") == 1)
    page.until(lambda: page.find("#album-list a").click() or True)  # the list may be drawn again meanwhile
    page.until(lambda: shown(page) == ["trips/a.jpg", "home/d.jpg"])
    assert page.find("#title").text == "Holiday"
    pick(page, "home/d.jpg")
    page.find("#move-earlier").click()
    page.until(lambda: shown(page) == ["home/d.jpg", "trips/a.jpg"])

    page.find("#album-share").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")
    assert "/s#" in link

    stranger = fresh_browser()
    try:
        from conftest import Page
        other = Page(stranger, page.server)
        stranger.get(link)
        other.until(lambda: shown(other) == ["home/d.jpg", "trips/a.jpg"])
        other.until(lambda: all(other.thumbs_drawn()))

        (two_folders / "elsewhere").mkdir()
        os.rename(two_folders / "trips" / "a.jpg", two_folders / "elsewhere" / "renamed.jpg")  # as `mv` does

        def moved_and_shown():
            stranger.refresh()
            return other.until(lambda: shown(other)) == ["home/d.jpg", "elsewhere/renamed.jpg"]
        page.server.wait_until(moved_and_shown, timeout=60, every=1)
    finally:
        stranger.quit()
    page.open("#timeline=now")
    page.open("#album=" + page.script("return document.querySelector('#album-list a').dataset.album"))
    page.until(lambda: shown(page) == ["home/d.jpg", "elsewhere/renamed.jpg"])


def test_a_smart_album_shared_from_its_page_shows_what_its_search_finds_now(fresh_page, two_folders):
    page = fresh_page()
    album = http("POST", page.server.url + "/albums", {"name": "Starred", "smart": {"star": "4+", "sort": "name"}})
    page.patch("home/c.jpg", {"star": 5})
    page.open("#album=" + album["id"])
    page.until(lambda: shown(page) == ["home/c.jpg"])
    page.find("#album-share").click()
    page.until(lambda: page.script("return document.getElementById('share-dialog').open"))
    assert "what its search finds" in page.find("#share-what").text
    page.find("#share-create").click()
    page.until(lambda: page.find("#share-link").get_attribute("value"))
    link = page.find("#share-link").get_attribute("value")

    stranger = fresh_browser()
    try:
        from conftest import Page
        other = Page(stranger, page.server)
        stranger.get(link)
        other.until(lambda: shown(other) == ["home/c.jpg"])
        other.until(lambda: all(other.thumbs_drawn()))
        page.patch("trips/a.jpg", {"star": 4})  # found by the search from now on: shared too

        def found_now():
            stranger.refresh()
            return other.until(lambda: shown(other)) == ["trips/a.jpg", "home/c.jpg"]
        page.server.wait_until(found_now, timeout=30, every=1)
        other.until(lambda: all(other.thumbs_drawn()))
    finally:
        stranger.quit()


def test_an_album_asked_for_while_the_timeline_module_comes_is_what_shows(fresh_page, two_folders, fetches):
    """The timeline asked for on a slow link, then an album before the timeline's module came: the album is shown,
    and the timeline's route, once its module is there, neither asks for its listing nor draws it over the album."""
    page = fresh_page()
    album = http("POST", page.server.url + "/albums", {"name": "Starred", "smart": {"star": "4+", "sort": "name"}})
    page.patch("home/c.jpg", {"star": 5})
    page.open("#path=home")
    page.until(lambda: shown(page) == ["home/c.jpg", "home/d.jpg"])
    came = "return performance.getEntriesByType('resource').some((entry) => entry.name.includes('/timeline.js'))"
    assert not page.script(came)  # a folder's first look does without it
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.setBypassServiceWorker", {"bypass": True})  # which holds every module
    page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 1000, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        page.script("location.hash = '#timeline=now'")
        page.script("location.hash = arguments[0]", "#album=" + album["id"])
        page.until(lambda: page.script(came))
        # once the module is there, the timeline's route has gone on before this script's next task
        page.driver.execute_async_script("const [done] = arguments; import(performance.getEntriesByType('resource')"
                                         ".find((entry) => entry.name.includes('/timeline.js')).name)"
                                         ".then(() => setTimeout(done))")
    finally:
        page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        page.driver.execute_cdp_cmd("Network.setBypassServiceWorker", {"bypass": False})
    assert not [sent["url"] for sent in fetches() if "/timeline" in sent["url"]]
    page.until(lambda: shown(page) == ["home/c.jpg"])
    assert page.script("return location.hash") == "#album=" + album["id"]


def fresh_browser():
    """Another Chromium with a profile of its own: nothing of the gallery's page kept (a stranger's)."""
    from conftest import start_chromium
    return start_chromium("lenslet-stranger-")
