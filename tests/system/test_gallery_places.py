"""Where a photo was taken, on the gallery page in headless Chromium against gunicorn: the viewer's details
say its place, and the Country filter offers the countries the folder's photos were taken in and keeps
only that country's photos."""

import urllib.parse

import pytest
from helpers import gps_photo, image_bytes, index_tree

from lenslet.config import Config
from lenslet.storage import LocalStorage

PHOTOS = {"lisbon.jpg": (38.7223, -9.1393), "nazare.jpg": (39.6016, -9.0713), "madrid.jpg": (40.4168, -3.7038),
          "plain.jpg": None}


@pytest.fixture
def trip(tree):
    (tree / "trip").mkdir()
    for name, where in PHOTOS.items():
        (tree / "trip" / name).write_bytes(gps_photo(*where) if where else image_bytes())
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


def shown(page):
    return page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path.split('/').pop())")


def choices(page):
    return page.script("return [...document.querySelectorAll('#filter-country option')].map(o => o.textContent)")


def choose(page, value):
    from selenium.webdriver.support.ui import Select
    Select(page.find("#filter-country")).select_by_value(value)


def test_the_viewer_says_the_place_and_the_country_filter_keeps_its_photos(fresh_page, trip):
    page = fresh_page()
    page.open("#path=trip")
    page.until(lambda: shown(page) == sorted(PHOTOS))
    page.labelled("nazare.jpg").click()
    page.until(lambda: page.viewer_name() == "nazare.jpg")
    page.until(lambda: "Nazaré, Leiria, Portugal" in page.find("#view-exif").text)
    page.keys(page.Keys.ARROW_RIGHT)
    page.until(lambda: page.viewer_name() == "plain.jpg" and "Size" in page.find("#view-exif").text)
    assert "Place" not in page.find("#view-exif").text  # no place: no row
    page.keys(page.Keys.ESCAPE)

    page.find("#filters-toggle").click()
    assert page.labelled("Country").is_displayed() and choices(page) == ["any", "Portugal", "Spain"]
    choose(page, "ES")
    page.until(lambda: shown(page) == ["madrid.jpg"])
    assert dict(urllib.parse.parse_qsl(page.script("return location.hash")[1:]))["country"] == "ES"
    assert choices(page) == ["any", "Portugal", "Spain"]  # the folder's countries, not only the one kept
    choose(page, "PT")
    page.until(lambda: shown(page) == ["lisbon.jpg", "nazare.jpg"])
    page.find("#filters-clear").click()
    page.until(lambda: shown(page) == sorted(PHOTOS))


def test_a_person_sets_a_photos_place_from_the_towns_named_as_they_type_and_gives_back_its_own(fresh_page, trip):
    page = fresh_page()
    page.open("#path=trip")
    page.until(lambda: shown(page) == sorted(PHOTOS))
    page.labelled("lisbon.jpg").click()
    page.until(lambda: page.viewer_name() == "lisbon.jpg" and "Lisbon, Portugal" in page.find("#view-exif").text)
    assert not page.find("#view-place-clear").is_displayed()  # its own place: nothing to give back

    field = page.find("#view-place")
    field.send_keys("Évora")  # not in the list: refused, and said so
    page.find("#place-form button[type=submit]").click()
    page.until(lambda: "Choose a place from the list" in page.find("#view-message").text)
    field.clear()
    field.send_keys("nazare, por")
    page.until(lambda: "Nazaré, Leiria, Portugal" in page.script(
        "return [...document.querySelectorAll('#place-suggestions option')].map(o => o.value)"))
    field.clear()
    field.send_keys("Nazaré, Leiria, Portugal")  # what choosing the suggestion types
    page.find("#place-form button[type=submit]").click()
    page.until(lambda: "Nazaré, Leiria, Portugal (set by a person)" in page.find("#view-exif").text)
    sidecar = (trip / "trip" / "lisbon.jpg.json").read_text()
    assert '"city":"Nazaré"' in sidecar.replace(" ", "") and page.find("#view-place").get_attribute("value") == ""

    page.find("#view-place-clear").click()
    page.until(lambda: "Lisbon, Portugal" in page.find("#view-exif").text and
               "set by a person" not in page.find("#view-exif").text)
    assert not page.find("#view-place-clear").is_displayed() and '"place"' not in \
        (trip / "trip" / "lisbon.jpg.json").read_text()


CREDIT = "Place names: GeoNames (geonames.org), CC BY 4.0"


def credit_in(page, selector):
    """The places' credit shown inside an element, with its links: [text, hrefs], or None when none shows."""
    return page.script("const c = [...document.querySelectorAll(arguments[0] + ' .places-credit')]"
                       ".find(e => e.offsetParent !== null);"
                       " return c ? [c.textContent, [...c.querySelectorAll('a')].map(a => a.href)] : null", selector)


def test_geonames_is_credited_wherever_place_names_show(fresh_page, trip):
    page = fresh_page(env={"LENSLET_MAP_TILES": "none"})
    page.open("#path=trip")
    page.until(lambda: shown(page) == sorted(PHOTOS))
    page.labelled("nazare.jpg").click()
    page.until(lambda: "Nazaré, Leiria, Portugal" in page.find("#view-exif").text)
    assert credit_in(page, "#view-info") == [CREDIT, ["https://www.geonames.org/",
                                                      "https://creativecommons.org/licenses/by/4.0/"]]
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.viewer_name() is None)
    page.find("#filters-toggle").click()
    page.until(lambda: page.labelled("Country").is_displayed())
    assert credit_in(page, "#filters")[0] == CREDIT
    page.open("#map=")
    page.until(lambda: CREDIT in page.find("#map .leaflet-control-attribution").text)
    assert credit_in(page, "#map .leaflet-control-attribution")[0] == CREDIT


def test_the_next_photos_details_never_show_the_last_ones_place_while_they_are_asked_for(fresh_page, trip):
    page = fresh_page()
    page.open("#path=trip&view=trip/nazare.jpg")
    page.until(lambda: "Nazaré, Leiria, Portugal" in page.find("#view-exif").text)
    page.driver.execute_cdp_cmd("Network.enable", {})
    page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {  # plain.jpg's details a while coming
        "offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        page.keys(page.Keys.ARROW_RIGHT)
        page.until(lambda: page.viewer_name() == "plain.jpg")
        assert "Place" not in page.find("#view-exif").text
    finally:
        page.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    page.until(lambda: "Size" in page.find("#view-exif").text)
    assert "Place" not in page.find("#view-exif").text
