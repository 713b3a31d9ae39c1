import os
import threading
from urllib.parse import unquote

import pytest
from helpers import counted_at_once

from lenslet.errors import AlreadyExists, BadPath, BadRequest, Foreign, NotFound, PreconditionFailed
from lenslet.storage import LocalStorage, clean_path


@pytest.mark.parametrize("raw, key", [
    (None, ""),
    ("", ""),
    ("/", ""),
    ("a", "a"),
    ("/a/b", "a/b"),
    ("a/b/", "a/b"),
    ("/a/b/", "a/b"),
    ("été/猫.jpg", "été/猫.jpg"),
    ("a/%2e%2e/b", "a/%2e%2e/b"),  # decoded once by the web layer; a literal name after that
])
def test_clean_path_normalizes(raw, key):
    assert clean_path(raw) == key


@pytest.mark.parametrize("raw", [
    "..",
    "../etc/passwd",
    "a/../../b",
    "a/./b",
    unquote("%2e%2e/%2e%2e/etc/passwd"),  # URL-encoded traversal, once decoded
    unquote("a/%2E%2E/%2E%2E/secret"),
    "//etc/passwd",
    "C:/Windows",
    "a\x00b",
    "a/b%00".replace("%00", "\x00"),
    "a\\..\\b",
    "..\\secret",
    "a//b",
    ".lenslet/locks",
    "a/.hidden.jpg",
    "x" * 300,
])
def test_clean_path_refuses(raw):
    with pytest.raises(BadPath):
        clean_path(raw)


def test_leading_slash_means_the_gallery_root_not_the_server_root(storage, tree):
    (tree / "etc").mkdir()
    (tree / "etc" / "passwd").write_bytes(b"gallery file")
    assert storage.read(clean_path("/etc/passwd")) == b"gallery file"


def test_symlink_out_of_the_root_is_refused(storage, tree, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jpg").write_bytes(b"secret")
    (tree / "link").symlink_to(outside)
    (tree / "file-link.jpg").symlink_to(outside / "secret.jpg")
    for key in ("link/secret.jpg", "file-link.jpg", "link"):
        with pytest.raises(BadPath):
            storage.read(key)
    with pytest.raises(BadPath):
        storage.write("link/new.jpg.json", b"{}")
    assert sorted(os.listdir(outside)) == ["secret.jpg"]
    assert [e.name for e in storage.list_folder("")] == []


def test_sibling_folder_sharing_the_root_name_prefix_is_outside(tmp_path):
    root = tmp_path / "data"
    sibling = tmp_path / "data2"
    root.mkdir()
    sibling.mkdir()
    (sibling / "secret.jpg").write_bytes(b"secret")
    (root / "escape").symlink_to(sibling)
    storage = LocalStorage(str(root))
    with pytest.raises(BadPath):
        storage.read("escape/secret.jpg")


def test_symlink_inside_the_root_is_followed(storage, tree):
    (tree / "real").mkdir()
    (tree / "real" / "a.jpg").write_bytes(b"a")
    (tree / "alias").symlink_to(tree / "real")
    assert storage.read("alias/a.jpg") == b"a"
    assert {e.name: e.is_dir for e in storage.list_folder("")} == {"real": True, "alias": True}


def test_list_folder_reports_size_and_mtime(storage, tree):
    (tree / "a.jpg").write_bytes(b"12345")
    (tree / "sub").mkdir()
    entries = {e.name: e for e in storage.list_folder("")}
    assert entries["a.jpg"].size == 5 and not entries["a.jpg"].is_dir
    assert entries["a.jpg"].mtime == os.stat(tree / "a.jpg").st_mtime
    assert entries["sub"].is_dir


def test_missing_and_wrong_kind(storage, tree):
    (tree / "a.jpg").write_bytes(b"a")
    with pytest.raises(NotFound):
        storage.read("nope.jpg")
    with pytest.raises(NotFound):
        storage.list_folder("nope")
    with pytest.raises(Exception, match="not a folder"):
        storage.list_folder("a.jpg")


def test_create_is_exclusive(storage, tree):
    storage.make_folder("claims")
    storage.create("claims/job", b"mine")
    with pytest.raises(AlreadyExists):
        storage.create("claims/job", b"yours")
    assert storage.read("claims/job") == b"mine"
    assert os.listdir(tree / "claims") == ["job"]


def test_replace_if_refuses_a_stale_version(storage):
    storage.write("a.json", b"1")
    _, version = storage.read_versioned("a.json")
    storage.replace_if("a.json", b"2", version)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("a.json", b"3", version)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("new.json", b"x", "some-version")
    storage.replace_if("new.json", b"x", None)
    assert storage.read("a.json") == b"2" and storage.read("new.json") == b"x"


@pytest.mark.parametrize("version_of_what_was_read", ["old", None])
def test_replace_if_looks_again_after_syncing_before_it_renames(storage, tree, monkeypatch, version_of_what_was_read):
    """Another program, which takes none of lenslet's locks, writes while lenslet syncs its new bytes."""
    if version_of_what_was_read == "old":
        storage.write("a.xmp", b"old")
        _, version = storage.read_versioned("a.xmp")
    else:
        version = None
    fsync = os.fsync

    def another_program_writes_meanwhile(fd):
        fsync(fd)
        if not (tree / "a.xmp").exists() or (tree / "a.xmp").read_bytes() != b"theirs":
            (tree / "theirs.tmp").write_bytes(b"theirs")
            os.replace(tree / "theirs.tmp", tree / "a.xmp")

    monkeypatch.setattr(os, "fsync", another_program_writes_meanwhile)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("a.xmp", b"lenslet's", version)
    assert (tree / "a.xmp").read_bytes() == b"theirs"


@pytest.mark.parametrize("they_write_again", [False, True], ids=["once", "again over lenslet's"])
def test_replace_if_loses_no_write_that_lands_after_its_last_look(storage, tree, monkeypatch, they_write_again):
    """Another program, which takes none of lenslet's locks, writes after lenslet's last look, right before
    its bytes take the name: lenslet takes the name by an exchange, finds what it replaced is not what it read,
    gives the name back (their newest, if they wrote again meanwhile) and refuses."""
    from lenslet.storage import local
    storage.write("a.xmp", b"old")
    _, version = storage.read_versioned("a.xmp")
    exchange, calls = local._exchange, []

    def another_program_writes_right_before(folder_fd, one, other):
        calls.append(one)
        if len(calls) == 1:  # after lenslet's last look, before its name is given
            (tree / "theirs.tmp").write_bytes(b"theirs")
            os.replace(tree / "theirs.tmp", tree / "a.xmp")
        swapped = exchange(folder_fd, one, other)
        if len(calls) == 1 and they_write_again:  # over lenslet's bytes, before they are given back
            (tree / "theirs.tmp").write_bytes(b"theirs, newer")
            os.replace(tree / "theirs.tmp", tree / "a.xmp")
        return swapped

    monkeypatch.setattr(local, "_exchange", another_program_writes_right_before)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("a.xmp", b"lenslet's", version)
    assert (tree / "a.xmp").read_bytes() == (b"theirs, newer" if they_write_again else b"theirs")
    assert not [name for name in os.listdir(tree) if name.endswith(".lenslet-tmp")]  # no temp file left


def test_replace_if_loses_no_write_that_keeps_the_files_inode_size_and_time(storage, tree, monkeypatch):
    """A file whose inode number, size and time are the ones lenslet read can hold other bytes: a program that
    writes in place and sets the time back, or a new file given a freed inode within one tick of the clock.
    lenslet compares the bytes it replaced, not only their stat, and refuses."""
    from lenslet.storage import local
    storage.write("a.xmp", b"old words")
    _, version = storage.read_versioned("a.xmp")
    exchange, calls = local._exchange, []

    def another_program_writes_in_place(folder_fd, one, other):
        calls.append(one)
        if len(calls) == 1:
            before = os.stat(tree / "a.xmp")
            with open(tree / "a.xmp", "r+b") as file:
                file.write(b"new words")
            os.utime(tree / "a.xmp", ns=(before.st_atime_ns, before.st_mtime_ns))
        return exchange(folder_fd, one, other)

    monkeypatch.setattr(local, "_exchange", another_program_writes_in_place)
    with pytest.raises(PreconditionFailed):
        storage.replace_if("a.xmp", b"lenslet's", version)
    assert (tree / "a.xmp").read_bytes() == b"new words"
    assert not [name for name in os.listdir(tree) if name.endswith(".lenslet-tmp")]


def test_replace_if_takes_the_name_where_names_cannot_be_exchanged(storage, tree, monkeypatch):
    from lenslet.storage import local
    storage.write("a.xmp", b"old")
    _, version = storage.read_versioned("a.xmp")
    monkeypatch.setattr(local, "_exchange", lambda *args: False)  # NFS, SMB, FUSE
    storage.replace_if("a.xmp", b"new", version)
    assert (tree / "a.xmp").read_bytes() == b"new"
    assert not [name for name in os.listdir(tree) if name.endswith(".lenslet-tmp")]


def test_update_loses_no_concurrent_change(storage):
    assert counted_at_once(storage, threads=8, each=50) == b"400"


def rewritten_while_read(storage, name, durable):
    """Four writers rewrite a file 40 times each with bytes of four sizes while three readers read it (the
    name never missing: NotFound fails the test): (lengths seen, lengths of bytes no writer wrote)."""
    blobs = [bytes([n]) * (256 * 1024 + n) for n in range(4)]  # differ in size and content
    stop, seen, errors = threading.Event(), [], []

    def write(blob):
        for _ in range(40):
            storage.write(name, blob, durable=durable)

    def read():
        while not stop.is_set():
            data = storage.read(name)
            seen.append(len(data))
            if data not in blobs:
                errors.append(len(data))

    storage.write(name, blobs[0], durable=durable)
    readers = [threading.Thread(target=read) for _ in range(3)]
    writers = [threading.Thread(target=write, args=(b,)) for b in blobs]
    for thread in readers + writers:
        thread.start()
    for thread in writers:
        thread.join()
    stop.set()
    for thread in readers:
        thread.join()
    return seen, errors


def test_atomic_write_never_shows_a_partial_file(storage, tree):
    seen, errors = rewritten_while_read(storage, "photo.jpg.json", durable=True)
    assert seen and not errors
    assert os.listdir(tree) == ["photo.jpg.json"]  # no temp file left behind


@pytest.mark.parametrize("exchanged", [True, False], ids=["names-exchanged", "renamed-as-on-nfs"])
def test_a_file_lenslet_can_make_again_is_replaced_whole_and_nothing_else_stays(storage, tree, monkeypatch,
                                                                                  exchanged):
    """A write without fsync over a file (a listing page, a thumbnail) takes its name by an exchange, the old
    file then removed, or by a rename where names cannot be exchanged: readers see the old bytes or the new,
    never a mix or nothing, and neither the old file nor a temp name stays."""
    from lenslet.storage import local
    exchange, calls = local._exchange, []
    monkeypatch.setattr(local, "_exchange", lambda *args: calls.append(args) or (exchanged and exchange(*args)))
    seen, errors = rewritten_while_read(storage, "_index.json", durable=False)
    assert seen and not errors
    assert len(calls) >= 160  # every write over the file tried the exchange first
    assert os.listdir(tree) == ["_index.json"]
    storage.write("_index.json", b"last", durable=False)
    assert storage.read("_index.json") == b"last"


def test_a_folder_put_at_a_files_name_meanwhile_is_never_removed_by_a_write(storage, tree, monkeypatch):
    """A folder someone makes at the name of a file lenslet rewrites, after lenslet looked at the name and
    before its file takes it: the exchange hands the folder back its name and the write fails as a rename
    over a folder does; the folder and what it holds stay, and nothing else is left."""
    from lenslet.storage import local
    (tree / "_index.json").mkdir()
    (tree / "_index.json" / "photo.jpg").write_bytes(b"theirs")
    monkeypatch.setattr(local, "_refuse_foreign", lambda *args, **kwargs: None)  # it came after the look
    with pytest.raises(BadRequest, match="is a folder"):
        storage.write("_index.json", b"ours", durable=False)
    assert (tree / "_index.json" / "photo.jpg").read_bytes() == b"theirs"
    assert os.listdir(tree) == ["_index.json"]


def test_named_temp_fallback_leaves_nothing_behind(storage, tree):
    storage._tmpfile = False  # as on a filesystem without O_TMPFILE
    storage.make_folder("a")
    storage.write("a/b.json", b"1")
    storage.write("a/b.json", b"2")
    storage.create("a/c.json", b"3")
    assert sorted(os.listdir(tree / "a")) == ["b.json", "c.json"]
    assert storage.read("a/b.json") == b"2"


def test_readonly_refuses_writes(tree):
    storage = LocalStorage(str(tree), readonly=True)
    with pytest.raises(Exception, match="read-only"):
        storage.write("a.json", b"x")
    assert os.listdir(tree) == []


def test_listing_clears_temp_files_of_dead_writers_only(storage, tree):
    import subprocess
    import sys
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tree / f".{gone.pid}-abc.lenslet-tmp").write_bytes(b"half")
    (tree / f".{os.getpid()}-def.lenslet-tmp").write_bytes(b"being written")
    storage.list_folder("")
    assert os.listdir(tree) == [f".{os.getpid()}-def.lenslet-tmp"]


def test_a_write_into_a_folder_moved_away_fails_and_leaves_no_ghost_folder(storage, tree):
    (tree / "trip").mkdir()
    (tree / "trip" / "a.jpg").write_bytes(b"x")
    os.rename(tree / "trip", tree / "home")  # another program (or a move) took the folder away
    for late in ("trip/a.jpg.thumbnail", "trip/_index.json", "trip/a.jpg.json"):
        with pytest.raises(NotFound):
            storage.write(late, b"late")
        with pytest.raises(NotFound):
            storage.create(late, b"late")
    with pytest.raises(NotFound):
        storage.update("trip/a.jpg.json", lambda *old: b"late")
    assert not (tree / "trip").exists() and sorted(os.listdir(tree / "home")) == ["a.jpg"]


def test_lenslet_s_own_folders_are_still_made_on_the_first_write(storage, tree):
    storage.write(".lenslet/jobs/new/job.json", b"{}")
    assert (tree / ".lenslet" / "jobs" / "new" / "job.json").read_bytes() == b"{}"


def test_overwrite_changes_a_marker_in_place_or_writes_it_whole(storage, tree):
    storage.overwrite(".lenslet/listed", b"12345678")  # none yet: written
    marker = tree / ".lenslet" / "listed"
    inode = marker.stat().st_ino
    storage.overwrite(".lenslet/listed", b"abcdefgh")
    assert marker.read_bytes() == b"abcdefgh" and marker.stat().st_ino == inode  # the same file
    storage.overwrite(".lenslet/listed", b"longer than eight")  # another length: a new file
    assert marker.read_bytes() == b"longer than eight" and marker.stat().st_ino != inode


def test_overwrite_never_changes_a_file_of_another_name_in_place(storage, tree, tmp_path):
    (tree / ".lenslet").mkdir()
    marker, photo = tree / ".lenslet" / "listed", tmp_path / "photo.jpg"
    photo.write_bytes(b"12345678")
    os.link(photo, marker)  # a hard link: one file, two names
    storage.overwrite(".lenslet/listed", b"abcdefgh")
    assert photo.read_bytes() == b"12345678" and marker.read_bytes() == b"abcdefgh"


@pytest.mark.parametrize("kind", ["link", "fifo", "folder"])
def test_overwrite_never_writes_through_what_is_not_a_file(storage, tree, tmp_path, kind):
    (tree / ".lenslet").mkdir()
    marker, target = tree / ".lenslet" / "listed", tmp_path / "target"
    target.write_bytes(b"12345678")
    {"link": lambda: marker.symlink_to(target), "fifo": lambda: os.mkfifo(marker), "folder": marker.mkdir}[kind]()
    with pytest.raises(Foreign):
        storage.overwrite(".lenslet/listed", b"abcdefgh")
    assert target.read_bytes() == b"12345678"


@pytest.mark.parametrize("root_prefix, other, key, expected", [
    ("photos", ("b", "photos/private"), "doc.jpg", "private/doc.jpg"),  # a pointer into this tree
    ("photos", ("b", "photos/private"), "", "private"),
    ("photos", ("b", "photos2/x"), "a.jpg", None),  # whole segments: photos2 is not in photos
    ("photos", ("other", "photos/private"), "a.jpg", None),  # another bucket
    ("", ("b", "anything"), "a.jpg", "anything/a.jpg"),
])
def test_a_buckets_key_for_a_pointers_key(root_prefix, other, key, expected):
    from lenslet.storage.s3 import S3Storage
    root = S3Storage("b", root_prefix)
    assert root.key_of(S3Storage(*other), key) == expected
    assert root.real_key("a/b.jpg") == "a/b.jpg"  # a bucket has no links


def test_a_local_trees_key_for_a_link_or_a_pointer(tmp_path):
    from lenslet.storage.local import LocalStorage
    (tmp_path / "private").mkdir()
    (tmp_path / "family").mkdir()
    os.symlink("../private", tmp_path / "family" / "peek")
    root = LocalStorage(str(tmp_path))
    assert root.real_key("family/peek/doc.jpg") == "private/doc.jpg"
    assert root.real_key("family/a.jpg") == "family/a.jpg"
    assert root.key_of(LocalStorage(str(tmp_path / "private")), "doc.jpg") == "private/doc.jpg"
    elsewhere = tmp_path.parent / (tmp_path.name + "-elsewhere")
    elsewhere.mkdir()
    assert root.key_of(LocalStorage(str(elsewhere)), "doc.jpg") is None


def test_a_files_lock_is_named_by_its_folder_not_by_the_path_to_it(tmp_path):
    """Two paths to one file (a folder link inside the root) take one lock, and an edit under way through
    either is seen through both; a file on the way to one is refused by the write, never followed."""
    root = tmp_path / "tree"
    (root / "trip").mkdir(parents=True)
    (root / "alias").symlink_to("trip")
    storage = LocalStorage(str(root))
    assert storage._locked("trip/a.jpg.json").path == storage._locked("alias/a.jpg.json").path
    with storage.lock_images(["alias/a.jpg"]):
        assert storage.edits_under_way("trip") and storage.edits_under_way("alias")
    assert not storage.edits_under_way("trip")
    (root / "trip.txt").write_bytes(b"")
    storage._locked("trip.txt/a.jpg.json")  # a file on the way: the write says so, not the lock
    with pytest.raises(Foreign):
        storage.write("trip.txt/a.jpg.json", b"{}")


@pytest.mark.parametrize("sent", ["2026-11-28T14:00:00.000Z", "2026-11-28T14:00:00Z", "2026-11-28T14:00:00.123456Z",
                                  "Sat, 28 Nov 2026 14:00:00 GMT", "1764338400", 1764338400])
def test_s3s_times_are_read_as_botocore_reads_them(sent):
    import botocore.utils

    from lenslet.storage.s3 import parse_time
    assert parse_time(sent).timestamp() == botocore.utils.parse_timestamp(sent).timestamp()
