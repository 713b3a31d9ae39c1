"""Stacks in the gallery page: a raw and its JPEG are one tile with a badge, both reachable in the
viewer, and both go to the trash together."""

import pytest
from helpers import draw

pytestmark = pytest.mark.system


def test_a_raw_and_its_jpeg_are_one_tile_and_go_to_the_trash_together(fresh_page, tree, tmp_path):
    draw(tree / "trip" / "IMG_1.JPG", size=(300, 200), color=(200, 60, 30))
    (tree / "trip" / "IMG_1.CR2").write_bytes(b"II*\x00 a raw lenslet cannot show")
    draw(tree / "trip" / "lone.jpg", size=(300, 200), color=(30, 60, 200))
    page = fresh_page()
    page.open("#path=trip")
    page.until(lambda: len(page.thumbs_drawn()) == 2 and all(page.thumbs_drawn()))
    assert page.script("return [...document.querySelectorAll('.tile.image')].map(t => t.dataset.path)") == \
        ["trip/IMG_1.JPG", "trip/lone.jpg"]
    badge = page.find('[data-path="trip/IMG_1.JPG"] .badge')
    assert badge.text == "RAW" and badge.get_attribute("title") == "With IMG_1.CR2"
    page.screenshot(tmp_path, "stack-tile.png")

    page.find('[data-path="trip/IMG_1.JPG"] .open').click()
    page.until(lambda: page.viewer_name() == "IMG_1.JPG" and page.find("#view-stack").is_displayed())
    assert page.find("#view-stack").text == "Raw"
    page.find("#view-stack").click()
    page.until(lambda: page.viewer_name() == "IMG_1.CR2" and page.find("#view-stack").text == "Picture")
    assert page.find("#view-next").is_enabled()  # its neighbours are its picture's
    page.find("#view-stack").click()
    page.until(lambda: page.viewer_name() == "IMG_1.JPG")

    page.find("#view-trash").click()
    page.until(lambda: (tree / "_trash_" / "IMG_1.JPG").exists() and (tree / "_trash_" / "IMG_1.CR2").exists())
    assert not (tree / "trip" / "IMG_1.JPG").exists() and not (tree / "trip" / "IMG_1.CR2").exists()
    page.until(lambda: page.viewer_name() == "lone.jpg")
