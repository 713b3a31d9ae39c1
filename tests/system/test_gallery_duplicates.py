"""The Duplicates view of the gallery page: two copies of one photo in two folders, one kept, the
other in the trash (and restorable from there)."""

import json

import pytest
from helpers import http, jpeg

pytestmark = pytest.mark.system


def test_the_duplicates_view_trashes_one_of_two_copies(fresh_page, tree, tmp_path):
    for path in ("trip/beach.jpg", "home/beach copy.jpg"):
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(jpeg(size=(300, 200), color=(220, 120, 20)))
    (tree / "trip" / "other.jpg").write_bytes(jpeg(size=(300, 200), color=(20, 120, 220)))
    page = fresh_page()
    # The worker hashes them and rolls them up: then the server knows the pair. Each web process loads
    # the new rollup on its own, a moment apart.
    page.until_every_process(lambda: json.loads(page.server.get("/duplicates")[1])["total"] == 1)
    page.open("#path=trip")
    page.find("#duplicates-button").click()
    page.until(lambda: len(page.driver.find_elements(page.by.CSS_SELECTOR, "#duplicates-list .copy")) == 2)
    assert page.script("return [...document.querySelectorAll('#duplicates-list .copy')].map(c => c.dataset.path)") \
        == ["home/beach copy.jpg", "trip/beach.jpg"]
    page.until(lambda: page.script("return [...document.querySelectorAll('#duplicates-list img')]"
                                   ".every(i => i.naturalWidth > 0)"))
    page.screenshot(tmp_path, "duplicates.png")

    page.labelled("Keep trip/beach.jpg, trash the other copies").click()
    page.until(lambda: (tree / "_trash_" / "beach copy.jpg").exists())
    assert (tree / "trip" / "beach.jpg").exists() and not (tree / "home" / "beach copy.jpg").exists()
    page.until(lambda: "moved 1 to the trash" in page.find("#duplicates-message").text)
    restored = http("POST", page.server.url + "/restore", {"paths": ["_trash_/beach copy.jpg"]})
    assert restored["paths"] == ["home/beach copy.jpg"]  # undone from the trash
