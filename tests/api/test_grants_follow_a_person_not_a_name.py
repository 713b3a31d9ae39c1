"""What a person made (share links, albums) is bound to their id in the users file, not to their name: bob
removed and another bob added later, the old bob's links open nothing and the new bob owns none of it, nor
has the old bob's sessions. Upgrades: a users file, links and albums of the last release (no ids anywhere)
keep working for the unchanged bob, and never pass to a bob added later. A forged or torn id stops lenslet."""

import dataclasses
import json

import pytest
import webtest
from helpers import draw
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.errors import ConfigError
from lenslet.people.users import Directory, parse_users

HERE = {"Origin": "http://localhost:80"}


class Home:
    """A tree (family/, private/), a users file (ann the admin, bob an edit user of family/, by token), one app;
    bob's folder, image and album links. last_release: every file as the last release wrote it (no ids)."""

    def __init__(self, config, tree, tmp_path, last_release=False):
        for path in ("family/a.jpg", "family/b.jpg", "private/s.jpg"):
            draw(tree / path, color=(len(path) * 20 % 255, 90, 40))
        self.directory = Directory(str(tmp_path / "users.json"))
        self.tokens = {"ann": self.directory.add("ann", "admin", [""]),
                       "bob": self.directory.add("bob", "edit", ["family"])}
        self.last_release = last_release
        self.forget_ids("users")
        self.tree = tree
        self.client, self.second = (webtest.TestApp(spec_checked(create_app(dataclasses.replace(
            config, users=self.directory.path))), extra_environ={"REMOTE_ADDR": "10.0.0.3"}) for _ in range(2))
        self.album = self.call("bob", "POST", "/albums", {"name": "Summer", "images": ["family/a.jpg"]}).json["id"]
        self.shares = {kind: self.call("bob", "POST", "/shares", body).json for kind, body in (
            ("folder", {"path": "family"}), ("image", {"path": "family/b.jpg"}), ("album", {"album": self.album}))}
        self.forget_ids("shares", "albums")

    def forget_ids(self, *kinds):
        """Take the ids out of the users file, or the makers' ids out of share and album files, as the last release
        wrote them."""
        if not self.last_release:
            return
        if "users" in kinds:
            document = json.loads(open(self.directory.path).read())
            for entry in document["users"].values():
                entry.pop("id", None)
            open(self.directory.path, "w").write(json.dumps(document))
        for kind, key in (("shares", "makerId"), ("albums", "ownerId")):
            for path in (self.tree / ".lenslet" / kind).glob("*.json") if kind in kinds else ():
                record = json.loads(path.read_text())
                record.pop(key, None)
                path.write_text(json.dumps(record))

    def call(self, who, method, url, body=None):
        headers = {**HERE, "Authorization": f"Bearer {self.tokens[who]}"}
        if body is None:
            return self.client.request(url, method=method, headers=headers, expect_errors=True)
        return self.client.request(url, method=method, headers=headers, expect_errors=True,
                                   body=json.dumps(body).encode(), content_type="application/json")

    def opened(self, kind, url, client=None):
        return (client or self.client).get(url, headers={"X-Lenslet-Share": self.shares[kind]["key"]},
                                           expect_errors=True).status_int

    def links(self, client=None):
        """What bob's links answer, in this process (the app) or another (client)."""
        asked = [("folder", "/folders?path=family"), ("image", "/item?path=family/b.jpg"),
                 ("album", f"/albums/{self.album}"), ("album", "/thumb?path=family/a.jpg")]
        return [self.opened(kind, url, client) for kind, url in asked]

    def bob_again(self, how):
        """Remove bob and add another person named bob, by the page or by `lenslet user add`."""
        assert self.call("ann", "DELETE", "/users/bob").status_int == 200
        if how == "page":
            added = self.call("ann", "POST", "/users", {"name": "bob", "role": "edit", "folders": ["family"],
                                                         "password": "the new bob's"})
            assert added.status_int == 201
            self.tokens["bob"] = self.directory.add("bob", "edit", ["family"])  # a token too, for the calls
        else:
            self.tokens["bob"] = self.directory.add("bob", "edit", ["family"])

    def owned_by_bob(self):
        """What bob sees and may do of the old bob's things: his albums and links, and their removal."""
        return [[album["id"] for album in self.call("bob", "GET", "/albums").json["albums"]],
                [share["id"] for share in self.call("bob", "GET", "/shares").json["shares"]],
                self.call("bob", "GET", f"/albums/{self.album}").status_int,
                self.call("bob", "PATCH", f"/albums/{self.album}", {"name": "Mine now"}).status_int,
                self.call("bob", "POST", "/shares", {"album": self.album}).status_int,
                self.call("bob", "DELETE", f"/shares/{self.shares['folder']['id']}").status_int]


@pytest.mark.parametrize("last_release", [False, True], ids=["now", "last release"])
@pytest.mark.parametrize("how", ["page", "cli"])
def test_a_removed_persons_links_and_albums_never_pass_to_another_given_the_name(config, tree, tmp_path, how,
                                                                               last_release):
    home = Home(config, tree, tmp_path, last_release)
    assert home.links() == home.links(home.second) == [200] * 4
    home.bob_again(how)
    assert home.links() == home.links(home.second) == [404] * 4  # in every process
    assert home.owned_by_bob() == [[], [], 404, 404, 404, 404]
    assert home.links() == [404] * 4  # nothing the new bob did revived them
    assert len(home.call("ann", "GET", "/shares").json["shares"]) == 3  # the admin still sees them, to revoke


def test_the_last_releases_records_keep_working_for_the_unchanged_bob(config, tree, tmp_path):
    home = Home(config, tree, tmp_path, last_release=True)
    # The users file changed by lenslet (another person added) gives bob no id: he stays the one who made them.
    assert home.call("ann", "POST", "/users", {"name": "kim", "role": "view", "folders": ["family"],
                                               "password": "kim's password"}).status_int == 201
    assert "id" not in json.loads(open(home.directory.path).read())["users"]["bob"]
    assert home.links() == [200] * 4
    owned = home.owned_by_bob()
    assert owned[0] == [home.album] and len(owned[1]) == 3 and owned[2:] == [200, 200, 201, 200]
    assert home.opened("folder", "/folders?path=family") == 404  # revoked by him


def test_new_records_name_their_makers_id(config, tree, tmp_path):
    home = Home(config, tree, tmp_path)
    bob = json.loads(open(home.directory.path).read())["users"]["bob"]["id"]
    shares = [json.loads(path.read_text()) for path in (tree / ".lenslet" / "shares").glob("*.json")]
    album = json.loads((tree / ".lenslet" / "albums" / f"{home.album}.json").read_text())
    assert {share["makerId"] for share in shares} == {bob} and album["ownerId"] == bob
    assert {share["createdBy"] for share in shares} == {"bob"} and album["owner"] == "bob"  # still shown by name


@pytest.mark.parametrize("how", ["page", "by hand"])
def test_a_new_bobs_cookie_is_never_the_old_bobs_session(config, tree, tmp_path, how):
    home = Home(config, tree, tmp_path)
    home.call("ann", "PATCH", "/users/bob", {"password": "the old bob's"})
    old = json.loads(open(home.directory.path).read())["users"]["bob"]
    signed_in = home.client.post_json("/session", {"name": "bob", "password": "the old bob's"}, headers=HERE)
    cookie = {"Cookie": signed_in.headers["Set-Cookie"].split(";")[0]}
    home.client.get("/me", headers=cookie, status=200)
    home.call("ann", "DELETE", "/users/bob")
    if how == "page":
        home.call("ann", "POST", "/users", {"name": "bob", "role": "edit", "folders": ["family"],
                                            "password": "the old bob's"})
    else:  # the old entry copied back, stamp and password too, but for the id: still another person
        document = json.loads(open(home.directory.path).read())
        document["users"]["bob"] = dict(old, id="00112233445566ff")
        open(home.directory.path, "w").write(json.dumps(document))
    home.client.get("/me", headers=cookie, status=401)


def users_file_with(**entries):
    base = {"role": "edit", "folders": ["family"], "tokenHash": "sha256:" + "1" * 64}
    users = {name: {**base, "tokenHash": "sha256:" + str(n) * 64, **entry} for n, (name, entry)
             in enumerate(entries.items(), 1)}
    return json.dumps({"v": 1, "users": users})


@pytest.mark.parametrize("ids, why", [
    (["0123456789abcdeg"], "an id that is not 16 hex"), (["0123456789abcde"], "an id that is not 16 hex"),
    (["0123456789ABCDEF"], "an id that is not 16 hex"), ([1234], "an id that is not 16 hex"),
    ([""], "an id that is not 16 hex"), ([None], "an id that is not 16 hex"),
    (["0123456789abcdef", "0123456789abcdef"], "has the id of another user"),
])
def test_a_forged_or_torn_id_is_a_clear_config_error(config, tmp_path, ids, why):
    data = users_file_with(**{f"u{n}": {"id": user_id} for n, user_id in enumerate(ids)})
    with pytest.raises(ConfigError, match=why):
        parse_users(data)
    (tmp_path / "users.json").write_text(data)
    with pytest.raises(ConfigError, match=why):
        create_app(dataclasses.replace(config, users=str(tmp_path / "users.json")))


def test_an_id_is_kept_by_every_change_and_never_added_to_an_entry_without_one(tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    (tmp_path / "users.json").write_text(users_file_with(old={}, kept={"id": "00112233445566aa"}))
    directory.add("new", "view", ["family"])
    directory.add("old", "edit", [""])
    directory.update("kept", folders=[""], password="a long password")
    users = json.loads((tmp_path / "users.json").read_text())["users"]
    assert "id" not in users["old"] and users["kept"]["id"] == "00112233445566aa"
    assert len(users["new"]["id"]) == 16 and users["new"]["id"] != users["kept"]["id"]
