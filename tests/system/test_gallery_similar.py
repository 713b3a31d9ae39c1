"""The Similar photos view of the gallery page: a burst of three near-copies shown as one group, the one picked
kept and the other two sent to the trash in one step, then restored from the trash view."""

import io
import json

import pytest
from helpers import scene
from PIL import ImageEnhance

pytestmark = pytest.mark.system


def jpeg_of(img, quality=90):
    data = io.BytesIO()
    img.save(data, "JPEG", quality=quality)
    return data.getvalue()


def test_the_similar_view_keeps_the_one_picked_and_trashes_the_others(fresh_page, tree, tmp_path):
    (tree / "party").mkdir()
    for name, img in {"a.jpg": scene(1), "b.jpg": scene(1).resize((240, 160)), "d.jpg": scene(2),
                      "c.jpg": ImageEnhance.Brightness(scene(1)).enhance(0.85)}.items():
        (tree / "party" / name).write_bytes(jpeg_of(img))
    page = fresh_page()
    # The worker reads the thumbnails' looks and rolls them up; each web process loads the new rollup on its own.
    agreed = []
    page.until(lambda: agreed.append(json.loads(page.server.get("/similar")[1])["total"] == 1)
               or agreed[-8:] == [True] * 8)
    page.open("#path=party")
    page.find("#similar-button").click()
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, "#similar-list .copy")) == 3)
    assert page.script("return [...document.querySelectorAll('#similar-list .copy')].map(c => c.dataset.path)") \
        == ["party/a.jpg", "party/b.jpg", "party/c.jpg"]
    assert page.labelled("Keep party/a.jpg").is_selected()  # the largest, then the sharpest
    page.until(lambda: page.script("return [...document.querySelectorAll('#similar-list img')]"
                                   ".every(i => i.naturalWidth > 0)"))
    page.screenshot(tmp_path, "similar.png")

    page.labelled("Keep party/c.jpg").click()
    page.labelled("Trash the photos like a.jpg but the one picked").click()
    page.until(lambda: (tree / "_trash_" / "a.jpg").exists() and (tree / "_trash_" / "b.jpg").exists())
    assert (tree / "party" / "c.jpg").exists() and (tree / "party" / "d.jpg").exists()
    page.until(lambda: "moved 2 to the trash" in page.find("#similar-message").text)
    page.find('#similar-dialog button[value="close"]').click()
    page.find('#tree li[data-folder="_trash_"] > a').click()  # undone from the trash, as a person does
    # the trash's own two, not the two photos left in party, drawn before the trash's listing comes
    page.until(lambda: page.tiles() == ["_trash_/a.jpg", "_trash_/b.jpg"] and all(page.thumbs_drawn()))
    page.find('[aria-label="Select a.jpg"]').click()
    page.find('[aria-label="Select b.jpg"]').click()
    page.find("#restore-button").click()
    page.until(lambda: (tree / "party" / "a.jpg").exists() and (tree / "party" / "b.jpg").exists())
    assert not (tree / "_trash_" / "a.jpg").exists()
