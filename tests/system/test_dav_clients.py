"""Real WebDAV clients through gunicorn with two web processes, on disk and on S3: Debian's rclone (copy, a re-run
that sends nothing, check, sync, move, delete) and curl for every method, signed in with an app password."""

import shutil
import subprocess
import urllib.request
import uuid

import pytest
from helpers import Gunicorn, jpeg, s3_client

from lenslet.people.users import Directory

pytestmark = pytest.mark.skipif(shutil.which("rclone") is None or shutil.which("curl") is None,
                                reason="needs Debian's rclone and curl (.ci/run installs rclone)")


def shared_server(request, tmp_path, env):
    """gunicorn on a fresh tree (request.param "local") or bucket ("s3") for a module's tests, each working in folders
    of its own; server.put(path, data) puts a file there as another program would, server.tree is the tree on disk."""
    tree = tmp_path / "tree"
    tree.mkdir()
    if request.param == "s3":
        endpoint, bucket = request.getfixturevalue("s3_endpoint"), f"lenslet-{uuid.uuid4().hex[:12]}"
        s3_client(endpoint).create_bucket(Bucket=bucket)
        env = dict(env, LENSLET_S3_BUCKET=bucket, LENSLET_S3_PREFIX="photos", LENSLET_S3_ENDPOINT=endpoint,
                   LENSLET_S3_REGION="us-east-1", LENSLET_CACHE_DIR=str(tmp_path / "cache"))
    server = Gunicorn(tree, env=env)
    server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
    server.tree = tree if request.param == "local" else None

    def put(path, data):
        if server.tree is None:
            s3_client(endpoint).put_object(Bucket=bucket, Key=f"photos/{path}", Body=data)
        else:
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_bytes(data)
    server.put = put
    return server


def rclone_server(request, tmp_path, env=None):
    """shared_server with mum, an admin signing in with an app password, and rclone set up to use it."""
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "admin", [""], password="mum's sign-in password")
    password = directory.add_app_password(directory.users()["mum"], "rclone", 1.0)[1]
    server = shared_server(request, tmp_path, {"LENSLET_USERS": directory.path, **(env or {})})
    obscured = subprocess.run(["rclone", "obscure", "-"], input=password, capture_output=True, text=True,
                              check=True).stdout
    (tmp_path / "rclone.conf").write_text(
        f"[lenslet]\ntype = webdav\nurl = {server.url}/dav/\nvendor = other\nuser = mum\npass = {obscured.strip()}\n")
    server.password, server.backend, server.directory = password, request.param, directory
    server.rclone = lambda *args: subprocess.run(
        ["rclone", "--config", str(tmp_path / "rclone.conf"), "--retries", "1", "--low-level-retries", "1", *args],
        capture_output=True, text=True, timeout=120)
    return server


@pytest.fixture(scope="module", params=["local", "s3"])
def served(request, tmp_path_factory):
    server = rclone_server(request, tmp_path_factory.mktemp("dav-clients"))
    yield server
    server.stop_soon()


def dav(server, method, path, *curl_args):
    """Run curl against /dav; return (status, body)."""
    done = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-u", f"mum:{server.password}",
                           "-X", method, *curl_args, f"{server.url}/dav/{path}"],
                          capture_output=True, timeout=60, check=True)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def names_in(server, folder):
    _, body = dav(server, "PROPFIND", folder + "/", "-H", "Depth: 1")
    hrefs = [part.split(b"</D:href>")[0].decode() for part in body.split(b"<D:href>")[1:]]
    return sorted(href.rpartition("/")[2] for href in hrefs if not href.endswith("/"))


def photos(folder, count, shade=0):
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (folder / f"IMG_{n:04d}.jpg").write_bytes(jpeg(size=(120, 90), color=(shade, 20 * n, 100)))


def test_rclone_copies_checks_syncs_moves_and_deletes(served, tmp_path):
    camera = tmp_path / "camera"
    photos(camera, 4)
    copied = served.rclone("copy", str(camera), "lenslet:phone/2024", "-v")
    assert copied.returncode == 0, copied.stderr
    # rclone's last PUT may be answered while its listing entry waits in another PUT's batch (test_camera_roll.py)
    served.wait_until(lambda: names_in(served, "phone/2024") == sorted(p.name for p in camera.iterdir()))
    _, body = dav(served, "GET", "phone/2024/IMG_0001.jpg")
    assert body == (camera / "IMG_0001.jpg").read_bytes()

    again = served.rclone("copy", str(camera), "lenslet:phone/2024", "-v")
    assert again.returncode == 0 and "Copied" not in again.stderr, again.stderr
    checked = served.rclone("check", str(camera), "lenslet:phone/2024")
    assert checked.returncode == 0, checked.stderr

    (camera / "IMG_0000.jpg").write_bytes(jpeg(size=(130, 90), color=(250, 250, 0)))
    (camera / "IMG_0003.jpg").unlink()
    synced = served.rclone("sync", str(camera), "lenslet:phone/2024", "-v")
    assert synced.returncode == 0, synced.stderr
    assert names_in(served, "phone/2024") == [f"IMG_{n:04d}.jpg" for n in range(3)]
    assert dav(served, "GET", "phone/2024/IMG_0000.jpg")[1] == (camera / "IMG_0000.jpg").read_bytes()
    request = urllib.request.Request(f"{served.url}/dav/_trash_/", method="PROPFIND", headers={"Depth": "1"})
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(request, timeout=10)  # the trash is not shown over WebDAV, and needs a password

    scans = tmp_path / "scans"
    photos(scans, 2, shade=200)
    moved = served.rclone("move", str(scans), "lenslet:phone/scans")
    assert moved.returncode == 0, moved.stderr
    assert list(scans.iterdir()) == [] and len(names_in(served, "phone/scans")) == 2
    deleted = served.rclone("delete", "lenslet:phone/scans")
    assert deleted.returncode == 0, deleted.stderr
    assert names_in(served, "phone/scans") == []

    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "list.txt").write_text("not a photo")
    refused = served.rclone("copy", str(tmp_path / "notes"), "lenslet:phone/2024")
    assert refused.returncode != 0 and "list.txt" not in names_in(served, "phone/2024")


def test_curl_for_every_method(served, tmp_path):
    photo = tmp_path / "a.jpg"
    photo.write_bytes(jpeg(size=(100, 80), color=(10, 200, 30)))
    assert dav(served, "OPTIONS", "")[0] == 200
    assert dav(served, "MKCOL", "desk")[0] == 201
    assert dav(served, "PUT", "desk/a.jpg", "-T", str(photo))[0] == 201
    assert dav(served, "PUT", "desk/a.jpg", "-T", str(photo))[0] == 204
    status, body = dav(served, "PROPFIND", "desk/", "-H", "Depth: 1")
    assert status == 207 and b"/dav/desk/a.jpg" in body and b".thumbnail" not in body
    assert dav(served, "GET", "desk/a.jpg")[1] == photo.read_bytes()
    assert dav(served, "HEAD", "desk/a.jpg", "-I")[0] == 200
    assert dav(served, "COPY", "desk/a.jpg", "-H", f"Destination: {served.url}/dav/desk/b.jpg")[0] == 201
    assert dav(served, "MOVE", "desk/b.jpg", "-H", "Destination: /dav/desk/c.jpg")[0] == 201
    status, body = dav(served, "LOCK", "desk/c.jpg", "-H", "Timeout: Second-60", "--data-binary",
                       '<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope>'
                       "<D:locktype><D:write/></D:locktype><D:owner>curl</D:owner></D:lockinfo>")
    assert status == 200
    token = body.split(b"<D:locktoken><D:href>")[1].split(b"<")[0].decode()
    assert dav(served, "DELETE", "desk/c.jpg")[0] == 423
    assert dav(served, "PROPPATCH", "desk/c.jpg", "-H", f"If: (<{token}>)", "--data-binary",
               '<D:propertyupdate xmlns:D="DAV:"><D:set><D:prop><D:displayname>x</D:displayname></D:prop></D:set>'
               "</D:propertyupdate>")[0] == 207
    assert dav(served, "UNLOCK", "desk/c.jpg", "-H", f"Lock-Token: <{token}>")[0] == 204
    assert dav(served, "DELETE", "desk/c.jpg")[0] == 204
    assert names_in(served, "desk") == ["a.jpg"]
    wrong = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "mum:mum's sign-in password",
                            "-X", "PROPFIND", "-H", "Depth: 0", f"{served.url}/dav/"], capture_output=True, text=True)
    assert wrong.stdout == "401"


def test_a_folder_just_filled_is_purged_at_once(served, tmp_path):
    camera = tmp_path / "camera"
    photos(camera, 4)  # enough that the worker is still making their thumbnails when most purges begin
    for n in range(20 if served.backend == "local" else 2):  # on S3 it had made none yet in 8 of 8 rounds
        copied = served.rclone("copy", str(camera), f"lenslet:fill/{n}")
        assert copied.returncode == 0, copied.stderr
        purged = served.rclone("purge", f"lenslet:fill/{n}")
        assert purged.returncode == 0, (n, purged.stderr)
        assert dav(served, "PROPFIND", f"fill/{n}/", "-H", "Depth: 0")[0] == 404
    assert names_in(served, "fill") == []
