"""The timeline's dates in the gallery page, headless Chromium against gunicorn: a heading a month (what it
holds, a raw+JPEG pair one photo, videos apart) and a day in the grid, the month at the top kept in sight
while scrolling, a slim scrubber on the right edge that marks it, no sort menu; on a phone (390x844 at
three device pixels per CSS pixel) a library of fifteen years still shows its first photo near the top."""

import datetime
import os

import pytest
from helpers import exif_photo, index_tree

from lenslet.config import Config
from lenslet.storage import LocalStorage

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
# Script errors and console errors, noted from the first line of every page loaded.
NOTE_ERRORS = """
window.pageErrors = [];
addEventListener("error", (event) => pageErrors.push(String(event.message)));
addEventListener("unhandledrejection", (event) => pageErrors.push(String(event.reason)));
const logged = console.error;
console.error = (...args) => { pageErrors.push(args.join(" ")); logged(...args); };
"""


def taken(when):
    return when.strftime("%Y:%m:%d %H:%M:%S")


@pytest.fixture
def years(tree):
    """Fifteen years, 2011-2025: three photos a year (two on one day of May), and in May 2025 a raw beside its
    JPEG and a video, whose files' own times are in that month."""
    for year in range(2011, 2026):
        for at, when in enumerate([datetime.datetime(year, 5, 3, 9), datetime.datetime(year, 5, 3, 18),
                                   datetime.datetime(year, 8, 20, 12)]):
            (tree / str(year)).mkdir(exist_ok=True)
            (tree / str(year) / f"p{at}.jpg").write_bytes(exif_photo(taken=taken(when), size=(60, 40)))
    may = datetime.datetime(2025, 5, 10, 12).timestamp()
    (tree / "2025" / "IMG_1.JPG").write_bytes(exif_photo(taken="2025:05:10 12:00:00", size=(60, 40)))
    for name in ("IMG_1.CR2", "clip.mp4"):
        (tree / "2025" / name).write_bytes(b"\0" * 64)
        os.utime(tree / "2025" / name, (may, may))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


@pytest.fixture
def timeline_page(fresh_page, browser, years):
    """Answer a function opening the timeline of the fifteen years on a screen (metrics), errors noted."""
    noted = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NOTE_ERRORS})

    def open_on(metrics):
        page = fresh_page()
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        page.open("#timeline=now")
        page.until(lambda: page.script("return document.querySelectorAll('#grid .group-heading.month').length") >= 15)
        return page
    yield open_on
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": noted["identifier"]})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def headings(page, level):
    return page.script("return [...document.querySelectorAll('#grid .group-heading.' + arguments[0])]"
                       ".map(h => h.textContent)", level)


def month_at_top(page):
    """The month heading drawn at the top of the grid (the one stuck there), and the scrubber's mark."""
    return page.script("""
        const line = document.querySelector('.bar').getBoundingClientRect().bottom + 4;
        const stuck = document.elementsFromPoint(innerWidth / 2, line).find(e => e.closest('.group-heading.month'));
        return [stuck && stuck.closest('.group-heading').querySelector('h2').textContent,
                document.querySelector('#scrubber a.month.seen')?.dataset.month,
                document.querySelector('#scrubber li.seen')?.dataset.year];""")


def test_each_month_and_day_has_its_heading_and_the_month_stays_in_sight(timeline_page, tmp_path):
    page = timeline_page(DESKTOP)
    months = headings(page, "month")
    assert months[:4] == ["August 20251 photo", "May 20253 photos, 1 video", "August 20241 photo",
                          "May 20242 photos"], months
    assert len(months) == 30
    assert headings(page, "day")[:4] == ["Wed 20 Aug", "Sat 10 May", "Sat 3 May", "Tue 20 Aug"]
    assert page.find("#count").text == "46 photos, 1 video"
    assert not page.find(".sorting").is_displayed()  # the timeline is by date: no sort menu
    rail = page.script("return document.getElementById('scrubber').getBoundingClientRect().toJSON()")
    edge = page.script("return document.documentElement.clientWidth")  # the scrollbar aside
    assert rail["right"] == edge and rail["width"] < 60  # a slim rail on the right edge
    page.screenshot(tmp_path, "timeline-desktop.png")

    # Scrolled to a month far down, its heading stays at the top and the scrubber marks it.
    page.script("const h = [...document.querySelectorAll('#grid .group-heading.month')]"
                ".find(h => h.dataset.key === '2019-08'); scrollTo(0, scrollY + h.getBoundingClientRect().top - 60)")
    page.script("scrollBy(0, 40)")  # into its photos
    page.until(lambda: month_at_top(page) == ["August 2019", "2019-08", "2019"])
    assert page.find('#scrubber a[data-month="2019-08"]').is_displayed()
    assert page.script("return pageErrors") == []


def test_the_scrubber_jumps_to_a_month_of_another_year(timeline_page):
    page = timeline_page(DESKTOP)
    page.find('#scrubber a.year[href="#timeline=2014"]').click()
    page.until(lambda: headings(page, "month")[:1] == ["August 20141 photo"])
    page.find('#scrubber a[data-month="2014-05"]').click()
    page.until(lambda: headings(page, "month")[:1] == ["May 20142 photos"])
    assert page.script("return pageErrors") == []


def test_on_a_phone_the_first_photo_of_fifteen_years_is_near_the_top(timeline_page, tmp_path):
    page = timeline_page(PHONE)
    assert page.script("return [innerWidth, innerHeight, devicePixelRatio]") == [390, 844, 3]
    first = page.script("return document.querySelector('#grid .tile.image').getBoundingClientRect().toJSON()")
    assert first["top"] < 0.4 * 844, first
    rail = page.script("return document.getElementById('scrubber').getBoundingClientRect().toJSON()")
    edge = page.script("return document.documentElement.clientWidth")
    assert rail["right"] == edge and rail["width"] < 48 and first["right"] <= rail["left"]
    page.screenshot(tmp_path, "timeline-phone.png")
    assert page.script("return pageErrors") == []
