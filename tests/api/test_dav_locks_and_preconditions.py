"""WebDAV's preconditions and locks: If-Match, If-None-Match and If (lists, lock tokens matched whole, ETags, Not) on
every write, a condition that does not hold answers 412 and changes nothing; a lock is seen in lockdiscovery, refreshed
through any path it holds, guards writes (not reads) of the photo whatever path reaches it, and is found however many
other locks there are; lock records torn, forged or another person's lock nothing of anyone's."""

import json
import os
import threading
import time
from itertools import islice
from urllib.parse import quote

import pytest
from helpers import Gallery, at_once, forge_lock_record, jpeg
from test_dav import LOCK_BODY, Home, files_in

from lenslet.dav import locks
from lenslet.dav.locks import LOCKS, record_name
from lenslet.storage import open_storage

pytestmark = pytest.mark.filterwarnings("ignore::webtest.lint.WSGIWarning")  # webtest's lint knows no PROPFIND
SHARED_BODY = LOCK_BODY.replace(b"<D:exclusive/>", b"<D:shared/>")
DISCOVER = (b'<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:lockdiscovery/></D:prop>'
            b"</D:propfind>")


def with_ted(home):
    home.directory.add("ted", "edit", [""], password="ted's password")
    home.passwords["ted"] = home.directory.add_app_password(home.directory.users()["ted"], "Mac", 1.0)[1]
    return home


@pytest.fixture
def home(tmp_path):
    return with_ted(Home(tmp_path))


# Marked here: conftest marks a test system by the fixtures it names, and this one asks for the bucket by itself.
@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.system)])
def anywhere(request, tmp_path, monkeypatch):
    """A home on disk or in a bucket; put(key, bytes) and put_many({key: bytes}) write files of its tree as another
    program would."""
    if request.param == "local":
        home = with_ted(Home(tmp_path))
    else:
        home = with_ted(Home(tmp_path, s3_bucket=request.getfixturevalue("bucket"), s3_prefix="photos",
                             s3_endpoint=request.getfixturevalue("s3_endpoint"), s3_region="us-east-1",
                             cache_dir=str(tmp_path / "cache")))
        monkeypatch.setattr(locks, "PER_PERSON", 8)  # moto is slow: the same caps, fewer locks to reach them
        monkeypatch.setattr(locks, "PER_FOLDER", 8)
    tree = Gallery(home.config, tmp_path)
    home.put, home.put_many = tree.put, tree.put_many
    if request.param == "s3":
        home.put_many({path: (home.tree / path).read_bytes() for path in ("family/a.jpg", "kids/b.jpg", "top.jpg")})
    return home


def forge_locks(home, paths, user):
    """Live lock records of paths, as the last release wrote them."""
    home.put_many({f"{LOCKS}/{record_name(path)}": json.dumps({
        "v": 1, "path": path, "token": f"opaquelocktoken:{n:032x}", "user": user(n), "depth": "0",
        "owner": "", "expires": home.now[0] + 999}).encode() for n, path in enumerate(paths)})


def etag(home, path):
    return home.dav("GET", path).headers["ETag"]


def snapshot(home):
    return {path: (home.tree / path).read_bytes() for path in files_in(home.tree) if (home.tree / path).is_file()}


def by_href(answer):
    """Each response of a multistatus answer by its own href."""
    return {part.split("<D:href>")[1].split("</D:href>")[0]: part for part in answer.text.split("<D:response>")[1:]}


def lock(home, path, who="mum", depth=None, app=0):
    headers = {"Timeout": "Second-600", **({"Depth": depth} if depth else {})}
    answer = home.dav("LOCK", path, who=who, body=LOCK_BODY, headers=headers, app=app)
    assert answer.status_int in (200, 201), answer.text
    return answer.headers["Lock-Token"].strip("<>")


# -- preconditions


CONDITIONS_NOT_HOLDING = [{"If-Match": '"bogus"'}, {"If": '(["bogus"])'}, {"If": "(<DAV:no-lock>)"},
                          {"If": '<http://localhost:80/dav/family/a.jpg> (["bogus"])'}]


@pytest.mark.parametrize("method, path, extra", [
    ("PUT", "family/a.jpg", {}),
    ("DELETE", "family/a.jpg", {}),
    ("MKCOL", "family/new", {}),
    ("MOVE", "family/a.jpg", {"Destination": "/dav/kids/a.jpg"}),
    ("COPY", "family/a.jpg", {"Destination": "/dav/kids/a.jpg"}),
    ("PROPPATCH", "family/a.jpg", {}),
    ("LOCK", "family/a.jpg", {}),
])
def test_a_write_whose_condition_does_not_hold_answers_412_and_changes_nothing(home, method, path, extra):
    before = snapshot(home)
    body = {"PUT": jpeg(color=(5, 5, 5)), "LOCK": LOCK_BODY,
            "PROPPATCH": b'<D:propertyupdate xmlns:D="DAV:"/>'}.get(method, b"")
    there = {"If-None-Match": "*"} if method != "MKCOL" else {"If-Match": "*"}  # nothing there to match
    for condition in CONDITIONS_NOT_HOLDING + [there]:
        answer = home.dav(method, path, headers={**extra, **condition}, body=body)
        assert answer.status_int == 412, (condition, answer.status, answer.text)
        assert answer.json["title"] == "Precondition failed"
    assert snapshot(home) == before and not (home.tree / LOCKS).exists()


def test_a_photo_changed_elsewhere_is_not_overwritten_by_a_client_that_read_it_before(home):
    seen = etag(home, "family/a.jpg")
    assert seen in home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}).text
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(1, 2, 3)), app=1).status_int == 204  # another device
    kept = (home.tree / "family" / "a.jpg").read_bytes()
    for condition in ({"If-Match": seen}, {"If": f"([{seen}])"}, {"If": f"(<DAV:no-lock> [{seen}])"}):
        assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(9, 9, 9)), headers=condition).status_int == 412
    assert (home.tree / "family" / "a.jpg").read_bytes() == kept
    now = etag(home, "family/a.jpg")
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(9, 9, 9)), headers={"If-Match": now}).status_int == 204
    assert home.dav("PUT", "family/b.jpg", body=jpeg(), headers={"If-None-Match": "*"}).status_int == 201
    assert home.dav("PUT", "family/b.jpg", body=jpeg(color=(4, 4, 4)), headers={"If-None-Match": "*"}
                    ).status_int == 412
    assert home.dav("DELETE", "family/b.jpg", headers={"If": f"(Not [{now}])"}).status_int == 204


def test_an_if_header_that_is_no_condition_answers_400_and_changes_nothing(home):
    before = snapshot(home)
    for header in ("(<opaquelocktoken:x", "((x))", "junk", "(Not)", "(<a>)" * 3000):
        answer = home.dav("PUT", "family/a.jpg", body=jpeg(color=(5, 5, 5)), headers={"If": header})
        assert answer.status_int == 400 and "If header" in answer.json["description"]
    assert snapshot(home) == before


def test_a_condition_on_a_photo_outside_ones_folders_tells_nothing_of_it(home):
    seen = etag(home, "family/a.jpg")
    for tagged in ("family/a.jpg", "family/none.jpg"):
        for condition, status in ((f"([{seen}])", 412), (f"(Not [{seen}])", 201)):
            answer = home.dav("PUT", f"kids/{len(condition)}{len(tagged)}.jpg", who="kid", body=jpeg(),
                              headers={"If": f"</dav/{tagged}> {condition}"})
            assert answer.status_int == status, (tagged, condition)


# -- lock tokens


def test_a_lock_token_is_matched_whole_and_only_for_its_owner(home):
    token = lock(home, "family/a.jpg")
    before = snapshot(home)
    for who, condition, status in (("mum", f"(<{token}x>)", 412), ("mum", f"(<{token[:-1]}>)", 412),
                                   ("mum", f"(<{token}x>) (Not <DAV:no-lock>)", 423),
                                   ("mum", f"(<x{token}>) (Not <DAV:no-lock>)", 423),
                                   ("ted", f"(<{token}>)", 423), ("ted", f"(<{token}>) (Not <DAV:no-lock>)", 423)):
        answer = home.dav("PUT", "family/a.jpg", who=who, body=jpeg(color=(6, 6, 6)), headers={"If": condition})
        assert answer.status_int == status, (who, condition, answer.text)
    assert snapshot(home) == before
    assert home.dav("UNLOCK", "family/a.jpg", who="ted", headers={"Lock-Token": f"<{token}>"}).status_int == 403
    assert home.dav("LOCK", "family/a.jpg", who="ted", headers={"If": f"(<{token}>)"}).status_int == 403
    assert home.dav("UNLOCK", "family/a.jpg", headers={"Lock-Token": f"<{token}x>"}).status_int == 409
    answer = home.dav("PUT", "family/a.jpg", body=jpeg(color=(6, 6, 6)),
                      headers={"If": f"(<{token}> [{etag(home, 'family/a.jpg')}]) (Not <DAV:no-lock>)"})
    assert answer.status_int == 204


# -- lockdiscovery, refresh, reads


def test_lockdiscovery_says_the_locks_that_hold_a_path(home):
    (home.tree / "family" / "2024").mkdir()
    assert "<D:activelock>" not in home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}).text
    token = lock(home, "family/a.jpg")
    for who in ("mum", "ted", "gran"):
        one = home.dav("PROPFIND", "family/a.jpg", who=who, headers={"Depth": "0"}, body=DISCOVER, app=1)
        assert token in one.text and "mum&apos;s laptop" in one.text or "mum's laptop" in one.text
        assert "<D:lockroot><D:href>/dav/family/a.jpg</D:href>" in one.text
    folder_token = lock(home, "family/2024", who="ted", depth="infinity")
    children = home.dav("PROPFIND", "family", headers={"Depth": "1"}, body=DISCOVER)
    responses = by_href(children)
    assert token in responses["/dav/family/a.jpg"] and folder_token not in responses["/dav/family/a.jpg"]
    assert folder_token in responses["/dav/family/2024/"] and "<D:depth>infinity</D:depth>" in children.text
    assert "<D:activelock>" not in responses["/dav/family/"]
    kids_token = lock(home, "kids", depth="infinity")
    inside = home.dav("PROPFIND", "kids", headers={"Depth": "1"}, body=DISCOVER, who="kid")
    assert inside.text.count(kids_token) == 2  # the folder and the photo it holds
    every = home.dav("PROPFIND", "kids", headers={"Depth": "1"})
    assert every.text.count(kids_token) == 1  # a child's locks only when asked by name
    home.dav("UNLOCK", "family/a.jpg", headers={"Lock-Token": f"<{token}>"})
    assert token not in home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}, body=DISCOVER, app=1).text
    assert token not in home.dav("PROPFIND", "family", headers={"Depth": "1"}, body=DISCOVER).text


def test_a_folders_lock_is_refreshed_and_unlocked_through_a_photo_inside(home):
    token = lock(home, "family", depth="infinity")
    home.now[0] += 500
    refreshed = home.dav("LOCK", "family/a.jpg", headers={"If": f"(<{token}>)", "Timeout": "Second-900"}, app=1)
    assert refreshed.status_int == 200 and "Second-900" in refreshed.text
    assert "<D:lockroot><D:href>/dav/family/</D:href>" in refreshed.text
    home.now[0] += 800  # past the first timeout, within the refreshed one
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(7, 7, 7))).status_int == 423
    assert home.dav("LOCK", "kids/b.jpg", headers={"If": f"(<{token}>)"}).status_int == 412  # not held there
    assert home.dav("UNLOCK", "family/a.jpg", headers={"Lock-Token": f"<{token}>"}).status_int == 204
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(7, 7, 7))).status_int == 204


def test_a_locked_photo_is_read_and_copied_by_anyone_and_written_by_its_locker_only(home):
    token = lock(home, "family/a.jpg")
    assert home.dav("GET", "family/a.jpg", who="ted").status_int == 200
    copied = home.dav("COPY", "family/a.jpg", who="ted", headers={"Destination": "/dav/kids/a.jpg"})
    assert copied.status_int == 201 and (home.tree / "kids" / "a.jpg").read_bytes() == jpeg()
    assert "activelock" not in home.dav("PROPFIND", "kids/a.jpg", headers={"Depth": "0"}, body=DISCOVER).text
    before = snapshot(home)
    onto = {"Destination": "/dav/family/a.jpg"}
    for method, extra in (("COPY", onto), ("MOVE", onto), ("PROPPATCH", {})):
        answer = home.dav(method, "kids/a.jpg" if method != "PROPPATCH" else "family/a.jpg", who="ted", headers=extra,
                          body=b'<D:propertyupdate xmlns:D="DAV:"/>' if method == "PROPPATCH" else b"")
        assert answer.status_int == 423, method
    assert snapshot(home) == before
    moved = home.dav("MOVE", "family/a.jpg", headers={"Destination": "/dav/kids/c.jpg", "If": f"(<{token}>)"})
    assert moved.status_int == 201


def test_a_lock_of_a_name_not_yet_taken_keeps_it_for_its_locker(home):
    answer = home.dav("LOCK", "family/new.jpg", body=LOCK_BODY)
    assert answer.status_int == 201 and not (home.tree / "family" / "new.jpg").exists()
    token = answer.headers["Lock-Token"]
    assert home.dav("PUT", "family/new.jpg", who="ted", body=jpeg()).status_int == 423
    assert home.dav("PUT", "family/new.jpg", body=jpeg(), headers={"If": f"({token})"}).status_int == 201
    assert home.dav("LOCK", "family/a.jpg", body=LOCK_BODY).status_int == 200
    missing = home.dav("LOCK", "nowhere/new.jpg", body=LOCK_BODY)
    assert missing.status_int == 409 and not any("nowhere" in name for name in files_in(home.tree))


def test_a_shared_lock_is_refused_clearly_and_nothing_is_kept(home):
    answer = home.dav("LOCK", "family/a.jpg", body=SHARED_BODY)
    assert answer.status_int == 422 and "exclusive" in answer.json["description"]
    assert not (home.tree / LOCKS).exists()
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(8, 8, 8))).status_int == 204


# -- one photo, one lock, whatever path reaches it


def test_a_photo_reached_through_a_folder_link_has_one_lock(home):
    (home.tree / "family" / "2024").mkdir()
    (home.tree / "family" / "2024" / "p.jpg").write_bytes(jpeg(color=(20, 20, 20)))
    os.symlink("2024", home.tree / "family" / "Latest")
    token = lock(home, "family/2024/p.jpg")
    before = snapshot(home)
    for method, path, extra, body in (
            ("PUT", "family/Latest/p.jpg", {}, jpeg(color=(1, 1, 1))),
            ("DELETE", "family/Latest/p.jpg", {}, b""),
            ("MOVE", "family/Latest/p.jpg", {"Destination": "/dav/family/q.jpg"}, b""),
            ("COPY", "family/a.jpg", {"Destination": "/dav/family/Latest/p.jpg"}, b""),
            ("LOCK", "family/Latest/p.jpg", {}, LOCK_BODY),
            ("DELETE", "family/Latest", {}, b"")):
        answer = home.dav(method, path, who="ted", headers=extra, body=body, app=1)
        assert answer.status_int == 423, (method, path, answer.text)
    assert snapshot(home) == before
    assert token in home.dav("PROPFIND", "family/Latest/p.jpg", headers={"Depth": "0"}, body=DISCOVER).text
    home.dav("UNLOCK", "family/Latest/p.jpg", headers={"Lock-Token": f"<{token}>"})
    folder = lock(home, "family/Latest", depth="infinity")
    assert home.dav("MKCOL", "family/2024/new", who="ted").status_int == 423
    assert home.dav("PUT", "family/2024/p.jpg", who="ted", body=jpeg(color=(1, 1, 1))).status_int == 423
    assert home.dav("PUT", "family/2024/p.jpg", body=jpeg(color=(1, 1, 1)), headers={"If": f"(<{folder}>)"}
                    ).status_int == 204


# -- however many locks


def test_a_lock_holds_whichever_unicode_spelling_a_write_names(anywhere):
    home, nfc, nfd = anywhere, "family/caf\u00e9.jpg", "family/cafe\u0301.jpg"
    home.put(nfc, jpeg(color=(7, 7, 7)))
    token = lock(home, quote(nfc))
    assert lock(home, quote(nfd + ".mov")).startswith("opaquelocktoken:")  # a new name, reserved as macOS spells it
    for method, path, extra in (("PUT", nfd, {}), ("MOVE", "kids/b.jpg", {"Destination": "/dav/" + quote(nfd)}),
                                ("PUT", nfc + ".mov", {})):
        answer = home.dav(method, quote(path), who="ted", headers=extra, body=jpeg() if method == "PUT" else b"")
        assert answer.status_int == 423, (method, path)
    assert home.dav("GET", quote(nfc), who="ted").body == jpeg(color=(7, 7, 7))
    assert home.dav("GET", "kids/b.jpg", who="ted").status_int == 200
    assert home.dav("PUT", quote(nfd), body=jpeg(), headers={"If": f"(<{token}>)"}).status_int == 204


def test_a_timeout_of_digits_that_are_not_ascii_is_taken_as_the_longest(home):
    answer = home.dav("LOCK", "family/a.jpg", body=LOCK_BODY, headers={"Timeout": "Second-\u00b2, Second-\u0663"})
    assert answer.status_int == 200 and f"Second-{locks.LONGEST}" in answer.text


def test_a_lock_is_found_among_thousands_of_others(anywhere):
    home = anywhere
    token = lock(home, "family/a.jpg")
    mine = record_name("family/a.jpg")
    # more than a bucket lists at once (1,000), every one named before the one that counts
    junk = (f"junk/{n}.jpg" for n in range(200_000))
    before_mine = list(islice((path for path in junk if record_name(path) < mine), 1100))
    assert len(before_mine) == 1100
    forge_locks(home, before_mine, lambda n: f"someone {n}")
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(1, 1, 1))).status_int == 423
    assert home.dav("DELETE", "family", who="ted").status_int == 423
    assert home.dav("GET", "family/a.jpg", who="ted").body == (home.tree / "family/a.jpg").read_bytes()
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(1, 1, 1)), headers={"If": f"(<{token}>)"}
                    ).status_int == 204


def test_a_person_and_a_folder_hold_a_bounded_number_of_locks(anywhere):
    home = anywhere
    for n in range(locks.PER_PERSON):
        assert home.dav("LOCK", f"family/n{n}.jpg", who="ted", body=LOCK_BODY).status_int == 201
    past = home.dav("LOCK", "kids/one-more.jpg", who="ted", body=LOCK_BODY)
    assert past.status_int == 409 and "unlock some" in past.json["description"]
    full = home.dav("LOCK", "family/mine.jpg", body=LOCK_BODY)
    assert full.status_int == 409 and "folder" in full.json["description"]
    assert home.dav("LOCK", "kids/b.jpg", body=LOCK_BODY).status_int == 200  # another folder, another person
    home.now[0] += 3601
    assert home.dav("LOCK", "family/mine.jpg", body=LOCK_BODY).status_int == 201  # the old ones are over


@pytest.mark.parametrize("cap", ["person", "folder"])
def test_locks_racing_in_two_processes_never_pass_the_caps(anywhere, cap):
    home, mum = anywhere, anywhere.directory.users()["mum"].user_id
    held = locks.PER_PERSON - 1 if cap == "person" else locks.PER_FOLDER - 1
    # one lock short of the cap: mum's in folders of their own, or anyone's in family
    forge_locks(home, [f"f{n}/x.jpg" if cap == "person" else f"family/x{n}.jpg" for n in range(held)],
                lambda n: mum if cap == "person" else f"someone {n}")
    answers = []
    # In a bucket four racers' requests interleave at every step (counted), as twelve do: each costs many requests.
    racers = 4 if home.config.s3_bucket else 12
    at_once(lambda n: answers.append(home.dav("LOCK", f"family/race{n}.jpg", body=LOCK_BODY, app=n % 2)), racers)
    assert all(answer.status_int in (201, 409) for answer in answers), [answer.status for answer in answers]
    taken = sum(answer.status_int == 201 for answer in answers)
    assert taken <= 1
    assert len(open_storage(home.config).list_names(LOCKS)) == held + taken


# -- lock records as input


@pytest.mark.parametrize("forge", ["junk", "fifo", "link", "dir", "huge", "other-path", "bad-token"])
def test_lock_records_torn_or_forged_above_or_inside_lock_nothing(home, forge):
    folder = home.tree / LOCKS
    folder.mkdir(parents=True)
    for where in ("family", "family/deep/x.jpg"):  # the folder above, and a path inside (read by a folder's DELETE)
        record = folder / record_name(where)
        if not forge_lock_record(record, forge, home.tree):
            record.write_text(json.dumps({
                "v": 1, "path": "kids" if forge == "other-path" else where,
                "token": "opaquelocktoken:" + ("0" * 32 if forge == "other-path" else "x"), "user": "x",
                "depth": "infinity", "owner": "", "expires": time.time() + 999}))
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(7, 7, 7))).status_int == 204
    assert "activelock" not in home.dav("PROPFIND", "family", headers={"Depth": "1"}, body=DISCOVER).text
    assert home.dav("DELETE", "family", who="ted").status_int == 204
    if forge == "link":
        assert (home.tree / "elsewhere.json").read_text() == "{}"


def test_a_lock_record_of_the_last_release_still_locks(home):
    folder = home.tree / LOCKS
    folder.mkdir(parents=True)
    token = "opaquelocktoken:" + "7" * 32
    (folder / record_name("family")).write_text(json.dumps({
        "v": 1, "path": "family", "token": token, "user": home.directory.users()["mum"].user_id,
        "depth": "infinity", "owner": "mum's laptop", "expires": home.now[0] + 600}))
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(7, 7, 7))).status_int == 423
    assert token in home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}, body=DISCOVER).text
    assert home.dav("PUT", "family/a.jpg", body=jpeg(color=(7, 7, 7)), headers={"If": f"(<{token}>)"}
                    ).status_int == 204


# -- other sites, races


def test_another_site_or_host_neither_locks_nor_unlocks(home):
    token = lock(home, "family/a.jpg")
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "http://evil.example"}, {"Host": "evil.example"}):
        assert home.dav("LOCK", "kids/b.jpg", body=LOCK_BODY, headers=headers).status_int in (403, 421)
        assert home.dav("LOCK", "family/a.jpg", headers={"If": f"(<{token}>)", **headers}).status_int in (403, 421)
        assert home.dav("UNLOCK", "family/a.jpg", headers={"Lock-Token": f"<{token}>", **headers}
                        ).status_int in (403, 421)
    assert os.listdir(home.tree / LOCKS) == [record_name("family/a.jpg")]
    assert home.dav("PUT", "family/a.jpg", who="ted", body=jpeg(color=(3, 3, 3))).status_int == 423


def test_two_people_locking_one_photo_at_once_get_one_lock(home):
    answers = []

    def take(n):
        answers.append(home.dav("LOCK", "family/a.jpg", who=("mum", "ted")[n % 2], body=LOCK_BODY, app=n % 2))

    threads = [threading.Thread(target=take, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_int for answer in answers) == [200] + [423] * 5
    winner = next(answer for answer in answers if answer.status_int == 200).headers["Lock-Token"]
    assert home.dav("PROPFIND", "family/a.jpg", headers={"Depth": "0"}, body=DISCOVER).text.count(
        "<D:activelock>") == 1 and winner.strip("<>") in home.dav("PROPFIND", "family/a.jpg", headers={
            "Depth": "0"}, body=DISCOVER).text
