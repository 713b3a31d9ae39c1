"""The users file, scopes and share records, called directly (lenslet/people/; the throttle: test_throttle.py)."""

import json

import pytest

from lenslet.errors import ConfigError, Unavailable
from lenslet.people import shares, users
from lenslet.people.access import Scope
from lenslet.people.users import Directory

HASH = "sha256:" + "a" * 64


def users_file(entries):
    return json.dumps({"v": 1, "users": entries}).encode()


@pytest.mark.parametrize("folders, path, allowed", [
    (["family"], "family", True),
    (["family"], "family/a.jpg", True),
    (["family"], "family/sub/b.jpg", True),
    (["family"], "family2/a.jpg", False),
    (["family"], "family2", False),
    (["family"], "famil", False),
    (["family"], "", False),
    (["family"], "work/family/a.jpg", False),
    (["trips/2024"], "trips/2024/a.jpg", True),
    (["trips/2024"], "trips/2024b/a.jpg", False),
    (["trips/2024"], "trips", False),
    ([""], "anything/at/all.jpg", True),
    ([""], "", True),
])
def test_a_scope_holds_whole_folders_by_segment(folders, path, allowed):
    assert Scope(folders).allows(path) is allowed


@pytest.mark.parametrize("folders, folder, leads, names", [
    (["trips/2024", "family"], "", True, {"trips", "family"}),
    (["trips/2024"], "trips", True, {"2024"}),
    (["trips/2024"], "trip", False, set()),
    (["trips/2024"], "trips/2024", False, set()),  # inside, not on the way
    (["family"], "family2", False, set()),
])
def test_the_folders_on_the_way_to_a_scope(folders, folder, leads, names):
    scope = Scope(folders)
    assert scope.leads_to(folder) is leads
    if leads:
        assert scope.next_names(folder) == names


def test_search_walks_a_scope_in_index_order_without_overlaps():
    scope = Scope(["a", "a b", "a/c", "z"])
    assert scope.folders == ("a", "a b", "z")  # a/c lies inside a
    # Paths sort "a b/x" before "a/x" (' ' < '/'): the ranges follow that order.
    assert scope.folders_under("") == ["a b", "a", "z"]
    assert scope.folders_under("a/c") == ["a/c"]
    assert scope.folders_under("q") == []
    assert Scope([""]).folders_under("q") is None


def test_an_image_share_holds_that_image_only():
    scope = Scope(images=["family/a.jpg"])
    assert scope.allows("family/a.jpg") and not scope.allows("family/b.jpg") and not scope.allows("family")


def test_a_good_users_file_parses():
    token = users.new_token()
    parsed = users.parse_users(users_file({"ann": {"role": "edit", "folders": ["/family/", "work"],
                                                   "tokenHash": users.token_hash(token)}}))
    assert parsed["ann"].folders == ("family", "work")
    assert users.find_user(parsed, token).name == "ann"
    assert users.find_user(parsed, token + "x") is None
    assert users.find_user(parsed, "") is None
    assert users.find_user(parsed, "x" * (users.MAX_TOKEN + 1)) is None


@pytest.mark.parametrize("data, complaint", [
    (b'{"v": 1, "users": {"ann": {"role": "edit", "fol', "not valid JSON"),  # torn
    (b"", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b'{"v": 2, "users": {}}', '"v": 1'),
    (b"[]", '"v": 1'),
    (users_file({"ann": {"role": "root", "folders": [""], "tokenHash": HASH}}), "no role"),
    (users_file({"ann": {"role": "edit", "folders": [""], "tokenHash": "hunter2"}}), "tokenHash"),
    (users_file({"ann": {"role": "edit", "folders": [""], "token": "plain"}}), "tokenHash"),
    (users_file({"ann": {"role": "edit", "folders": ["../etc"], "tokenHash": HASH}}), "no path"),
    (users_file({"ann": {"role": "edit", "folders": [".lenslet"], "tokenHash": HASH}}), "no path"),
    (users_file({"ann": {"role": "edit", "folders": [""] * 1001, "tokenHash": HASH}}), "needs folders"),
    (users_file({"ann": {"role": "edit", "folders": "family", "tokenHash": HASH}}), "needs folders"),
    (users_file({"a b": {"role": "edit", "folders": [""], "tokenHash": HASH}}), "not a name"),
    (users_file({"ann": {"role": "edit", "folders": [""], "tokenHash": HASH},
                 "bob": {"role": "view", "folders": [""], "tokenHash": HASH}}), "token hash of another"),
])
def test_a_torn_or_forged_users_file_is_refused_saying_why(data, complaint):
    with pytest.raises(ConfigError, match=complaint):
        users.parse_users(data)


def test_the_file_is_read_again_when_it_changes_and_a_broken_one_lets_nobody_in(tmp_path):
    path = tmp_path / "users.json"
    directory = Directory(str(path))
    assert directory.users() == {}  # no file yet: nobody
    token = directory.add("ann", "edit", ["family"])
    assert directory.find(token).name == "ann"
    other = directory.add("bob", "view", [""])
    assert directory.find(other).name == "bob" and directory.find(token).name == "ann"
    good = path.read_bytes()
    path.write_bytes(good[:len(good) // 2])  # torn, as by an editor killed mid-save
    with pytest.raises(Unavailable, match="nobody is let in"):
        directory.find(token)
    path.write_bytes(good)
    assert directory.find(token).name == "ann"
    directory.remove("ann")
    assert directory.find(token) is None and directory.find(other).name == "bob"
    assert token not in path.read_text() and (path.stat().st_mode & 0o077) == 0


def test_a_broken_users_file_stops_the_start(tmp_path):
    path = tmp_path / "users.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        Directory(str(path)).check()


@pytest.mark.parametrize("text, seconds", [("7d", 7 * 86400), ("12h", 43200), ("30m", 1800), ("90", 90),
                                           ("2w", 14 * 86400), (" 1.5h ", 5400)])
def test_durations(text, seconds):
    assert shares.duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7x", "-1d", "d", "1e9d", "7 days", "nan"])
def test_bad_durations(text):
    with pytest.raises(ValueError):
        shares.duration(text)


@pytest.mark.parametrize("key", [
    "", "x", "0123456789abcdef", "0123456789abcdef." + "A" * 42, "0123456789ABCDEF." + "A" * 43,
    "0123456789abcdef." + "A" * 43 + ".zz", "0123456789abcdef." + "A" * 43 + "." + "0" * 65, "a" * 10_000,
    "../../etc." + "A" * 43, None,
])
def test_keys_that_are_no_share_key(key):
    assert shares.split_key(key) is None


def test_a_record_opens_with_its_secret_until_it_expires():
    record, key = shares.new_share("family", "folder", "ann", 1000.0, 60)
    record = shares.loads(shares.dumps(record), record["id"])
    share_id, secret, proof = shares.split_key(key)
    assert shares.opens(record, secret, proof, 1059.0) == "ok"
    assert shares.opens(record, secret, proof, 1060.0) == "expired"
    assert shares.opens(record, secret[:-1] + ("A" if secret[-1] != "A" else "B"), None, 1000.0) == "wrong"


def test_a_password_needs_its_proof():
    record, key = shares.new_share("family", "folder", "ann", 1000.0, 60, password="pässword")
    share_id, secret, _ = shares.split_key(key)
    assert shares.opens(record, secret, None, 1000.0) == "locked"
    assert shares.password_matches(record, "pässword") and not shares.password_matches(record, "password")
    assert shares.opens(record, secret, shares.proof_of(record, secret), 1000.0) == "ok"
    assert shares.opens(record, secret, "0" * 64, 1000.0) == "wrong"


@pytest.mark.parametrize("change", [
    lambda r: r.update(v=2), lambda r: r.update(id="ffffffffffffffff"), lambda r: r.update(path="../x"),
    lambda r: r.update(path=".lenslet/jobs"), lambda r: r.update(kind="everything"),
    lambda r: r.update(secretHash="plain"), lambda r: r.update(expires="tomorrow"),
    lambda r: r.update(allowDownload="yes"), lambda r: r.update(password={"salt": "00", "hash": "00"}),
    lambda r: r.pop("createdBy"),
])
def test_a_forged_share_record_is_refused(change):
    record, _ = shares.new_share("family", "folder", "ann", 1000.0, 60)
    share_id = record["id"]  # the name of the file it was found in
    change(record)
    with pytest.raises(shares.BadShare):
        shares.loads(shares.dumps(record), share_id)


def test_users_added_at_once_all_land(tmp_path):
    import threading
    directory = Directory(str(tmp_path / "users.json"))
    tokens, start = {}, threading.Barrier(6)

    def add(n):
        start.wait(timeout=10)
        tokens[n] = Directory(directory.path).add(f"user{n}", "view", ["family"])

    threads = [threading.Thread(target=add, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert {directory.find(token).name for token in tokens.values()} == {f"user{n}" for n in range(6)}
