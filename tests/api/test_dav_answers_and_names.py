"""WebDAV answers stay bounded and well-formed whatever a PROPFIND asks, lenslet's own names are refused on every
method (as the API refuses them), and a path out of a person's sight answers exactly as a missing one."""

import gc
import os
import shutil
import threading
import tracemalloc
import xml.etree.ElementTree as ElementTree

import pytest
from helpers import jpeg
from test_dav import HERE, LOCK_BODY, Home, files_in

from lenslet.files import operations
from lenslet.resources.dav import KEPT_ANSWERS_BYTES

pytestmark = pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # webtest's lint knows no PROPFIND


@pytest.fixture
def home(tmp_path):
    return Home(tmp_path)


@pytest.fixture
def crowded(home):
    """family/ holding 300 photos."""
    photo = jpeg()
    for number in range(300):
        (home.tree / "family" / f"IMG_{number:04d}.jpg").write_bytes(photo)
    return home


def asking(names):
    """A PROPFIND body naming properties, each (namespace, name)."""
    props = "".join(f'<p:{name} xmlns:p="{space}"/>' if space else f'<{name} xmlns=""/>' for space, name in names)
    return f'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop>{props}</D:prop></D:propfind>'.encode()


def test_a_propfind_asking_thousands_of_properties_is_refused(crowded):
    props = "".join(f"<Z:p{number}/>" for number in range(2400))
    flood = f'<D:propfind xmlns:D="DAV:" xmlns:Z="urn:x"><D:prop>{props}</D:prop></D:propfind>'.encode()
    assert 20_000 < len(flood) < 64 * 1024
    answer = crowded.dav("PROPFIND", "family/", body=flood, headers={"Depth": "1"})
    assert answer.status_int == 413 and "at most 100 properties" in answer.json["description"]
    long_names = asking([("urn:x", "n" * 1500), ("urn:x", "m" * 1500)])
    assert crowded.dav("PROPFIND", "family/", body=long_names, headers={"Depth": "1"}).status_int == 413


@pytest.mark.parametrize("names, status", [
    ([("urn:x", f"p{number:03d}") for number in range(100)], 207),
    ([("urn:x", f"p{number:03d}") for number in range(101)], 413),
    ([("urn:x", "n" * 1024), ("", "m" * 1024)], 207),
    ([("urn:x", "n" * 1024), ("", "m" * 1025)], 413),
])
def test_a_propfind_at_the_limits(home, names, status):
    answer = home.dav("PROPFIND", "family/", body=asking(names), headers={"Depth": "1"})
    assert answer.status_int == status
    if status == 207:
        assert len(ElementTree.fromstring(answer.body).findall("{DAV:}response")) == 2
    else:
        assert "2048 characters in all" in answer.json["description"]


def test_unknown_properties_are_answered_once_an_entry_their_namespace_declared_once(crowded):
    names = [("urn:x", "colour")] * 50 + [(f"urn:space:{number}", f"p{number}") for number in range(49)]
    answer = crowded.dav("PROPFIND", "family/", body=asking(names), headers={"Depth": "1"})
    assert answer.status_int == 207
    responses = ElementTree.fromstring(answer.body).findall("{DAV:}response")
    assert len(responses) == 302  # the folder, a.jpg and 300 photos
    assert answer.body.count(b"<n0:colour/>") == 302 and answer.body.count(b'"urn:x"') == 1
    assert len(answer.body) < 302 * 1500  # about what the folder's own listing and the names asked weigh


def kept_after_rounds(ask):
    """Return the memory kept after ask(0), then ask(1) to ask(16)."""
    ask(0)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for round_ in range(1, 17):
            ask(round_)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def test_answers_swollen_by_unknown_properties_are_not_kept(crowded):
    def ask(round_):
        names = [(f"urn:round:{round_}", f"p{number}") for number in range(100)]
        assert crowded.dav("PROPFIND", "family/", body=asking(names), headers={"Depth": "1"}).status_int == 207

    kept = kept_after_rounds(ask)
    assert kept < 2_000_000, kept  # each answer weighs about 1 MB


def test_answers_kept_together_weigh_a_bounded_amount_however_big_the_folder(home):
    photo = jpeg()
    for number in range(1500):
        (home.tree / "family" / f"IMG_{number:04d}.jpg").write_bytes(photo)

    def ask(round_):  # near the limits (90 properties, 1,980 characters) and under 1 KB an entry, as kept ones are
        names = [(f"urn:{round_:02d}:" + "x" * 12, f"p{number:02d}") for number in range(90)]
        assert sum(len(space) + len(name) for space, name in names) == 1980
        answer = home.dav("PROPFIND", "family/", body=asking(names), headers={"Depth": "1"})
        assert answer.status_int == 207 and 1_400_000 < len(answer.body) < 1502 * 1024

    kept = kept_after_rounds(ask)
    assert kept < KEPT_ANSWERS_BYTES + 1_000_000, kept  # of 16 answers of 1.5 MB each, what fits the budget


def test_a_property_in_no_namespace_comes_back_well_formed(home):
    answer = home.dav("PROPFIND", "family/a.jpg", body=asking([("", "x"), ("urn:y", "y")]), headers={"Depth": "0"})
    assert answer.status_int == 207
    missing = ElementTree.fromstring(answer.body).find("{DAV:}response/{DAV:}propstat/{DAV:}prop")
    assert [prop.tag for prop in missing] == ["x", "{urn:y}y"]
    patched = home.dav("PROPPATCH", "family/a.jpg", body=(
        b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><x xmlns="">1</x></D:prop></D:set>'
        b"</D:propertyupdate>"))
    assert patched.status_int == 207
    assert ElementTree.fromstring(patched.body).find(".//{DAV:}prop/x") is not None


RESERVED = ("family/a.jpg.json", "family/c.jpg.thumbnail", "family/_index.json", "family/_index_2.json",
            "_rollup.json", "_health.json", "family/_trash_")


@pytest.mark.parametrize("name", RESERVED)
def test_lenslets_own_names_are_refused_on_every_write_and_found_by_no_read(home, name):
    (home.tree / "family" / "a.jpg.json").write_text('{"v": 1, "tags": ["beach"]}')
    (home.tree / "family" / "sub").mkdir()
    before = {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()}
    folders = sorted(path for path in files_in(home.tree) if (home.tree / path).is_dir())
    for method, path, headers, body in (
            ("MKCOL", name, {}, b""), ("PUT", name, {}, jpeg(color=(1, 2, 3))), ("DELETE", name, {}, b""),
            ("PROPPATCH", name, {}, b""), ("LOCK", name, {}, LOCK_BODY), ("UNLOCK", name, {}, b""),
            ("COPY", "family/sub", {"Destination": f"/dav/{name}"}, b""),
            ("MOVE", "family/sub", {"Destination": f"/dav/{name}"}, b""),
            ("COPY", "family/a.jpg", {"Destination": f"/dav/{name}"}, b""),
            ("MOVE", "family/a.jpg", {"Destination": f"/dav/{name}"}, b""),
            ("COPY", name, {"Destination": "/dav/family/z.jpg"}, b""),
            ("MOVE", name, {"Destination": "/dav/family/z"}, b"")):
        answer = home.dav(method, path, headers=headers, body=body)
        assert answer.status_int == 400, (method, path, answer.status)
        assert "reserved for lenslet's own files" in answer.json["description"]
    for method in ("GET", "HEAD", "PROPFIND"):
        assert home.dav(method, name, headers={"Depth": "0"}).status_int == 404, method
    assert {path: (home.tree / path).read_bytes() for path in files_in(home.tree)
            if (home.tree / path).is_file()} == before
    assert sorted(path for path in files_in(home.tree) if (home.tree / path).is_dir()) == folders
    assert not list((home.tree / ".lenslet").glob("dav-locks/*.json"))


def test_a_folder_another_program_named_so_is_still_listed_and_read(home):
    (home.tree / "family" / "2024.json").mkdir()
    (home.tree / "family" / "2024.json" / "b.jpg").write_bytes(jpeg(color=(4, 4, 4)))
    listed = home.dav("PROPFIND", "family/2024.json/", headers={"Depth": "1"})
    assert listed.status_int == 207 and b"/dav/family/2024.json/b.jpg" in listed.body
    assert home.dav("GET", "family/2024.json/b.jpg").body == jpeg(color=(4, 4, 4))


def test_the_apis_new_folder_refuses_lenslets_own_names_too(home):
    for name in ("family/a.jpg.json", "family/b.jpg.thumbnail", "family/_trash_"):
        answer = home.apps[0].post_json("/folder", {"path": name}, headers={**home.api, **HERE}, expect_errors=True)
        assert answer.status_int == 400 and "reserved" in answer.json["description"], name
        assert not (home.tree / name).exists()


def test_a_copy_keeps_the_photo_name_asked_for_or_is_not_made(home):
    assert home.dav("COPY", "family/a.jpg", headers={"Destination": "/dav/family/notes"}).status_int == 415
    assert home.dav("COPY", "family/a.jpg", headers={"Destination": "/dav/family/b.jpg"}).status_int == 201
    assert sorted(name for name in os.listdir(home.tree / "family") if "." not in name[:-4]) == ["a.jpg", "b.jpg"]


def test_a_folder_out_of_sight_answers_as_a_missing_one(home):
    (home.tree / "private").mkdir()
    (home.tree / "private" / "p.jpg").write_bytes(jpeg())
    os.symlink(home.tree / "private", home.tree / "kids" / "Secret")
    for method in ("GET", "HEAD", "PROPFIND", "DELETE", "PUT", "PROPPATCH", "OPTIONS"):
        hidden, missing = (home.dav(method, path, who="kid", headers={"Depth": "0"})
                           for path in ("kids/Secret", "kids/Nope"))
        assert hidden.status_int == missing.status_int, method
        assert [hidden.headers.get(name) for name in ("Cache-Control", "Vary", "Allow", "Content-Type")] == \
               [missing.headers.get(name) for name in ("Cache-Control", "Vary", "Allow", "Content-Type")], method
        assert hidden.body.replace(b"Secret", b"Nope") == missing.body, method
    assert home.dav("GET", "kids/Nope", who="kid").status_int == 404
    for method, path, headers, body in (("PUT", "x.jpg", {}, jpeg()), ("MKCOL", "x", {}, b""),
                                        ("COPY", "kids/b.jpg", {"Destination": "/dav/kids/{}/x.jpg"}, b""),
                                        ("MOVE", "kids/b.jpg", {"Destination": "/dav/kids/{}/x.jpg"}, b"")):
        hidden, missing = (home.dav(method, f"kids/{folder}/{path}" if method in ("PUT", "MKCOL") else path,
                                    who="kid", body=body,
                                    headers={name: value.format(folder) for name, value in headers.items()})
                           for folder in ("Secret", "Nope"))
        assert hidden.status_int == missing.status_int == 409, method
        assert hidden.headers.get("Cache-Control") == missing.headers.get("Cache-Control"), method
        assert hidden.body.replace(b"Secret", b"Nope") == missing.body, method
    assert sorted(os.listdir(home.tree / "private")) == ["p.jpg"]


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"},
                                     {"Host": "evil.example"}])
def test_a_copy_over_a_folder_from_another_site_or_host_changes_nothing(home, headers):
    (home.tree / "family" / "box.jpg").mkdir()
    (home.tree / "family" / "box.jpg" / "in.jpg").write_bytes(jpeg(color=(3, 3, 3)))
    before = files_in(home.tree)
    answer = home.dav("COPY", "family/a.jpg", headers={"Destination": "/dav/family/box.jpg", **headers})
    assert answer.status_int in (403, 421) and answer.json["description"]
    assert files_in(home.tree) == before


def test_a_put_into_a_folder_a_file_replaces_meanwhile_is_a_conflict(home, monkeypatch):
    """The racing COPY below at the worst moment for the PUT: after its folder was looked at, before the write."""
    read_head = operations._read_head

    def replaced_first(stream):
        shutil.rmtree(home.tree / "family" / "box.jpg")
        (home.tree / "family" / "box.jpg").write_bytes(jpeg())
        return read_head(stream)
    (home.tree / "family" / "box.jpg").mkdir()
    monkeypatch.setattr(operations, "_read_head", replaced_first)
    answer = home.dav("PUT", "family/box.jpg/new.jpg", body=jpeg(color=(1, 2, 3)))
    assert answer.status_int == 409 and answer.json["description"] == "a file stands where the folder should be"
    assert (home.tree / "family" / "box.jpg").is_file()


def test_a_copy_over_a_folder_racing_a_put_into_it_loses_no_photo(home):
    def send(answers, name, *request, **options):
        answers[name] = home.dav(*request, **options)

    for round_ in range(5):
        (home.tree / "family" / f"box{round_}.jpg").mkdir()
        photo, answers = jpeg(color=(round_, 9, 9)), {}
        threads = [threading.Thread(target=send, args=(answers, "copy", "COPY", "family/a.jpg"),
                                    kwargs={"headers": {"Destination": f"/dav/family/box{round_}.jpg"}}),
                   threading.Thread(target=send, args=(answers, "put", "PUT", f"family/box{round_}.jpg/new.jpg"),
                                    kwargs={"body": photo, "app": 1})]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        shown = {name: (answer.status, answer.body) for name, answer in answers.items()}
        assert {answer.status_int for answer in answers.values()} <= {201, 204, 404, 409}, shown
        kept = [path for path in home.tree.rglob("new*.jpg") if path.read_bytes() == photo]
        assert kept or answers["put"].status_int in (404, 409), round_
