"""A state root (LENSLET_STATE): a full day of lenslet through gunicorn and its worker on a library that is
only read. Every file and folder of the library is hashed (and timed) before and after: byte for byte the
same, nothing added, and every tag still on its image, even after another program renamed and moved photos."""

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from helpers import PROJECT, Gunicorn, draw, wait_until

from lenslet import cli

pytestmark = pytest.mark.system

XMP = """<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>from-digikam</rdf:li>
</rdf:Bag></dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"""


def library_as_it_is(library):
    """{path: (kind, sha256 of the bytes, mtime)} of every file and folder below the library."""
    found = {}
    for folder, dirs, files in os.walk(library):
        for name in dirs + files:
            path = os.path.join(folder, name)
            st = os.lstat(path)
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest() if name in files else None
            found[os.path.relpath(path, library)] = ("file" if name in files else "folder", digest, st.st_mtime_ns)
    return found


def read_only(library, writable=False):
    """chmod every folder and file of the library read-only (or back): a stray write fails loudly (for anyone
    but root, whom the before-and-after hashes catch)."""
    for folder, _, files in os.walk(library):
        os.chmod(folder, 0o755 if writable else 0o555)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644 if writable else 0o444)


def lenslet(*args, env):
    done = subprocess.run([sys.executable, "-m", "lenslet.cli", *map(str, args)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=120, env=dict(os.environ, **env))
    assert done.returncode == 0, done.stderr
    return done.stdout


def add_user(users, name, role, folders):
    """`lenslet user add` run in this process (tests/system/test_users_cli.py runs it as a command): its token."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert not cli.main(["user", "--file", str(users), "add", name, "--role", role, "--folders", folders])
    return printed.getvalue().strip()


class Asker:
    """HTTP to the server as one person (a bearer token) or through a share link."""

    def __init__(self, url, token=None, share=None):
        self.url, self.headers = url, {}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        if share:
            self.headers["X-Lenslet-Share"] = share

    def __call__(self, method, path, body=None):
        request = urllib.request.Request(self.url + path, method=method, headers=dict(self.headers),
                                         data=json.dumps(body).encode() if body is not None else None)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        try:
            # A bound on a request that fails, not a speed: an edit on S3 took 20 s with other work on the cores.
            with urllib.request.urlopen(request, timeout=60) as answer:
                data = answer.read()
                status = answer.status
        except urllib.error.HTTPError as ex:
            data, status = ex.read(), ex.code
        return status, (json.loads(data) if data[:1] in (b"{", b"[") else data)


def test_a_full_day_leaves_the_library_byte_for_byte_as_it_was(tmp_path):
    library, state, users = tmp_path / "library", tmp_path / "state", tmp_path / "users.json"
    for name, color in (("a", (200, 30, 30)), ("b", (30, 200, 30)), ("c", (30, 30, 200))):
        draw(library / "trips" / f"{name}.jpg", size=(400, 300), color=color)
    draw(library / "home" / "cat.jpg", size=(300, 400), color=(90, 90, 90))
    draw(library / "home" / "dog.png", size=(64, 64), color=(10, 120, 200))
    draw(library / "trips" / "day2" / "d.jpg", size=(64, 64), color=(250, 250, 0))
    (library / "home" / "cat.jpg.xmp").write_text(XMP)  # another tool's, beside its photo
    draw(library / "export.json" / "e.jpg", size=(64, 64), color=(0, 90, 0))  # a folder named like lenslet's file
    os.symlink("trips", library / "best")  # a folder link inside the library
    env = {"LENSLET_ROOT": str(library), "LENSLET_STATE": str(state), "LENSLET_USERS": str(users)}
    admin, scoped = add_user(users, "ann", "admin", ""), add_user(users, "bob", "edit", "home")
    before = library_as_it_is(library)
    read_only(library)
    server = Gunicorn(library, env=dict(env, LENSLET_SCAN_INTERVAL="0.2", LENSLET_THUMB_INLINE="0"))
    try:
        ann, bob = Asker(server.url, admin), Asker(server.url, scoped)
        server.wait_until(lambda: ann("GET", "/health")[1]["worker"]["alive"], timeout=60)
        # Browse, thumbnails (made by the worker: none inline), previews.
        assert {d["name"] for d in ann("GET", "/folders?path=")[1]["dirs"]} == {"trips", "home", "export.json", "best"}
        assert [i["name"] for i in ann("GET", "/folders?path=trips")[1]["items"]] == ["a.jpg", "b.jpg", "c.jpg"]
        for path in ("trips/a.jpg", "trips/b.jpg", "home/cat.jpg"):
            wait_until(lambda path=path: ann("GET", f"/thumb?path={path}")[0] == 200, timeout=60)
            preview = wait_until(lambda path=path: (lambda answer: answer[0] == 200 and answer[1])(
                ann("GET", f"/preview?path={path}")), timeout=60)
            assert preview[:4] == b"RIFF"
        # Tag, star, notes; another tool's XMP read.
        assert ann("PATCH", "/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 4, "notes": "first day"})[0] == 200
        assert ann("PATCH", "/item?path=trips/b.jpg", {"addTags": ["boat"]})[0] == 200
        assert bob("PATCH", "/item?path=home/dog.png", {"addTags": ["dog"]})[0] == 200
        assert ann("PATCH", "/item?path=trips/day2/d.jpg", {"addTags": ["yellow"]})[0] == 200
        assert "from-digikam" in ann("GET", "/item?path=home/cat.jpg")[1]["tags"]
        assert ann("PATCH", "/item?path=best/c.jpg", {"addTags": ["through the link"]})[0] == 200
        assert ann("GET", "/item?path=trips/c.jpg")[1]["tags"] == ["through the link"]
        assert ann("PATCH", "/item?path=export.json/e.jpg", {"addTags": ["green"]})[0] == 200
        found = wait_until(lambda: ann("GET", "/search?q=green")[1]["items"], timeout=60)
        assert [item["path"] for item in found] == ["export.json/e.jpg"]
        # Search.
        found = wait_until(lambda: ann("GET", "/search?q=sea")[1]["items"], timeout=60)
        # (a folder reached by two paths is indexed once, under the one walked first, as beside the images)
        assert [item["path"] for item in found] in (["trips/a.jpg"], ["best/a.jpg"])
        # A share link, and a person who sees one folder only.
        status, share = ann("POST", "/shares", {"path": "trips", "expires": "2d"})
        assert status == 201
        shared = Asker(server.url, share=share["key"])
        assert [i["name"] for i in shared("GET", "/folders?path=trips")[1]["items"]] == ["a.jpg", "b.jpg", "c.jpg"]
        assert shared("GET", "/folders?path=home")[0] == 404
        assert [d["name"] for d in bob("GET", "/folders?path=")[1]["dirs"]] == ["home"]
        assert bob("GET", "/item?path=trips/a.jpg")[0] == 404
        # File operations answer 403 and change nothing.
        assert ann("POST", "/folder", {"path": "new"})[0] == 403
        assert ann("POST", "/trash", {"paths": ["trips/c.jpg"]})[0] == 403
        assert ann("POST", "/move", {"paths": ["trips/c.jpg"], "to": "home"})[0] == 403
        # Another program renames one photo and moves another: their metadata follows them by content.
        read_only(library, writable=True)
        os.rename(library / "trips" / "a.jpg", library / "trips" / "a-renamed.jpg")
        os.rename(library / "trips" / "b.jpg", library / "home" / "b.jpg")
        os.rename(library / "trips" / "day2", library / "trips" / "second day")
        moved = library_as_it_is(library)
        read_only(library)
        wait_until(lambda: "sea" in ann("GET", "/item?path=trips/a-renamed.jpg")[1]["tags"], timeout=60)
        wait_until(lambda: "boat" in ann("GET", "/item?path=home/b.jpg")[1]["tags"], timeout=60)
        wait_until(lambda: "yellow" in ann("GET", "/item?path=trips/second%20day/d.jpg")[1]["tags"], timeout=60)
        item = ann("GET", "/item?path=trips/a-renamed.jpg")[1]
        assert (item["star"], item["notes"]) == (4, "first day")
    finally:
        server.stop()
        read_only(library, writable=True)
    assert library_as_it_is(library) == moved
    # lenslet clean (both layouts known): the state root is cleaned, the library stays as it is, and what
    # people wrote stays in the state root.
    read_only(library)
    try:
        lenslet("clean", library, env=env)
    finally:
        read_only(library, writable=True)
    assert library_as_it_is(library) == moved
    assert not list(state.rglob("*.thumbnail")) and not list(state.rglob("_index*.json"))
    assert not (state / "trips" / "day2").exists()  # the folder another program renamed: re-attached, then swept
    assert json.loads((state / "trips" / "a-renamed.jpg.json").read_text())["tags"] == ["sea"]
    assert json.loads((state / "home" / "dog.png.json").read_text())["tags"] == ["dog"]
    assert json.loads((state / "trips" / "c.jpg.json").read_text())["tags"] == ["through the link"]
    assert json.loads((state / "export.json" / "e.jpg.json").read_text())["tags"] == ["green"]
    assert {path for path in before if path not in moved} == {"trips/a.jpg", "trips/b.jpg", "trips/day2",
                                                                     "trips/day2/d.jpg"}
