"""A folder's first thumbnails are answered with the thumbnail whenever they can be made within a few
seconds: a front end that never retries a 202 (the seeds' own) draws no empty cell. Only under a backlog
does a request soon answer 202, so waiting requests never hold every thread."""

import threading
import time

import pytest
from PIL import Image

from lenslet.images import thumbs


@pytest.fixture
def big_pngs(tree):
    (tree / "new").mkdir()
    # PNGs of 12 million pixels: no scaled decode, each takes the whole pixel budget.
    Image.linear_gradient("L").resize((4000, 3000)).convert("RGB").save(tree / "new" / "p0.png", compress_level=1)
    for n in range(1, 8):
        (tree / "new" / f"p{n}.png").write_bytes((tree / "new" / "p0.png").read_bytes())


def asked_at_once(client, count):
    answers = {}

    def ask(n):
        answers[n] = client.get(f"/thumb?path=new/p{n}.png", expect_errors=True).status_int
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(answers.values())


def test_four_first_thumbnails_at_once_are_all_answered(client, big_pngs):
    assert asked_at_once(client, 4) == [200] * 4


def test_under_a_backlog_a_request_is_answered_202_at_once(client_with, big_pngs, monkeypatch):
    made = threading.Event()
    making = thumbs.Thumbs._make_inline
    monkeypatch.setattr(thumbs.Thumbs, "_make_inline", lambda *args: made.wait(30) and making(*args))  # held
    client = client_with(thumb_inline=1, thumb_wait=30)  # one slot: twice it asked at once is a backlog
    answers = {}

    def ask(n):
        answers[n] = client.get(f"/thumb?path=new/p{n}.png", expect_errors=True).status_int
    threads = [threading.Thread(target=ask, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10  # a third of LENSLET_THUMB_WAIT: only the backlog's short wait ends first
    while len(answers) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = dict(answers)
    made.set()
    for thread in threads:
        thread.join()
    assert list(got.values()) == [202]  # the third asked: waited a second, not 30
    assert sorted(answers.values()) == [200, 200, 202]
