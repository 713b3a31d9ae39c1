"""The gallery page on a library that is only read (LENSLET_STATE), in headless Chromium against gunicorn:
no control that would change the library's files is shown, and tags, stars and notes work as ever."""

import json

import pytest

pytestmark = pytest.mark.system


def shown(page, css):
    return page.script(f"return getComputedStyle(document.querySelector('{css}')).display !== 'none'")


def test_the_page_hides_file_operations_and_keeps_tags_stars_and_notes(fresh_page, shapes, tmp_path):
    state = tmp_path / "state"
    page = fresh_page(env={"LENSLET_STATE": str(state)})
    page.open("#path=trip&view=trip/panorama.jpg")
    page.until(lambda: page.viewer_name() == "panorama.jpg")
    for css in ("#upload-button", "#upload-folder-button", "#new-folder", "#view-rename", "#view-trash",
                "#move-button", "#trash-button", "#restore-button", "#delete-button"):
        assert not shown(page, css), css
    assert shown(page, "#tag-form") and shown(page, "#view-save-notes")
    page.find("#view-tag").send_keys("sunset", page.Keys.ENTER)
    page.until(lambda: page.tags() == ["sunset"])
    page.script("document.activeElement.blur()")
    page.keys("4")
    page.until(lambda: page.item("trip/panorama.jpg")["star"] == 4)
    stored = json.loads((state / "trip" / "panorama.jpg.json").read_text())
    assert stored["tags"] == ["sunset"] and stored["star"] == 4
    assert sorted(p.name for p in (shapes / "trip").iterdir()) == ["landscape.jpg", "panorama.jpg", "portrait.jpg",
                                                                   "square.jpg"]
    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.viewer_name() is None)
    tile = page.find('.tile.image[data-path="trip/square.jpg"]')
    assert tile.get_attribute("draggable") == "false"  # dragged onto a folder would be a move
    page.script("arguments[0].querySelector('.pick').click()", tile)
    page.until(lambda: shown(page, "#selection-bar"))
    assert shown(page, "#bulk-tag-form") and not shown(page, "#trash-button")
