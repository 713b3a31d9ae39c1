import dataclasses
import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
import webtest
from PIL import Image

from lenslet.app import create_app
from lenslet.config import Config
from openapi_check import spec_checked

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def tree(tmp_path):
    """An empty gallery root."""
    root = tmp_path / "tree"
    root.mkdir()
    return root


@pytest.fixture
def config(tree):
    return Config(root=str(tree))


@pytest.fixture
def client(config):
    return webtest.TestApp(spec_checked(create_app(config)))


@pytest.fixture
def client_with(config):
    """A client for the app with some settings changed."""
    return lambda **changes: webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, **changes))))


def draw(path, size=(64, 48), color=(200, 30, 30), fmt=None, **save):
    """Draw a small image with Pillow and save it at path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", size, color)
    image.save(path, format=fmt, **save)
    return path


def image_bytes(size=(64, 48), color=(200, 30, 30), fmt="JPEG"):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """gunicorn started from the project's gunicorn.conf.py on a free loopback port."""

    def __init__(self, root, env=None, args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = dict(os.environ, LENSLET_ROOT=str(root), LENSLET_HEARTBEAT="0.3",
                       GUNICORN_CMD_ARGS=f"--bind 127.0.0.1:{self.port} --workers 2 --graceful-timeout 5")
        environ.update(env or {})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", *args], cwd=PROJECT, env=environ,
            stdout=subprocess.DEVNULL, stderr=open(f"{root}.log", "wb"))

    def get(self, path, timeout=5):
        with urllib.request.urlopen(self.url + path, timeout=timeout) as answer:
            return answer.status, answer.read(), dict(answer.headers)

    def wait_until(self, check, timeout=15, every=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = check()
                if value:
                    return value
            except OSError:
                pass
            time.sleep(every)
        raise AssertionError(f"gave up after {timeout}s waiting for {check.__name__}")

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def gunicorn(tree):
    servers = []

    def start(**kwargs):
        server = Gunicorn(tree, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3-protocol server (moto) on a loopback port, for the whole test session."""
    from moto.server import ThreadedMotoServer
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_endpoint, request):
    """A fresh, empty bucket for one test."""
    import uuid

    import boto3
    name = f"lenslet-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return name
