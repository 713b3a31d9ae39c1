"""Failed sign-ins are counted for the whole service, not per web process: two apps (two processes, each
with its own storage, on one tree or one bucket) share one count per client address, kept in the state
folder. Hostile input: the kept records torn, forged, of another shape, huge, a FIFO, a link or a folder
in their place never answer 500, never hang, never let more wrong attempts through than the allowance."""

import dataclasses
import json
import os
import threading
import time

import pytest
import webtest
from helpers import Gallery, jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.layout import STATE, THROTTLE
from lenslet.people import throttle
from lenslet.people.users import Directory
from lenslet.storage import open_storage

GUESSER, OTHER = "192.0.2.40", "192.0.2.41"
ANSWER_WITHIN = 5.0  # seconds: far more than any answer takes; a request past it hangs
TRIES = 30


class Service:
    """A tree with a users file (an admin), a share with a password, and two web processes."""

    def __init__(self, gallery, tmp_path):
        gallery.put("family/a.jpg", jpeg())
        directory = Directory(str(tmp_path / "users.json"))
        self.admin = directory.add("admin", "admin", [""])
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, users=directory.path)
        self.gallery = gallery
        self.apps = [self.app(), self.app()]
        self.key = self.apps[0].post_json("/shares", {"path": "family", "password": "hunter2"},
                                          headers=self.bearer(self.admin), status=201).json["key"]

    def app(self):
        # Its own storage, as a process of its own opens it: nothing shared but the tree.
        return webtest.TestApp(spec_checked(create_app(self.config, open_storage(self.config), lambda: self.now[0])))

    @staticmethod
    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    def unlock(self, n, password, address=GUESSER):
        """Try a share password through process n % 2; the answer's status."""
        return self.apps[n % 2].post_json("/shares/unlock", {"key": self.key, "password": password},
                                          extra_environ={"REMOTE_ADDR": address}, expect_errors=True)

    def sign_in(self, n, token, address=GUESSER):
        return self.apps[n % 2].get("/folders", headers=self.bearer(token), extra_environ={"REMOTE_ADDR": address},
                                    expect_errors=True)

    def kept(self):
        """Names of the records kept in the state folder."""
        if not self.gallery.storage.exists(THROTTLE):
            return []
        return sorted(entry.name for entry in self.gallery.storage.list_folder(THROTTLE) if not entry.is_dir)


@pytest.fixture
def service(gallery, tmp_path):
    return Service(gallery, tmp_path)


@pytest.fixture
def on_disk(tmp_path):
    """The service on a local tree: for what only a disk holds (FIFOs, links, a file in a folder's place)."""
    return Service(Gallery(Config(root=str(tmp_path / "tree"), recheck=0, create_root=True), tmp_path), tmp_path)


def test_wrong_share_passwords_are_counted_once_for_every_process(service):
    answers = [service.unlock(n, f"guess-{n}") for n in range(TRIES)]
    statuses = [answer.status_int for answer in answers]
    assert statuses == [404] * throttle.ALLOWANCE + [429] * (TRIES - throttle.ALLOWANCE)
    assert int(answers[-1].headers["Retry-After"]) == throttle.DRAIN == answers[-1].json["retryAfter"]
    assert service.unlock(0, "hunter2").status_int == 429  # held back, the right password too
    assert service.unlock(1, "hunter2", OTHER).status_int == 200  # another address gets in
    service.now[0] += throttle.DRAIN
    assert [service.unlock(n, f"again-{n}").status_int for n in range(3)] == [404, 429, 429]
    assert service.kept() == [throttle.record_name(GUESSER)]


def test_wrong_tokens_are_counted_once_for_every_process(service):
    statuses = [service.sign_in(n, f"guess-{n}").status_int for n in range(TRIES)]
    assert statuses == [401] * throttle.ALLOWANCE + [429] * (TRIES - throttle.ALLOWANCE)
    assert service.sign_in(0, service.admin).status_int == 429
    assert service.sign_in(1, service.admin, OTHER).status_int == 200


def test_one_wrong_key_sent_again_and_again_counts_once_in_a_process(service):
    stale = {"X-Lenslet-Share": "0" * 16 + "." + "A" * 43}  # a page's fifty thumbnails with a revoked link
    for n in range(20):
        service.apps[n % 2].get("/folders", headers=stale, extra_environ={"REMOTE_ADDR": GUESSER}, status=404)
    assert service.unlock(0, "hunter2").status_int == 200


def test_a_request_that_fails_nothing_writes_nothing(service):
    for n in range(4):
        service.sign_in(n, service.admin, GUESSER).mustcontain("family")
        assert service.unlock(n, "hunter2").status_int == 200
    assert service.kept() == []


def test_counts_drain_and_the_records_of_quiet_addresses_are_removed(service):
    assert service.unlock(0, "wrong").status_int == 404
    assert service.kept() == [throttle.record_name(GUESSER)]
    service.now[0] += throttle.FORGET_AFTER + 120  # drained, and past the next look for old records
    assert service.unlock(0, "wrong", OTHER).status_int == 404
    assert service.kept() == [throttle.record_name(OTHER)]


# -- hostile records ------------------------------------------------------------------------------------

def _record(level, at):
    return json.dumps({"v": 1, "level": level, "at": at}).encode()


def _link(path, tmp_path):
    drained = tmp_path / "drained.json"
    drained.write_bytes(_record(0, time.time()))
    os.symlink(drained, path)


HUGE = "huge"
# What is put in the guesser's record's place, on a disk or in a bucket: bytes, or HUGE (a sparse 2 GiB
# file on a disk, costing no disk and 2 GiB of memory if anyone read it whole; 1 MiB in a bucket).
IN_EITHER = {
    "torn": _record(5, 1e9)[:20],
    "not JSON": b"\xff\xfe\x00\x01" * 16,
    "another shape": b'[{"v": 1, "level": 0}]',
    "forged: a level below nothing": _record(-1000, 1e9),
    "forged: a lock-out for good": _record(10**9, 1e9),
    "forged: a time far ahead": _record(1, 4e9),
    "huge": HUGE,
}
# What only a disk holds: a function of (its path, tmp_path) that puts it there.
ON_DISK = {
    "a FIFO": lambda path, tmp_path: os.mkfifo(path),
    "a link to a drained record": _link,
    "a folder": lambda path, tmp_path: (path.mkdir(), (path / "x.json").write_bytes(_record(0, 1e9))),
}


def plant(service, tmp_path, what, name):
    """Put something in place of a record named name."""
    if service.gallery.config.s3_bucket:
        service.gallery.s3.put_object(Bucket=service.gallery.config.s3_bucket, Key=f"photos/{THROTTLE}/{name}",
                                      Body=b"{" * 1024 ** 2 if what is HUGE else what)
        return
    folder = service.gallery.root / THROTTLE
    folder.mkdir(parents=True, exist_ok=True)
    if isinstance(what, bytes):
        (folder / name).write_bytes(what)
    elif what is HUGE:
        with open(folder / name, "wb") as out:
            out.truncate(2 * 1024 ** 3)
    else:
        what(folder / name, tmp_path)


def answered(call):
    """call()'s answer, which must come within ANSWER_WITHIN seconds (asked in a thread: a hang fails, not waits)."""
    out = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    thread.join(ANSWER_WITHIN)
    assert out, f"no answer within {ANSWER_WITHIN} s"
    return out[0].status_int


def guesses(service, tries=TRIES):
    """Wrong passwords and wrong tokens from the guesser, every other one through the other process."""
    return [answered(lambda n=n: service.unlock(n, f"guess-{n}") if n % 3 else service.sign_in(n, f"guess-{n}"))
            for n in range(tries)]


def set_aside(service):
    """Names of what was set aside (in .lenslet/throttle/rejected/ and .lenslet/rejected/), as they are on
    disk (a storage listing leaves out FIFOs and links) or in the bucket."""
    folders = (f"{THROTTLE}/rejected", f"{STATE}/rejected")
    if service.gallery.config.s3_bucket:
        storage = service.gallery.storage
        return sorted(entry.name for folder in folders if storage.exists(folder)
                      for entry in storage.list_folder(folder))
    return sorted(name for folder in folders if (service.gallery.root / folder).is_dir()
                  for name in os.listdir(service.gallery.root / folder))


def held_back_and_set_aside(service, caplog):
    """Guess from the guesser, past what was put in its record's place: never a 500 nor a hang, never more
    wrong attempts answered than the allowance; the thing is set aside, and nobody else is held back."""
    statuses = guesses(service)
    assert 500 not in statuses and set(statuses) <= {401, 404, 429}
    assert len([s for s in statuses if s != 429]) <= throttle.ALLOWANCE
    assert statuses[-1] == 429
    assert set_aside(service) == [throttle.record_name(GUESSER)]
    assert "set aside" in caplog.text
    assert answered(lambda: service.unlock(1, "hunter2", OTHER)) == 200
    service.now[0] += throttle.FORGET_AFTER  # the guesser too, once its count has drained
    assert answered(lambda: service.unlock(0, "hunter2")) == 200


# Each on disk; in a bucket the two its storage reads apart (one cut short, one past what a read takes): the
# others differ only in bytes that the same code parses from either storage.
@pytest.mark.parametrize("gallery, kind", [*(("local", kind) for kind in IN_EITHER), ("s3", "torn"), ("s3", "huge")],
                         indirect=["gallery"])
def test_a_hostile_record_never_lets_more_through(service, tmp_path, kind, caplog):
    plant(service, tmp_path, IN_EITHER[kind], throttle.record_name(GUESSER))
    held_back_and_set_aside(service, caplog)


@pytest.mark.parametrize("kind", ON_DISK)
def test_a_fifo_link_or_folder_in_a_records_place_never_lets_more_through(on_disk, tmp_path, kind, caplog):
    plant(on_disk, tmp_path, ON_DISK[kind], throttle.record_name(GUESSER))
    held_back_and_set_aside(on_disk, caplog)
    if kind.startswith("a link"):
        assert throttle.loads((tmp_path / "drained.json").read_bytes(), time.time())  # what it led to: untouched


def test_a_hostile_record_that_cannot_be_set_aside_holds_its_address_back(on_disk, tmp_path):
    service = on_disk
    plant(service, tmp_path, ON_DISK["a FIFO"], throttle.record_name(GUESSER))
    (service.gallery.root / THROTTLE / "rejected").write_bytes(b"not a folder")  # nowhere to set it aside
    statuses = guesses(service, 12)
    assert statuses == [429] * 12
    assert answered(lambda: service.unlock(0, "hunter2")) == 429
    assert answered(lambda: service.unlock(1, "hunter2", OTHER)) == 200


@pytest.mark.parametrize("kind", ["a file", "a link out of the state folder"])
def test_a_throttle_folder_that_is_not_one_is_set_aside(on_disk, tmp_path, kind):
    service = on_disk
    place = service.gallery.root / THROTTLE
    place.parent.mkdir(parents=True, exist_ok=True)
    if kind == "a file":
        place.write_bytes(b"x")
    else:
        (tmp_path / "elsewhere").mkdir()
        os.symlink(tmp_path / "elsewhere", place)
    statuses = guesses(service)
    assert 500 not in statuses and len([s for s in statuses if s != 429]) <= throttle.ALLOWANCE
    assert set_aside(service) == ["throttle"]
    if kind != "a file":
        assert not any((tmp_path / "elsewhere").iterdir())  # nothing written through the link
    assert answered(lambda: service.unlock(1, "hunter2", OTHER)) == 200
