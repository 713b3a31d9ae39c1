"""Prometheus metrics for GET /metrics from every lenslet process; no-ops while off."""

import importlib.util
import os
import time

from lenslet.errors import ConfigError

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

# a fixed label set, so clients inventing methods add no series
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))

_on = None


def check(config):
    """Refuse LENSLET_METRICS=true when prometheus_client is not installed."""
    # not imported: importing picks the multiprocess mode, too early here
    if config.metrics and importlib.util.find_spec("prometheus_client") is None:
        raise ConfigError("LENSLET_METRICS=true needs prometheus_client: pip install 'lenslet[metrics]'",
                          setting="LENSLET_METRICS")


def enable(process):
    """Start counting in this process ("web" or "worker"), once."""
    global _on
    if _on is None:
        _on = _Metrics(process)


def request(route, method, status, seconds):
    """Count an HTTP request by route template, method and status."""
    if _on:
        method = method if method in METHODS else "other"
        _on.requests.labels(route, method, str(status)).inc()
        _on.latency.labels(route, method).observe(seconds)


def manifest_page():
    """Count a page answered by GET /folders."""
    if _on:
        _on.manifest_pages.labels(_on.process).inc()


def manifest_rebuilt():
    if _on:
        _on.manifest_rebuilds.labels(_on.process).inc()


def thumb_request(outcome):
    """Count a GET /thumb by outcome: "hit", "made" or "queued"."""
    if _on:
        _on.thumb_requests.labels(outcome).inc()


def thumbnail(result):
    """Count a thumbnail job's image as "made" or "failed"."""
    if _on:
        _on.thumbnails.labels(result).inc()


def job(kind, seconds):
    """Record how long a worker job took."""
    if _on:
        _on.jobs.labels(kind).observe(seconds)


def storage_error(error):
    """Count a storage error by lenslet error class."""
    if _on:
        _on.storage_errors.labels(_on.process, error).inc()


def process_gone(pid):
    """Forget a dead process's live values (gunicorn child_exit hook)."""
    if os.environ.get(MULTIPROC_DIR):
        try:
            from prometheus_client import multiprocess
        except ImportError:
            return
        multiprocess.mark_process_dead(pid)


class Timer:
    """Measure a block in seconds: `with Timer() as t: ...; t.seconds`."""

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        return False


class _Metrics:
    def __init__(self, process):
        from prometheus_client import Counter, Histogram
        self.process = process
        self.requests = Counter("lenslet_http_requests", "HTTP requests answered", ["route", "method", "status"])
        self.latency = Histogram("lenslet_http_request_duration_seconds", "time to answer an HTTP request",
                                 ["route", "method"], buckets=BUCKETS)
        self.manifest_pages = Counter("lenslet_manifest_pages", "folder manifest pages answered", ["process"])
        self.manifest_rebuilds = Counter("lenslet_manifest_rebuilds", "folder manifests rebuilt", ["process"])
        self.thumb_requests = Counter("lenslet_thumb_requests", "GET /thumb by outcome: hit, made, queued", ["outcome"])
        self.thumbnails = Counter("lenslet_worker_thumbnails", "thumbnails of worker jobs, made or failed", ["result"])
        self.jobs = Histogram("lenslet_job_duration_seconds", "time a worker job took", ["kind"], buckets=BUCKETS)
        self.storage_errors = Counter("lenslet_storage_errors", "storage errors met (disk or S3)", ["process", "error"])


def render(backlog, workers):
    """Return every process's metrics, the backlog and live workers as exposition text."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    if os.environ.get(MULTIPROC_DIR):
        from prometheus_client import multiprocess
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        from prometheus_client import REGISTRY as counted
    queued = GaugeMetricFamily("lenslet_worker_backlog", "jobs queued or running, by kind", labels=["kind"])
    for kind, count in sorted(backlog.items()):
        queued.add_metric([kind], count)
    alive = GaugeMetricFamily("lenslet_workers_alive", "workers whose heartbeat is recent")
    alive.add_metric([], workers)
    live = CollectorRegistry(auto_describe=False)
    live.register(_Fixed([queued, alive]))
    return generate_latest(counted) + generate_latest(live)


class _Fixed:
    """A collector of metric families computed before the scrape."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return iter(self.families)
