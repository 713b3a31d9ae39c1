"""The trash empties itself: the worker deletes for good the images lenslet trashed more than LENSLET_TRASH_DAYS
ago (their sidecars and thumbnails along), logs each, and /health says so; younger ones, files put in the trash
by hand, and everything while the setting is 0 stay. On local disk and S3."""

import dataclasses
import logging
import time

import orjson
import pytest
import webtest
from helpers import jpeg, on_disk_alone
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.files import moves
from lenslet.layout import TRASH, sidecar_of
from lenslet.worker.handlers import Runner

DAY = 86400


class Bin:
    """A tree with family/ (three images), an app and a worker's runner on one clock."""

    def __init__(self, gallery, days=30.0):
        for name in ("a.jpg", "b.jpg", "c.jpg"):
            gallery.put(f"family/{name}", jpeg())
        self.gallery = gallery
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, trash_days=days)
        self.client = webtest.TestApp(spec_checked(create_app(self.config, gallery.storage, lambda: self.now[0])))
        self.runner = Runner(self.config, gallery.storage, lambda: self.now[0])

    def trash(self, *names):
        self.client.post_json("/trash", {"paths": [f"family/{name}" for name in names]})

    def in_trash(self):
        return sorted(item["name"] for item in self.client.get(f"/folders?path={TRASH}").json["items"])


@pytest.fixture
def bin_(gallery):
    return Bin(gallery)


def test_images_in_the_trash_past_its_days_are_deleted_for_good_logged_and_told_in_health(bin_, caplog):
    bin_.trash("a.jpg")
    bin_.now[0] += 20 * DAY
    bin_.trash("b.jpg")
    stored = orjson.loads(bin_.gallery.storage.read(sidecar_of(f"{TRASH}/b.jpg")))
    assert stored["originalPosition"] == "family/b.jpg" and stored["trashedAt"]
    bin_.now[0] += 10 * DAY + 1  # a.jpg: 30 days and a second; b.jpg: 10 days
    with caplog.at_level(logging.INFO, logger="lenslet"):
        assert bin_.runner.empty_trash() == 1
    assert bin_.in_trash() == ["b.jpg"]
    assert not bin_.gallery.storage.exists(f"{TRASH}/a.jpg")
    assert not bin_.gallery.storage.exists(sidecar_of(f"{TRASH}/a.jpg"))
    assert any(f"{TRASH}/a.jpg deleted for good" in record.message for record in caplog.records)
    bin_.runner.health()
    told = bin_.client.get("/health").json["report"]["trash"]
    assert told["days"] == 30 and told["deleted"] == 1 and told["deletedTotal"] == 1 and told["failed"] == 0
    bin_.client.post_json("/restore", {"paths": [f"{TRASH}/b.jpg"]})  # a restored image leaves it for good
    assert "trashedAt" not in bin_.client.get("/item?path=family/b.jpg").json
    bin_.now[0] += 60 * DAY
    assert bin_.runner.empty_trash() == 0 and bin_.gallery.storage.exists("family/b.jpg")


def test_a_file_put_in_the_trash_by_hand_stays_and_so_does_all_of_it_when_the_setting_is_0(gallery):
    kept = Bin(gallery, days=0)
    kept.trash("a.jpg")
    gallery.put(f"{TRASH}/by-hand.jpg", jpeg())
    kept.now[0] += 3650 * DAY
    assert kept.runner.empty_trash() == 0 and kept.in_trash() == ["a.jpg", "by-hand.jpg"]
    emptied = Bin(gallery, days=1)
    emptied.now[0] = kept.now[0]
    assert emptied.runner.empty_trash() == 1 and emptied.in_trash() == ["by-hand.jpg"]


@on_disk_alone  # in a bucket: test_a_file_put_in_the_trash_by_hand_stays_and_so_does_all_of_it_when_the_setting_is_0
def test_an_image_trashed_by_an_older_lenslet_counts_from_its_sidecars_time(bin_):
    bin_.trash("a.jpg")
    key = sidecar_of(f"{TRASH}/a.jpg")
    stored = orjson.loads(bin_.gallery.storage.read(key))
    del stored["trashedAt"]  # as an older lenslet wrote it: originalPosition alone
    bin_.gallery.storage.write(key, orjson.dumps(stored))
    bin_.now[0] = time.time() + 29 * DAY
    assert bin_.runner.empty_trash() == 0
    bin_.now[0] = time.time() + 31 * DAY
    assert bin_.runner.empty_trash() == 1


@pytest.mark.parametrize("sidecar, mtime, trashed", [
    ({"originalPosition": "a/x.jpg", "trashedAt": "2026-01-01T00:00:00Z"}, 5.0, 1767225600.0),
    ({"originalPosition": "a/x.jpg"}, 5.0, 5.0),
    ({"originalPosition": "a/x.jpg", "trashedAt": "yesterday"}, 5.0, 5.0),
    ({"trashedAt": "2026-01-01T00:00:00Z"}, 5.0, None),  # not lenslet's trash
    ({}, 5.0, None), (None, 5.0, None), ({"originalPosition": 7}, 5.0, None),
])
def test_when_an_image_went_to_the_trash(sidecar, mtime, trashed):
    assert moves.trashed_at(sidecar, mtime) == trashed


@pytest.mark.parametrize("trashed, now, days, expired", [
    (0.0, 30 * DAY, 30, True), (0.0, 30 * DAY - 1, 30, False), (0.0, 10 ** 12, 0, False),
    (None, 10 ** 12, 30, False), (0.0, 0.5 * DAY, 0.5, True),
])
def test_what_the_trash_days_let_go(trashed, now, days, expired):
    assert moves.trash_expired(trashed, now, days) is expired
