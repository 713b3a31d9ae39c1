"""Two people writing one photo over WebDAV at once, through gunicorn with two web processes, on disk and on S3:
a PUT racing a MOVE, a DELETE or another PUT never destroys a photo, a refused write leaves nothing behind, and a
photo's words (tags) stay with its bytes, wherever they end up (the photo's name, the move's target, the trash)."""

import base64
import json
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import quote

import blake3
import pytest
from helpers import bucket_settings, jpeg, wait_until

from lenslet.images.pillow import HASH_PREFIX
from lenslet.people.users import Directory

ROUNDS = {"local": 15, "s3": 6}  # moto answers slowly: fewer rounds on S3


@pytest.fixture(params=["local", "s3"])
def served(request, tmp_path, tree, gunicorn):
    users = tmp_path / "users.json"
    directory = Directory(str(users))
    for name in ("ann", "bob"):
        directory.add(name, "admin", [""], password=f"{name}'s sign-in password")
    env = {"LENSLET_USERS": str(users)}
    if request.param == "s3":
        env.update(bucket_settings(request, tmp_path))
    server = gunicorn(env=env)
    server.rounds = ROUNDS[request.param]
    server.tree = tree if request.param == "local" else None  # the files themselves, where they can be read
    server.basic = {name: "Basic " + base64.b64encode(
        f"{name}:{directory.add_app_password(directory.users()[name], 'Phone', 1.0)[1]}".encode()).decode()
        for name in ("ann", "bob")}
    server.api = "Bearer " + directory.add("script", "admin", [""])
    server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
    return server


def call(server, method, url, body=None, headers=None, who="ann"):
    """Return (status, body, headers) of one request."""
    auth = server.api if url.startswith("/") and not url.startswith("/dav/") else server.basic[who]
    request = urllib.request.Request(server.url + url, data=body, method=method,
                                     headers={"Authorization": auth, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read(), ex.headers


def race(server, *requests):
    """Send requests (method, url, body, headers[, who]) all at once; return their statuses in order."""
    statuses, start = [None] * len(requests), threading.Barrier(len(requests))

    def send(n):
        method, url, body, headers, *who = requests[n]
        start.wait(timeout=30)
        statuses[n] = call(server, method, url, body, headers, *who)[0]

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def at_once(server, *requests):
    """Send WebDAV requests (method, dav path, body, headers, who) all at once; return their statuses in order."""
    return race(server, *[(method, "/dav/" + quote(path), body, headers, who)
                          for method, path, body, headers, who in requests])


def listed(server, folder):
    """The names a folder's listing holds ([] if there is no such folder), asked again while it says it may be
    a moment behind."""
    def answer():
        status, body, headers = call(server, "GET", f"/folders?path={quote(folder)}")
        assert status in (200, 404), (folder, status, body)
        names = [item["name"] for item in json.loads(body)["items"]] if status == 200 else []
        return None if headers.get("X-Lenslet-Checking") else (names,)
    return wait_until(answer, timeout=60)[0]


def photos_of_round(server, n):
    """{bytes: [tags of each copy]} of round n's photos, in its folder and in the trash; each copy's hash is its
    own, and on disk the folders hold exactly the photos listed."""
    found = {}
    for where in (f"r{n}", "_trash_"):
        names = [name for name in listed(server, where) if re.match(rf"[pq]{n}[. ]", name)]
        if server.tree is not None:
            kept = sorted(file.name for file in (server.tree / where).glob("*.jpg") if re.match(rf"[pq]{n}[. ]",
                                                                                               file.name))
            assert sorted(names) == kept, (n, where, "listed", names, "on disk", kept)
        for name in names:
            path = f"{where}/{name}"
            data = call(server, "GET", f"/file?path={quote(path)}")[1]
            item = json.loads(call(server, "GET", f"/item?path={quote(path)}")[1])
            assert item.get("hash") in (None, HASH_PREFIX + blake3.blake3(data).hexdigest()), (n, path, item)
            found.setdefault(data, []).append(item.get("tags", []))
    return found


def a_tagged_photo(server, n):
    """Ann's photo r{n}/p{n}.jpg, tagged; return its bytes."""
    original = jpeg(size=(90, 60), color=(n * 15, 200, 40))
    assert call(server, "MKCOL", f"/dav/r{n}")[0] == 201
    assert call(server, "PUT", f"/dav/r{n}/p{n}.jpg", original)[0] == 201
    edit = call(server, "PATCH", f"/item?path=r{n}/p{n}.jpg", json.dumps({"addTags": ["ann"]}).encode(),
                {"Content-Type": "application/json"})
    assert edit[0] == 200, edit
    return original


def kept_with_its_words(server, n, original, sent):
    """The original is still somewhere with its tag; each body sent is kept exactly when its PUT was taken."""
    found = photos_of_round(server, n)
    assert original in found and all("ann" in tags for tags in found[original]), (n, found.values())
    for body, status in sent:
        assert (body in found) == (status in (201, 204)), (n, status)


@pytest.mark.parametrize("other", ["MOVE", "DELETE"])
def test_a_put_racing_a_move_or_a_delete_destroys_nothing(served, other):
    answers = []
    for n in range(served.rounds):
        original, bobs = a_tagged_photo(served, n), jpeg(size=(90, 60), color=(n * 15, 10, 220))
        ann = (other, f"r{n}/p{n}.jpg", None, {"Destination": f"/dav/r{n}/q{n}.jpg"}, "ann")
        put, theirs = at_once(served, ("PUT", f"r{n}/p{n}.jpg", bobs, {}, "bob"), ann)
        answers.append((put, theirs))
        assert put < 500 and theirs < 500, answers
        kept_with_its_words(served, n, original, [(bobs, put)])
        if other == "MOVE" and theirs in (201, 204):
            assert "ann" in json.loads(call(served, "GET", f"/item?path=r{n}/q{n}.jpg")[1])["tags"]


def test_two_puts_racing_on_one_photo_keep_every_version(served):
    for n in range(served.rounds):
        original = a_tagged_photo(served, n)
        bodies = [jpeg(size=(90, 60), color=(n * 15, 10 + 100 * who, 220)) for who in range(2)]
        statuses = at_once(served, *[("PUT", f"r{n}/p{n}.jpg", body, {}, who)
                                     for body, who in zip(bodies, ("ann", "bob"), strict=True)])
        assert all(status in (201, 204) for status in statuses), statuses
        kept_with_its_words(served, n, original, zip(bodies, statuses, strict=True))


# -- WebDAV against the API's own writes

JSON = {"Content-Type": "application/json"}
# The API's writes on round n's photo (sent by a script's token), each (method, url, body, headers).
API_WRITES = {
    "tags": lambda n: ("PATCH", f"/item?path=r{n}/p{n}.jpg", json.dumps({"addTags": ["bob"]}).encode(), JSON),
    "move": lambda n: ("POST", "/move", json.dumps({"src": f"r{n}/p{n}.jpg", "to": f"r{n}/q{n} api.jpg"}).encode(),
                       JSON),
    "trash": lambda n: ("POST", "/trash", json.dumps({"paths": [f"r{n}/p{n}.jpg"]}).encode(), JSON),
    "upload": lambda n: ("PUT", f"/file?path=r{n}/p{n}.jpg&conflict=replace", api_bytes(n), {}),
}
# WebDAV's writes on it (sent by ann's app password).
DAV_WRITES = {
    "PUT": lambda n: ("PUT", f"/dav/r{n}/p{n}.jpg", dav_bytes(n), {}),
    "MOVE": lambda n: ("MOVE", f"/dav/r{n}/p{n}.jpg", None, {"Destination": f"/dav/r{n}/q{n}.jpg"}),
    "DELETE": lambda n: ("DELETE", f"/dav/r{n}/p{n}.jpg", None, {}),
    "PROPPATCH": lambda n: ("PROPPATCH", f"/dav/r{n}/p{n}.jpg", (
        b'<?xml version="1.0"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set>'
        b"<D:prop><Z:Win32LastModifiedTime>Wed, 01 May 2024 10:00:00 GMT</Z:Win32LastModifiedTime></D:prop>"
        b"</D:set></D:propertyupdate>"), {}),
}
PAIRS = [(api, dav) for api in API_WRITES for dav in DAV_WRITES]


def api_bytes(n):
    return jpeg(size=(90, 60), color=(n * 7 % 250, 120, 10))


def dav_bytes(n):
    return jpeg(size=(90, 60), color=(n * 7 % 250, 10, 120))


def test_webdav_racing_the_apis_writes_on_one_photo_loses_nothing(served):
    answers = []
    for n in range(len(PAIRS) * (2 if served.rounds > 10 else 1)):  # every pair; twice on disk
        api, dav = PAIRS[n % len(PAIRS)]
        original = a_tagged_photo(served, n)
        statuses = race(served, API_WRITES[api](n), DAV_WRITES[dav](n))
        answers.append((api, dav, statuses))
        assert all(status < 500 for status in statuses), answers
        sent = [(api_bytes(n), statuses[0])] if api == "upload" else []
        kept_with_its_words(served, n, original, sent + ([(dav_bytes(n), statuses[1])] if dav == "PUT" else []))
        if api == "tags" and statuses[0] == 200:  # bob's tag is on a photo someone can find
            assert any("bob" in tags for copies in photos_of_round(served, n).values() for tags in copies), answers
