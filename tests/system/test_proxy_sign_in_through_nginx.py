"""Signing in through a proxy as install-and-upgrade.md sets it up: real nginx runs the doc's `auth_request` block
against a small sign-in service on loopback, in front of gunicorn with two web processes. The person the service
names is let in with their folders; a Remote-User sent by a browser, or sent straight to lenslet from anywhere but
nginx (a forged X-Forwarded-For too), opens nothing; the page's Sign out says to sign out at the service."""

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from helpers import free_port, jpeg

from lenslet.people.users import Directory

pytestmark = [pytest.mark.system,
              pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")]

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "docs", "install-and-upgrade.md")
KEYS = {"ann-key": "ann", "eve-key": "eve"}  # the sign-in service's cookies and whom they name


class SignInService(BaseHTTPRequestHandler):
    """Answer nginx's auth_request: 200 and Remote-User for a known `auth` cookie, else 401."""

    def do_GET(self):
        cookie = re.search(r"auth=([\w-]+)", self.headers.get("Cookie") or "")
        name = KEYS.get(cookie.group(1)) if cookie else None
        self.send_response(200 if name else 401)
        if name:
            self.send_header("Remote-User", name)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def through_nginx(tree, tmp_path, gunicorn):
    (tree / "family").mkdir()
    (tree / "family" / "a.jpg").write_bytes(jpeg())
    (tree / "work").mkdir()
    (tree / "work" / "b.jpg").write_bytes(jpeg())
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("ann", "edit", ["family"], password="ann's sign-in password")
    directory.add("mum", "admin", [""], password="mum's sign-in password")
    server = gunicorn(env={"LENSLET_USERS": directory.path, "LENSLET_PROXY_USER_HEADER": "Remote-User",
                           "LENSLET_PROXY_ADDRESSES": "127.0.0.1"})
    service = ThreadingHTTPServer(("127.0.0.1", 0), SignInService)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    block = re.search(r"```nginx\n# sign-in through a proxy\n(.*?)```", open(DOC).read(), re.S).group(1)
    block = block.replace("http://127.0.0.1:9091/api/authz/auth-request", f"http://127.0.0.1:{service.server_port}/")
    port = free_port()
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
        f" access_log off;\n upstream lenslet {{ server 127.0.0.1:{server.port}; }}\n"
        f" server {{\n listen 127.0.0.1:{port};\n {block}\n }}\n}}\n")
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    server.url_through_nginx = f"http://127.0.0.1:{port}"
    server.directory, server.tree = directory, tree
    server.wait_until(lambda: server.get("/health")[0] == 200)
    server.wait_until(lambda: fetch(server.url_through_nginx + "/me", "ann-key")[0] == 200)
    yield server
    nginx.send_signal(signal.SIGTERM)  # fast: a browser keeps connections open that a graceful stop waits for
    nginx.wait(10)
    service.shutdown()


def fetch(url, key=None, headers=None, method="GET", body=None):
    headers = {**({"Cookie": f"auth={key}"} if key else {}), **(headers or {})}
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


def straight_to_lenslet(server, path, headers, source="127.0.0.2"):
    """A request to gunicorn itself from another address than nginx's (another host on the network)."""
    connection = HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=(source, 0))
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_the_person_the_sign_in_service_names_sees_their_folders(through_nginx):
    url = through_nginx.url_through_nginx
    status, body = fetch(url + "/me", "ann-key")
    assert status == 200 and json.loads(body)["name"] == "ann" and json.loads(body)["proxy"] is True
    assert fetch(url + "/thumb?path=family/a.jpg", "ann-key")[0] == 200
    assert fetch(url + "/thumb?path=work/b.jpg", "ann-key")[0] == 404


def test_a_remote_user_the_browser_sends_never_reaches_lenslet(through_nginx):
    url = through_nginx.url_through_nginx
    assert fetch(url + "/me", headers={"Remote-User": "mum"})[0] == 401  # the service says no: nginx stops it
    status, body = fetch(url + "/me", "ann-key", headers={"Remote-User": "mum"})
    assert status == 200 and json.loads(body)["name"] == "ann"
    assert fetch(url + "/me", "eve-key")[0] == 403  # a name lenslet does not know
    status, body = fetch(url + "/dav/", headers={"Remote-User": "mum"}, method="PROPFIND")
    assert status == 401 and b"app password" in body  # WebDAV asks lenslet's own question, not the service's


def test_a_double_slash_is_no_way_past_the_webdav_door(through_nginx):
    url = through_nginx.url_through_nginx
    bearer = {"Authorization": "Bearer " + through_nginx.directory.add("script", "admin", [""]), "Depth": "0"}
    for method, path in (("PROPFIND", "//dav/family/"), ("GET", "//dav/family/a.jpg"), ("PUT", "//dav/family/b.jpg")):
        for key in ("ann-key", None):
            status, body = fetch(url + path, key, bearer, method, jpeg() if method == "PUT" else None)
            assert status == 400 and json.loads(body)["description"], (method, path)
    assert fetch(url + "/dav/family/", None, bearer, "PROPFIND")[0] == 401  # WebDAV takes app passwords only
    assert not (through_nginx.tree / "family" / "b.jpg").exists()


@pytest.mark.parametrize("headers", [{"Remote-User": "mum"},
                                     {"Remote-User": "mum", "X-Forwarded-For": "127.0.0.1"}])
def test_the_header_sent_to_lenslet_from_elsewhere_opens_nothing(through_nginx, headers):
    assert straight_to_lenslet(through_nginx, "/me", headers)[0] == 401
    assert straight_to_lenslet(through_nginx, "/folders?path=work", headers)[0] == 401
    # From nginx's own address the header is believed: what tells the two apart is the address alone.
    assert straight_to_lenslet(through_nginx, "/folders?path=work", headers, source="127.0.0.1")[0] == 200


def test_writes_through_the_proxy_come_from_the_gallery_s_page_only(through_nginx):
    url, patch = through_nginx.url_through_nginx, json.dumps({"addTags": ["beach"]}).encode()
    json_body = {"Content-Type": "application/json"}
    assert fetch(url + "/item?path=family/a.jpg", "ann-key", {**json_body, "Origin": "https://evil.example"},
                 "PATCH", patch)[0] == 403
    assert fetch(url + "/item?path=family/a.jpg", "ann-key", {**json_body, "Origin": url}, "PATCH", patch)[0] == 200
    status, body = fetch(url + "/item?path=family/a.jpg", "ann-key")
    assert json.loads(body)["tags"] == ["beach"]


def test_the_page_says_to_sign_out_at_the_sign_in_service(through_nginx, browser):
    url = through_nginx.url_through_nginx
    browser.get(url + "/health")  # nginx's 401 page: this origin, to give the cookie to
    browser.add_cookie({"name": "auth", "value": "ann-key", "path": "/"})
    browser.get(url + "/")
    who = lambda: browser.execute_script("return document.querySelector('#me .who').textContent")  # noqa: E731
    wait(lambda: who() == "ann (edit)")
    browser.execute_script("document.querySelector('#sign-out').click()")
    wait(lambda: "Sign out at your sign-in service" in who())
    browser.get(url + "/")
    wait(lambda: who() == "ann (edit)")  # still signed in: only the service signs out
    browser.delete_all_cookies()


def wait(check):
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(None, 15, 0.1).until(lambda _: check())
