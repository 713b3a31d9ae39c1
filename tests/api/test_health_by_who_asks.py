"""GET /health with a users file: the gallery page's rules (trash name, image types, read-only) reach
everyone who may open the page (a page not signed in yet, a view user, a share link's visitor, a
health probe), and the details stay an admin's."""

import pytest
from helpers import draw

from lenslet import layout
from lenslet.people.shares import Shares
from lenslet.people.users import Directory

PAGE_RULES = {"trash": layout.TRASH, "images": layout.EXTENSIONS, "videos": layout.VIDEOS}
DETAILS = {"storage", "worker", "report", "rejected"}


@pytest.fixture
def users(client_with, storage, tree, tmp_path):
    """A users file with an admin and a view user of family/, a share link of family/, and a client
    factory (settings changes); answer (make_client, {who: headers})."""
    draw(tree / "family" / "a.jpg")
    directory = Directory(str(tmp_path / "users.json"))
    headers = {"admin": {"Authorization": "Bearer " + directory.add("ann", "admin", [""])},
               "viewer": {"Authorization": "Bearer " + directory.add("bob", "view", ["family"])},
               "nobody": {}}
    owner = directory.users()["ann"].principal()
    headers["share"] = {"X-Lenslet-Share": Shares(storage).make(owner, "family", "folder")[1]}
    return (lambda **changes: client_with(users=directory.path, **changes)), headers


@pytest.mark.parametrize("who", ["nobody", "viewer", "share"])
def test_health_gives_the_page_its_rules_and_no_details_to_anyone_but_an_admin(users, who):
    make, headers = users
    answer = make().get("/health", headers=headers[who]).json
    assert answer["rules"] == PAGE_RULES and answer["readonly"] is False and answer["status"] == "ok"
    assert not DETAILS & set(answer), who


def test_an_admin_still_gets_the_details_with_the_rules(users):
    make, headers = users
    answer = make().get("/health", headers=headers["admin"]).json
    assert DETAILS <= set(answer) and answer["rules"] == PAGE_RULES


def test_read_only_mode_reaches_a_page_that_is_not_an_admins(users):
    make, headers = users
    assert make(readonly=True).get("/health", headers=headers["viewer"]).json["readonly"] is True


def test_health_without_credentials_answers_a_probe_but_nothing_else_opens(users):
    make, headers = users
    client = make()
    assert client.get("/health").status_int == 200
    client.get("/folders", status=401)
    client.get("/me", status=401)
    client.put("/health", status=401)  # no write becomes anyone's by it
    client.get("/health", headers={"Host": "rebound.example"}, status=421)  # the Host check comes first, as always


def test_a_wrong_token_or_a_dead_share_link_is_still_refused_at_health(users):
    make, _ = users
    client = make()
    client.get("/health", headers={"Authorization": "Bearer not-a-token"}, status=401)
    client.get("/health", headers={"X-Lenslet-Share": "nope.nope"}, status=404)


def test_a_share_link_still_opens_nothing_but_its_folder_and_the_rules(users):
    make, headers = users
    client = make()
    client.get("/search?q=a", headers=headers["share"], status=403)
    client.get("/shares", headers=headers["share"], status=403)
    assert client.get("/folders?path=family", headers=headers["share"]).json["total"] == 1


def test_reads_behind_the_token_leave_health_to_a_probe_without_its_details(client_with):
    client = client_with(token="s3cret", token_reads=True)
    assert not DETAILS & set(client.get("/health").json)
    assert DETAILS <= set(client.get("/health", headers={"Authorization": "Bearer s3cret"}).json)
    client.get("/folders", status=401)


def test_a_probe_sees_a_broken_users_file_as_a_service_that_lets_nobody_in(users, tmp_path):
    make, _ = users
    client = make()
    (tmp_path / "users.json").write_text('{"v": 1, "users": {"torn')
    answer = client.get("/health", status=503)
    assert "nobody is let in" in answer.json["description"]
