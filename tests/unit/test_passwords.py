"""Passwords and the users file's changes, called directly (lenslet/people/passwords.py, users.py):
scrypt records, their parameters upgraded, the file changed under its lock and only if unchanged, old files
(tokens only) read and written back losing nothing."""

import json
import os
import threading

import pytest

from lenslet.errors import AlreadyExists, BadRequest, ConfigError, Conflict, NotFound, PreconditionFailed
from lenslet.people import passwords, users
from lenslet.people.users import Directory
from lenslet.storage import settings_files

WEAK = {"n": 2 ** 10, "r": 8, "p": 1}


def test_a_password_matches_its_record_alone_and_the_record_holds_no_password():
    record = passwords.hashed("correct horse battery")
    assert passwords.matches(record, "correct horse battery")
    for wrong in ("correct horse batter", "", "x" * (passwords.MAX_PASSWORD + 1), None, 12):
        assert not passwords.matches(record, wrong)
    assert "correct horse" not in json.dumps(record) and record["kdf"] == "scrypt"
    assert passwords.hashed("same")["salt"] != passwords.hashed("same")["salt"]  # a salt each
    assert not passwords.matches(None, "anything")  # no password set: nothing matches


def test_parameters_are_kept_with_the_hash_and_older_ones_are_stale():
    old = passwords.hashed("correct horse", WEAK)
    assert old["n"] == 2 ** 10 and passwords.matches(old, "correct horse")
    assert passwords.stale(old) and not passwords.stale(passwords.hashed("correct horse"))


@pytest.mark.parametrize("change", [
    {"n": 2 ** 30}, {"n": 1000}, {"n": 0}, {"r": 10 ** 6}, {"p": 0}, {"n": True}, {"n": 1.5},
    {"kdf": "md5"}, {"salt": "zz"}, {"hash": 7}, {"hash": "A" * 64}, {"extra": 1},
    {"n": 2 ** 20, "r": 32},  # a gigabyte a sign-in: refused by its memory
])
def test_a_forged_record_is_refused_before_any_hashing(change):
    record = {**passwords.hashed("pw", WEAK), **change}
    with pytest.raises(passwords.BadRecord):
        passwords.parse(record)


@pytest.mark.parametrize("password", ["short", "", None, 5, "x" * 1025])
def test_a_password_too_short_or_too_long_is_refused(password):
    with pytest.raises(passwords.BadPassword):
        passwords.check(password)


def file_of(tmp_path, document):
    path = tmp_path / "users.json"
    path.write_text(json.dumps(document))
    return Directory(str(path))


def test_an_old_users_file_of_tokens_only_is_read_and_written_back_losing_nothing(tmp_path):
    old = {"v": 1, "note": "kept by hand", "users": {
        "ann": {"role": "admin", "folders": [""], "tokenHash": "sha256:" + "a" * 64, "phone": "+1 555"},
        "bob": {"role": "view", "folders": ["family"], "tokenHash": "sha256:" + "b" * 64}}}
    directory = file_of(tmp_path, old)
    assert directory.users()["ann"].token_hash == "sha256:" + "a" * 64
    directory.add("cat", "edit", ["work"], password="a long password")
    after = json.loads(open(directory.path).read())
    assert after["note"] == "kept by hand" and after["users"]["ann"] == old["users"]["ann"]
    assert after["users"]["bob"] == old["users"]["bob"]  # no stamp added where nothing changed
    assert set(after["users"]["cat"]) == {"role", "folders", "password", "stamp", "id"}
    assert oct(os.stat(directory.path).st_mode & 0o777) == "0o600"


def test_a_password_added_to_a_token_user_keeps_the_token_and_a_new_token_keeps_the_password(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    token = directory.add("ann", "edit", ["family"])
    directory.add("ann", "edit", ["family"], password="a long password")
    ann = directory.users()["ann"]
    assert directory.find(token).name == "ann" and passwords.matches(ann.password, "a long password")
    again = directory.add("ann", "edit", ["family"])
    assert directory.find(token) is None and directory.find(again).name == "ann"
    assert directory.users()["ann"].password == ann.password


def test_a_change_of_password_role_or_folders_gives_a_new_stamp_and_a_token_does_not(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    directory.create("bob", "view", ["family"], "bob's password")
    stamps = [directory.users()["bob"].stamp]
    for change in ({"role": "edit"}, {"folders": ["family", "work"]}, {"password": "another password"}):
        directory.update("bob", **change)
        stamps.append(directory.users()["bob"].stamp)
    assert len(set(stamps)) == 4 and all(users.STAMP.match(stamp) for stamp in stamps)
    directory.update("bob", role="edit", folders=["family", "work"])  # nothing changes: the stamp stays
    assert directory.users()["bob"].stamp == stamps[-1]
    directory.add("bob", "edit", ["family", "work"])  # a new token: sessions go on
    assert directory.users()["bob"].stamp == stamps[-1]


def test_a_stale_hash_is_upgraded_unless_the_password_changed_meanwhile(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    document = json.loads(open(directory.path).read())
    document["users"]["ann"]["password"] = passwords.hashed("a long password", WEAK)
    open(directory.path, "w").write(json.dumps(document))
    ann = directory.users()["ann"]
    directory.upgrade(ann, "a long password")
    upgraded = directory.users()["ann"]
    assert upgraded.password["n"] == passwords.PARAMS["n"] and upgraded.stamp == ann.stamp
    assert passwords.matches(upgraded.password, "a long password")
    directory.update("ann", password="a newer password")
    newer = directory.users()["ann"].password
    directory.upgrade(ann, "a long password")  # signed in with the old one just before the change
    assert directory.users()["ann"].password == newer


@pytest.mark.parametrize("call, error", [
    (lambda d: d.create("ann", "view", ["x"], "a long password"), AlreadyExists),
    (lambda d: d.create("b c", "view", ["x"], "a long password"), BadRequest),
    (lambda d: d.create("bob", "root", ["x"], "a long password"), BadRequest),
    (lambda d: d.create("bob", "view", ["../x"], "a long password"), BadRequest),
    (lambda d: d.create("bob", "view", [], "a long password"), BadRequest),
    (lambda d: d.create("bob", "view", ["x"], "short"), BadRequest),
    (lambda d: d.update("nobody", role="view"), NotFound),
    (lambda d: d.update("ann", role="view", keep_admin=True), Conflict),  # the last admin, from the page
    (lambda d: d.remove("ann", keep_admin=True), Conflict),
    (lambda d: d.remove("nobody"), NotFound),
])
def test_a_bad_change_is_refused_and_the_file_is_left_byte_for_byte(tmp_path, call, error):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    before = open(directory.path, "rb").read()
    with pytest.raises(error):
        call(directory)
    assert open(directory.path, "rb").read() == before


def test_another_programs_write_between_read_and_replace_is_never_overwritten(tmp_path, monkeypatch):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    replace = settings_files.replace_file
    writes = []

    def edited_meanwhile(path, data, expected=False):
        if not writes:  # a person's editor saves the file once, between lenslet's read and its replace
            document = json.loads(open(path).read())
            document["users"]["dan"] = {"role": "view", "folders": ["x"], "tokenHash": "sha256:" + "d" * 64}
            with open(path + ".tmp", "w") as edited:
                edited.write(json.dumps(document))
            os.replace(path + ".tmp", path)
        writes.append(expected)
        return replace(path, data, expected)
    monkeypatch.setattr(settings_files, "replace_file", edited_meanwhile)
    directory.create("bob", "view", ["family"], "bob's password")
    assert len(writes) == 2 and set(directory.users()) == {"ann", "bob", "dan"}  # both kept


def test_replace_file_refuses_when_the_file_holds_other_bytes_than_were_read(tmp_path):
    path = str(tmp_path / "users.json")
    open(path, "w").write("{}")
    open(path + ".new", "w").write('{"a": 1}')
    os.replace(path + ".new", path)
    with pytest.raises(PreconditionFailed):
        settings_files.replace_file(path, b"lost", expected=b"{}")
    assert open(path).read() == '{"a": 1}'


def test_a_demotion_edited_in_place_keeping_inode_size_and_time_is_never_undone(tmp_path, monkeypatch):
    """An admin's in-place edit of bob from edit to view (one size, the same inode), its time set back within one
    tick of lenslet's read, between that read and lenslet's replace: a stat looks unchanged, so the edit was lost
    and bob could edit again."""
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    directory.add("bob", "edit", ["family"], password="bob's password")
    replace, writes = settings_files.replace_file, []

    def demoted_meanwhile(path, data, expected=False):
        if not writes:
            seen = os.stat(path)
            with open(path, "r+b") as stream:
                text = stream.read()
                stream.seek(0)
                stream.write(text.replace(b'"edit"', b'"view"'))
            os.utime(path, ns=(seen.st_atime_ns, seen.st_mtime_ns))
        writes.append(expected)
        return replace(path, data, expected)
    monkeypatch.setattr(settings_files, "replace_file", demoted_meanwhile)
    directory.add("carol", "view", ["x"], password="carol's password")
    assert len(writes) == 2
    assert {name: user.role for name, user in directory.users().items()} == {"ann": "admin", "bob": "view",
                                                                              "carol": "view"}


def test_many_changes_at_once_all_land(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""])
    threads = [threading.Thread(target=directory.add, args=(f"u{n}", "view", ["x"])) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(directory.users()) == 9


@pytest.mark.parametrize("entry, says", [
    ({"role": "view", "folders": ["x"]}, "neither a tokenHash nor a password"),
    ({"role": "view", "folders": ["x"], "password": {"kdf": "scrypt"}}, "password lenslet did not write"),
    ({"role": "view", "folders": ["x"], "tokenHash": "sha256:" + "a" * 64, "stamp": "nope"}, "stamp"),
])
def test_a_users_file_with_a_forged_password_or_stamp_lets_nobody_in(tmp_path, entry, says):
    with pytest.raises(ConfigError, match=says):
        users.parse_users(json.dumps({"v": 1, "users": {"ann": entry}}).encode())


def test_the_servers_command_line_may_leave_no_admin(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "admin", [""], password="a long password")
    directory.update("ann", role="view")
    directory.remove("ann")
    assert directory.users() == {}


def test_a_revocation_edited_in_place_within_one_tick_of_a_read_counts_at_once(tmp_path):
    """The file as a web process last read it, then an in-place edit (bob: edit -> view, one size, the same inode)
    with the time it had: its stat is unchanged, but a file changed this last moment is read again."""
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("bob", "edit", ["family"], password="bob's password")
    assert directory.users()["bob"].role == "edit"
    seen = os.stat(directory.path)
    with open(directory.path, "r+b") as stream:
        text = stream.read()
        stream.seek(0)
        stream.write(text.replace(b'"edit"', b'"view"'))
    os.utime(directory.path, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    assert settings_files.stat_of(directory.path) == directory.state[0]
    assert directory.users()["bob"].role == "view"
