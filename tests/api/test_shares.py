"""Share links through the API: made within a scope, listed, revoked at once in every process,
with a password, without downloads; hostile input: forged and torn share files, keys at the limits,
revokes racing, cross-site and foreign-Host requests."""

import dataclasses
import itertools
import threading
import time

import orjson
import pytest
import webtest
from helpers import jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.layout import SHARES
from lenslet.people import shares
from lenslet.people.users import Directory


@pytest.fixture(scope="module", autouse=True)
def share_passwords_hashed_cheaply():
    """A share's password hashed at the shipped cost takes a fifteenth of a second of CPU, and these tests guess
    dozens: here at an eighth of the cost, as tests/conftest.py does for people's passwords."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(shares.SCRYPT, "n", 2 ** 11)
        yield


class Site:
    """A tree (family/, work/) with users and two web processes on one storage."""

    def __init__(self, gallery, tmp_path):
        for path in ("family/a.jpg", "family/sub/b.jpg", "work/d.jpg"):
            gallery.put(path, jpeg())
        directory = Directory(str(tmp_path / "users.json"))
        self.tokens = {"viewer": directory.add("viewer", "view", ["family"]),
                       "editor": directory.add("editor", "edit", ["family"]),
                       "other": directory.add("other", "edit", ["family"]),
                       "admin": directory.add("admin", "admin", [""])}
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, users=directory.path, share_max_days=30)
        self.gallery = gallery
        self.client, self.second = self.app(), self.app()

    def app(self):
        return webtest.TestApp(spec_checked(create_app(self.config, self.gallery.storage, lambda: self.now[0])))

    def as_(self, who):
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def share(self, who="editor", status=201, **body):
        return self.client.post_json("/shares", body, headers=self.as_(who), status=status).json


@pytest.fixture
def site(gallery, tmp_path):
    """A site of the test's own, for a test that moves its clock, changes its tree or users, counts its shares, races
    or cleans."""
    return Site(gallery, tmp_path)


@pytest.fixture(scope="module")
def site_per_backend(module_gallery):
    """One site per backend (family/c.jpg added) for the tests that change nothing of it but links of their own."""
    site = Site(module_gallery, module_gallery.root.parent)
    site.gallery.put("family/c.jpg", jpeg())
    return site


ADDRESSES = itertools.count(1)


@pytest.fixture
def kept_site(site_per_backend):
    """The backend's site, asked from an address of this test's own: the failures a test causes hold back no other."""
    n = next(ADDRESSES)
    for client in (site_per_backend.client, site_per_backend.second):
        client.extra_environ = {"REMOTE_ADDR": f"198.18.{n // 250}.{n % 250 + 1}"}
    return site_per_backend


def key_of(made):
    return {"X-Lenslet-Share": made["key"]}


def test_a_share_opens_its_folder_read_only_until_revoked_in_every_process(kept_site):
    made = kept_site.share(path="/family/")
    assert made["link"] == "/s#" + made["key"] and made["url"].endswith(made["link"])
    assert made["path"] == "family" and made["kind"] == "folder" and made["createdBy"] == "editor"
    assert "secretHash" not in made and made["password"] is False
    stored = kept_site.gallery.storage.read(f"{SHARES}/{made['id']}.json").decode()
    assert made["key"].split(".")[1] not in stored  # only its hash is kept
    for client in (kept_site.client, kept_site.second):
        client.get("/folders?path=family", headers=key_of(made), status=200)
        client.get("/item?path=family/sub/b.jpg", headers=key_of(made), status=200)
        client.get("/item?path=work/d.jpg", headers=key_of(made), status=404)
        client.patch_json("/item?path=family/a.jpg", {"addTags": ["x"]}, headers=key_of(made), status=403)
    kept_site.client.delete(f"/shares/{made['id']}", headers=kept_site.as_("editor"), status=200)
    for client in (kept_site.client, kept_site.second):  # the other process learns it at once: no cache to wait out
        client.get("/folders?path=family", headers=key_of(made), status=404)
    kept_site.client.get("/s", status=200)  # the page a link opens


def test_an_image_share_opens_that_image_only(kept_site):
    made = kept_site.share(path="family/a.jpg")
    assert made["kind"] == "image"
    for url in ("/item?path=family/a.jpg", "/thumb?path=family/a.jpg", "/preview?path=family/a.jpg"):
        kept_site.client.get(url, headers=key_of(made), status=200)
    assert kept_site.client.get("/file?path=family/a.jpg", headers=key_of(made),
                                expect_errors=True).status_int in (200, 302)
    kept_site.client.get("/item?path=family/sub/b.jpg", headers=key_of(made), status=404)
    kept_site.client.get("/folders?path=family", headers=key_of(made), status=404)


def test_who_may_share_what(kept_site):
    kept_site.share("viewer", path="family", status=403)  # a view user shares nothing
    kept_site.share("editor", path="work", status=404)  # outside the scope: as missing
    kept_site.share("editor", path="family/nope", status=404)
    kept_site.share("admin", path="work")
    kept_site.share("editor", path="family", expires="0", status=400)
    kept_site.share("editor", path="family", expires="31d", status=400)  # past LENSLET_SHARE_MAX_DAYS
    kept_site.share("editor", path="family", expires="soon", status=400)
    kept_site.share("editor", path="family", allowDownload="yes", status=400)
    kept_site.share("editor", path="family", password="", status=400)
    kept_site.share("editor", path="family", password="p" * 1025, status=400)
    assert kept_site.share("editor", path="family", expires="30d")["expires"]


def test_each_user_lists_their_own_shares_and_an_admin_all(site):
    mine, theirs = site.share("editor", path="family"), site.share("other", path="family/sub")
    assert [s["id"] for s in site.client.get("/shares", headers=site.as_("editor")).json["shares"]] == [mine["id"]]
    assert {s["id"] for s in site.client.get("/shares", headers=site.as_("admin")).json["shares"]} == {
        mine["id"], theirs["id"]}
    assert site.client.get("/shares", headers=site.as_("viewer")).json["shares"] == []
    # Another's share cannot be revoked: it answers as a missing one.
    site.client.delete(f"/shares/{theirs['id']}", headers=site.as_("editor"), status=404)
    site.client.delete("/shares/0123456789abcdef", headers=site.as_("editor"), status=404)
    site.client.delete("/shares/../../x", headers=site.as_("admin"), expect_errors=True)
    site.client.delete(f"/shares/{theirs['id']}", headers=site.as_("admin"), status=200)


def test_an_expired_share_is_listed_as_such_and_opens_nothing(site):
    made = site.share(path="family", expires="2m")
    site.now[0] += 121
    site.client.get("/folders?path=family", headers=key_of(made), status=404)
    assert site.client.get("/shares", headers=site.as_("editor")).json["shares"][0]["expired"] is True


def test_a_share_without_downloads_shows_images_but_not_originals(kept_site):
    made = kept_site.share(path="family", allowDownload=False)
    kept_site.client.get("/thumb?path=family/a.jpg", headers=key_of(made), status=200)
    kept_site.client.get("/file?path=family/a.jpg", headers=key_of(made), status=403)


def test_a_password_is_asked_before_anything_opens(kept_site):
    made = kept_site.share(path="family", password="hunter2")
    locked = kept_site.client.get("/folders?path=family", headers=key_of(made), status=401)
    assert locked.json["share"] == "locked"
    kept_site.client.post_json("/shares/unlock", {"key": made["key"], "password": "hunter3"}, status=404)
    kept_site.client.post_json("/shares/unlock", {"key": made["key"]}, status=404)
    unlocked = kept_site.client.post_json("/shares/unlock", {"key": made["key"], "password": "hunter2"}).json["key"]
    kept_site.client.get("/folders?path=family", headers={"X-Lenslet-Share": unlocked}, status=200)
    forged = unlocked[:-1] + ("0" if unlocked[-1] != "0" else "1")
    kept_site.client.get("/folders?path=family", headers={"X-Lenslet-Share": forged}, status=404)


def test_wrong_share_passwords_are_slowed(kept_site):
    made = kept_site.share(path="family", password="hunter2")
    guesser = {"REMOTE_ADDR": "192.0.2.40"}
    for n in range(11):
        kept_site.client.post_json("/shares/unlock", {"key": made["key"], "password": f"guess{n}"},
                                   extra_environ=guesser, status=404)
    held = kept_site.client.post_json("/shares/unlock", {"key": made["key"], "password": "hunter2"},
                                      extra_environ=guesser, status=429)
    assert int(held.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("key", ["", "x", "0123456789abcdef", "0123456789abcdef." + "A" * 43,
                                 "0123456789abcdef." + "A" * 43 + "." + "0" * 64, "A" * 8000,
                                 "../../.lenslet/jobs/x." + "A" * 43])
def test_share_keys_at_the_limits_open_nothing(kept_site, key):
    answer = kept_site.client.get("/folders?path=family", headers={"X-Lenslet-Share": key}, expect_errors=True)
    assert answer.status_int == 404 and answer.json["title"] == "Not found"


def test_a_torn_or_forged_share_file_opens_nothing(site, caplog):
    made = site.share(path="family")
    name = f"{SHARES}/{made['id']}.json"
    good = site.gallery.storage.read(name)
    site.gallery.storage.write(name, good[: len(good) // 2])  # torn
    site.client.get("/folders?path=family", headers=key_of(made), status=404)
    assert "is not a share lenslet made" in caplog.text
    assert site.client.get("/shares", headers=site.as_("admin")).json["shares"] == []
    # Changed by hand, its hash kept: a path leading out of the tree, a kind lenslet never writes.
    site.gallery.storage.write(name, good.replace(b'"path": "family"', b'"path": "../work"'))
    site.client.get("/folders?path=family", headers=key_of(made), status=404)
    site.gallery.storage.write(name, good.replace(b'"kind": "folder"', b'"kind": "all"'))
    site.client.get("/folders?path=family", headers=key_of(made), status=404)
    site.gallery.storage.write(name, good)
    site.client.get("/folders?path=family", headers=key_of(made), status=200)


def test_two_revokes_racing_one_wins(site):
    made = site.share(path="family")
    answers, start = [], threading.Barrier(4)

    def revoke(client):
        start.wait(timeout=10)
        answers.append(client.delete(f"/shares/{made['id']}", headers=site.as_("editor"),
                                     expect_errors=True).status_int)

    clients = [site.client, site.second, site.app(), site.app()]
    threads = [threading.Thread(target=revoke, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [200, 404, 404, 404]
    site.client.get("/folders?path=family", headers=key_of(made), status=404)


def test_share_endpoints_refuse_other_sites_and_hosts(site):
    editor = site.as_("editor")
    made = site.share(path="family")
    # A form on another site: no JSON type, or the browser's Origin / Sec-Fetch-Site.
    site.client.post("/shares", "path=family", headers={**editor, "Content-Type": "application/x-www-form-urlencoded",
                                                        "Origin": "https://evil.example"}, status=403)
    site.client.post("/shares", "path=family", headers={**editor, "Content-Type": "text/plain"}, status=415)
    site.client.post_json("/shares", {"path": "family"}, headers={**editor, "Sec-Fetch-Site": "cross-site"},
                          status=403)
    site.client.delete(f"/shares/{made['id']}", headers={**editor, "Origin": "https://evil.example"}, status=403)
    site.client.post_json("/shares/unlock", {"key": made["key"]}, headers={"Origin": "https://evil.example"},
                          status=403)
    site.client.get("/shares", headers={**editor, "Host": "evil.example"}, status=421)
    site.client.post_json("/shares", {"path": "family"}, headers={**editor, "Host": "evil.example"}, status=421)
    site.client.get("/folders?path=family", headers={**key_of(made), "Host": "evil.example"}, status=421)
    site.client.get("/folders?path=family", headers=key_of(made), status=200)  # none of it revoked the link
    assert len(site.client.get("/shares", headers=editor).json["shares"]) == 1


def test_shares_survive_lenslet_clean(site):
    from lenslet.files import clean
    made = site.share(path="family")
    found = clean.plan(site.gallery.storage)
    assert not any(key.startswith(SHARES) for key in found.remove)
    clean.carry_out(site.gallery.storage, found)
    site.client.get("/folders?path=family", headers=key_of(made), status=200)


def test_failures_count_against_the_client_a_local_proxy_names_and_no_one_else(kept_site):
    made = kept_site.share(path="family", password="hunter2")

    def guess(n, environ, headers=None):
        return kept_site.client.post_json("/shares/unlock", {"key": made["key"], "password": f"g{n}"},
                                          extra_environ=environ, headers=headers or {}, expect_errors=True).status_int

    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # Behind nginx: the last X-Forwarded-For entry is the client; the ones before it are the client's to forge.
    assert [guess(n, proxy, {"X-Forwarded-For": f"10.9.9.{n}, 198.51.100.1"}) for n in range(12)][-1] == 429
    assert guess(99, proxy, {"X-Forwarded-For": "198.51.100.2"}) == 404
    # From elsewhere, X-Forwarded-For is not believed: a guesser cannot dodge the count with it.
    remote = {"REMOTE_ADDR": "203.0.113.5"}
    assert [guess(n, remote, {"X-Forwarded-For": f"10.8.8.{n}"}) for n in range(12)][-1] == 429


# -- a share names what was shared, and reaches no more than its maker may see now ---------------

def test_a_share_opens_the_folder_it_named_not_a_new_one_given_its_name(site):
    if site.gallery.config.s3_bucket:
        pytest.skip("a bucket's folder is only its key (docs/users-and-sharing.md): a new one is the same one")
    made, admin = site.share(path="family"), site.as_("admin")
    site.client.post_json("/move", {"src": "family", "to": "family-old"}, headers=admin)
    site.client.post_json("/folder", {"path": "family"}, headers=admin, status=201)
    site.client.put("/file?path=family/new.jpg", jpeg(size=(80, 60)), headers=admin, status=201)
    for client in (site.client, site.second):
        client.get("/folders?path=family", headers=key_of(made), status=404)
        client.get("/file?path=family/new.jpg", headers=key_of(made), status=404)
        client.get("/folders?path=family-old", headers=key_of(made), status=404)  # it does not follow a move
    site.client.post_json("/move", {"src": "family", "to": "family-new"}, headers=admin)
    site.client.post_json("/move", {"src": "family-old", "to": "family"}, headers=admin)
    listed = site.second.get("/folders?path=family", headers=key_of(made)).json  # the shared folder, back
    assert [item["name"] for item in listed["items"]] == ["a.jpg"]


def test_an_image_link_never_opens_a_photo_given_the_name_later(site):
    made, admin = site.share(path="family/a.jpg"), site.as_("admin")
    site.client.get("/file?path=family/a.jpg", headers=key_of(made), status=(200, 302))
    site.client.post_json("/trash", {"paths": ["family/a.jpg"]}, headers=admin)
    site.client.put("/file?path=family/a.jpg", jpeg(size=(90, 70), color=(0, 0, 250)), headers=admin, status=201)
    for client in (site.client, site.second):
        for url in ("/file?path=family/a.jpg", "/item?path=family/a.jpg", "/thumb?path=family/a.jpg"):
            client.get(url, headers=key_of(made), status=404)


def test_a_share_shrinks_or_ends_with_its_makers_access_in_every_process(site, tmp_path):
    directory = Directory(site.config.users)
    made = site.share(who="other", path="family")
    site.second.get("/folders?path=family/sub", headers=key_of(made), status=200)
    directory.add("other", "edit", ["family/sub"])  # her folders narrowed: the link shrinks to them
    for client in (site.client, site.second):
        client.get("/folders?path=family/sub", headers=key_of(made), status=200)
        client.get("/item?path=family/a.jpg", headers=key_of(made), status=404)
    directory.add("other", "view", ["family"])  # made a viewer: she may share nothing, her links open nothing
    for client in (site.client, site.second):
        client.get("/folders?path=family/sub", headers=key_of(made), status=404)
    directory.add("other", "edit", ["family"])
    site.client.get("/folders?path=family", headers=key_of(made), status=200)
    directory.remove("other")
    for client in (site.client, site.second):
        client.get("/folders?path=family", headers=key_of(made), status=404)
        client.get("/file?path=family/a.jpg", headers=key_of(made), status=404)


def test_a_share_of_the_last_release_still_opens_its_folder(kept_site):
    """Records written before shares named what they share (no identity, no maker) follow their path."""
    made = kept_site.share(path="family")
    name = f"{SHARES}/{made['id']}.json"
    record = orjson.loads(kept_site.gallery.storage.read(name))
    for key in ("identity", "maker"):
        del record[key]
    kept_site.gallery.storage.write(name, orjson.dumps(record))
    kept_site.second.get("/folders?path=family", headers=key_of(made), status=200)


@pytest.mark.parametrize("identity, maker", [("1:2", "user"), ([[1]], "user"), ([True], "user"), ([1] * 9, "user"),
                                             ([1, 2], "root"), ([1, 2], None)])
def test_a_share_record_of_another_shape_opens_nothing(kept_site, identity, maker):
    made = kept_site.share(path="family")
    name = f"{SHARES}/{made['id']}.json"
    record = dict(orjson.loads(kept_site.gallery.storage.read(name)), identity=identity, maker=maker)
    kept_site.gallery.storage.write(name, orjson.dumps(record))
    kept_site.second.get("/folders?path=family", headers=key_of(made), status=404)


def test_images_of_one_folder_shared_together_open_them_alone(site):
    site.gallery.put("family/c.jpg", jpeg())
    made = site.share(paths=["family/c.jpg", "family/a.jpg"], allowDownload=False)
    assert (made["kind"], made["path"], made["images"]) == ("images", "family", ["family/a.jpg", "family/c.jpg"])
    for client in (site.client, site.second):
        listed = client.get("/folders?path=family", headers=key_of(made)).json
        assert [item["name"] for item in listed["items"]] == ["a.jpg", "c.jpg"] and listed["dirs"] == []
        me = client.get("/me", headers=key_of(made)).json
        assert me["share"]["kind"] == "images" and me["images"] == ["family/a.jpg", "family/c.jpg"]
        client.get("/thumb?path=family/c.jpg", headers=key_of(made), status=(200, 202))
        client.get("/file?path=family/a.jpg", headers=key_of(made), status=403)  # no downloads
        for url in ("/item?path=family/sub/b.jpg", "/folders?path=family/sub", "/folders?path=", "/folders?path=work"):
            client.get(url, headers=key_of(made), status=404)
    assert [share["images"] for share in site.client.get("/shares", headers=site.as_("editor")).json["shares"]] \
        == [["family/a.jpg", "family/c.jpg"]]


def test_images_shared_together_follow_each_image_and_their_makers_folders(site):
    site.gallery.put("family/c.jpg", jpeg())
    made, admin = site.share(paths=["family/a.jpg", "family/c.jpg"]), site.as_("admin")
    site.client.post_json("/trash", {"paths": ["family/a.jpg"]}, headers=admin)  # one gone: the other stays
    listed = site.second.get("/folders?path=family", headers=key_of(made)).json
    assert [item["name"] for item in listed["items"]] == ["c.jpg"]
    site.client.get("/item?path=family/a.jpg", headers=key_of(made), status=404)
    Directory(site.config.users).add("editor", "edit", ["work"])  # the maker no longer sees family
    site.second.get("/folders?path=family", headers=key_of(made), status=404)


@pytest.mark.parametrize("paths, status", [
    (["family/a.jpg"], 400), (["family/a.jpg", "family/a.jpg"], 400), ([], 400), ("family/a.jpg", 400),
    (["family/a.jpg", "family/sub/b.jpg"], 400),  # two folders
    (["family/a.jpg", "family/sub"], 400),  # a folder
    (["family/a.jpg", "family/../work/d.jpg"], 400), (["family/a.jpg", 5], 400),
    ([f"family/{n}.jpg" for n in range(1001)], 400),
    (["work/d.jpg", "work/e.jpg"], 404),  # outside the editor's folders: as missing
    (["family/a.jpg", "family/nope.jpg"], 404),
])
def test_images_shared_together_are_checked_and_nothing_is_made_of_bad_ones(kept_site, paths, status):
    listed = kept_site.client.get("/shares", headers=kept_site.as_("admin")).json["shares"]
    answer = kept_site.client.post_json("/shares", {"paths": paths}, headers=kept_site.as_("editor"),
                                        expect_errors=True)
    assert answer.status_int == status and answer.json["description"]
    assert kept_site.client.get("/shares", headers=kept_site.as_("admin")).json["shares"] == listed
    both = kept_site.client.post_json("/shares", {"path": "family", "paths": ["family/a.jpg"]},
                                      headers=kept_site.as_("editor"), expect_errors=True)
    assert both.status_int == 400


@pytest.mark.parametrize("change", [{"images": ["family/a.jpg", "work/d.jpg"]}, {"images": ["family/a.jpg"]},
                                    {"images": "family/a.jpg"}, {"identity": [[1, 2]]}, {"kind": "image"}])
def test_a_forged_record_of_images_opens_nothing(kept_site, change):
    made = kept_site.share(paths=["family/a.jpg", "family/c.jpg"])
    name = f"{SHARES}/{made['id']}.json"
    storage = kept_site.gallery.storage
    storage.write(name, orjson.dumps({**orjson.loads(storage.read(name)), **change}))
    for url in ("/folders?path=family", "/item?path=family/a.jpg", "/item?path=work/d.jpg"):
        kept_site.second.get(url, headers=key_of(made), status=404)
