"""Named users and share links against every endpoint: what each principal may read and change, on
local disk and S3. A path outside a scope answers exactly as a missing one."""

import dataclasses
import time

import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.people.shares import Shares
from lenslet.people.users import Directory

IMAGES = {"family/a.jpg": ["beach", "fam"], "family/sub/b.jpg": ["beach"], "family2/c.jpg": ["beach", "cousins"],
          "work/d.jpg": ["beach", "secret"], "top.jpg": ["beach"]}


class World:
    """A tree with family/, family2/ and work/, users of each kind, share links, one app."""

    def __init__(self, gallery, tmp_path):
        for path in IMAGES:
            gallery.put(path, jpeg(color=(len(path) * 9 % 255, 40, 90)))
        self.now = [time.time()]
        directory = Directory(str(tmp_path / "users.json"))
        self.tokens = {"viewer": directory.add("viewer", "view", ["family"]),
                       "editor": directory.add("editor", "edit", ["work"]),
                       "admin": directory.add("admin", "admin", [""]),
                       "both": directory.add("both", "edit", ["work", "family"])}
        self.config, self.storage = dataclasses.replace(gallery.config, users=directory.path), gallery.storage
        self.client = webtest.TestApp(spec_checked(create_app(self.config, gallery.storage, lambda: self.now[0])),
                                      extra_environ={"REMOTE_ADDR": "10.0.0.1"})
        for path, tags in IMAGES.items():
            self.client.put_json(f"/item?path={path}", {"tags": tags}, headers=self.as_("admin"))
        gallery.index()
        shares = Shares(gallery.storage, clock=lambda: self.now[0])
        admin = directory.users()["admin"].principal()  # the users file's admin: a share reaches what they see
        self.keys = {"share": shares.make(admin, "family", "folder")[1],
                     "expired": shares.make(admin, "family", "folder", expires_in=60)[1]}
        revoked, self.keys["revoked"] = shares.make(admin, "family", "folder")
        shares.revoke(admin, revoked["id"])
        self.now[0] += 120  # the 60-second share is past its time

    def as_(self, who):
        if who in self.tokens:
            return {"Authorization": f"Bearer {self.tokens[who]}"}
        if who in self.keys:
            return {"X-Lenslet-Share": self.keys[who]}
        return {}

    def get(self, who, url, **kwargs):
        # Each principal from its own address: a dead link's uses are failures, slowed per address.
        return self.client.get(url, headers=self.as_(who), expect_errors=True,
                               extra_environ={"REMOTE_ADDR": f"10.0.1.{PRINCIPALS.index(who) + 1}"}, **kwargs)


@pytest.fixture(scope="module")
def world(module_gallery):
    """One world per backend for the tests that only read it (a test that writes builds its own): built on S3, it
    costs more than the tests that read it. No test moves its clock, and only a dead link's uses are failures,
    each counted once from an address of its own."""
    return World(module_gallery, module_gallery.root.parent)


PRINCIPALS = ("nobody", "viewer", "editor", "admin", "share", "expired", "revoked", "both")
READS = ["/folders", "/folders?path=family", "/folders?path=family/sub", "/folders?path=family2",
         "/folders?path=work", "/item?path=family/a.jpg", "/item?path=family2/c.jpg", "/item?path=work/d.jpg",
         "/item?path=top.jpg", "/thumb?path=family/a.jpg", "/thumb?path=work/d.jpg", "/preview?path=family/a.jpg",
         "/preview?path=work/d.jpg", "/file?path=family/a.jpg", "/file?path=work/d.jpg",
         "/search?q=beach", "/search/suggest?q=be", "/health", "/me", "/shares", "/openapi.json",
         "/api/item?path=family/sub/b.jpg"]
# What each principal gets for each of READS (200 stands for 302 too: S3 redirects originals).
Y, N, F, U = 200, 404, 403, 401
EXPECTED = {
    "nobody":  [U] * 17 + [Y] + [U] * 4,  # /health: without its details (test_health_by_who_asks.py)
    "viewer":  [Y, Y, Y, N, N, Y, N, N, N, Y, N, Y, N, Y, N, Y, Y, Y, Y, Y, Y, Y],
    "editor":  [Y, N, N, N, Y, N, N, Y, N, N, Y, N, Y, N, Y, Y, Y, Y, Y, Y, Y, N],
    "admin":   [Y] * len(READS),
    "share":   [N, Y, Y, N, N, Y, N, N, N, Y, N, Y, N, Y, N, F, F, Y, Y, F, F, Y],
    "expired": [N] * len(READS),
    "revoked": [N] * len(READS),
    "both":    [Y, Y, Y, N, Y, Y, N, Y, N, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y],
}


def test_each_principal_reads_exactly_its_scope(world):
    for who in PRINCIPALS:
        got = [world.get(who, url).status_int for url in READS]
        got = [200 if status == 302 else status for status in got]
        assert dict(zip(READS, got, strict=True)) == dict(zip(READS, EXPECTED[who], strict=True)), who


@pytest.mark.parametrize("who, outside, missing", [
    ("viewer", "/item?path=work/d.jpg", "/item?path=family/nope.jpg"),
    ("viewer", "/thumb?path=family2/c.jpg", "/thumb?path=family/nope.jpg"),
    ("viewer", "/file?path=top.jpg", "/file?path=family/nope.jpg"),
    ("viewer", "/folders?path=work", "/folders?path=family/nope"),
    ("editor", "/preview?path=family/a.jpg", "/preview?path=work/nope.jpg"),
    ("share", "/item?path=family2/c.jpg", "/item?path=family/nope.jpg"),
    ("share", "/folders?path=work", "/folders?path=family/nope"),
])
def test_a_path_outside_a_scope_answers_as_a_missing_one(world, who, outside, missing):
    refused, absent = world.get(who, outside), world.get(who, missing)
    assert refused.status_int == absent.status_int == 404
    assert {**refused.json, "path": None} == {**absent.json, "path": None}
    assert sorted(refused.headers) == sorted(absent.headers)


def test_listings_show_only_the_way_to_a_scope(world):
    root = world.get("viewer", "/folders").json
    assert [d["name"] for d in root["dirs"]] == ["family"] and root["items"] == [] and root["total"] == 0
    assert [d["name"] for d in world.get("both", "/folders").json["dirs"]] == ["family", "work"]
    admin = world.get("admin", "/folders").json
    assert {"family", "family2", "work"} <= {d["name"] for d in admin["dirs"]} and admin["items"]
    family = world.get("share", "/folders?path=family").json
    assert [item["path"] for item in family["items"]] == ["family/a.jpg"]


def paths(answer):
    return [item["path"] for item in answer.json["items"]]


def test_search_and_suggestions_count_only_the_scope(world):
    assert paths(world.get("viewer", "/search?q=beach")) == ["family/a.jpg", "family/sub/b.jpg"]
    assert world.get("viewer", "/search?q=beach").json["total"] == 2
    assert paths(world.get("editor", "/search?q=beach")) == ["work/d.jpg"]
    assert paths(world.get("viewer", "/search?q=secret")) == []
    assert world.get("viewer", "/search?q=beach&path=work").status_int == 404
    outside = world.get("viewer", "/search?q=beach&path=work")
    missing = world.get("viewer", "/search?q=x&path=family/no")
    assert outside.status_int == missing.status_int == 404 and outside.json["title"] == missing.json["title"]
    assert world.get("viewer", "/search?q=beach&path=family/sub").json["total"] == 1
    assert len(paths(world.get("admin", "/search?q=beach"))) == 5
    # Two folders: one page across both, in path order, and the total of both.
    both = [paths(world.get("both", f"/search?q=beach&limit=1&offset={n}")) for n in range(4)]
    assert both == [["family/a.jpg"], ["family/sub/b.jpg"], ["work/d.jpg"], []]
    assert world.get("both", "/search?q=beach&limit=1").json["total"] == 3
    tags = {t["tag"]: t["count"] for t in world.get("viewer", "/search/suggest?q=").json["tags"]}
    assert tags == {"beach": 2, "fam": 1}
    tags = {t["tag"]: t["count"] for t in world.get("editor", "/search/suggest?q=s").json["tags"]}
    assert tags == {"secret": 1}
    assert {t["tag"] for t in world.get("admin", "/search/suggest?q=").json["tags"]} >= {"cousins", "secret"}


def test_health_details_are_for_admins(world):
    admin = world.get("admin", "/health").json
    assert world.get("viewer", "/health").json == {"status": "ok", "version": admin["version"],
                                                   "readonly": False, "libraryReadonly": False,
                                                   "rules": admin["rules"],
                                                   "imageSettings": admin["imageSettings"], "map": admin["map"]}
    assert "worker" in world.get("admin", "/health").json


def test_me_says_who(world):
    assert world.get("viewer", "/me").json["folders"] == ["family"]
    assert world.get("viewer", "/me").json["canWrite"] is False
    share = world.get("share", "/me").json
    assert share["kind"] == "share" and share["share"]["path"] == "family" and share["role"] == "view"


def write(world, who, method, url, body=None, **kwargs):
    call = getattr(world.client, method + ("_json" if body is not None else ""))
    args = (url, body) if body is not None else (url,)
    return call(*args, headers=world.as_(who), expect_errors=True, **kwargs)


def test_writes_by_each_principal(gallery, tmp_path):
    world = World(gallery, tmp_path)
    for who, status in (("nobody", 401), ("viewer", 403), ("share", 403), ("expired", 404), ("revoked", 404)):
        assert write(world, who, "patch", "/item?path=family/a.jpg", {"addTags": ["x"]}).status_int == status
        assert write(world, who, "post", "/move", {"src": "family/a.jpg", "dest": "family/sub"}).status_int == status
        assert write(world, who, "post", "/trash", {"paths": ["family/a.jpg"]}).status_int == status
        assert write(world, who, "post", "/folder", {"path": "family/new"}).status_int == status
        assert write(world, who, "post", "/shares", {"path": "family"}).status_int == status
    # The editor of work/ changes work/ only, records its name, and moves nothing across.
    edited = write(world, "editor", "patch", "/item?path=work/d.jpg", {"addTags": ["x"]})
    assert edited.status_int == 200 and edited.json["updatedBy"] == "editor"
    forged = world.client.put_json("/item?path=work/d.jpg", {"tags": ["x"], "updatedBy": "admin"},
                                   headers={**world.as_("editor"), "X-Updated-By": "admin"})
    assert forged.json["updatedBy"] == forged.json["updated_by"] == "editor"
    assert write(world, "editor", "patch", "/item?path=family/a.jpg", {"addTags": ["x"]}).status_int == 404
    assert write(world, "editor", "put", "/item?path=family/a.jpg", {"tags": ["x"]}).status_int == 404
    assert write(world, "editor", "delete", "/item?path=family/a.jpg").status_int == 404
    assert write(world, "editor", "post", "/move", {"src": "work/d.jpg", "dest": "family"}).status_int == 404
    assert write(world, "editor", "post", "/move", {"src": "family/a.jpg", "dest": "work"}).status_int == 404
    assert write(world, "editor", "post", "/move", {"src": "work/d.jpg", "to": "family2/d.jpg"}).status_int == 404
    assert write(world, "editor", "post", "/move", {"src": "work", "to": "work2"}).status_int == 404
    assert write(world, "editor", "post", "/folder", {"path": "family/new"}).status_int == 404
    assert write(world, "editor", "delete", "/folder?path=family/sub").status_int == 404
    upload = {"dest": "family"}
    assert world.client.post("/file", upload, upload_files=[("file", "u.jpg", jpeg())], headers=world.as_("editor"),
                             expect_errors=True).status_int == 404
    assert world.client.put("/file?path=family/u.jpg", jpeg(), headers=world.as_("editor"),
                            content_type="image/jpeg", expect_errors=True).status_int == 404
    assert world.client.post("/file", {"dest": "work"}, upload_files=[("file", "u.jpg", jpeg())],
                             headers=world.as_("editor")).status_int == 201
    assert write(world, "editor", "post", "/folder", {"path": "work/new"}).status_int == 201
    assert write(world, "editor", "post", "/move", {"src": "work/u.jpg", "dest": "work/new"}).status_int == 200
    assert world.get("admin", "/item?path=family/a.jpg").json["tags"] == ["beach", "fam"]  # nothing changed there
    assert world.get("admin", "/item?path=work/new/u.jpg").status_int == 200


def test_the_trash_shows_each_user_their_own_images(gallery, tmp_path):
    world = World(gallery, tmp_path)
    assert write(world, "admin", "post", "/trash", {"paths": ["family/a.jpg"]}).status_int == 200
    trashed = write(world, "editor", "post", "/trash", {"paths": ["work/d.jpg"]})
    assert trashed.status_int == 200
    work_trashed, family_trashed = trashed.json["paths"][0], "_trash_/a.jpg"
    # A view user never sees the trash, not even of their own folders (they could not restore it anyway).
    assert not any(d["name"] == "_trash_" for d in world.get("viewer", "/folders").json["dirs"])
    assert world.get("viewer", "/folders?path=_trash_").status_int == 404
    for url in (f"/item?path={family_trashed}", f"/file?path={family_trashed}", f"/thumb?path={family_trashed}"):
        assert world.get("viewer", url).status_int == 404
    assert sorted(paths(world.get("both", "/folders?path=_trash_"))) == sorted([family_trashed, work_trashed])
    assert world.get("both", f"/item?path={family_trashed}").status_int == 200
    assert paths(world.get("editor", "/folders?path=_trash_")) == [work_trashed]
    assert sorted(paths(world.get("admin", "/folders?path=_trash_"))) == sorted([family_trashed, work_trashed])
    assert world.get("share", "/folders?path=_trash_").status_int == 404
    assert world.get("editor", f"/item?path={family_trashed}").status_int == 404
    assert write(world, "editor", "post", "/restore", {"paths": [family_trashed]}).status_int == 404
    # Where a trashed image came from decides whose trash it is in: a user cannot send theirs to another.
    pushed = write(world, "editor", "put", f"/item?path={work_trashed}",
                   {"tags": [], "originalPosition": "family/z.jpg"})
    assert pushed.status_int == 200 and world.get("both", f"/item?path={work_trashed}").status_int == 200
    assert world.get("both", f"/item?path={work_trashed}").json["originalPosition"] == "work/d.jpg"
    assert write(world, "editor", "post", "/delete", {"paths": [family_trashed]}).status_int == 404
    assert write(world, "editor", "post", "/move", {"src": family_trashed, "dest": "work"}).status_int == 404
    assert write(world, "editor", "post", "/restore", {"paths": [work_trashed]}).status_int == 200
    assert world.get("editor", "/item?path=work/d.jpg").status_int == 200


def test_metrics_are_for_admins_or_the_metrics_token(world):
    pytest.importorskip("prometheus_client")
    client = webtest.TestApp(create_app(dataclasses.replace(world.config, metrics=True), world.storage))
    assert client.get("/metrics", headers=world.as_("admin")).status_int == 200
    assert client.get("/metrics", headers=world.as_("editor"), expect_errors=True).status_int == 403
    assert client.get("/metrics", expect_errors=True).status_int == 401
    scraper = webtest.TestApp(create_app(dataclasses.replace(world.config, metrics=True, metrics_token="scrape"),
                                         world.storage))
    assert scraper.get("/metrics", headers={"Authorization": "Bearer scrape"}).status_int == 200


def test_without_a_users_file_lenslet_is_as_before(client_with, tree):
    (tree / "a.jpg").write_bytes(jpeg())
    open_ = client_with()
    assert open_.get("/me").json["kind"] == "open"
    assert open_.patch_json("/item?path=a.jpg", {"addTags": ["x"]}, headers={"X-Updated-By": "kim"}).json[
        "updatedBy"] == "kim"
    guarded = client_with(token="s3cret")
    guarded.get("/folders", headers={"Authorization": "Bearer wrong"})  # a read needs no token: passes
    guarded.patch_json("/item?path=a.jpg", {"addTags": ["y"]}, status=401)
    guarded.patch_json("/item?path=a.jpg", {"addTags": ["y"]}, headers={"Authorization": "Bearer s3cret"})


def test_lenslet_token_is_an_admin_beside_the_users_file(client_with, tree, tmp_path):
    (tree / "a.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "view", ["x"])
    client = client_with(users=directory.path, token="s3cret")
    edited = client.patch_json("/item?path=a.jpg", {"addTags": ["y"]}, headers={"Authorization": "Bearer s3cret"})
    assert edited.json["updatedBy"] == "token"


def test_a_user_added_or_removed_counts_at_once(client_with, tree, tmp_path):
    (tree / "a.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    first = directory.add("ann", "view", [""])
    client = client_with(users=directory.path)
    client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {first}"}, status=200)
    second = directory.add("bob", "view", [""])
    client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {second}"}, status=200)
    directory.remove("ann")
    client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {first}"}, status=401)


def test_a_users_file_torn_while_serving_lets_nobody_in(client_with, tree, tmp_path):
    (tree / "a.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    token = directory.add("ann", "admin", [""])
    client = client_with(users=directory.path)
    good = (tmp_path / "users.json").read_bytes()
    (tmp_path / "users.json").write_bytes(good[:-20])
    refused = client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {token}"}, status=503)
    assert "nobody is let in" in refused.json["description"] and "Retry-After" in refused.headers
    (tmp_path / "users.json").write_bytes(good)
    client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {token}"}, status=200)


def test_failed_tokens_are_slowed_per_address_and_logged_without_the_token(client_with, tree, tmp_path, caplog):
    (tree / "a.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    token = directory.add("ann", "view", [""])
    client = client_with(users=directory.path)
    guesser = {"REMOTE_ADDR": "192.0.2.7"}
    for n in range(11):  # ten pass freely; the eleventh fills the allowance
        client.get("/folders", headers={"Authorization": f"Bearer guess-{n}"}, extra_environ=guesser, status=401)
    held = client.get("/folders", headers={"Authorization": f"Bearer {token}"}, extra_environ=guesser, status=429)
    assert int(held.headers["Retry-After"]) >= 1
    client.get("/folders", headers={"X-Lenslet-Share": "0" * 16 + "." + "A" * 43}, extra_environ=guesser, status=429)
    client.get("/folders", headers={"Authorization": f"Bearer {token}"}, extra_environ={"REMOTE_ADDR": "192.0.2.8"},
               status=200)
    same = {"REMOTE_ADDR": "192.0.2.9"}  # one wrong token sent again and again (a page's many requests): one guess
    for _ in range(30):
        client.get("/folders", headers={"Authorization": "Bearer stale"}, extra_environ=same, status=401)
    assert "refused a bearer token from 192.0.2.7" in caplog.text
    assert "guess-" not in caplog.text and token not in caplog.text


@pytest.mark.parametrize("token", ["", " ", "x" * 513, "x" * 4000, "\u00e9" * 100])
def test_tokens_at_the_limits_are_refused_plainly(client_with, tree, tmp_path, token):
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "view", [""])
    client = client_with(users=directory.path)
    answer = client.get("/folders", headers={"Authorization": f"Bearer {token}".encode().decode("latin-1")},
                        expect_errors=True)
    assert answer.status_int == 401 and answer.json["title"] == "Unauthorized"


def test_a_trash_of_many_pages_is_one_page_of_a_users_own_images(client_with, tree, tmp_path):
    for n in range(8):
        for folder in ("family", "work"):
            (tree / folder).mkdir(exist_ok=True)
            (tree / folder / f"{folder}{n}.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    admin, editor = directory.add("admin", "admin", [""]), directory.add("ann", "edit", ["family"])
    client = client_with(users=directory.path, page_size=10)
    everything = [f"{folder}/{folder}{n}.jpg" for n in range(8) for folder in ("family", "work")]
    client.post_json("/trash", {"paths": everything}, headers={"Authorization": f"Bearer {admin}"})
    mine = client.get("/folders?path=_trash_", headers={"Authorization": f"Bearer {editor}"}).json
    # The trash holds 16 on two pages; she sees her 8 on one page, and nothing tells how much else there is.
    assert (mine["pageCount"], mine["page"], mine["total"], mine["images"]) == (1, 0, 8, 8)
    assert sorted(item["path"] for item in mine["items"]) == [f"_trash_/family{n}.jpg" for n in range(8)]
    client.get("/folders?path=_trash_&page=1", headers={"Authorization": f"Bearer {editor}"}, status=404)
    everyone = client.get("/folders?path=_trash_", headers={"Authorization": f"Bearer {admin}"}).json
    assert everyone["pageCount"] == 2 and mine["sig"] != everyone["sig"]


def test_a_broken_users_file_stops_the_app_at_start_saying_why(config, tmp_path):
    from lenslet.errors import ConfigError
    (tmp_path / "users.json").write_text('{"v": 1, "users": {"ann": {"role": "root"}}}')
    with pytest.raises(ConfigError, match="no role view, edit or admin"):
        create_app(dataclasses.replace(config, users=str(tmp_path / "users.json")))


def answered_within(seconds, ask):
    """ask() run in a thread: its answer, or a failure when it has not answered in time (a hang)."""
    import threading
    answers = []
    thread = threading.Thread(target=lambda: answers.append(ask()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert answers, f"no answer within {seconds} s: the request hangs"
    return answers[0]


def test_a_fifo_in_place_of_the_users_file_refuses_at_once_and_the_real_file_counts_again(client_with, tree,
                                                                                          tmp_path):
    import os
    (tree / "a.jpg").write_bytes(jpeg())
    users = tmp_path / "users.json"
    token = Directory(str(users)).add("ann", "admin", [""])
    client = client_with(users=str(users))
    good = users.read_bytes()
    users.unlink()
    os.mkfifo(users)  # nobody ever writes into it: a blocking open would wait for ever
    refused = answered_within(5, lambda: client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {token}"},
                                                    expect_errors=True))
    assert refused.status_int == 503 and "not a regular file" in refused.json["description"]
    users.unlink()
    users.write_bytes(good)
    client.get("/item?path=a.jpg", headers={"Authorization": f"Bearer {token}"}, status=200)


def test_a_fifo_as_the_users_file_stops_the_app_at_start_without_waiting(config, tmp_path):
    import os

    from lenslet.errors import ConfigError
    os.mkfifo(tmp_path / "users.json")
    failed = answered_within(5, lambda: pytest.raises(ConfigError, create_app,
                                                      dataclasses.replace(config, users=str(tmp_path / "users.json"))))
    assert "not a regular file" in str(failed.value.description)


def test_a_fifo_or_a_forged_record_among_the_share_files_hides_only_itself(client_with, tree, tmp_path):
    import os
    (tree / "fam").mkdir()
    (tree / "fam" / "a.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    admin = {"Authorization": f"Bearer {directory.add('ann', 'admin', [''])}"}
    client = client_with(users=directory.path)
    made = client.post_json("/shares", {"path": "fam"}, headers=admin, status=201).json
    shares_folder = tree / ".lenslet" / "shares"
    os.mkfifo(shares_folder / "0123456789abcdef.json")  # nobody writes into it
    (shares_folder / "fedcba9876543210.json").write_text('{"v": 1, "path": "", "kind": "folder"}')
    listed = answered_within(5, lambda: client.get("/shares", headers=admin, expect_errors=True))
    assert listed.status_int == 200 and [share["id"] for share in listed.json["shares"]] == [made["id"]]
    client.get("/folders?path=fam", headers={"X-Lenslet-Share": made["key"]}, status=200)
    for bad in ("0123456789abcdef", "fedcba9876543210"):  # neither opens anything, nor can be revoked as a share
        client.get("/folders?path=fam", headers={"X-Lenslet-Share": bad + "." + "A" * 43}, status=404)
        client.delete(f"/shares/{bad}", headers=admin, status=404)
