"""lenslet behind nginx with the proxy_cache of install-and-upgrade.md ("Behind nginx", the cache): a
private gallery's thumbnail is never handed to a request without the credential (it is never stored: its
answer says private), an open gallery's is served from the cache, and nginx sends thumbnails, previews
and originals under LENSLET_ACCEL_REDIRECT; an upload past the limit is answered 413, never 502. Real nginx and
gunicorn on loopback ports."""

import json
import os
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request

import pytest
from helpers import free_port, jpeg

pytestmark = [pytest.mark.system,
              pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")]

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docs", "install-and-upgrade.md")


def documented(name):
    """A ```nginx block of the doc whose first line is `# name`."""
    blocks = re.findall(r"```nginx\n(.*?)```", open(DOC).read(), re.S)
    return next(block for block in blocks if block.startswith(f"# {name}\n"))


def install_guide_nginx(folder, tree, upstream):
    """Start nginx as the install guide sets it up (its cache and site blocks, written in folder) in front of
    gunicorn's port upstream serving tree: (its process, its address)."""
    port = free_port()
    conf = (documented("the cache").replace("/var/cache/nginx/lenslet", str(folder / "cache"))
            + documented("the site").replace("listen 80;", f"listen 127.0.0.1:{port};")
            .replace("server 127.0.0.1:7070;", f"server 127.0.0.1:{upstream};")
            .replace("/srv/photos/", f"{tree}/"))
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")  # nginx's workers would be nobody, who cannot read folder
        + f"daemon off; pid {folder}/nginx.pid; error_log {folder}/error.log;\n"
        f"events {{}}\nhttp {{\n include /etc/nginx/mime.types;\n access_log off;\n {conf}\n}}\n")
    process = subprocess.Popen(["nginx", "-p", str(folder), "-c", str(folder / "nginx.conf")])
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture
def behind_nginx(tree, tmp_path, gunicorn):
    (tree / "family").mkdir()
    (tree / "family" / "a.jpg").write_bytes(jpeg(size=(300, 200)))
    started = []

    def start(**env):
        server = gunicorn(env={"LENSLET_ACCEL_REDIRECT": "/_originals/", **env})
        server.wait_until(lambda: server.get("/health")[0] == 200)
        process, url = install_guide_nginx(tmp_path, tree, server.port)
        started.append(process)
        server.wait_until(lambda: fetch(url + "/health")[0] == 200)
        return url

    yield start
    for process in started:
        process.send_signal(signal.SIGQUIT)
        process.wait(10)


def fetch(url, headers=None):
    request = urllib.request.Request(url, headers={"Host": "127.0.0.1", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read(), answer.headers  # (names in any case)
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read(), ex.headers


@pytest.mark.parametrize("accel", ["", "/_originals/"], ids=["lenslet sends", "nginx sends"])
def test_a_private_gallerys_thumbnail_is_never_handed_to_a_request_without_the_token(behind_nginx, accel):
    url = behind_nginx(LENSLET_TOKEN="s3cret-token-0123456789", LENSLET_TOKEN_READS="true",
                       LENSLET_ACCEL_REDIRECT=accel)
    token = {"Authorization": "Bearer s3cret-token-0123456789"}
    for _ in range(3):
        status, body, headers = fetch(url + "/thumb?path=family/a.jpg", token)
        assert status == 200 and body[:4] == b"RIFF" and headers["Content-Type"] == "image/webp"
        assert headers["Cache-Control"] == "private, max-age=3600"
        assert headers.get("X-Cache") != "HIT"  # never stored
    for path in ("/thumb?path=family/a.jpg", "/preview?path=family/a.jpg", "/file?path=family/a.jpg"):
        assert fetch(url + path)[0] == 401


def test_an_open_gallerys_thumbnail_is_served_from_the_cache(behind_nginx):
    url = behind_nginx(LENSLET_ACCEL_REDIRECT="")
    first = fetch(url + "/thumb?path=family/a.jpg")
    second = fetch(url + "/thumb?path=family/a.jpg")
    assert first[0] == second[0] == 200 and first[1] == second[1] and first[1][:4] == b"RIFF"
    assert second[2]["X-Cache"] == "HIT" and second[2]["Cache-Control"] == "public, max-age=3600"


def test_nginx_sends_thumbnails_previews_and_originals_with_lenslets_caching(behind_nginx, tree):
    url = behind_nginx()
    listing = fetch(url + "/folders?path=family")[1]
    item = json.loads(listing)["items"][0]
    settings = json.loads(fetch(url + "/health")[1])["imageSettings"]
    v = f"{item['size']:x}-{int(item['mtime'] * 1_000_000):x}-{settings['thumb']}"
    status, body, headers = fetch(url + f"/thumb?path=family/a.jpg&v={v}")
    assert status == 200 and body == (tree / "family" / "a.jpg.thumbnail").read_bytes()
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable" and headers["Content-Type"] == "image/webp"
    preview = fetch(url + "/preview?path=family/a.jpg")
    assert preview[0] == 200 and preview[1][:4] == b"RIFF" and preview[2]["Content-Type"] == "image/webp"
    original = fetch(url + "/file?path=family/a.jpg")
    assert original[0] == 200 and original[1] == jpeg(size=(300, 200))


def test_text_arrives_gzipped_and_photos_as_they_are(behind_nginx):
    url = behind_nginx(LENSLET_ACCEL_REDIRECT="")
    gzip = {"Accept-Encoding": "gzip"}
    for path in ("/static/main.js", "/folders?path=family", "/openapi.json"):
        headers = fetch(url + path, gzip)[2]
        assert headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in headers["Vary"], path
    for path in ("/file?path=family/a.jpg", "/thumb?path=family/a.jpg"):
        assert "Content-Encoding" not in fetch(url + path, gzip)[2], path


def test_an_upload_past_the_limit_is_answered_413_not_502(behind_nginx, tree, tmp_path):
    """nginx sends gunicorn the whole body; lenslet answers 413 before reading it. Were the rest left unread, the
    socket's reset would reach nginx before the answer, some of the time, and the client would get a 502."""
    url = behind_nginx(LENSLET_TOKEN="the token", LENSLET_MAX_UPLOAD="60000", LENSLET_MAX_VIDEO_UPLOAD="60000")
    (tmp_path / "huge.jpg").write_bytes(bytes(20_000_000))
    answers = [subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                               "Authorization: Bearer the token", "-F", "dest=/family", "-F",
                               f"file=@{tmp_path / 'huge.jpg'}", url + "/file"], capture_output=True, timeout=60).stdout
               for _ in range(10)]
    assert answers == [b"413"] * 10
    assert not list(tree.rglob("huge*"))
