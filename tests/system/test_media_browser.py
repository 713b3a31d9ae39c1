"""Videos and sharp thumbnails in the gallery page, in headless Chromium against gunicorn: a video plays
(its time advances) from its original streamed with ranges, its tile shows its poster with a play badge
or a placeholder without ffmpeg; screenshots saved for a person to look at."""

import io
import json
import shutil

import pytest
from helpers import draw
from PIL import Image

FFMPEG = shutil.which("ffmpeg")
LAYOUT_KEY = "lenslet.layout"  # where the page remembers the layout (grid.js)


@pytest.fixture
def page(fresh_page):
    return lambda **env: fresh_page(env=env)


@pytest.fixture
def clips(tree):
    if FFMPEG is None:
        pytest.skip("ffmpeg is not installed: it makes the test video")
    from api.test_video_posters import make_video
    (tree / "films").mkdir()
    make_video(tree / "films" / "clip.webm", seconds=2)  # VP8: Debian's Chromium surely plays it
    draw(tree / "films" / "photo.jpg", size=(300, 200))
    return tree


def test_a_video_plays_in_the_viewer_and_its_time_advances(page, clips, tmp_path):
    page = page()
    # Its poster, once the worker has made it with ffmpeg.
    page.server.wait_until(lambda: [item["preview"] for item in json.loads(page.server.get("/folders?path=films")[1])[
        "items"]] == [True, True], timeout=30)
    page.open("#path=films")
    page.until(lambda: page.find("#count").text == "1 image, 1 video")
    page.until(lambda: page.script("return document.querySelector('[data-path=\"films/clip.webm\"] img').naturalWidth"))
    assert page.script("return document.querySelector('[data-path=\"films/clip.webm\"]').classList.contains('video')")
    page.screenshot(tmp_path, "video-tile.png")
    page.labelled("clip.webm").click()
    page.until(lambda: page.viewer_name() == "clip.webm")
    assert page.script("return document.getElementById('view-image').hidden") is True
    page.script("const v = document.getElementById('view-video'); v.muted = true; v.play();")
    page.until(lambda: page.script("return document.getElementById('view-video').currentTime") > 0.3)
    shown = page.script("return document.getElementById('view-video').currentSrc")
    assert shown.endswith("/file?path=films%2Fclip.webm")
    page.until(lambda: "Length" in page.find("#view-exif").text)
    assert "0:02" in page.find("#view-exif").text
    page.screenshot(tmp_path, "video-playing.png")
    page.keys(page.Keys.ARROW_RIGHT)  # the photo: the video stops and is unloaded
    page.until(lambda: page.viewer_name() == "photo.jpg")
    assert page.script("const v = document.getElementById('view-video'); return [v.hidden, v.paused]") == [True, True]


def test_without_ffmpeg_a_video_is_a_placeholder_tile_with_a_play_badge(page, clips, tmp_path):
    page = page(LENSLET_FFMPEG="")
    page.open("#path=films")
    page.until(lambda: page.find("#count").text == "1 image, 1 video")
    tile = '[data-path="films/clip.webm"]'
    assert page.script(f"return document.querySelector('{tile}').className") == "tile image video placeholder"
    badge = page.script(f"return getComputedStyle(document.querySelector('{tile} .open'), '::after').content")
    assert badge == '"\u25b6"'
    page.screenshot(tmp_path, "video-placeholder.png")
    loaded = page.script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not any("thumb?path=films%2Fclip.webm" in url for url in loaded)  # never asked for


def test_the_viewers_info_panel_says_lens_exposure_and_place_with_the_map_link_the_admin_set(page, tree, tmp_path):
    from api.test_exif_people_read import TAKEN
    from unit.test_exif import NORTH_PARIS, photo
    (tree / "trip").mkdir()
    (tree / "trip" / "eiffel.jpg").write_bytes(photo(TAKEN, NORTH_PARIS, make="Nokia\x002 N9", model="N9"))
    page = page(LENSLET_MAP_LINK="https://maps.example/?q={lat},{lon}")
    page.open("#view=trip/eiffel.jpg")
    page.until(lambda: "Lens" in page.find("#view-exif").text)
    text = page.find("#view-exif").text
    for said in ("Nokia N9", "Canon EF50mm f/1.8 STM", "50 mm \u00b7 f/1.8 \u00b7 1/250 s \u00b7 ISO 400",
                 "48.858367\u00b0 N, 2.294481\u00b0 E"):
        assert said in text, text
    assert page.find("#view-exif a").get_attribute("href") == "https://maps.example/?q=48.858367,2.294481"
    page.screenshot(tmp_path, "exif-panel.png")


def current_sources(page):
    return page.script("return Object.fromEntries([...document.querySelectorAll('.tile.image')].map("
                       "t => [t.dataset.path, t.querySelector('img').currentSrc]))")


@pytest.mark.parametrize("scale", [1, 2])
def test_a_rows_tile_loads_the_large_thumbnail_on_a_2x_screen(page, tree, tmp_path, scale):
    for n in range(3):
        draw(tree / "trip" / f"{n}.jpg", size=(1200, 900), color=(40 * n, 120, 200))
    page = page()
    page.server.wait_until(lambda: all(item["hasThumb"] for item in json.loads(
        page.server.get("/folders?path=trip")[1])["items"]), timeout=30)
    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 1280, "height": 900, "deviceScaleFactor": scale, "mobile": False})
    try:
        # Rows from the start (as remembered in the browser): no picture is loaded for a layout left since, which
        # the browser would keep (it takes a larger candidate it holds over a smaller one).
        page.driver.get(page.server.url + "/static/offline.html")
        page.script("localStorage.setItem(arguments[0], 'rows')", LAYOUT_KEY)
        page.open("#path=trip")
        page.until(lambda: page.script("return document.getElementById('grid').classList.contains('justified')"))
        page.until(lambda: len(current_sources(page)) == 3 and all(current_sources(page).values()))
        drawn = page.script("return Object.fromEntries([...document.querySelectorAll('.tile.image')].map("
                            "t => [t.dataset.path, t.querySelector('.open').getBoundingClientRect().width]))")
        sources = current_sources(page)
        # Each tile's picture is the large one exactly where the small one has fewer pixels than it is drawn with.
        assert {path: "size=large" in url for path, url in sources.items()} == {
            path: width * scale > 256 for path, width in drawn.items()}, (drawn, sources)
        if scale == 2:
            assert all("size=large" in url for url in sources.values())
            for url in sources.values():  # the picture the server answers at that URL
                assert Image.open(io.BytesIO(page.server.get(url[len(page.server.url):])[1])).size == (512, 384)
        page.screenshot(tmp_path, f"rows-{scale}x.png")
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_a_square_tile_narrower_than_the_small_thumbnail_loads_the_small_one_at_1x(page, tree):
    draw(tree / "trip" / "square.jpg", size=(900, 900))
    page = page()
    page.server.wait_until(lambda: json.loads(page.server.get("/folders?path=trip")[1])["items"][0]["hasThumb"],
                           timeout=30)
    page.open("#path=trip")
    page.until(lambda: all(current_sources(page).values()) and current_sources(page))
    drawn = page.script("return document.querySelector('.tile.image .open').getBoundingClientRect().width")
    assert drawn < 256 and "size=large" not in current_sources(page)["trip/square.jpg"], drawn
    url = current_sources(page)["trip/square.jpg"]
    assert Image.open(io.BytesIO(page.server.get(url[len(page.server.url):])[1])).size == (256, 256)


def test_a_tile_drawn_wider_later_takes_the_large_thumbnail(page, tree):
    draw(tree / "trip" / "square.jpg", size=(900, 900))
    page = page()
    page.server.wait_until(lambda: json.loads(page.server.get("/folders?path=trip")[1])["items"][0]["hasThumb"],
                           timeout=30)
    page.open("#path=trip")
    page.until(lambda: current_sources(page) and all(current_sources(page).values()))
    assert "size=large" not in current_sources(page)["trip/square.jpg"]
    page.script("document.documentElement.style.setProperty('--tile', '420px')")  # as a wider layout draws it
    page.until(lambda: "size=large" in current_sources(page)["trip/square.jpg"])
    assert page.script("return document.querySelector('.tile.image img').naturalWidth") == 512  # more than 420
