import time

import pytest

from lenslet import health
from lenslet.layout import HEARTBEATS
from lenslet.storage import LocalStorage


def test_health_without_worker_is_degraded(client):
    body = client.get("/health").json
    assert body["status"] == "degraded"
    assert body["storage"] == {"backend": "local", "readable": True, "writable": True, "name": "tree"}
    assert body["worker"]["alive"] is False


def test_health_reads_the_worker_heartbeat(client, tree):
    health.write_heartbeat(LocalStorage(str(tree)), "host-1", started_at=time.time())
    body = client.get("/api/health").json
    assert body["status"] == "ok"
    assert body["worker"]["alive"] is True and body["worker"]["workers"] == 1


def test_stale_heartbeat_is_not_alive(client, tree):
    health.write_heartbeat(LocalStorage(str(tree)), "host-1", started_at=0, clock=lambda: time.time() - 60)
    assert client.get("/health").json["worker"]["alive"] is False


@pytest.mark.parametrize("forged", [b"[1, 2]", b'"beat"', b'{"beatAt": "now"}', b'{"beatAt": true}',
                                    b'{"beatAt": NaN}', b'{"beatAt": null, "backlog": 3}', b"{"])
def test_a_heartbeat_of_another_shape_is_no_worker(client, tree, forged):
    # A state file is input: a forged or torn heartbeat is no live worker, and /health still answers.
    (tree / HEARTBEATS).mkdir(parents=True, exist_ok=True)
    (tree / HEARTBEATS / "forged.json").write_bytes(forged)
    body = client.get("/health").json
    assert body["worker"]["alive"] is False and body["worker"]["workers"] == 0


def test_a_heartbeat_with_a_backlog_of_another_shape_counts_none(client, tree):
    health.write_heartbeat(LocalStorage(str(tree)), "host-1", started_at=time.time())
    beat = tree / HEARTBEATS / "host-1.json"
    beat.write_bytes(beat.read_bytes().replace(b'"backlog":0', b'"backlog":"many"'))
    body = client.get("/health").json
    assert body["worker"]["alive"] is True and body["worker"]["backlog"] == 0


def test_unknown_route_is_json_404(client):
    answer = client.get("/nothing-here", status=404)
    assert answer.content_type == "application/json"
    assert answer.json["title"]


def test_writes_need_the_token_when_one_is_set(client_with):
    client = client_with(token="s3cret")
    answer = client.put("/health", status=401)
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    client.put("/health", headers={"Authorization": "Bearer wrong"}, status=401)
    client.put("/health", headers={"Authorization": "Bearer s3cret"}, status=405)  # past the guard
    client.get("/health", status=200)


def test_a_root_removed_under_a_running_app_is_not_ok(client, tree):
    tree.rmdir()
    answer = client.get("/health", status=503)
    assert answer.json["status"] == "degraded" and answer.json["storage"]["readable"] is False
