"""Organising from the gallery page, in headless Chromium against gunicorn: the folder tree opened a
level and following every operation without a reload, with counts (and covers, where the server
gives them); images and folders dragged onto a folder in the tree or the grid; uploads of several
files and whole folders with a row of progress each, a phone's videos with its photos, files that are not photos or
videos named, the token
asked for; two fingers zooming the viewer's picture."""

import base64
import json

import pytest
from conftest import draw_shapes, serving
from helpers import clip, draw, heic


@pytest.fixture
def shapes(shapes):
    """The folder of photo shapes, and a folder with a subfolder beside it."""
    draw(shapes / "home" / "sub" / "deep.jpg", color=(10, 200, 10))
    return shapes


@pytest.fixture
def page(fresh_page):
    """Start gunicorn over the tree; answer a Page driving the browser against it."""
    return fresh_page()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The photo shapes in trip/ and home/sub/ with a photo, served by one gunicorn for the tests that only look."""
    tree = tmp_path_factory.mktemp("organise") / "tree"
    draw_shapes(tree / "trip")
    draw(tree / "home" / "sub" / "deep.jpg", color=(10, 200, 10))
    with serving(tree) as server:
        yield server


@pytest.fixture
def looking(clean_page_for, served):
    """A Page of the module's server."""
    return clean_page_for(served)


def open_marked(page, hash=""):
    """Open the page and mark it: a reload would lose the mark (another hash is no reload)."""
    page.open(hash)
    page.script("window.notReloaded = true")


def not_reloaded(page):
    return page.script("return window.notReloaded === true")


def tree_folders(page):
    """{path: count text} of the folders the tree shows (inside open folders only)."""
    return page.script("""return Object.fromEntries([...document.querySelectorAll('#tree li[data-folder]')]
        .filter(li => li.offsetParent !== null)
        .map(li => [li.dataset.folder, li.querySelector(':scope > .count')?.textContent ?? null]))""")


def tree_counts(page):
    """{path: the images the folder holds itself} as the tree shows them (the count before any
    "(N)" of its subfolders' images: a server may give those too)."""
    return {path: text and text.split(" (")[0] for path, text in tree_folders(page).items()}


def tree_label(page, path):
    return page.script("return document.querySelector(`#tree li[data-folder=\"${arguments[0]}\"] > a`)?.textContent",
                       path)


def answer(page, text):
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    field = page.find("#ask-input")
    field.clear()
    field.send_keys(text + "\n")


def select(page, *names):
    for name in names:
        page.find(f'[aria-label="Select {name}"]').click()
    page.until(lambda: page.find("#selection-count").text == f"{len(names)} selected")


def test_the_tree_opens_a_level_and_follows_a_new_folder_and_a_folder_moved_without_a_reload(page, shapes):
    open_marked(page)
    page.until(lambda: tree_counts(page).get("trip") == "4")  # open at once, with counts
    assert set(tree_folders(page)) == {"", "home", "trip"}  # one level: home/sub waits for a click
    assert tree_counts(page)["home"] == "0"

    page.open("#path=trip")  # a new address, not a reload
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    page.find("#new-folder").click()
    answer(page, "album")
    page.until(lambda: "trip/album" in tree_folders(page))

    page.find("#folder-move").click()  # on trip/album, shown now
    answer(page, "best")
    page.until(lambda: "best" in tree_folders(page) and "trip/album" not in tree_folders(page))
    assert (shapes / "best").is_dir() and not (shapes / "trip" / "album").exists()
    page.until(lambda: page.script("return document.querySelector('#tree [aria-current]').textContent") == "best")
    assert not_reloaded(page)


def test_the_tree_and_counts_follow_a_trash_a_restore_that_empties_it_and_a_delete(page, shapes):
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    assert "_trash_" not in tree_folders(page)
    select(page, "square.jpg", "panorama.jpg")
    page.find("#trash-button").click()  # the first trash makes the trash folder
    page.until(lambda: tree_counts(page).get("_trash_") == "2" and tree_counts(page).get("trip") == "2")
    assert tree_label(page, "_trash_") == "Trash"

    page.find('#tree li[data-folder="_trash_"] > a').click()
    # the trash's two, not trip's two left, which show until the trash's listing comes
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 2
               and page.script("return document.querySelector('[aria-label=\"Select square.jpg\"]') !== null"))
    select(page, "square.jpg")
    page.find("#restore-button").click()
    page.until(lambda: tree_counts(page).get("_trash_") == "1" and tree_counts(page).get("trip") == "3")
    page.script("window.confirm = () => true")
    select(page, "panorama.jpg")
    page.find("#delete-button").click()  # the trash emptied: it stays, with nothing in it
    page.until(lambda: tree_counts(page).get("_trash_") == "0")
    assert not (shapes / "_trash_" / "panorama.jpg").exists() and (shapes / "trip" / "square.jpg").exists()
    assert not_reloaded(page)


# Drags a tile onto a folder of the tree as a person's mouse would, with the DataTransfer the browser
# would carry: dragstart on the tile, dragover and drop on the folder, dragend on the tile.
DRAG = """
const [from, onto] = arguments;
const carried = new DataTransfer();
const send = (node, type) => node.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
  dataTransfer: carried}));
send(from, "dragstart");
send(onto, "dragenter");
const taken = !send(onto, "dragover");  // a drop target cancels dragover
send(onto, "drop");
send(from, "dragend");
return taken;
"""


def drag(page, source_css, folder, onto=None):
    return page.script(DRAG, page.find(source_css), page.find(onto or f'#tree li[data-folder="{folder}"] > a'))


def test_images_and_a_folder_dragged_onto_a_tree_folder_move_there(page, shapes):
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    assert drag(page, '[data-path="trip/portrait.jpg"]', "home")
    page.until(lambda: (shapes / "home" / "portrait.jpg").exists())
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 3
               and tree_counts(page).get("home") == "1")

    select(page, "square.jpg", "panorama.jpg")  # dragging one of the selected takes them all
    assert drag(page, '[data-path="trip/square.jpg"]', "home")
    page.until(lambda: sorted(p.name for p in (shapes / "home").glob("*.jpg"))
               == ["panorama.jpg", "portrait.jpg", "square.jpg"])
    page.until(lambda: tree_counts(page).get("trip") == "1" and tree_counts(page).get("home") == "3")

    page.open("#path=home")
    page.until(lambda: page.script("return document.querySelector('.tile.folder[data-folder=\"home/sub\"]')"))
    # The worker is done with the tree (its first pass, the moves above): a thumbnail or manifest it
    # writes into a folder moved meanwhile makes that folder again, a race of the server's own that
    # this test of the page does not mean to run into.
    page.until(lambda: json.loads(page.server.get("/health")[1])["worker"]["backlog"] == 0)
    assert drag(page, '.tile.folder[data-folder="home/sub"]', "trip")
    page.until(lambda: (shapes / "trip" / "sub" / "deep.jpg").exists() and not (shapes / "home" / "sub").exists())
    page.until(lambda: page.script("return document.querySelector('.tile.folder') === null"))

    page.open("#path=trip")  # a folder's tile in the grid takes images too
    page.until(lambda: page.script("return document.querySelector('.tile.folder[data-folder=\"trip/sub\"]')"))
    assert drag(page, '[data-path="trip/landscape.jpg"]', None, onto='.tile.folder[data-folder="trip/sub"]')
    page.until(lambda: (shapes / "trip" / "sub" / "landscape.jpg").exists())
    page.until(lambda: tree_counts(page).get("trip/sub") == "2")
    assert not_reloaded(page)


def upload_rows(page):
    """[(name, progress value, result)] of the upload panel's rows."""
    return page.script("""return [...document.querySelectorAll('#uploads li')].map(row =>
        [row.querySelector('.name').textContent, row.querySelector('progress').value,
         row.querySelector('.result').textContent])""")


# Notes, for each upload row, whether its bar moved before the row said how it ended: only the
# upload's progress events move it then.
WATCH_PROGRESS = """
window.movedBeforeEnd = {};
new MutationObserver((records) => {
  for (const record of records) {
    const row = record.target.closest && record.target.closest('#uploads li');
    if (!row || record.target.tagName !== 'PROGRESS') continue;
    const name = row.querySelector('.name').textContent;
    if (!row.querySelector('.result').textContent && record.target.value > 0) window.movedBeforeEnd[name] = true;
  }
}).observe(document.getElementById('uploads'), {subtree: true, attributes: true, attributeFilter: ['value']});
"""


def test_each_file_uploaded_has_a_row_with_its_progress_and_files_not_images_are_named(page, shapes, tmp_path):
    big = draw(tmp_path / "up" / "big.png", size=(1200, 900), color=(20, 90, 200))
    small = draw(tmp_path / "up" / "small.jpg", size=(40, 30), color=(200, 90, 20))
    (tmp_path / "up" / "notes.txt").write_text("not a photo")
    (tmp_path / "up" / "clip.pdf").write_bytes(b"%PDF-1.4")
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    page.script(WATCH_PROGRESS)
    page.find("#upload-input").send_keys("\n".join(str(tmp_path / "up" / name)
                                                   for name in ("big.png", "small.jpg", "notes.txt", "clip.pdf")))
    page.until(lambda: [row[2] for row in upload_rows(page)] == ["uploaded", "uploaded"])
    assert [(name, value) for name, value, _ in upload_rows(page)] == [("big.png", 1), ("small.jpg", 1)]
    assert page.script("return document.getElementById('uploads').hidden") is False
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 6)
    notice = page.find("#notice").text
    assert "notes.txt" in notice and "clip.pdf" in notice and "not photos or videos" in notice
    assert (shapes / "trip" / "big.png").read_bytes() == big.read_bytes()
    assert (shapes / "trip" / "small.jpg").read_bytes() == small.read_bytes()
    assert not (shapes / "trip" / "notes.txt").exists() and not (shapes / "trip" / "clip.pdf").exists()
    assert page.script("return window.movedBeforeEnd") == {"big.png": True, "small.jpg": True}
    page.until(lambda: tree_counts(page).get("trip") == "6")
    assert not_reloaded(page)


def test_a_phones_videos_and_live_photo_chosen_in_upload_land_beside_its_photos(page, shapes, tmp_path):
    roll = {"IMG_0009.HEIC": heic(), "IMG_0009.MOV": clip(".mov"), "VID_0001.mp4": clip(".mp4")}
    for name, data in roll.items():
        (tmp_path / name).write_bytes(data)
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    assert {".mov", ".mp4", "video/quicktime"} <= set(page.find("#upload-input").get_attribute("accept").split(","))
    page.find("#upload-input").send_keys("\n".join(str(tmp_path / name) for name in roll))
    page.until(lambda: [row[2] for row in upload_rows(page)] == ["uploaded"] * 3)
    assert {name: (shapes / "trip" / name).read_bytes() for name in roll} == roll
    assert "Uploaded 3 files" in page.find("#status").text and not_reloaded(page)


# Drops a folder on the page as the browser hands one over: a drop whose items give a directory
# entry (webkitGetAsEntry), read in batches by a reader, holding files and a folder. Chromium does
# not let a page build directory entries, so these stand in for the browser's FileSystemEntry
# objects (the same fields and callbacks); the page's own code reads them as it reads real ones.
DROP_FOLDER = """
const [tree, done] = arguments;
const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const entry = (name, node) => typeof node === "string"
  ? {isFile: true, isDirectory: false, name, file: (ok) => ok(new File([bytes(node)], name))}
  : {isFile: false, isDirectory: true, name, createReader() {
      const batches = [Object.entries(node).map(([child, inner]) => entry(child, inner)), []];
      return {readEntries: (ok) => setTimeout(() => ok(batches.shift()), 0)};
    }};
const carried = new DataTransfer();
const event = new DragEvent("drop", {bubbles: true, cancelable: true, dataTransfer: carried});
const items = Object.entries(tree).map(([name, node]) => ({kind: "file", webkitGetAsEntry: () => entry(name, node),
  getAsFile: () => null}));
Object.defineProperty(event, "dataTransfer", {value: {types: ["Files"], items, files: []}});
document.getElementById("grid").dispatchEvent(event);
done(event.defaultPrevented);
"""


def test_a_folder_dropped_is_made_with_its_subfolders_and_filled(page, shapes, tmp_path):
    jpeg = base64.b64encode(draw(tmp_path / "a.jpg", size=(60, 40)).read_bytes()).decode()
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    assert page.driver.execute_async_script(DROP_FOLDER, {
        "holiday": {"one.jpg": jpeg, "readme.txt": base64.b64encode(b"hello").decode(),
                    "day2": {"two.jpg": jpeg}, "empty": {}},
        "loose.jpg": jpeg})
    page.until(lambda: [row[2] for row in upload_rows(page)] == ["uploaded"] * 3)
    assert sorted(row[0] for row in upload_rows(page)) == ["holiday/day2/two.jpg", "holiday/one.jpg", "loose.jpg"]
    assert (shapes / "trip" / "holiday" / "day2" / "two.jpg").read_bytes() == (tmp_path / "a.jpg").read_bytes()
    assert (shapes / "trip" / "holiday" / "one.jpg").exists() and (shapes / "trip" / "loose.jpg").exists()
    assert (shapes / "trip" / "holiday" / "empty").is_dir()
    assert not (shapes / "trip" / "holiday" / "readme.txt").exists()
    page.until(lambda: "holiday/readme.txt" in page.find("#notice").text)
    page.until(lambda: tree_counts(page).get("trip/holiday") == "1")
    page.find('#tree li[data-folder="trip/holiday"] > .twisty').click()
    page.until(lambda: {"trip/holiday/day2", "trip/holiday/empty"} <= set(tree_folders(page)))
    assert not_reloaded(page)


def test_a_folder_chosen_with_upload_folder_is_made_and_filled(page, shapes, tmp_path):
    draw(tmp_path / "pick" / "album" / "x.jpg", size=(50, 50))
    draw(tmp_path / "pick" / "album" / "inner" / "y.png", size=(30, 60))
    open_marked(page, "#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    page.find("#upload-folder-input").send_keys(str(tmp_path / "pick" / "album"))  # as its chooser gives it
    page.until(lambda: sorted(row[0] for row in upload_rows(page) if row[2] == "uploaded")
               == ["album/inner/y.png", "album/x.jpg"])
    assert (shapes / "trip" / "album" / "inner" / "y.png").exists() and (shapes / "trip" / "album" / "x.jpg").exists()
    page.until(lambda: "trip/album" in tree_folders(page))


def touch(page, kind, *points):
    page.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [
        {"x": x, "y": y, "id": n} for n, (x, y) in enumerate(points)]})


def test_two_fingers_spreading_zoom_the_picture_about_their_middle_and_one_still_swipes(looking):
    page = looking
    open_marked(page, "#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg"
               and page.script("return document.getElementById('view-image').naturalWidth") > 0)
    box = lambda: page.script("const r = document.getElementById('view-image').getBoundingClientRect();"  # noqa: E731
                              " return [r.left, r.top, r.width, r.height]")
    left, top, width, height = box()
    x, y = left + width / 2, top + height / 2
    # What lies under the fingers' middle at first: a point of the picture a quarter in from its left.
    held = (x - width / 4, y)
    touch(page, "touchStart", (held[0] - 20, y), (held[0] + 20, y))
    for spread in (40, 60, 80):
        touch(page, "touchMove", (held[0] - spread, y), (held[0] + spread, y))
    touch(page, "touchEnd")
    page.until(lambda: abs(box()[2] / width - 4) < 0.05)  # fingers 40 px apart, then 160: four times as large
    zoomed = box()
    # The picture's point under the middle stays there: a quarter of the width in from its left.
    assert abs(zoomed[0] + zoomed[2] / 4 - held[0]) < 2 and abs(zoomed[1] + zoomed[3] / 2 - held[1]) < 2
    assert page.viewer_name() == "landscape.jpg"

    touch(page, "touchStart", (x, y))  # zoomed, one finger does not turn the page
    touch(page, "touchMove", (x - 150, y))
    touch(page, "touchEnd")
    assert page.viewer_name() == "landscape.jpg"
    page.keys(page.Keys.ARROW_RIGHT)  # another image starts as it fits the screen
    page.until(lambda: page.viewer_name() == "panorama.jpg")
    assert page.script("return document.getElementById('view-image').style.transform") == ""
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth") > 0)
    left, top, width, height = box()
    touch(page, "touchStart", (left + width / 2, top + height / 2))
    touch(page, "touchMove", (left + width / 2 - 150, top + height / 2))
    touch(page, "touchEnd")
    page.until(lambda: page.viewer_name() == "portrait.jpg")
    assert not_reloaded(page)


# What a count shows for what a listing says, read from counts.js in the page (an older server
# gives a page's total alone; one with counts gives each folder's own images and allImages).
COUNTS = """
const [entries, done] = arguments;
import("/static/counts.js").then(({countOf, countLabel}) => done(entries.map((entry) => {
  const count = countOf(entry);
  return count && countLabel(count);
})));
"""


COUNTS_SHOWN = [
    ({"name": "a"}, None),
    ({"total": 4}, {"text": "4", "words": "4 images"}),
    ({"total": 1, "images": 1, "allImages": 1}, {"text": "1", "words": "1 image"}),
    ({"images": 12, "allImages": 40}, {"text": "12 (40)", "words": "12 images here, 40 with its subfolders"}),
    ({"images": 0, "allImages": 3}, {"text": "0 (3)", "words": "0 images here, 3 with its subfolders"}),
    ({"allImages": 3}, {"text": "(3)", "words": "3 images with its subfolders"}),
    ({"images": -1, "allImages": "7"}, None),  # not counts: shown as none rather than as nonsense
]


def test_a_folder_count_shows_its_own_images_and_those_below_when_the_listing_says(looking):
    entries = [entry for entry, _ in COUNTS_SHOWN]
    assert looking.driver.execute_async_script(COUNTS, entries) == [shown for _, shown in COUNTS_SHOWN]


def test_an_upload_refused_for_its_token_asks_for_it_and_goes_again(fresh_page, shapes, tmp_path):
    page = fresh_page(env={"LENSLET_TOKEN": "s3cret"})
    page.script("localStorage.setItem('lenslet.token', 's3cret')")
    page.open("#path=trip")
    page.until(lambda: page.script("return document.querySelectorAll('.tile.image').length") == 4)
    page.script("localStorage.removeItem('lenslet.token')")  # forgotten meanwhile: the upload meets a 401
    page.find("#upload-input").send_keys(str(draw(tmp_path / "k.jpg", size=(30, 30))))
    page.until(lambda: page.script("return document.getElementById('token-dialog').open"))
    page.labelled("Token").send_keys("s3cret\n")
    page.until(lambda: [row[2] for row in upload_rows(page)] == ["uploaded"])
    assert (shapes / "trip" / "k.jpg").exists()


def test_a_folder_tile_shows_its_cover_and_both_counts_when_the_listing_gives_them(looking):
    page = looking

    def listed():  # once the worker has looked below each folder: a busy machine takes a while
        dirs = {entry["name"]: entry for entry in json.loads(page.server.get("/folders?path=")[1])["dirs"]}
        return "cover" in dirs["trip"] and "allImages" in dirs["home"]
    page.server.wait_until(listed, timeout=120)
    open_marked(page)
    page.until(lambda: page.script("const img = document.querySelector('.tile.folder[data-folder=\"trip\"] img.cover');"
                                   " return img !== null && img.naturalWidth > 0"))
    page.until(lambda: tree_folders(page).get("home") == "0 (1)" and tree_folders(page).get("trip") == "4")
    assert page.find('.tile.folder[data-folder="home"] .count').text == "0 (1)"
    assert page.find('.tile.folder[data-folder="home"] .count').get_attribute("aria-label") == \
        "0 images here, 1 with its subfolders"
