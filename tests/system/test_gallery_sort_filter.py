"""The gallery page's sort and filter controls, in headless Chromium against gunicorn: a folder sorted
by date taken both ways (the viewer following), filters kept in the address and the sort in the
browser, search words, slices paged by offset, and the server's refusal said beside the controls."""

import json
import os
import urllib.parse

import pytest
from helpers import draw
from PIL import Image

# name: (EXIF DateTimeOriginal, or the file's time when None; star)
PICS = {"a.jpg": ("2021:03:01 10:00:00", 5), "b.jpg": ("2023:07:04 12:00:00", 2), "c.png": (None, None),
        "d.jpg": ("2022:01:15 09:30:00", 4), "e.webp": (None, 4)}
FILE_TIMES = {"c.png": 1_560_000_000, "e.webp": 1_720_000_000}  # 2019-06 and 2024-07
BY_DATE = ["c.png", "a.jpg", "d.jpg", "b.jpg", "e.webp"]


@pytest.fixture
def pics(tree):
    """A folder of JPEGs taken on different days (EXIF), a PNG and a WebP dated by their file times."""
    for at, (name, (taken, _)) in enumerate(PICS.items()):
        exif = Image.Exif()
        if taken:
            exif.get_ifd(0x8769)[36867] = taken
        draw(tree / "pics" / name, color=(50 * at, 100, 150), **({"exif": exif.tobytes()} if taken else {}))
        if name in FILE_TIMES:
            os.utime(tree / "pics" / name, (FILE_TIMES[name], FILE_TIMES[name]))
    return tree


@pytest.fixture
def page(fresh_page, pics):
    """Answer a function that starts gunicorn over the tree (with its command-line args), gives the
    pictures their stars through the API and answers a Page."""
    def start(*args):
        page = fresh_page(args=args)
        for name, (_, star) in PICS.items():
            if star is not None:
                page.patch(f"pics/{name}", {"star": star})
        return page
    return start


def shown(page):
    """The names of the image tiles, in the grid's order."""
    return page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path.split('/').pop())")


def place(page):
    return dict(urllib.parse.parse_qsl(page.script("return location.hash").lstrip("#")))


def choose(page, select, value):
    from selenium.webdriver.support.ui import Select
    Select(page.find(select)).select_by_value(value)


def test_sorting_by_date_taken_orders_the_tiles_both_ways_and_the_viewer_follows(page):
    page = page()
    page.open("#path=pics")
    page.until(lambda: shown(page) == sorted(PICS))
    choose(page, "#sort", "date")
    page.until(lambda: shown(page) == BY_DATE)
    assert place(page) == {"path": "pics", "sort": "date", "order": "asc"}
    order = page.find("#sort-order")
    assert order.get_attribute("aria-pressed") == "false" and order.get_attribute("aria-label") == "Descending"
    order.click()
    page.until(lambda: shown(page) == BY_DATE[::-1])
    assert order.get_attribute("aria-pressed") == "true" and place(page)["order"] == "desc"
    page.driver.back()  # each choice is a step in the history
    page.until(lambda: shown(page) == BY_DATE and order.get_attribute("aria-pressed") == "false")
    page.driver.forward()
    page.until(lambda: shown(page) == BY_DATE[::-1])

    page.find('[data-path="pics/d.jpg"] .open').click()
    page.until(lambda: page.viewer_name() == "d.jpg")
    page.keys(page.Keys.ARROW_RIGHT)  # next in the sorted order, not by name
    page.until(lambda: page.viewer_name() == "a.jpg")
    page.keys(page.Keys.ARROW_RIGHT)
    page.until(lambda: page.viewer_name() == "c.png")


def test_a_star_filter_keeps_the_rated_tiles_and_reload_keeps_filter_and_sort(page):
    page = page()
    page.open("#path=pics")
    page.until(lambda: len(shown(page)) == 5)
    toggle = page.find("#filters-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and page.labelled("Rating").is_displayed()
    choose(page, "#filter-star", "4")
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg", "e.webp"])
    assert page.find("#count").text == "3 of 5 images" and toggle.text == "Filter (1)"
    choose(page, "#sort", "rating")
    page.find("#sort-order").click()
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg", "e.webp"] and place(page).get("order") == "desc")
    choose(page, "#filter-type", "jpg")
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg"])
    assert place(page) == {"path": "pics", "sort": "rating", "order": "desc", "star": "4", "type": "jpg"}

    page.driver.refresh()
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg"])
    assert page.find("#filter-star").get_attribute("value") == "4" and page.find("#sort").get_attribute("value") == \
        "rating" and page.find("#filters").is_displayed()  # a filter at work is in sight

    page.open("#path=pics")  # a link names no sort: the one chosen last in this browser
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg", "e.webp", "b.jpg", "c.png"])
    assert page.find("#sort").get_attribute("value") == "rating" and page.find("#filters-toggle").text == "Filter"


def test_untagged_and_clearing_the_filters(page):
    page = page()
    page.patch("pics/b.jpg", {"addTags": ["beach"]})
    page.open("#path=pics&tagged=no")
    page.until(lambda: shown(page) == ["a.jpg", "c.png", "d.jpg", "e.webp"])
    choose(page, "#filter-tagged", "yes")
    page.until(lambda: shown(page) == ["b.jpg"])
    page.find("#filters-clear").click()
    page.until(lambda: shown(page) == sorted(PICS))
    assert place(page) == {"path": "pics", "sort": "name", "order": "asc"} and page.find("#count").text == "5 images"


def test_search_takes_star_words_and_the_controls(page):
    # Until the rollup holds the pictures, search knows the edited ones by their edits alone (no date):
    # wait for it, through the one web process the page will ask too.
    page = page("--workers", "1")
    page.server.wait_until(lambda: [item["name"] for item in json.loads(page.server.get(
        "/search?q=star:4%2B&sort=date&order=desc")[1])["items"]] == ["e.webp", "d.jpg", "a.jpg"])
    page.open("#path=pics")
    search = page.labelled("Search")
    search.send_keys("star:4+", page.Keys.ENTER)
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg", "e.webp"])  # path order
    assert page.find("#count").text == "3 images found"
    choose(page, "#sort", "date")
    page.find("#sort-order").click()
    page.until(lambda: shown(page) == ["e.webp", "d.jpg", "a.jpg"])
    assert place(page) == {"path": "pics", "q": "star:4+", "sort": "date", "order": "desc"}
    page.find("#filters-toggle").click()
    page.labelled("Camera").send_keys("nikon", page.Keys.ENTER)  # none of them says a camera
    page.until(lambda: "Nothing matches" in page.find("#empty").text)


def test_a_bad_date_shows_the_servers_message_beside_the_filters(page):
    page = page()
    page.open("#path=pics")
    page.until(lambda: len(shown(page)) == 5)
    page.find("#filters-toggle").click()
    date = page.labelled("Date taken")
    date.send_keys("2024-13", page.Keys.ENTER)
    page.until(lambda: "date" in page.find("#sort-message").text)
    assert "2024-05" in page.find("#sort-message").text  # what it takes
    assert date.get_attribute("aria-invalid") == "true" and shown(page) == []
    assert page.find("#tree li").is_displayed() and page.find("#layout-rows").is_enabled()  # the rest still works
    date.clear()
    date.send_keys("2021..2022", page.Keys.ENTER)
    page.until(lambda: shown(page) == ["a.jpg", "d.jpg"])
    assert page.find("#sort-message").text == "" and date.get_attribute("aria-invalid") is None


def test_a_sorted_folder_pages_by_offset_and_a_plain_one_by_its_stored_pages(page, pics, fetches):
    page = page()
    source = draw(pics / "src.jpg")
    (pics / "many").mkdir()
    for n in range(230):
        os.link(source, pics / "many" / f"img{n:03d}.jpg")

    def indexed():  # else a slice answered while the worker makes thumbnails is rightly asked for again
        items = [item for offset in (0, 200) for item in json.loads(
            page.server.get(f"/folders?path=many&sort=name&limit=200&offset={offset}")[1])["items"]]
        return len(items) == 230 and all(item["hasThumb"] for item in items)
    page.server.wait_until(indexed, timeout=120)
    page.open("#path=many&sort=name&order=desc")
    names = []

    def all_drawn():  # the names read with their count in one look: the grid may be drawn again in between
        names[:] = page.script("window.scrollTo(0, document.body.scrollHeight); return [...document.querySelectorAll("
                               "'.tile.image')].map(t => t.dataset.path.split('/').pop())")
        return len(names) == 230
    page.until(all_drawn)
    assert names[0] == "img229.jpg" and names[-1] == "img000.jpg" and len(set(names)) == 230
    asked = [urllib.parse.urlsplit(sent["url"]) for sent in fetches() if "/folders?path=many&" in sent["url"]]
    slices = [dict(urllib.parse.parse_qsl(url.query)) for url in asked if "sort=" in url.query]
    wanted = [("0", "200", "name", "desc"), ("200", "200", "name", "desc")]
    got = [(s.get("offset"), s.get("limit"), s.get("sort"), s.get("order")) for s in slices]
    assert got[:2] == wanted and set(got) == set(wanted)  # an answer found behind is asked for again, by slices

    page.open("#path=many&sort=name&order=asc")  # the folder's own order: its stored pages
    page.until(lambda: shown(page)[:1] == ["img000.jpg"])
    last = [sent["url"] for sent in fetches() if "/folders?path=many&" in sent["url"]][-1]
    assert "page=0" in last and "offset" not in last
