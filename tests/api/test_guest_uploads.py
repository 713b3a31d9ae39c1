"""Guests add photos through a share link that takes uploads: into its folder (or its subfolder) under a free name,
kept with who added them and through which link, within the link's caps, stopped at once by a revoke; hostile: links
without upload, expired, revoked, capped or of another folder, forged keys, unsafe names, HTML named .jpg, races."""

import dataclasses
import io
import os
import resource
import threading
import time

import orjson
import pytest
import webtest
from helpers import at_once, clip, jpeg
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.cli import main as lenslet
from lenslet.config import Config
from lenslet.layout import ALBUMS, SHARE_UPLOADS
from lenslet.people.users import Directory


class Site:
    """A tree (family/, work/) with an editor of family/ and two web processes on one storage."""

    def __init__(self, gallery, tmp_path):
        for path in ("family/a.jpg", "work/d.jpg"):
            gallery.put(path, jpeg())
        directory = Directory(str(tmp_path / "users.json"))
        self.token = directory.add("editor", "edit", ["family"])
        self.directory = directory
        self.now = [time.time()]
        self.config = dataclasses.replace(gallery.config, users=directory.path, share_max_days=30)
        self.gallery = gallery
        self.client, self.second = self.app(), self.app()

    def app(self):
        return webtest.TestApp(spec_checked(create_app(self.config, self.gallery.storage, lambda: self.now[0])))

    @property
    def owner(self):
        return {"Authorization": f"Bearer {self.token}"}

    def share(self, path="family", status=201, **body):
        return self.client.post_json("/shares", dict(body, path=path), headers=self.owner, status=status).json

    def add(self, made, name="IMG_1.jpg", data=None, guest="Anna", status=201, client=None, **headers):
        query = {"name": name, "guest": guest} if guest is not None else {"name": name}
        return (client or self.client).put(
            "/shares/upload?" + "&".join(f"{key}={value}" for key, value in query.items()),
            jpeg() if data is None else data, headers={"X-Lenslet-Share": made["key"], **headers},
            content_type="image/jpeg", status=status).json

    def item(self, path):
        return self.client.get("/item", {"path": path}, headers=self.owner).json

    def names(self):
        page = self.client.get("/folders", {"path": "family"}, headers=self.owner).json
        return sorted(item["name"] for item in page["items"])


@pytest.fixture
def site(gallery, tmp_path):
    return Site(gallery, tmp_path)


@pytest.fixture(scope="module")
def shared_site(module_gallery):
    """One site per backend for the tests whose uploads and links are all refused: each checks nothing was added."""
    return Site(module_gallery, module_gallery.root.parent)


ON_DISK = pytest.mark.parametrize("gallery", ["local"], indirect=True)  # what a bucket would test again for nothing


def test_a_guest_adds_photos_kept_with_their_name_and_the_link(site):
    made = site.share(allowUpload=True)
    assert made["allowUpload"] is True and made["upload"]["showPhotos"] is True
    first = site.add(made, guest="Anna  Müller")
    second = site.add(made, client=site.second, guest="Ben")  # the same name: the next free one, never replaced
    assert (first["path"], second["path"]) == ("family/IMG_1.jpg", "family/IMG_1 (1).jpg")
    assert site.item("family/IMG_1.jpg")["addedBy"] == "Anna Müller"
    assert site.item("family/IMG_1 (1).jpg")["addedVia"] == made["id"]
    assert site.names() == ["IMG_1 (1).jpg", "IMG_1.jpg", "a.jpg"]
    listed = site.client.get("/shares", headers=site.owner).json["shares"][0]
    assert listed["uploaded"]["files"] == 2 and listed["uploaded"]["bytes"] == 2 * len(jpeg())
    site.client.put_json("/item?path=family/IMG_1.jpg", {"addedBy": "forged", "tags": ["x"]}, headers=site.owner)
    assert site.item("family/IMG_1.jpg")["addedBy"] == "Anna Müller"  # an owner's edit keeps who added it


def test_a_guest_adds_a_video(site):
    made = site.share(allowUpload=True)
    assert site.add(made, name="clip.mp4", data=clip(".mp4"))["path"] == "family/clip.mp4"
    assert site.item("family/clip.mp4")["addedBy"] == "Anna"


def test_links_made_before_or_without_upload_stay_read_only(shared_site):
    for made in (shared_site.share(), shared_site.share(allowUpload=False)):
        assert made["allowUpload"] is False
        shared_site.add(made, status=403)
    shared_site.client.put("/shares/upload?name=x.jpg&guest=a", jpeg(), headers=shared_site.owner,
                           content_type="image/jpeg", status=403)  # an owner uploads through /file
    assert shared_site.names() == ["a.jpg"]


def test_uploads_land_in_the_named_subfolder(site):
    made = site.share(allowUpload=True, uploadFolder="From guests")
    assert site.add(made)["path"] == "family/From guests/IMG_1.jpg"
    assert site.add(made)["path"] == "family/From guests/IMG_1 (1).jpg"
    for bad in ("../work", "a/b", ".lenslet", "", 7):
        if bad != "":
            site.share(allowUpload=True, uploadFolder=bad, status=400)


@pytest.mark.parametrize("body", [{"allowUpload": "yes"}, {"allowUpload": True, "maxFiles": 0},
                                  {"allowUpload": True, "maxBytes": -1}, {"allowUpload": True, "maxFiles": 1.5},
                                  {"allowUpload": True, "showPhotos": "no"}])
def test_upload_settings_are_checked(shared_site, body):
    shared_site.share(status=400, **body)


def test_an_image_link_takes_no_uploads(shared_site):
    shared_site.share(path="family/a.jpg", allowUpload=True, status=400)


def test_an_upload_only_link_shows_nothing(site):
    made = site.share(allowUpload=True, showPhotos=False)
    me = site.client.get("/me", headers={"X-Lenslet-Share": made["key"]}).json
    assert me["share"]["upload"]["showPhotos"] is False
    for url in ("/folders?path=family", "/item?path=family/a.jpg", "/thumb?path=family/a.jpg"):
        site.client.get(url, headers={"X-Lenslet-Share": made["key"]}, status=403)
    site.add(made)
    assert "IMG_1.jpg" in site.names()


def test_the_file_cap_holds_against_many_small_files_at_once(site):
    made = site.share(allowUpload=True, maxFiles=3)
    clients, answers = [site.app() for _ in range(8)], []
    at_once(lambda n: answers.append(site.add(made, name="s.jpg", status="*", client=clients[n])), 8)
    assert [answer.get("ok", False) for answer in answers].count(True) == 3
    assert len(site.names()) == 4
    refused = site.add(made, status=403)
    assert refused["cap"] == "maxFiles"


def test_the_byte_cap_refuses_what_would_pass_it_and_writes_nothing(site):
    made = site.share(allowUpload=True, maxBytes=len(jpeg()) + 10)
    site.add(made)
    assert site.add(made, name="big.jpg", status=413)["cap"] == "maxBytes"
    assert site.names() == ["IMG_1.jpg", "a.jpg"]


def test_a_refused_upload_is_not_counted(site):
    made = site.share(allowUpload=True, maxFiles=1)
    site.add(made, name="page.jpg", data=b"<html><script>alert(1)</script></html>" * 20, status=415)
    site.add(made, name="../../work/x.jpg")  # only the last part of a name counts
    assert site.names() == ["a.jpg", "x.jpg"] and not site.gallery.exists("work/x.jpg")


def declaring(size):
    """A small JPEG whose header declares size: Pillow learns the size before it decodes anything."""
    data = bytearray(jpeg())
    at = data.index(b"\xff\xc0") + 5
    data[at:at + 4] = size[1].to_bytes(2, "big") + size[0].to_bytes(2, "big")
    return bytes(data)


@ON_DISK
def test_a_200_megapixel_photo_is_refused_before_it_is_decoded(site):
    made = site.share(allowUpload=True, maxFiles=1)
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = site.add(made, name="huge.jpg", data=declaring((20_000, 10_000)), status=422)
    assert "200000000 pixels" in answer["description"]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - grown < 100_000  # KiB: its pixels never held
    assert site.names() == ["a.jpg"]
    site.add(made)  # refused, it was not counted


def test_ten_thousand_files_cost_one_small_count(site):
    made = site.share(allowUpload=True, maxFiles=10_000)
    count = f"{SHARE_UPLOADS}/{made['id']}.json"
    site.gallery.storage.write(count, orjson.dumps({"v": 1, "id": made["id"], "files": 9_999, "bytes": 9_999_000}))
    site.add(made)
    assert site.add(made, name="IMG_2.jpg", status=403)["cap"] == "maxFiles"
    assert len(site.gallery.storage.read_versioned(count)[0]) < 100  # the same size after ten thousand as after one
    assert site.names() == ["IMG_1.jpg", "a.jpg"]


@pytest.mark.parametrize("guest", [None, "", "  ", "x" * 101, "\x00\x07"])
def test_a_guest_says_who_they_are(shared_site, guest):
    shared_site.add(shared_site.share(allowUpload=True), guest=guest, status=400)
    assert shared_site.names() == ["a.jpg"]


def test_a_guest_name_at_the_limit_is_kept_whole(site):
    site.add(site.share(allowUpload=True), guest="x" * 100)
    assert site.item("family/IMG_1.jpg")["addedBy"] == "x" * 100


def test_expired_revoked_and_forged_keys_add_nothing(shared_site):
    made = shared_site.share(allowUpload=True, expires="1h")
    forged = dict(made, key=made["key"][:-4] + "AAAA")
    shared_site.add(forged, status=404)
    shared_site.now[0] += 7200
    shared_site.add(made, status=404)
    shared_site.now[0] -= 7200
    shared_site.client.delete(f"/shares/{made['id']}", headers=shared_site.owner)
    shared_site.add(made, status=404)  # replayed after the revoke
    assert shared_site.names() == ["a.jpg"]


def test_a_revoke_during_an_upload_keeps_nothing_of_it(site):
    made = site.share(allowUpload=True)
    revoked = threading.Event()

    class Slow(io.BytesIO):
        """A body whose end comes only after the link is revoked."""

        def read(self, size=-1):
            if self.tell() and not revoked.is_set():
                site.second.delete(f"/shares/{made['id']}", headers=site.owner)
                revoked.set()
            return super().read(size)

    request = webtest.TestRequest.blank("/shares/upload?name=late.jpg&guest=Anna", method="PUT", headers={
        "X-Lenslet-Share": made["key"], "Content-Type": "image/jpeg", "Content-Length": str(len(jpeg()))})
    request.environ["wsgi.input"] = Slow(jpeg())
    answer = site.client.do_request(request, status=404).json
    assert revoked.is_set() and "revoked" in answer["description"]
    assert site.names() == ["a.jpg"]


def test_an_upload_cut_off_keeps_nothing_and_is_not_counted(site):
    made = site.share(allowUpload=True, maxFiles=1)
    request = webtest.TestRequest.blank("/shares/upload?name=cut.jpg&guest=Anna", method="PUT", headers={
        "X-Lenslet-Share": made["key"], "Content-Type": "image/jpeg", "Content-Length": str(len(jpeg()))})
    request.environ["wsgi.input"] = io.BytesIO(jpeg()[:200])  # the connection ends midway
    site.client.do_request(request, status=400)
    assert site.names() == ["a.jpg"]
    site.add(made)  # the cap's one file is still free


def test_an_upload_without_its_length_is_refused(shared_site):
    made = shared_site.share(allowUpload=True)
    request = webtest.TestRequest.blank("/shares/upload?name=a.jpg&guest=Anna", method="PUT", headers={
        "X-Lenslet-Share": made["key"], "Content-Type": "image/jpeg"})
    request.environ.pop("CONTENT_LENGTH", None)
    assert "Content-Length" in shared_site.client.do_request(request, status=411).json["description"]
    assert shared_site.names() == ["a.jpg"]


def test_a_link_adds_only_inside_its_folder(site):
    made = site.share(allowUpload=True)
    site.client.put("/file?path=work/x.jpg", jpeg(), headers={"X-Lenslet-Share": made["key"]},
                    content_type="image/jpeg", status=403)
    assert site.add(made, name="work/x.jpg")["path"] == "family/x.jpg"
    assert not site.gallery.exists("work/x.jpg")


def test_a_subfolder_that_is_a_link_elsewhere_takes_nothing(site):
    if site.gallery.config.s3_bucket:
        pytest.skip("a bucket has no links")
    (site.gallery.root / "family" / "out").symlink_to("../work")
    site.add(site.share(allowUpload=True, uploadFolder="out"), status=404)
    assert sorted(path.name for path in (site.gallery.root / "work").iterdir()) == ["d.jpg"]


def test_two_guests_racing_one_name_each_keep_their_photo(site):
    made = site.share(allowUpload=True)
    clients = [site.app() for _ in range(4)]
    at_once(lambda n: site.add(made, name="same.jpg", data=jpeg(color=(60 * n, 0, 0)), client=clients[n]), 4)
    assert site.names() == ["a.jpg", "same (1).jpg", "same (2).jpg", "same (3).jpg", "same.jpg"]


def test_cross_site_and_foreign_hosts_are_refused(shared_site):
    made = shared_site.share(allowUpload=True)
    shared_site.add(made, status=403, Origin="https://evil.example")
    shared_site.add(made, status=403, **{"Sec-Fetch-Site": "cross-site"})
    shared_site.add(made, status=421, Host="evil.example")
    assert shared_site.names() == ["a.jpg"]


def test_a_torn_count_refuses_uploads_until_removed(site):
    made = site.share(allowUpload=True, maxFiles=5)
    site.add(made)
    site.gallery.storage.write(f"{SHARE_UPLOADS}/{made['id']}.json", b'{"v":1,"files":')
    site.add(made, status=403)
    assert site.client.get("/shares", headers=site.owner).json["shares"][0]["uploaded"]["files"] == 0


def test_the_command_makes_a_link_that_takes_uploads(tmp_path, monkeypatch, capsys):
    (tmp_path / "tree" / "party").mkdir(parents=True)
    monkeypatch.setenv("LENSLET_ROOT", str(tmp_path / "tree"))
    assert lenslet(["share", "party", "--upload", "--upload-only", "--max-files", "2", "--upload-folder", "in"]) == 0
    key = capsys.readouterr().out.strip().partition("#")[2]
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(tmp_path / "tree")))))
    assert client.get("/me", headers={"X-Lenslet-Share": key}).json["share"]["upload"] == {
        "showPhotos": False, "folder": "in", "maxFiles": 2, "maxBytes": None}
    client.put("/shares/upload?name=a.jpg&guest=Zoe", jpeg(), headers={"X-Lenslet-Share": key},
               content_type="image/jpeg", status=201)
    assert lenslet(["share", "--list"]) == 0 and "takes uploads (1 so far)" in capsys.readouterr().out
    assert lenslet(["share", "party/in/a.jpg", "--upload"]) == 2 and "a folder" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["fifo", "link"])
def test_a_fifo_or_link_in_place_of_the_count_takes_nothing_and_never_hangs(site, kind, tmp_path):
    if site.gallery.config.s3_bucket:
        pytest.skip("a bucket has no FIFOs or links")
    made = site.share(allowUpload=True)
    count = site.gallery.root / SHARE_UPLOADS / f"{made['id']}.json"
    count.parent.mkdir(parents=True)
    (tmp_path / "elsewhere.json").write_text(f'{{"v": 1, "id": "{made["id"]}", "files": 0, "bytes": 0}}')
    if kind == "fifo":
        os.mkfifo(count)
    else:
        count.symlink_to(tmp_path / "elsewhere.json")
    answer = site.client.put("/shares/upload?name=a.jpg&guest=Anna", jpeg(), content_type="image/jpeg",
                             headers={"X-Lenslet-Share": made["key"]}, expect_errors=True)
    assert 400 <= answer.status_int < 500 and site.names() == ["a.jpg"]
    assert (tmp_path / "elsewhere.json").read_text().startswith('{"v": 1')  # never written through


def album_link(site, status=201, **body):
    album = site.client.post_json("/albums", {"name": "Wedding", "images": ["family/a.jpg"]}, headers=site.owner).json
    return album["id"], site.client.post_json("/shares", dict(body, album=album["id"], allowUpload=True),
                                              headers=site.owner, status=status).json


def test_an_albums_link_adds_to_the_folder_it_names_and_to_the_album(site):
    album, made = album_link(site, uploadFolder="family/Wedding", maxFiles=2)
    assert site.add(made)["path"] == "family/Wedding/IMG_1.jpg"
    link = {"X-Lenslet-Share": made["key"]}
    shown = site.client.get(f"/albums/{album}", headers=link).json["items"]
    assert [item["path"] for item in shown] == ["family/a.jpg", "family/Wedding/IMG_1.jpg"]
    site.client.get("/folders?path=family/Wedding", headers=link, status=404)  # the folder is not shared
    site.add(made, name="IMG_2.jpg")
    assert site.add(made, name="IMG_3.jpg", status=403)["cap"] == "maxFiles"
    site.client.delete(f"/shares/{made['id']}", headers=site.owner)
    site.add(made, name="IMG_4.jpg", status=404)
    page = site.client.get("/folders", {"path": "family/Wedding"}, headers=site.owner).json
    assert sorted(item["name"] for item in page["items"]) == ["IMG_1.jpg", "IMG_2.jpg"]
    assert site.item("family/Wedding/IMG_2.jpg")["addedBy"] == "Anna"


def test_guests_racing_on_an_albums_link_are_each_added_to_it(site):
    album, made = album_link(site, uploadFolder="family/Wedding")
    clients = [site.app() for _ in range(3)]
    at_once(lambda n: site.add(made, data=jpeg(color=(60 * n, 0, 0)), client=clients[n]), 3)
    shown = site.client.get(f"/albums/{album}", headers={"X-Lenslet-Share": made["key"]}).json["items"]
    assert len({item["path"] for item in shown}) == 4


@ON_DISK
def test_a_full_album_keeps_a_guests_upload_in_its_folder_only(site):
    album, made = album_link(site, uploadFolder="family/Wedding")
    key = f"{ALBUMS}/{album}.json"
    record = orjson.loads(site.gallery.storage.read_versioned(key)[0])
    record["images"] = [{"path": f"family/{n}.jpg", "hash": None} for n in range(10_000)]
    site.gallery.storage.write(key, orjson.dumps(record))
    assert site.add(made)["path"] == "family/Wedding/IMG_1.jpg"
    assert len(orjson.loads(site.gallery.storage.read_versioned(key)[0])["images"]) == 10_000


def test_an_albums_link_adds_only_where_its_maker_may_still_add(site):
    _, made = album_link(site, uploadFolder="family/Wedding")
    site.directory.update("editor", folders=["family/a.jpg", "work"])
    site.add(made, status=404)
    assert not site.gallery.exists("family/Wedding/IMG_1.jpg")


@ON_DISK
@pytest.mark.parametrize("body", [{}, {"uploadFolder": ""}, {"uploadFolder": "family/.hidden"},
                                  {"uploadFolder": "../family"}, {"uploadFolder": "work/in", "status": 404}])
def test_an_albums_link_names_a_folder_its_maker_may_change(site, body):
    album_link(site, **{"status": 400, **body})
    assert not site.gallery.exists("work/in")


@ON_DISK
def test_a_smart_album_takes_no_uploads(site):
    album = site.client.post_json("/albums", {"name": "Red", "smart": {"q": "red"}}, headers=site.owner).json
    site.client.post_json("/shares", {"album": album["id"], "allowUpload": True, "uploadFolder": "family"},
                          headers=site.owner, status=400)
