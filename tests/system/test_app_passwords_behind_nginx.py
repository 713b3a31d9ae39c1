"""An app password crosses a network only over TLS: behind install-and-upgrade.md's nginx (X-Forwarded-Proto
$scheme) listening on plain HTTP, a phone's PROPFIND, GET and PUT are refused and write nothing, whatever the phone
says of its scheme; through the same nginx over TLS they are let in; a program on the machine itself (rclone on the
server, no proxy) still is. Real nginx and gunicorn (two web processes) on loopback ports."""

import base64
import os
import shutil
import signal
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
from helpers import Gunicorn, free_port, jpeg
from test_behind_nginx_cache import documented

from lenslet.people.users import Directory

pytestmark = [pytest.mark.system,
              pytest.mark.skipif(shutil.which("nginx") is None or shutil.which("openssl") is None,
                                 reason="needs nginx and openssl")]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn with mum and her phone's app password, behind the guide's nginx on plain HTTP and on TLS."""
    tmp_path = tmp_path_factory.mktemp("behind-nginx")
    tree = tmp_path / "tree"
    (tree / "family").mkdir(parents=True)
    (tree / "family" / "a.jpg").write_bytes(jpeg(size=(120, 90)))
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "admin", [""], password="mum's sign-in password")
    password = directory.add_app_password(directory.users()["mum"], "phone", 1.0)[1]
    server = Gunicorn(tree, env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    plain, tls = free_port(), free_port()
    site = (documented("the cache").replace("/var/cache/nginx/lenslet", str(tmp_path / "cache"))
            + documented("the site").replace("server 127.0.0.1:7070;", f"server 127.0.0.1:{server.port};"))
    site = site.replace("listen 80;", f"listen 127.0.0.1:{plain};\n    listen 127.0.0.1:{tls} ssl;\n"
                        f"    ssl_certificate {tmp_path}/cert.pem;\n    ssl_certificate_key {tmp_path}/key.pem;")
    (tmp_path / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{\n include /etc/nginx/mime.types;\n access_log off;\n {site}\n}}\n")
    nginx = subprocess.Popen(["nginx", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")])
    server.through_http, server.through_tls = f"http://127.0.0.1:{plain}", f"https://127.0.0.1:{tls}"
    server.basic = "Basic " + base64.b64encode(f"mum:{password}".encode()).decode()
    server.wait_until(lambda: dav(server.through_http + "/dav/", "OPTIONS")[0] == 200)
    server.tree = tree
    yield server
    nginx.send_signal(signal.SIGQUIT)
    nginx.wait(10)
    server.stop()


def dav(url, method, basic=None, data=None, headers=None):
    """Send one WebDAV request; return (status, body)."""
    sent = {"Host": "127.0.0.1", **({"Authorization": basic} if basic else {}), **(headers or {})}
    if method == "PROPFIND":
        sent["Depth"] = "1"
    unchecked = ssl.create_default_context()
    unchecked.check_hostname, unchecked.verify_mode = False, ssl.CERT_NONE  # the test's own certificate
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=sent),
                                    timeout=10, context=unchecked) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as ex:
        return ex.code, ex.read()


@pytest.mark.parametrize("told", [{}, {"X-Forwarded-Proto": "https"}, {"Forwarded": "proto=https"}],
                         ids=["plain", "says https", "says Forwarded https"])
def test_a_phones_app_password_over_plain_http_through_nginx_is_refused(served, told):
    tree = served.tree
    for method, path, data in (("PROPFIND", "family/", None), ("GET", "family/a.jpg", None),
                               ("PUT", "family/phone.jpg", jpeg(size=(40, 30))), ("PUT", "family/a.jpg", b"other")):
        status, body = dav(f"{served.through_http}/dav/{path}", method, served.basic, data, told)
        assert status == 403 and b"HTTPS" in body, (method, path, status, body)
    assert not (tree / "family" / "phone.jpg").exists()
    assert (tree / "family" / "a.jpg").read_bytes() == jpeg(size=(120, 90))


def test_a_phones_app_password_over_tls_through_nginx_is_let_in(served):
    assert dav(f"{served.through_tls}/dav/family/", "PROPFIND", served.basic)[0] == 207
    assert dav(f"{served.through_tls}/dav/family/a.jpg", "GET", served.basic) == (200, jpeg(size=(120, 90)))
    assert dav(f"{served.through_tls}/dav/family/b.jpg", "PUT", served.basic, jpeg(size=(40, 30)))[0] == 201
    assert (served.tree / "family" / "b.jpg").read_bytes() == jpeg(size=(40, 30))


def test_a_program_on_the_machine_itself_is_let_in_without_tls(served):
    assert dav(f"{served.url}/dav/family/", "PROPFIND", served.basic)[0] == 207
    assert dav(f"{served.url}/dav/family/c.jpg", "PUT", served.basic, jpeg(size=(40, 30)))[0] == 201
    assert (served.tree / "family" / "c.jpg").exists()


def test_a_local_program_passing_on_anothers_request_must_say_https(served):
    for told in ({"X-Forwarded-For": "192.0.2.7"}, {"X-Real-IP": "192.0.2.7"}, {"X-Forwarded-Proto": "http"}):
        assert dav(f"{served.url}/dav/family/", "PROPFIND", served.basic, headers=told)[0] == 403, told
    assert dav(f"{served.url}/dav/family/", "PROPFIND", served.basic, headers={"X-Forwarded-Proto": "https"})[0] == 207
