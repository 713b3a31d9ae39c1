"""A cover picked through gunicorn's two web processes is what either of them answers next, beside the images and
under a state root (LENSLET_STATE): the pick moves no folder of the library there."""

import os
import time

import pytest
from helpers import draw, http

pytestmark = pytest.mark.system

ASKS = 24  # listings asked after the pick: each goes to whichever web process takes it


@pytest.mark.parametrize("layout", ["beside", "state"])
def test_every_web_process_serves_a_picked_cover_at_once(gunicorn, tree, tmp_path, layout):
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        draw(tree / "trips" / "summer" / name)
    for folder in (tree, tree / "trips", tree / "trips" / "summer"):
        os.utime(folder, (time.time() - 3600,) * 2)  # a library's folders are old: their times trusted
    server = gunicorn(env={"LENSLET_STATE": str(tmp_path / "state")} if layout == "state" else {})

    def cover():
        dirs = http("GET", server.url + "/folders?path=trips")["dirs"]
        return next(d["cover"] for d in dirs if d["name"] == "summer")

    server.wait_until(lambda: cover() == "trips/summer/a.jpg")
    assert {cover() for _ in range(ASKS)} == {"trips/summer/a.jpg"}  # both web processes keep it now
    http("PATCH", server.url + "/folders?path=trips/summer", {"cover": "c.jpg"})
    assert {cover() for _ in range(ASKS)} == {"trips/summer/c.jpg"}
    http("PATCH", server.url + "/folders?path=trips/summer", {"cover": None})
    assert {cover() for _ in range(ASKS)} == {"trips/summer/a.jpg"}
