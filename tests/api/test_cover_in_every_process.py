"""A cover picked through one web process is served at once by every other one over the same tree (two
create_app() as gunicorn's workers are), beside the images and under a state root (LENSLET_STATE), where the
pick lands in the state root and the library folder's time never moves."""

import os
import time

import pytest
import webtest
from helpers import draw
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config


@pytest.fixture(params=["beside", "state"])
def two_processes(request, tmp_path):
    library = tmp_path / "library"
    for name, color in (("a.jpg", (200, 30, 30)), ("b.jpg", (30, 200, 30)), ("c.jpg", (30, 30, 200))):
        draw(library / "trips" / "summer" / name, color=color)
    for folder in (library, library / "trips", library / "trips" / "summer"):
        os.utime(folder, (time.time() - 3600,) * 2)  # a library's folders are old: their times trusted
    state = str(tmp_path / "state") if request.param == "state" else ""
    config = Config(root=str(library), state=state)
    return [webtest.TestApp(spec_checked(create_app(config))) for _ in range(2)]


def covers(client):
    """The cover the parent's listing shows for the folder, and the one the folder's own listing shows."""
    parent = client.get("/folders?path=trips").json
    return next(d["cover"] for d in parent["dirs"] if d["name"] == "summer"), \
        client.get("/folders?path=trips/summer").json["cover"]


def test_a_pick_and_its_clearing_show_in_every_process_at_once(two_processes):
    one, other = two_processes
    assert covers(one) == covers(other) == ("trips/summer/a.jpg",) * 2
    one.patch_json("/folders?path=trips/summer", {"cover": "c.jpg"})
    assert covers(one) == covers(other) == ("trips/summer/c.jpg",) * 2
    other.patch_json("/folders?path=trips/summer", {"cover": "b.jpg"})
    assert covers(other) == covers(one) == ("trips/summer/b.jpg",) * 2
    one.patch_json("/folders?path=trips/summer", {"cover": None})
    assert covers(one) == covers(other) == ("trips/summer/a.jpg",) * 2
