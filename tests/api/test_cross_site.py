"""Other sites and other hosts: cross-site writes (CSRF), JSON that does not say so, foreign Host (DNS
rebinding), and metric labels that a client cannot multiply."""

import http.client
import json
import random
import string

import pytest
from helpers import draw, index_tree, jpeg
from prometheus_client.parser import text_string_to_metric_families

from lenslet import metrics
from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.layout import JOBS, JOBS_REJECTED, join
from lenslet.resources import sites

EVIL = "http://evil.example"


@pytest.fixture
def photos(tree):
    """a/x.jpg with a sidecar, an image in the trash, an empty folder b."""
    draw(tree / "a" / "x.jpg")
    (tree / "a" / "x.jpg.json").write_text(json.dumps({"v": 1, "tags": ["kept"]}))
    draw(tree / "_trash_" / "old.jpg")
    (tree / "b").mkdir()
    return tree


def snapshot(root):
    """Every file and folder under root, with the files' bytes."""
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


def refused(tree, send, status):
    """Send a request that must be refused with status and a JSON error, and change nothing on disk."""
    before = snapshot(tree)
    answer = send(status=status)
    assert snapshot(tree) == before
    assert answer.json["title"] and answer.json["description"]
    return answer.json


# -- writes from another site --------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    {"Origin": EVIL},
    {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site"},  # no Origin at all, the browser still says where it came from
    {"Origin": "null"},  # a sandboxed frame or a redirect
    {"Origin": "http://photos.localhost", "Sec-Fetch-Site": "same-site"},
    {"Origin": "http://localhost:8080"},  # another server on the same machine: another origin
    {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},  # the browser knows better
    {"Origin": "not an origin"},
], ids=lambda headers: " ".join(f"{k}={v}" for k, v in headers.items()))
def test_a_cross_site_form_to_move_is_refused(client, photos, headers):
    body = refused(photos, lambda status: client.post("/move", {"src": "a/x.jpg", "dest": "b"}, headers=headers,
                                                      status=status), 403)
    assert "another site" in body["description"] and body["setting"] == "LENSLET_CORS_ORIGINS"


def test_a_multipart_upload_from_a_foreign_origin_is_refused(client, photos):
    refused(photos, lambda status: client.post("/file", {"dest": "a"}, upload_files=[("file", "new.jpg", jpeg())],
                                               headers={"Origin": EVIL}, status=status), 403)


def test_text_plain_json_to_delete_with_force_is_refused(client, photos):
    # What an HTML form with enctype=text/plain sends; refused even without Origin (an old browser).
    body = refused(photos, lambda status: client.post(
        "/delete", json.dumps({"paths": ["a/x.jpg"], "force": True}), content_type="text/plain", status=status), 415)
    assert "application/json" in body["description"]


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
@pytest.mark.parametrize("kind", ["text/plain", "application/x-www-form-urlencoded", None])
def test_item_edits_must_say_json(client, photos, method, kind):
    headers = {"Content-Type": kind} if kind else {}
    refused(photos, lambda status: client.request(
        "/item?path=a/x.jpg", method=method, body=json.dumps({"addTags": ["x"], "tags": ["x"]}).encode(),
        headers=headers, status=status), 415)


def test_json_with_a_charset_or_a_json_subtype_is_json(client, photos):
    client.request("/item?path=a/x.jpg", method="PATCH", body=b'{"addTags": ["one"]}',
                   headers={"Content-Type": "application/json; charset=utf-8"})
    client.request("/item?path=a/x.jpg", method="PATCH", body=b'{"addTags": ["two"]}',
                   headers={"Content-Type": "application/merge-patch+json"})
    assert client.get("/item?path=a/x.jpg").json["tags"] == ["kept", "one", "two"]


def test_the_gallerys_own_origin_may_write(client, photos):
    # webtest sends Host: localhost:80; a browser on that page sends its own origin.
    client.post("/move", {"src": "a/x.jpg", "dest": "b"},
                headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"})
    client.patch_json("/item?path=b/x.jpg", {"addTags": ["moved"]}, headers={"Origin": "http://localhost:80"})
    assert (photos / "b" / "x.jpg").exists() and not (photos / "a" / "x.jpg").exists()
    assert json.loads((photos / "b" / "x.jpg.json").read_text())["tags"] == ["kept", "moved"]


def test_behind_a_tls_proxy_host_and_port_are_compared_not_the_scheme(client_with, photos):
    # nginx terminates TLS and passes Host $http_host: lenslet speaks http, the page's origin says https.
    public = client_with(hosts=("photos.example.org",))
    page = {"HTTP_HOST": "photos.example.org"}
    public.patch_json("/item?path=a/x.jpg", {"addTags": ["a"]}, extra_environ=page,
                      headers={"Origin": "https://photos.example.org", "Sec-Fetch-Site": "same-origin"})
    public.patch_json("/item?path=a/x.jpg", {"addTags": ["b"]}, extra_environ={"HTTP_HOST": "photos.example.org:8443"},
                      headers={"Origin": "https://photos.example.org:8443"})
    # `proxy_set_header Host $host` drops the port: the page's own write no longer matches.
    refused(photos, lambda status: public.patch_json(
        "/item?path=a/x.jpg", {"addTags": ["c"]}, extra_environ=page,
        headers={"Origin": "https://photos.example.org:8443"}, status=status), 403)
    assert public.get("/item?path=a/x.jpg", extra_environ=page).json["tags"] == ["kept", "a", "b"]


def test_a_configured_cors_origin_may_write_and_star_lets_none(client_with, photos):
    front = {"Origin": "https://app.example.net", "Sec-Fetch-Site": "cross-site"}
    listed = client_with(cors_origins=("https://app.example.net",))
    listed.post("/move", {"src": "a/x.jpg", "dest": "b"}, headers=front)
    assert (photos / "b" / "x.jpg").exists()
    refused(photos, lambda status: listed.post("/move", {"src": "b/x.jpg", "dest": "a"}, headers={"Origin": EVIL},
                                               status=status), 403)
    anyone = client_with(cors_origins=("*",))
    refused(photos, lambda status: anyone.post("/move", {"src": "b/x.jpg", "dest": "a"}, headers=front,
                                               status=status), 403)


def test_scripts_without_origin_keep_working(client, photos):
    client.post_json("/delete", {"paths": ["a/x.jpg"], "force": True})
    client.post("/move", {"src": "_trash_/old.jpg", "dest": "b"})  # curl -d sends a urlencoded form
    assert not (photos / "a" / "x.jpg").exists() and (photos / "b" / "old.jpg").exists()


def test_a_token_does_not_let_another_site_write(client_with, photos):
    guarded = client_with(token="s3cret")
    token = {"Authorization": "Bearer s3cret"}
    body = refused(photos, lambda status: guarded.patch_json("/item?path=a/x.jpg", {"addTags": ["x"]},
                                                             headers={**token, "Origin": EVIL}, status=status), 403)
    assert "another site" in body["description"]
    guarded.patch_json("/item?path=a/x.jpg", {"addTags": ["x"]}, headers=token)


def test_reads_from_another_site_are_not_refused(client, photos):
    # A foreign page cannot read the answer without CORS; refusing it would break <img> embeds.
    client.get("/folders?path=a", headers={"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})


# -- hosts: DNS rebinding -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.evil",
                                  "[not-an-address]", "a b"])
def test_a_foreign_host_is_misdirected_on_reads_writes_and_the_page(client, photos, host):
    environ = {"HTTP_HOST": host}
    for send in (lambda status: client.get("/folders?path=a", extra_environ=environ, status=status),
                 lambda status: client.get("/", extra_environ=environ, status=status),
                 lambda status: client.patch_json("/item?path=a/x.jpg", {"addTags": ["x"]}, extra_environ=environ,
                                                  status=status)):
        body = refused(photos, send, 421)
        assert body["setting"] == "LENSLET_HOSTS" and "LENSLET_HOSTS" in body["description"]


@pytest.mark.parametrize("host", ["localhost", "localhost:7070", "LOCALHOST", "localhost.", "gallery.localhost",
                                  "127.0.0.1:7070", "192.168.1.20", "[::1]:7070", "[fe80::1]"])
def test_addresses_and_localhost_are_answered(client, photos, host):
    client.get("/folders?path=a", extra_environ={"HTTP_HOST": host})


def test_lenslet_hosts_names_the_public_host(tree, photos, client_with):
    config = Config.from_env({"LENSLET_ROOT": str(tree), "LENSLET_HOSTS": " Photos.Example.org , nas.local. "})
    assert config.hosts == ("photos.example.org", "nas.local")
    public = client_with(hosts=config.hosts)
    for host in ("photos.example.org", "PHOTOS.example.org:443", "nas.local:7070", "127.0.0.1"):
        public.get("/folders?path=a", extra_environ={"HTTP_HOST": host})
    public.get("/folders?path=a", extra_environ={"HTTP_HOST": "evil.example"}, status=421)
    client_with(hosts=("*",)).get("/folders?path=a", extra_environ={"HTTP_HOST": "evil.example"})


@pytest.mark.parametrize("raw", ["https://photos.example.org", "photos.example.org:443", "photos.example.org/",
                                 "[::1]", "a b"])
def test_lenslet_hosts_refuses_what_is_not_a_host_name(raw):
    with pytest.raises(ConfigError) as caught:
        Config.from_env({"LENSLET_HOSTS": raw})
    assert caught.value.fields["setting"] == "LENSLET_HOSTS"


def test_gunicorn_answers_its_address_and_localhost_but_not_another_host(gunicorn, photos):
    server = gunicorn()
    server.wait_until(lambda: server.get("/health")[0] == 200)

    def ask(method, path, host, headers=(), body=None):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers={"Host": host, **dict(headers)})
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    own = f"127.0.0.1:{server.port}"
    assert ask("GET", "/folders?path=a", own)[0] == 200
    assert ask("GET", "/", f"localhost:{server.port}")[0] == 200
    status, body = ask("GET", "/folders?path=a", f"evil.example:{server.port}")
    assert status == 421 and json.loads(body)["setting"] == "LENSLET_HOSTS"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    image = (photos / "a" / "x.jpg").read_bytes()
    assert ask("POST", "/move", own, {**form, "Origin": EVIL}, "src=a/x.jpg&dest=b")[0] == 403
    assert ask("POST", "/move", f"evil.example:{server.port}", form, "src=a/x.jpg&dest=b")[0] == 421
    # The worker indexes meanwhile (manifests, the hash in the sidecar): the image is what must not move.
    assert (photos / "a" / "x.jpg").read_bytes() == image and not (photos / "b" / "x.jpg").exists()
    assert ask("POST", "/move", own, {**form, "Origin": f"http://{own}"}, "src=a/x.jpg&dest=b")[0] == 200
    assert (photos / "b" / "x.jpg").exists()


# -- the rules, as a table --------------------------------------------------------------------------


@pytest.mark.parametrize("origin, fetch_site, host, allowed, refused_for", [
    (None, None, "localhost:7070", (), None),
    (None, "same-origin", "localhost:7070", (), None),
    (None, "none", "localhost:7070", (), None),
    ("http://localhost:7070", "same-origin", "localhost:7070", (), None),
    ("https://photos.example.org", None, "photos.example.org", (), None),
    ("http://photos.example.org", None, "photos.example.org:80", (), None),
    ("https://photos.example.org:443", None, "photos.example.org", (), None),
    ("https://photos.example.org", None, "photos.example.org:80", (), "Origin"),
    ("http://localhost:7071", None, "localhost:7070", (), "Origin"),
    ("http://evil.example", None, None, (), "Origin"),
    ("null", None, "localhost:7070", (), "Origin"),
    ("file://", None, "localhost:7070", (), "Origin"),
    ("https://app.example.net", "cross-site", "localhost:7070", ("https://app.example.net",), None),
    ("https://APP.example.net:443", None, "localhost:7070", ("https://app.example.net",), None),
    ("https://app.example.net", "cross-site", "localhost:7070", ("*",), "Sec-Fetch-Site"),
    (None, "Cross-Site", "localhost:7070", ("https://app.example.net",), "Sec-Fetch-Site"),
    ("http://localhost:7070", "same-site", "localhost:7070", (), "Sec-Fetch-Site"),
])
def test_foreign_write(origin, fetch_site, host, allowed, refused_for):
    why = sites.foreign_write(origin, fetch_site, host, sites.origin_keys(allowed))
    assert (why or "").split(":")[0] == (refused_for or "")


# -- metric labels ---------------------------------------------------------------------------------


def scrape(client):
    """{(name, labels): value} of every sample /metrics answers."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(client.get("/metrics").text) for s in family.samples}


@pytest.mark.filterwarnings("ignore::Warning:webtest.lint")  # webtest warns of each unknown method
def test_invented_methods_add_no_metric_series(client_with, tree):
    metered = client_with(metrics=True)
    metered.get("/folders")
    scrape(metered)  # the scrape's own series exist from here on
    before = scrape(metered)
    chosen = random.Random(20)
    for _ in range(300):
        method = "".join(chosen.choices(string.ascii_uppercase, k=8))
        metered.request("/folders", method=method, expect_errors=True)
    after = scrape(metered)
    methods = {dict(labels).get("method") for _, labels in after} - {None}
    assert methods <= metrics.METHODS | {"other"}
    other = [key for key in after if key[0] == "lenslet_http_requests_total" and ("method", "other") in key[1]]
    assert sum(after[key] - before.get(key, 0) for key in other) == 300
    # At most the `other` series of this one route and status: a counter and a histogram.
    assert len(after.keys() - before.keys()) <= 2 + len(metrics.BUCKETS) + 4


@pytest.mark.parametrize("kind", ["kind-1234", ["thumbs"], {"thumbs": 1}])
def test_a_forged_job_kind_adds_no_metric_series(config, storage, tree, kind):
    metrics.enable("web")
    forged = {"kind": kind, "path": "", "queuedAt": 0}
    storage.write(join(JOBS, "0-thumb-forged.json"), json.dumps(forged).encode())
    index_tree(config, storage)
    text = metrics.render({}, 0).decode()
    assert "kind-1234" not in text and 'kind="other"' not in text
    assert storage.list_names(JOBS_REJECTED) == ["0-thumb-forged.json"]  # never run: set aside
