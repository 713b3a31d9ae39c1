"""GET /metrics: Prometheus text, off by default, token-protected by a setting, summed across processes."""

import sys
import urllib.request

import pytest
import webtest
from helpers import draw, image_bytes, index_tree
from prometheus_client.parser import text_string_to_metric_families

from lenslet import metrics
from lenslet.app import create_app
from lenslet.config import Config
from lenslet.errors import ConfigError


def scrape(client, **kwargs):
    answer = client.get("/metrics", **kwargs)
    assert answer.content_type == "text/plain"
    return samples(answer.text)


def samples(text):
    """{(name, sorted labels): value} of an exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found, name, **labels):
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metered(client_with):
    return client_with(metrics=True)


def test_metrics_are_off_by_default(client):
    client.get("/metrics", status=404)


def test_requests_by_route_and_status_with_latency(metered, tree):
    draw(tree / "a.jpg")
    before = scrape(metered)
    metered.get("/folders?path=")
    metered.get("/item?path=nope.jpg", status=404)
    metered.get("/api/item?path=a.jpg")
    after = scrape(metered)
    for route, status in (("/folders", "200"), ("/item", "404"), ("/api/item", "200")):
        labels = {"route": route, "method": "GET", "status": status}
        assert value(after, "lenslet_http_requests_total", **labels) - \
            value(before, "lenslet_http_requests_total", **labels) == 1
    assert value(after, "lenslet_http_request_duration_seconds_count", route="/folders", method="GET") > \
        value(before, "lenslet_http_request_duration_seconds_count", route="/folders", method="GET")


def test_thumbnail_hits_made_and_queued(client_with, tree):
    draw(tree / "a.jpg")
    draw(tree / "b.jpg")
    metered = client_with(metrics=True)
    waiting = client_with(metrics=True, thumb_inline=0, thumb_wait=0)
    before = scrape(metered)
    metered.get("/thumb?path=a.jpg")
    metered.get("/thumb?path=a.jpg")
    waiting.get("/thumb?path=b.jpg", status=202)
    after = scrape(metered)
    for outcome in ("made", "hit", "queued"):
        assert value(after, "lenslet_thumb_requests_total", outcome=outcome) - \
            value(before, "lenslet_thumb_requests_total", outcome=outcome) == 1


def test_manifests_served_and_rebuilt(metered, tree):
    draw(tree / "f" / "a.jpg")
    before = scrape(metered)
    metered.get("/folders?path=f")
    metered.get("/folders?path=f")
    after = scrape(metered)
    assert value(after, "lenslet_manifest_pages_total", process="web") - \
        value(before, "lenslet_manifest_pages_total", process="web") == 2
    assert value(after, "lenslet_manifest_rebuilds_total", process="web") - \
        value(before, "lenslet_manifest_rebuilds_total", process="web") == 1


def test_worker_backlog_jobs_and_thumbnails(metered, config, storage, tree):
    draw(tree / "a.jpg")
    whole = image_bytes((400, 300))
    (tree / "bad.jpg").write_bytes(whole[:len(whole) // 2])  # a sound header, then nothing
    metrics.enable("web")  # this test runs the worker's jobs in this process
    metered.put_json("/item?path=a.jpg", {"tags": ["x"]})
    queued = scrape(metered)
    assert value(queued, "lenslet_worker_backlog", kind="rollup") == 1
    assert value(queued, "lenslet_worker_backlog", kind="thumbs") == 0
    index_tree(config, storage)
    after = scrape(metered)
    assert value(after, "lenslet_worker_backlog", kind="rollup") == 0
    assert value(after, "lenslet_worker_thumbnails_total", result="made") - \
        value(queued, "lenslet_worker_thumbnails_total", result="made") == 1
    assert value(after, "lenslet_worker_thumbnails_total", result="failed") - \
        value(queued, "lenslet_worker_thumbnails_total", result="failed") == 1
    assert value(after, "lenslet_job_duration_seconds_count", kind="index") > \
        value(queued, "lenslet_job_duration_seconds_count", kind="index")
    assert value(after, "lenslet_workers_alive") == 0


def test_storage_errors_are_counted(tmp_path, s3_endpoint):
    missing = Config(s3_bucket="no-such-bucket-here", s3_endpoint=s3_endpoint, s3_region="us-east-1",
                     cache_dir=str(tmp_path / "cache"), metrics=True)
    metered = webtest.TestApp(create_app(missing))
    before = scrape(metered)
    metered.get("/folders", status=503)
    after = scrape(metered)
    assert value(after, "lenslet_storage_errors_total", process="web", error="Unavailable") > \
        value(before, "lenslet_storage_errors_total", process="web", error="Unavailable")
    assert value(after, "lenslet_http_requests_total", route="/folders", method="GET", status="503") == \
        value(before, "lenslet_http_requests_total", route="/folders", method="GET", status="503") + 1


def test_metrics_token(client_with):
    guarded = client_with(metrics=True, metrics_token="scrape-me", token="gallery", token_reads=True)
    guarded.get("/metrics", status=401)
    guarded.get("/metrics", headers={"Authorization": "Bearer gallery"}, status=401)
    assert "lenslet_worker_backlog" in guarded.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).text
    guarded.get("/api/metrics", status=401)
    guarded.get("/api/metrics", headers={"Authorization": "Bearer scrape-me"})
    guarded.get("/health", headers={"Authorization": "Bearer scrape-me"}, status=401)  # only /metrics


def test_metrics_need_prometheus_client(monkeypatch):
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if not installed
    with pytest.raises(ConfigError, match="LENSLET_METRICS"):
        metrics.check(Config(metrics=True))
    metrics.check(Config())  # off: not needed


def test_metrics_add_up_across_gunicorn_workers(gunicorn, tree):
    draw(tree / "a.jpg")
    server = gunicorn(env={"LENSLET_METRICS": "true"})
    server.wait_until(lambda: (tree / "a.jpg.thumbnail").exists())
    for _ in range(10):
        server.get("/folders?path=")
    totals = set()
    for _ in range(6):  # whichever HTTP worker answers the scrape sees every worker's counts
        _, body, _ = server.get("/metrics")
        found = samples(body.decode())
        totals.add(value(found, "lenslet_http_requests_total", route="/folders", method="GET", status="200"))
        made = value(found, "lenslet_worker_thumbnails_total", result="made")  # counted by the lenslet worker
    assert totals == {10.0} and made == 1
    with pytest.raises(urllib.request.HTTPError):
        urllib.request.urlopen(server.url + "/nope", timeout=30)
