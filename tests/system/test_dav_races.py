"""Two people writing one photo over WebDAV at once, through gunicorn with two web processes, on disk and on S3:
a PUT racing a MOVE, a DELETE or another PUT never destroys a photo, a refused write leaves nothing behind, and a
photo's words (tags) stay with its bytes, wherever they end up (the photo's name, the move's target, the trash)."""

import base64
import itertools
import json
import re
import threading
import urllib.error
import urllib.request
from urllib.parse import quote

import pytest
from helpers import jpeg, wait_until
from test_dav_clients import shared_server

from lenslet.images.pillow import content_hash
from lenslet.people.users import Directory

# On S3 the two writes of a round meet on the image's lock (its lease) every time: a few rounds show it.
ROUNDS = {"local": 15, "s3": 3}
NEXT = itertools.count()  # the module's tests share a server: each round has a folder and names of its own


@pytest.fixture(scope="module", params=["local", "s3"])
def served(request, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("races")
    users = tmp_path / "users.json"
    directory = Directory(str(users))
    for name in ("ann", "bob"):
        directory.add(name, "admin", [""], password=f"{name}'s sign-in password")
    basic = {name: "Basic " + base64.b64encode(
        f"{name}:{directory.add_app_password(directory.users()[name], 'Phone', 1.0)[1]}".encode()).decode()
        for name in ("ann", "bob")}
    server = shared_server(request, tmp_path, {"LENSLET_USERS": str(users)})
    server.rounds, server.basic = ROUNDS[request.param], basic
    server.api = "Bearer " + directory.add("script", "admin", [""])
    yield server
    server.stop_soon()


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


def photos_of_rounds(server, rounds):
    """{n: {bytes: [tags of each copy]}} of each round's photos, in its folder and in the trash; each copy's hash is
    its own, and on disk the folders hold exactly the photos listed."""
    found, trash = {n: {} for n in rounds}, listed(server, "_trash_")
    for n in rounds:
        for where, names in ((f"r{n}", listed(server, f"r{n}")), ("_trash_", trash)):
            names = [name for name in names if re.match(rf"[pq]{n}[. ]", name)]
            if server.tree is not None:
                kept = sorted(file.name for file in (server.tree / where).glob("*.jpg")
                              if re.match(rf"[pq]{n}[. ]", file.name))
                assert sorted(names) == kept, (n, where, "listed", names, "on disk", kept)
            for name in names:
                path = f"{where}/{name}"
                data = call(server, "GET", f"/file?path={quote(path)}")[1]
                item = json.loads(call(server, "GET", f"/item?path={quote(path)}")[1])
                assert item.get("hash") in (None, content_hash(data)), (n, path, item)
                found[n].setdefault(data, []).append(item.get("tags", []))
    return found


def a_tagged_photo(server, n):
    """Ann's photo r{n}/p{n}.jpg with her tag, put there with its sidecar as lenslet writes them; return its bytes."""
    original = jpeg(size=(90 + n, 60), color=(200, 200, 40))  # each round's bytes its own
    sidecar = {"v": 1, "tags": ["ann"], "notes": "", "star": None, "exif": {}, "hash": content_hash(original),
               "updatedAt": "2026-05-01T10:00:00.000Z", "updatedBy": "ann"}
    server.put(f"r{n}/p{n}.jpg", original)
    server.put(f"r{n}/p{n}.jpg.json", json.dumps(sidecar).encode())
    return original


def rounds(server, count):
    """count rounds, each with its tagged photo: [(n, its bytes)]."""
    return [(n, a_tagged_photo(server, n)) for n in itertools.islice(NEXT, count)]


def kept_with_its_words(found, n, original, sent):
    """The original is still somewhere with its tag; each body sent is kept exactly when its PUT was taken."""
    assert original in found and all("ann" in tags for tags in found[original]), (n, found.values())
    for body, status in sent:
        assert (body in found) == (status in (201, 204)), (n, status)


@pytest.mark.parametrize("other", ["MOVE", "DELETE"])
def test_a_put_racing_a_move_or_a_delete_destroys_nothing(served, other):
    answers, sent = [], {}
    for n, original in rounds(served, served.rounds):
        bobs = jpeg(size=(90 + n, 60), color=(10, 10, 220))
        ann = (other, f"r{n}/p{n}.jpg", None, {"Destination": f"/dav/r{n}/q{n}.jpg"}, "ann")
        put, theirs = at_once(served, ("PUT", f"r{n}/p{n}.jpg", bobs, {}, "bob"), ann)
        answers.append((put, theirs))
        assert put < 500 and theirs < 500, answers
        sent[n] = original, [(bobs, put)], theirs
    found = photos_of_rounds(served, sent)
    for n, (original, bodies, theirs) in sent.items():
        kept_with_its_words(found[n], n, original, bodies)
        if other == "MOVE" and theirs in (201, 204):
            assert "ann" in json.loads(call(served, "GET", f"/item?path=r{n}/q{n}.jpg")[1])["tags"]


def test_two_puts_racing_on_one_photo_keep_every_version(served):
    sent = {}
    for n, original in rounds(served, served.rounds):
        bodies = [jpeg(size=(90 + n, 60), color=(10, 10 + 100 * who, 220)) for who in range(2)]
        statuses = at_once(served, *[("PUT", f"r{n}/p{n}.jpg", body, {}, who)
                                     for body, who in zip(bodies, ("ann", "bob"), strict=True)])
        assert all(status in (201, 204) for status in statuses), statuses
        sent[n] = original, list(zip(bodies, statuses, strict=True))
    found = photos_of_rounds(served, sent)
    for n, (original, bodies) in sent.items():
        kept_with_its_words(found[n], n, original, bodies)


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
# Each pair of the steps the two doors share once: an edit, a move, a trash and a replace (WebDAV's MOVE, DELETE and
# PUT are the API's move, trash and replace; PROPPATCH only reads) against each other. A replace against a move or
# a trash is the PUT racing a MOVE or a DELETE above.
PAIRS = [("tags", "PUT"), ("tags", "MOVE"), ("tags", "DELETE"), ("move", "MOVE"), ("move", "DELETE"),
         ("move", "PROPPATCH"), ("trash", "DELETE"), ("upload", "PUT")]


def api_bytes(n):
    return jpeg(size=(90 + n, 60), color=(250, 120, 10))


def dav_bytes(n):
    return jpeg(size=(90 + n, 60), color=(250, 10, 120))


def test_webdav_racing_the_apis_writes_on_one_photo_loses_nothing(served):
    answers, sent, pairs = [], {}, PAIRS * (2 if served.tree is not None else 1)  # twice on disk
    for (n, original), (api, dav) in zip(rounds(served, len(pairs)), pairs, strict=True):
        statuses = race(served, API_WRITES[api](n), DAV_WRITES[dav](n))
        answers.append((api, dav, statuses))
        assert all(status < 500 for status in statuses), answers
        sent[n] = original, api, dav, statuses
    found = photos_of_rounds(served, sent)
    for n, (original, api, dav, statuses) in sent.items():
        bodies = [(api_bytes(n), statuses[0])] if api == "upload" else []
        kept_with_its_words(found[n], n, original, bodies + ([(dav_bytes(n), statuses[1])] if dav == "PUT" else []))
        if api == "tags" and statuses[0] == 200:  # bob's tag is on a photo someone can find
            assert any("bob" in tags for copies in found[n].values() for tags in copies), answers
