"""The gallery page for looking at photos, in headless Chromium against gunicorn: tiles that keep
their shape, the viewer's previews, slideshow, fullscreen and swipes, the keyboard, search results'
folders, an empty gallery, upload name clashes, and folders made, moved and renamed."""

import json
import os
import shutil
import time
import urllib.parse

import pytest
from conftest import draw_shapes, serving
from helpers import SHAPES, draw, index_tree
from PIL import Image

from lenslet.config import Config
from lenslet.storage.local import LocalStorage


@pytest.fixture
def page(fresh_page):
    """Answer a function that starts gunicorn over the tree (with its environment) and answers a Page."""
    return lambda **env: fresh_page(env=env)


@pytest.fixture(scope="module")
def listings(tmp_path_factory):
    """The photo shapes in trip/, 30 small photos in many/ and a photo in each of alps/ and beach/, served ten to
    a listing's page by one gunicorn for the tests that change nothing in the tree. The tree is indexed before
    it is served (thumbnails made, hashes recorded), so that its listings stay as they are: a test cannot wait
    for the server's worker, which runs at a lower priority and on a loaded machine gets there late."""
    tree = tmp_path_factory.mktemp("listings") / "tree"
    draw_shapes(tree / "trip")
    for n in range(30):
        draw(tree / "many" / f"img{n:02d}.jpg", size=(48, 32), color=(8 * n, 90, 160))
    for name in ("alps", "beach"):
        draw(tree / name / "photo.jpg")
    index_tree(Config(root=str(tree), page_size=10), LocalStorage(str(tree)))
    with serving(tree, env={"LENSLET_PAGE_SIZE": "10"}) as server:
        yield server


@pytest.fixture
def looking(clean_page_for, listings):
    """A Page of the listings' server."""
    return clean_page_for(listings)


def boxes(page):
    """{path: [left, top, width, height]} of each image tile's picture box."""
    return page.script("""return Object.fromEntries([...document.querySelectorAll('.tile.image')].map(t => {
        const r = t.querySelector('.open').getBoundingClientRect();
        return [t.dataset.path, [r.left, r.top, r.width, r.height]]; }))""")


def drawn(page):
    return page.thumbs_drawn() and all(page.thumbs_drawn())


def focused(page):
    return page.script("const t = document.activeElement.closest('.tile');"
                       " return t && (t.dataset.path || t.dataset.folder)")


def test_tiles_keep_their_size_in_squares_and_the_photos_shape_in_rows_remembered(looking, tmp_path):
    page = looking
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4 and drawn(page))
    squares = boxes(page)
    sizes = {(round(w), round(h)) for _, _, w, h in squares.values()}
    assert len(sizes) == 1 and all(w == h for w, h in sizes), squares  # a portrait stretches nothing
    assert page.script("return [...document.querySelectorAll('.tile.image .open')].map(b => b.title)") == sorted(SHAPES)

    page.find("#layout-rows").click()
    page.until(lambda: page.script("return document.getElementById('grid').classList.contains('justified')"))
    rows = boxes(page)
    for name, (w, h) in SHAPES.items():
        left, top, width, height = rows[f"trip/{name}"]
        assert abs(width / height - w / h) < 0.03, (name, width, height)
    grid = page.script("const r = document.getElementById('grid').getBoundingClientRect(); return [r.left, r.right]")
    tops = sorted({round(top) for _, top, _, _ in rows.values()})
    for top in tops[:-1]:  # every row but the last is filled, all its photos one height
        row = [box for box in rows.values() if round(box[1]) == top]
        assert max(box[3] for box in row) - min(box[3] for box in row) < 1.5
        assert abs(max(box[0] + box[2] for box in row) - grid[1]) < 2
    assert page.find("#layout-rows").get_attribute("aria-pressed") == "true"

    page.driver.refresh()  # remembered in this browser
    page.until(lambda: page.script("return document.getElementById('grid').classList.contains('justified')"))
    assert page.find("#layout-squares").get_attribute("aria-pressed") == "false"
    page.screenshot(tmp_path, "rows.png")


def test_three_thousand_images_scroll_in_both_layouts(page, tree):
    sources = [draw(tree / "src" / f"{n}.jpg", size=size, color=(40 * n, 90, 160)) for n, size in
               enumerate([(64, 48), (48, 64), (120, 30)])]
    (tree / "many").mkdir()
    for n in range(3000):
        os.link(sources[n % 3], tree / "many" / f"img{n:04d}.jpg")
    # The worker indexes the 3,000 on spare CPU alone: the thumbnails shown are made as the page asks for them.
    page = page(LENSLET_THUMB_PROCESSES="1", LENSLET_WORKER_NICE="19")
    page.open("#path=many")
    last = "[data-path='many/img2999.jpg'] img"
    for layout in ("layout-squares", "layout-rows"):
        page.script("window.scrollTo(0, 0)")
        page.find(f"#{layout}").click()
        page.until(lambda: page.script(
            "window.scrollTo(0, document.body.scrollHeight); return document.querySelectorAll('.tile.image').length")
            == 3000)
        page.until(lambda: page.script(f"window.scrollTo(0, document.body.scrollHeight);"
                                       f" return document.querySelector(\"{last}\").naturalWidth") > 0)
        width = page.script(f"return document.querySelector(\"{last}\").closest('.tile').getBoundingClientRect().width")
        assert 20 < width < 1200
    assert page.find("#count").text == "3000 images"


def test_the_viewer_shows_the_preview_then_the_original_at_100_percent_and_downloads_it(page, shapes, fetches):
    draw(shapes / "trip" / "big.jpg", size=(1600, 1200), color=(200, 80, 40))
    page = page(LENSLET_PREVIEW_SIZE="400")
    page.open("#path=trip&view=trip/big.jpg")
    page.until(lambda: page.viewer_name() == "big.jpg")
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") == 400)
    page.until(lambda: any("/preview?path=trip%2Flandscape.jpg" in sent["url"] for sent in fetches()))  # the next one
    loaded = page.script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not any("/file?" in url for url in loaded)  # 15 MB originals are not sent to look at a photo

    page.find("#view-zoom").click()
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") == 1600)
    link = page.find("#view-download")
    assert link.get_attribute("download") == "big.jpg"
    assert link.get_attribute("href").endswith("/file?path=trip%2Fbig.jpg")
    assert page.server.get("/file?path=trip%2Fbig.jpg")[1] == (shapes / "trip" / "big.jpg").read_bytes()

    page.keys(page.Keys.ARROW_RIGHT)  # its preview came ahead: shown as it is
    page.until(lambda: page.viewer_name() == "landscape.jpg" and
               page.script("return document.getElementById('view-image').naturalWidth") == 400)


def test_slideshow_fullscreen_and_a_swipe(looking):
    page = looking
    page.open("#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg")
    page.find("#view-slideshow").click()
    page.until(lambda: page.viewer_name() == "panorama.jpg")
    page.find("#view-slideshow").click()
    assert page.find("#view-slideshow").get_attribute("aria-pressed") == "false"

    page.find("#view-fullscreen").click()
    page.until(lambda: page.script("return document.fullscreenElement !== null"))
    page.keys("f")
    page.until(lambda: page.script("return document.fullscreenElement === null"))

    name = page.viewer_name()
    x, y = page.script("const r = document.getElementById('stage').getBoundingClientRect();"
                       " return [r.left + r.width / 2, r.top + r.height / 2]")
    for kind, at in (("touchStart", x), ("touchMove", x - 120), ("touchEnd", None)):
        points = [] if at is None else [{"x": at, "y": y}]
        page.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
    page.until(lambda: page.viewer_name() not in (name, None))
    assert page.viewer_name() == "portrait.jpg"


def test_trash_in_the_viewer_shows_the_next_image(page, shapes):
    page = page()
    page.open("#path=trip&view=trip/panorama.jpg")
    page.until(lambda: page.viewer_name() == "panorama.jpg")
    page.find("#view-trash").click()
    page.until(lambda: page.viewer_name() == "portrait.jpg" and (shapes / "_trash_" / "panorama.jpg").exists())
    page.find("#view-trash").click()
    page.until(lambda: page.viewer_name() == "square.jpg" and (shapes / "_trash_" / "portrait.jpg").exists())
    page.find("#view-trash").click()  # the last one: the one before is shown
    page.until(lambda: page.viewer_name() == "landscape.jpg" and (shapes / "_trash_" / "square.jpg").exists())


def test_one_tab_stop_per_tile_arrows_move_space_selects_escape_clears(page, shapes):
    for n in range(8):
        draw(shapes / "trip" / f"z{n}.jpg", color=(20 * n, 200, 100))
    page = page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 12)
    page.script("document.querySelector('.tile.image .open').focus()")
    assert focused(page) == "trip/landscape.jpg"
    page.keys(page.Keys.TAB)
    assert focused(page) == "trip/panorama.jpg" and page.script("return document.activeElement.className") == "open"
    page.keys(page.Keys.ARROW_RIGHT)
    assert focused(page) == "trip/portrait.jpg"
    page.keys(page.Keys.ARROW_LEFT)
    assert focused(page) == "trip/panorama.jpg"
    before = page.script("return document.activeElement.getBoundingClientRect().top")
    page.keys(page.Keys.ARROW_DOWN)
    assert page.script("return document.activeElement.getBoundingClientRect().top") > before
    page.keys(page.Keys.ARROW_UP)
    assert focused(page) == "trip/panorama.jpg"

    page.keys(page.Keys.SPACE)
    page.until(lambda: page.find("#selection-count").text == "1 selected")
    assert page.viewer_name() is None
    page.keys(page.Keys.ARROW_RIGHT, page.Keys.SPACE)
    page.until(lambda: page.find("#selection-count").text == "2 selected")
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: not page.find("#selection-bar").is_displayed())
    assert page.script("return document.querySelectorAll('.tile.selected').length") == 0
    page.keys(page.Keys.ENTER)
    page.until(lambda: page.viewer_name() == "portrait.jpg")


def test_search_results_say_which_folder_each_is_in(page, shapes):
    draw(shapes / "home" / "landscape-2.jpg")
    page = page()
    page.until_every_process(lambda: json.loads(page.server.get("/search?q=landscape")[1])["total"] == 2)
    # One web process has the new rollup; the other reads it within a second (docs/search.md, Search):
    # wait that second, as a person typing would, so the page's one search is not raced against it.
    seen = time.monotonic()
    page.until(lambda: time.monotonic() - seen >= 1.0)
    page.open("#q=landscape")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image .where').length") == 2)
    assert page.script("return [...document.querySelectorAll('.tile.image .where')].map(w => w.textContent)") == \
        ["home", "trip"]
    assert page.find('[data-path="trip/landscape.jpg"] .open').get_attribute("title") == "trip/landscape.jpg"


def test_an_empty_gallery_says_what_it_shows_and_how_to_add_photos(page, tree):
    (tree / "later").mkdir()
    page = page()
    page.open("#path=later")
    page.until(lambda: "No images in this folder yet" in page.find("#empty").text)
    assert "Upload" in page.find("#empty").text
    shutil.rmtree(tree / "later")
    page.open()
    page.until(lambda: "\u201ctree\u201d" in page.find("#empty").text)
    text = page.find("#empty").text
    assert "Drop photos" in text and "Upload" in text and "copy" in text and "lenslet clean" in text


# The page's fetch, wrapped: the first answer to a URL ending so comes back as a process answers while another
# of its requests looks at the folder again (listings.checked_meanwhile): a moment behind (its last image, or
# subfolder, not in it yet), and saying so.
# The first answer for a URL ending in URL_END changed by CHANGE (a statement on `listing`) and said to be a
# moment behind its folder; the answers after it as the server gave them, once window.released (HELD: not yet).
BEHIND_ONCE = """
const real = window.fetch;
window.behindServed = 0;
window.askedFor = 0;
window.released = !HELD;
window.fetch = async (url, options) => {
  const answer = await real(url, options);
  if (!String(url).endsWith(URL_END)) return answer;
  window.askedFor += 1;
  if (window.behindServed) {
    while (!window.released) await new Promise((resolve) => setTimeout(resolve, 20));
    return answer;
  }
  window.behindServed += 1;
  const listing = await answer.json();
  CHANGE;
  const headers = new Headers(answer.headers);
  headers.set('X-Lenslet-Checking', '1');
  return new Response(JSON.stringify(listing), {status: answer.status, headers});
};
"""


def behind_once(url_end, change, held=False):
    return BEHIND_ONCE.replace("URL_END", json.dumps(url_end)).replace("CHANGE", change).replace(
        "HELD", json.dumps(held))


def tiles(page):
    return page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path)")


def test_a_listing_answered_while_its_folder_was_looked_at_again_is_asked_again(looking):
    """Another program changed a folder, and a request of the same web process was looking at it again as the
    page asked: the page was served the stored listing, told so, and shows the folder as it is a moment later."""
    page = looking
    page.open()
    page.script(behind_once("/folders?path=trip&page=0", "listing.items = listing.items.slice(0, -1)"))
    page.script("location.hash = '#path=trip'")
    page.until(lambda: page.script("return window.behindServed") == 1)
    page.until(lambda: len(tiles(page)) == len(SHAPES))
    assert page.find("#count").text == f"{len(SHAPES)} images"


def trip_shown_behind(page, change):
    """The page showing the folder trip from an answer changed by change and said to be behind; the answer
    asked for again held until window.released."""
    page.open()
    page.script(behind_once("/folders?path=trip&page=0", change, held=True))
    page.script("location.hash = '#path=trip'")
    page.until(lambda: len(tiles(page)) == len(SHAPES))
    return page


def test_a_listing_asked_again_that_did_not_change_leaves_the_grid_as_it_is(looking):
    """The answer asked for again is the one shown: nothing is drawn again (a grid drawn anew for nothing moves
    the tile someone was about to click, or select)."""
    page = trip_shown_behind(looking, "")
    page.script("document.querySelector('.tile.image').dataset.drawnOnce = 'yes'; window.released = true")
    page.until(lambda: page.script("return window.askedFor") >= 2)
    time.sleep(0.3)  # what the second answer would redraw, given the time to
    assert page.script("return window.askedFor") == 2
    assert page.script("return document.querySelector('.tile.image[data-drawn-once]') !== null")
    assert len(tiles(page)) == len(SHAPES)


def test_a_listing_asked_again_with_the_same_images_draws_again_only_the_tiles_that_changed(looking):
    """The answer asked for again lists the same images, one of them changed (as the worker makes thumbnails
    and hashes): that tile alone is drawn again, showing the change; the others, and what is picked, stay."""
    page = trip_shown_behind(looking, "listing.items[0].star = 3")
    first, second = tiles(page)[:2]
    rating = f"return document.querySelector('[data-path=\"{first}\"] .rating').textContent"
    assert page.script(rating) == "\u2605" * 3
    page.find(f'[data-path="{first}"] .pick').click()
    page.find(f'[data-path="{second}"] .pick').click()
    page.until(lambda: page.find("#selection-count").text == "2 selected")
    page.script("document.querySelectorAll('.tile.image').forEach(t => t.dataset.drawnOnce = 'yes');"
                " window.released = true")
    page.until(lambda: page.script(rating) == "")
    assert page.script("return [...document.querySelectorAll('.tile.image[data-drawn-once]')]"
                       ".map(t => t.dataset.path)") == tiles(page)[1:]
    assert tiles(page) == sorted(tiles(page)) and len(tiles(page)) == len(SHAPES)
    assert page.script("return [...document.querySelectorAll('.tile.image.selected .pick:checked')]"
                       ".map(t => t.closest('.tile').dataset.path)") == [first, second]
    assert page.find("#selection-count").text == "2 selected"


def test_a_later_page_asked_again_keeps_the_pages_shown_before_it(looking):
    """The third page of a folder comes back a moment behind, one of its images changed when asked again: the
    first two pages stay drawn as they are (a folder drawn from its start would lose the place of someone
    scrolled down it, and scrolling on would load the start again)."""
    page = looking
    page.open()
    page.script(behind_once("/folders?path=many&page=2", "listing.items[9].star = 2", held=True))
    page.script("location.hash = '#path=many'")
    page.until(lambda: len(tiles(page)) == 30 and page.script("return window.behindServed") == 1)
    page.script("document.querySelectorAll('.tile.image').forEach(t => t.dataset.drawnOnce = 'yes');"
                " window.released = true")
    page.until(lambda: page.script("return window.askedFor") == 2)
    last = "return document.querySelector('[data-path=\"many/img29.jpg\"]:not([data-drawn-once])')"
    page.until(lambda: page.script(last) is not None)  # drawn again, the one tile
    assert len(page.script("return document.querySelectorAll('.tile.image[data-drawn-once]')")) == 29
    assert tiles(page) == [f"many/img{n:02d}.jpg" for n in range(30)]
    assert page.find("#count").text == "30 images"


ALWAYS_BEHIND = """
const real = window.fetch;
window.askedAt = [];
window.answeredAt = [];
window.fetch = async (url, options) => {
  const mine = String(url).endsWith(URL_END);
  if (mine) window.askedAt.push(performance.now());
  const answer = await real(url, options);
  if (!mine) return answer;
  window.answeredAt.push(performance.now());
  const headers = new Headers(answer.headers);
  headers.set('X-Lenslet-Checking', '1');
  return new Response(await answer.text(), {status: answer.status, headers});
};
"""


def ever_longer(page):
    """Whether each wait from an answer to the next ask was at least the page's doubling step (500 ms, then twice the
    one before): a busy machine only makes a timer late, never early; the server's time to answer is not the page's."""
    asked, answered = page.script("return [window.askedAt, window.answeredAt]")
    waits = [ask - answer for answer, ask in zip(answered, asked[1:], strict=False)]
    assert all(wait > 0.9 * min(500 * 2 ** at, 8000) for at, wait in enumerate(waits)), waits
    return True


def test_a_listing_behind_each_time_it_is_asked_again_is_asked_ever_less_often(looking):
    """While people tag in a folder its edits are under way most of the time, and its listing may say it is a
    moment behind at every ask: the page waits twice as long each time (0.5, 1, 2 s...), not asking for some
    300 KB twice a second for as long as they tag."""
    page = looking
    page.open()
    page.script(ALWAYS_BEHIND.replace("URL_END", json.dumps("/folders?path=trip&page=0")))
    page.script("location.hash = '#path=trip'")
    page.until(lambda: len(page.script("return window.askedAt")) >= 4)
    assert ever_longer(page)
    assert len(tiles(page)) == len(SHAPES)


def test_the_tree_behind_each_time_it_is_asked_again_is_asked_ever_less_often(looking):
    page = looking
    always = ALWAYS_BEHIND.replace("URL_END", json.dumps("/folders?path="))
    added = page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": always})
    try:
        page.open("#path=trip")  # a folder's page: the tree reads the top folder itself (the top's takes the listing's)
        page.until(lambda: len(page.script("return window.askedAt")) >= 4)
        assert ever_longer(page)
    finally:
        page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def test_the_tree_asks_again_after_a_listing_answered_while_its_folder_was_looked_at_again(looking):
    """The same for the folder tree: the top folder's listing comes back a folder short, saying so, and the
    tree shows every folder a moment later."""
    page = looking
    short = behind_once("/folders?path=", "listing.dirs = listing.dirs.slice(0, -1)")
    added = page.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",  # the tree's first read, too
                                        {"source": short})
    try:
        page.open("#path=alps")
        page.until(lambda: page.script("return window.behindServed") == 1)
        page.until(lambda: page.script("return [...document.querySelectorAll('#tree li[data-folder]')]"
                                       ".map(li => li.dataset.folder)") == ["", "alps", "beach", "many", "trip"])
    finally:
        page.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": added["identifier"]})


def upload_files(page, *paths):
    page.find("#upload-input").send_keys("\n".join(str(path) for path in paths))


def bytes_of(path):
    """The file's bytes, or None while it is missing: a replace moves the old one away before the new one lands."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def clash(page):
    return page.script("return document.getElementById('clash-dialog').open")


def test_an_upload_onto_a_taken_name_asks_keep_both_replace_or_skip(page, shapes, tmp_path):
    new = draw(tmp_path / "new" / "landscape.jpg", size=(50, 50), color=(250, 250, 0))
    other = draw(tmp_path / "new" / "portrait.jpg", size=(40, 40), color=(0, 250, 250))
    (tmp_path / "new" / "notes.txt").write_text("not a photo")
    page = page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    was = (shapes / "trip" / "landscape.jpg").read_bytes()

    upload_files(page, new)
    page.until(lambda: clash(page))
    assert "landscape.jpg" in page.find("#clash-text").text and not page.find("#clash-all").is_displayed()
    page.find('#clash-dialog button[value="rename"]').click()
    page.until(lambda: (shapes / "trip" / "landscape (1).jpg").exists())
    assert (shapes / "trip" / "landscape.jpg").read_bytes() == was

    upload_files(page, new)
    page.until(lambda: clash(page))
    page.find('#clash-dialog button[value="skip"]').click()
    page.until(lambda: "skipped 1" in page.find("#status").text)
    assert (shapes / "trip" / "landscape.jpg").read_bytes() == was
    assert not (shapes / "trip" / "landscape (2).jpg").exists()

    upload_files(page, new)
    page.until(lambda: clash(page))
    page.find('#clash-dialog button[value="replace"]').click()
    page.until(lambda: bytes_of(shapes / "trip" / "landscape.jpg") == new.read_bytes())
    assert (shapes / "_trash_" / "landscape.jpg").read_bytes() == was  # replaced, not lost

    # Two taken names at once, answered once for both; the text file is named as neither photo nor video.
    upload_files(page, new, other, tmp_path / "new" / "notes.txt")
    page.until(lambda: clash(page))
    page.find("#clash-all").click()
    page.find('#clash-dialog button[value="rename"]').click()
    page.until(lambda: (shapes / "trip" / "landscape (2).jpg").exists()
               and (shapes / "trip" / "portrait (1).jpg").exists())
    assert not clash(page)
    page.until(lambda: "not a photo or video" in page.find("#notice").text and "notes.txt" in page.find("#notice").text)
    assert not (shapes / "trip" / "notes.txt").exists()


def answer(page, text):
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    field = page.find("#ask-input")
    field.clear()
    field.send_keys(text + "\n")


def test_folders_are_made_moved_and_renamed_and_images_moved_and_renamed(page, shapes):
    page = page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    page.find("#new-folder").click()
    answer(page, "album")
    page.until(lambda: (shapes / "trip" / "album").is_dir() and "path=trip%2Falbum" in page.driver.current_url)
    page.until(lambda: page.script("return document.querySelector('#tree li[data-folder=\"trip/album\"]') !== null"))

    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 4)
    for name in ("square.jpg", "panorama.jpg"):  # clicked again where the grid was redrawn under the click
        page.until(lambda name=name: page.find(f'[aria-label="Select {name}"]').click() or True)
    page.find("#move-button").click()
    answer(page, "trip/album")
    page.until(lambda: sorted(p.name for p in (shapes / "trip" / "album").glob("*.jpg"))
               == ["panorama.jpg", "square.jpg"])
    page.until(lambda: len(page.thumbs_drawn()) == 2)

    page.open("#path=trip&view=trip/portrait.jpg")
    page.until(lambda: page.viewer_name() == "portrait.jpg")
    page.find("#view-rename").click()
    answer(page, "trip/tall.jpg")
    page.until(lambda: (shapes / "trip" / "tall.jpg").exists() and page.viewer_name() == "tall.jpg")
    assert not (shapes / "trip" / "portrait.jpg").exists()
    page.keys(page.Keys.ESCAPE)

    page.open("#path=trip%2Falbum")
    page.until(lambda: len(page.thumbs_drawn()) == 2)
    page.find("#folder-move").click()
    answer(page, "best")
    page.until(lambda: (shapes / "best" / "square.jpg").exists() and not (shapes / "trip" / "album").exists())
    page.until(lambda: urllib.parse.unquote(page.driver.current_url).endswith("#path=best")
               and len(page.thumbs_drawn()) == 2)
    page.until(lambda: page.script("return document.querySelector('#tree li[data-folder=\"best\"]') !== null"))


def test_what_cannot_be_decoded_does_not_stop_the_viewer(page, tree):
    draw(tree / "a.jpg", size=(300, 200))
    (tree / "b.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)  # no picture in it
    page = page()
    page.open("#view=b.jpg")
    page.until(lambda: page.viewer_name() == "b.jpg")
    page.keys(page.Keys.ARROW_LEFT)
    page.until(lambda: page.viewer_name() == "a.jpg" and
               page.script("return document.getElementById('view-image').naturalWidth") == 300)
    with Image.open(tree / "a.jpg") as img:
        assert img.size == (300, 200)


def test_raws_show_through_their_preview_and_what_cannot_be_shown_has_a_placeholder(page, tree):
    from api.test_raw import BYTE, LONG, LOSSLESS, SHORT, Tiff, nef  # the raw files drawn for the API tests
    (tree / "cam").mkdir()
    (tree / "cam" / "a.nef").write_bytes(nef())
    t = Tiff()
    sensor = t.blob(LOSSLESS)
    (tree / "cam" / "b.dng").write_bytes(t.done(t.ifd([(0x0103, SHORT, 7), (0x0111, LONG, sensor),
                                                       (0x0117, LONG, len(LOSSLESS)), (0xC612, BYTE, [1, 4, 0, 0])])))
    page = page()
    page.open("#path=cam")
    page.until(lambda: page.script("return document.querySelector('[data-path=\"cam/a.nef\"] img').naturalWidth") > 0
               and page.script("return document.querySelector('[data-path=\"cam/b.dng\"]')"
                               ".classList.contains('broken')"))
    assert page.find("#count").text == "2 images"  # listed, not hidden
    page.labelled("a.nef").click()
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") == 400)  # upright
    page.find("#view-zoom").click()  # a browser cannot show a raw: 100% is its preview's
    assert page.script("return document.getElementById('view-image').naturalWidth") == 400
    loaded = page.script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not any("/file?" in url for url in loaded)
