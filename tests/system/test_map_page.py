"""The map in the gallery page, headless Chromium against gunicorn with LENSLET_MAP_TILES=none: the world's outline
drawn with no tile, the photos' clusters counted over it, a cluster of two clicked (or pressed with Enter) lists
its photos in the grid, where the viewer opens them; the same on a phone (390x844); nothing fetched from another
host than lenslet's."""

import random
from urllib.parse import urlsplit

import pytest
from helpers import gps_photo, index_tree
from PIL import Image

from lenslet.config import Config
from lenslet.search.clusters import cell
from lenslet.storage import LocalStorage

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
PLACES = {  # name: (folder, latitude, longitude)
    "lisbon-1.jpg": ("Portugal", 38.7223, -9.1393), "lisbon-2.jpg": ("Portugal", 38.7169, -9.1399),
    "nazare.jpg": ("Portugal", 39.6016, -9.0713), "paris.jpg": ("France", 48.8566, 2.3522),
    "suva.jpg": ("Fiji", -18.1248, 178.4501),
}
NEAR_LISBON = "#map=9/39.1/-9.1"  # Lisbon's two photos one cluster, Nazaré's another
NOTE_ERRORS = """
window.pageErrors = [];
addEventListener("error", (event) => pageErrors.push(String(event.message)));
addEventListener("unhandledrejection", (event) => pageErrors.push(String(event.reason)));
"""


@pytest.fixture
def places(tree):
    for at, (name, (folder, latitude, longitude)) in enumerate(PLACES.items()):
        (tree / folder).mkdir(exist_ok=True)
        (tree / folder / name).write_bytes(gps_photo(latitude, longitude, (40 * at, 120, 200 - 30 * at), size=(48, 32)))
    Image.new("RGB", (8, 8)).save(tree / "Portugal" / "no-place.jpg")
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return tree


@pytest.fixture
def map_page(fresh_page, browser, places):
    """Answer a function opening a place of the gallery (tiles none) on a screen (metrics), errors noted."""
    noted = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": NOTE_ERRORS})

    def open_on(metrics, place="#map="):
        page = fresh_page(env={"LENSLET_MAP_TILES": "none"})
        page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        page.open(place)
        return page
    yield open_on
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": noted["identifier"]})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def clusters(page):
    """The clusters drawn: [(count, label)], whenever the map has asked for its view and drawn the answer."""
    return page.script("return [...document.querySelectorAll('#map .leaflet-marker-icon')]"
                       ".map(m => [Number(m.dataset.count), m.getAttribute('aria-label'), m.getAttribute('role')])")


def counted(page, total):
    """Wait until the clusters drawn hold `total` photos; answer them."""
    page.until(lambda: sum(count for count, _, _ in clusters(page)) == total)
    return clusters(page)


def hosts(page):
    return {urlsplit(url).hostname for url in page.script(
        "return [location.href, ...performance.getEntriesByType('resource').map(e => e.name)]")}


def open_lisbon(page, how="click"):
    """Open the cluster of Lisbon's two photos (by a click, or Enter on it) and answer the grid's names."""
    marker = page.find('#map .leaflet-marker-icon[data-count="2"]')
    if how == "click":
        marker.click()
    else:
        page.script("arguments[0].focus()", marker)
        page.keys(page.Keys.ENTER)
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, "#grid .tile.image")) == 2)
    assert "cell=" in page.script("return location.hash") and page.find("#map").is_displayed() is False
    return page.script("return [...document.querySelectorAll('#grid .tile.image')].map(t => t.dataset.path)")


def test_the_map_draws_the_world_and_counts_every_photo_with_a_place(map_page):
    page = map_page(DESKTOP)
    drawn = counted(page, 5)
    assert page.script("return document.querySelectorAll('#map .leaflet-overlay-pane svg path.land').length") >= 1
    assert page.script("return document.querySelectorAll('#map .leaflet-tile').length") == 0  # no tile asked for
    assert all(role == "button" for _, _, role in drawn)
    assert {label for count, label, _ in drawn if count == 1} >= {"1 photo: paris.jpg", "1 photo: suva.jpg"}
    assert "5 photos with a place" in page.find("#map .map-note").text
    assert page.find("#title").text == "Map" and not page.find("#grid").is_displayed()
    assert hosts(page) == {"127.0.0.1"} and page.script("return pageErrors") == []


def test_the_land_beyond_the_antimeridian_is_drawn_once_the_map_shows_it(map_page):
    page = map_page(DESKTOP, NEAR_LISBON)
    land = "return document.querySelectorAll('#map .leaflet-overlay-pane svg path.land').length"
    counted(page, 3)
    page.until(lambda: page.script(land) == 1)  # one copy of the world, drawn after the clusters' first answer
    page.script("location.hash = '#map=5/-18/179'")  # over Fiji, the view reaching past 180 degrees east
    page.until(lambda: page.script(land) == 2 and [count for count, _, _ in clusters(page)] == [1])
    assert page.script("return pageErrors") == []


def test_a_cluster_clicked_lists_its_photos_and_the_viewer_opens_one(map_page):
    page = map_page(DESKTOP, NEAR_LISBON)
    drawn = counted(page, 3)
    assert sorted(count for count, _, _ in drawn) == [1, 2] and "2 photos" in [label for _, label, _ in drawn]
    assert open_lisbon(page) == ["Portugal/lisbon-1.jpg", "Portugal/lisbon-2.jpg"]
    page.find('#grid .tile.image[data-path="Portugal/lisbon-2.jpg"] .open').click()
    page.until(lambda: page.viewer_name() == "lisbon-2.jpg")
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.viewer_name() is None)
    page.find("#crumbs a").click()  # back to the map, where it was
    page.until(lambda: page.find("#map").is_displayed() and "cell=" not in page.script("return location.hash"))
    assert page.script("return new URLSearchParams(location.hash.slice(1)).get('map')").startswith("9/39.")
    assert hosts(page) == {"127.0.0.1"} and page.script("return pageErrors") == []


def test_a_cluster_opens_with_the_keyboard(map_page):
    page = map_page(DESKTOP, NEAR_LISBON)
    counted(page, 3)
    assert open_lisbon(page, how="enter") == ["Portugal/lisbon-1.jpg", "Portugal/lisbon-2.jpg"]


def test_the_map_is_drawn_once_its_stylesheet_applies(map_page, browser):
    """On a slow network (each request 200 ms away) the map waits for Leaflet's stylesheet: drawn before it, its
    zoom buttons and credit stood in the page's flow, then jumped to the map's corners (a layout shift, which
    Lighthouse counts against a phone's page)."""
    shifts = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.shifts = [];
        new PerformanceObserver((seen) => shifts.push(...seen.getEntries().map((shift) => shift.value)))
            .observe({type: "layout-shift", buffered: true});"""})
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 200,
                                                                "downloadThroughput": -1, "uploadThroughput": -1})
    try:
        page = map_page(PHONE, NEAR_LISBON)
        counted(page, 3)
        assert page.script("return shifts") == []
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
        browser.execute_cdp_cmd("Network.disable", {})
        browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": shifts["identifier"]})


def test_a_big_cluster_clicked_zooms_in(fresh_page, tree):
    for at in range(21):  # a street in Lisbon, a photo every 20 metres
        (tree / "walk").mkdir(exist_ok=True)
        (tree / "walk" / f"walk-{at:02}.jpg").write_bytes(gps_photo(38.7100 + at * 0.0002, -9.1400))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    page = fresh_page(env={"LENSLET_MAP_TILES": "none"})
    page.open("#map=5/39/-9")
    assert [count for count, _, _ in counted(page, 21)] == [21]
    page.find('#map .leaflet-marker-icon[data-count="21"]').click()
    page.until(lambda: page.script("return new URLSearchParams(location.hash.slice(1)).get('map')").startswith("8/"))
    assert "cell=" not in page.script("return location.hash") and page.find("#map").is_displayed()


def test_the_map_on_a_phone(map_page):
    page = map_page(PHONE)
    # The world is as tall as the map at the least: part of it, and of the photos, is beside the screen.
    page.until(lambda: "of the 5 photos with a place" in page.find("#map .map-note").text)
    assert 0 < sum(count for count, _, _ in clusters(page)) < 5
    box = page.script("const r = document.querySelector('#map .map').getBoundingClientRect();"
                      " return [r.left, r.right, r.top, r.bottom, innerWidth, innerHeight]")
    assert box[0] >= 0 and box[1] <= box[4] and box[3] <= box[5] and box[3] - box[2] > 400  # fills the screen
    page.open(NEAR_LISBON)
    counted(page, 3)
    assert open_lisbon(page) == ["Portugal/lisbon-1.jpg", "Portugal/lisbon-2.jpg"]
    page.find('#grid .tile.image[data-path="Portugal/lisbon-1.jpg"] .open').click()
    page.until(lambda: page.viewer_name() == "lisbon-1.jpg")
    assert hosts(page) == {"127.0.0.1"} and page.script("return pageErrors") == []


def test_the_map_is_offered_beside_the_timeline(map_page):
    page = map_page(DESKTOP, "#")
    page.find("#map-link").click()
    counted(page, 5)
    assert page.script("return location.hash").startswith("#map=")


def generated_world(tree, count=100):
    """Write count photos at seeded positions all over the world, many by the antimeridian; answer the positions."""
    draw = random.Random(74)
    positions = [(round(draw.uniform(-80, 80), 4), round(draw.uniform(-180, 180), 4)) for _ in range(count // 2)] + \
        [(round(draw.uniform(-30, 30), 4), round(draw.choice((-1, 1)) * draw.uniform(170, 180), 4))
         for _ in range(count - count // 2)]
    (tree / "world").mkdir()
    for at, (latitude, longitude) in enumerate(positions):
        (tree / "world" / f"{at:03}.jpg").write_bytes(gps_photo(latitude, longitude))
    index_tree(Config(root=str(tree)), LocalStorage(str(tree)))
    return positions


def drawn_cells(page):
    return page.script("return [...document.querySelectorAll('#map .leaflet-marker-icon')]"
                       ".map(m => [m.dataset.cell, Number(m.dataset.count)])")


def note_of(shown, total):
    """What the map's note says of the photos drawn."""
    return f"{total} photos with a place" if shown == total else \
        f"{shown} of the {total} photos with a place are in this part of the map"


# At zoom 2 a desktop's map is a little narrower than the world: its two edges meet in one cluster's column at -174.
@pytest.mark.parametrize("screen, place", [(DESKTOP | {"height": 800}, "#map="), (DESKTOP, "#map=2/0/-174"),
                                           (PHONE, "#map="), (PHONE, "#map=2/0/179")],
                         ids=["desktop", "desktop-across", "phone", "phone-across"])
def test_the_clusters_drawn_count_each_photo_once(map_page, tree, screen, place):
    positions = generated_world(tree) + [(latitude, longitude) for _, latitude, longitude in PLACES.values()]
    page = map_page(screen, place)
    page.until(lambda: page.find("#map .map-note").text == note_of(sum(n for _, n in drawn_cells(page)),
                                                                   len(positions)))
    drawn = drawn_cells(page)
    for where, count in drawn:  # each as many as the photos in its cell
        level, x, y = map(int, where.split("/"))
        assert count == sum(cell(latitude, longitude, level) == (x, y) for latitude, longitude in positions)
    assert len({where for where, _ in drawn}) == len(drawn) and 0 < sum(n for _, n in drawn) <= len(positions)
