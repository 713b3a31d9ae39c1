"""Rotate in the viewer, in headless Chromium against gunicorn: Rotate right turns the picture shown and its
tile in the grid at once, the key l turns it back, and the original stays as it was."""

import pytest


@pytest.fixture
def page(fresh_page):
    return fresh_page()


def shown(page):
    """(width, height) of the picture the viewer shows."""
    return tuple(page.script("const i = document.getElementById('view-image');"
                             " return [i.naturalWidth, i.naturalHeight]"))


def tile_shape(page, path):
    """(width, height) of a tile's shape in the grid, and of the thumbnail drawn in it."""
    return tuple(page.script("const t = document.querySelector(`.tile.image[data-path='${arguments[0]}']`);"
                             " const i = t && t.querySelector('img');"
                             " return t ? [Number(t.dataset.w), Number(t.dataset.h),"
                             " i.naturalWidth > i.naturalHeight] : []", path))


def test_rotate_right_turns_the_viewer_and_the_tile_and_l_turns_it_back(page, shapes):
    original = (shapes / "trip" / "landscape.jpg").read_bytes()
    page.open("#path=trip&view=trip/landscape.jpg")
    page.until(lambda: page.viewer_name() == "landscape.jpg" and shown(page) == (600, 400))
    page.until(lambda: tile_shape(page, "trip/landscape.jpg") == (600, 400, True))
    page.find("#view-rotate-right").click()
    page.until(lambda: shown(page) == (400, 600))  # the preview, made again turned
    page.until(lambda: tile_shape(page, "trip/landscape.jpg") == (400, 600, False))  # its thumbnail too
    assert page.item("trip/landscape.jpg")["orientation"] == 6

    page.keys("l")
    page.until(lambda: shown(page) == (600, 400) and tile_shape(page, "trip/landscape.jpg") == (600, 400, True))
    assert page.item("trip/landscape.jpg")["orientation"] == 1
    assert (shapes / "trip" / "landscape.jpg").read_bytes() == original
