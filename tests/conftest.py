"""Fixtures: a fresh tree, its settings, storage and client; gunicorn and an S3 server on loopback."""

import dataclasses
import os
import shutil
import sys
import tempfile

import botocore.loaders
import pytest
import webtest
from helpers import Gallery, Gunicorn, finish_stopping, s3_client
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people import passwords
from lenslet.storage import open_storage

# The suite runs two test processes on two cores: a worker at the service's default priority (10 steps below)
# gets a tenth of a CPU beside them and a test waiting on it times out. Workers the tests start run at the web
# processes' priority; tests/system/test_gunicorn.py shows the default at work.
os.environ.setdefault("LENSLET_WORKER_NICE", "0")
# One job process per worker the tests start, not one per core: each is one more interpreter to start, and four
# test processes share the two cores anyway. tests/system/test_job_processes.py and test_thumb_pool.py run
# several; test_worker.py serves with the default.
os.environ.setdefault("LENSLET_THUMB_PROCESSES", "1")
# A worker the tests start looks at a bucket every second, not every 30 (what S3 bills): a test waits for the
# change it made, not for the clock.
os.environ.setdefault("LENSLET_S3_SCAN_INTERVAL", "1")
# Some machines' environments set PYTHONDONTWRITEBYTECODE: then every server, worker and command a test starts
# compiles lenslet again, and each test process rewrites every test module's asserts again.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False
# The tests' folders are made in memory where the machine has room there (Linux's /dev/shm): on a disk, the kernel's
# work for the files lenslet syncs and the folders every test makes and removes was a third of the tests' CPU.
if "TMPDIR" not in os.environ and os.access("/dev/shm", os.W_OK) and shutil.disk_usage("/dev/shm").free > 2**31:
    os.environ["TMPDIR"] = tempfile.tempdir = "/dev/shm"

# A password hashed at the shipped cost takes a seventh of a second of CPU, and the suite hashes hundreds: the tests'
# own processes hash at a sixteenth of it, still above the weakest parameters the tests call stale. A server or CLI
# a test starts hashes at the shipped cost (tests/system/test_users_cli.py checks it).
passwords.PARAMS["n"] = 2 ** 11

# Each storage on S3 opens a boto3 session of its own (once per process in service), and each session parses
# botocore's service files again, which costs more than the test around it: the test process parses them once.
BOTOCORE_FILES = {}
_loader_init = botocore.loaders.Loader.__init__


def _loader_sharing_files(self, *args, **kwargs):
    _loader_init(self, *args, **kwargs)
    self._cache = BOTOCORE_FILES


botocore.loaders.Loader.__init__ = _loader_sharing_files


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
def storage(config):
    """The tree's storage, as the app and the worker open it."""
    return open_storage(config)


@pytest.fixture
def client(config):
    return webtest.TestApp(spec_checked(create_app(config)))


@pytest.fixture
def client_with(config):
    """A client for the app with some settings changed."""
    return lambda **changes: webtest.TestApp(spec_checked(create_app(dataclasses.replace(config, **changes))))


@pytest.fixture
def gunicorn(tree):
    servers = []

    def start(**kwargs):
        server = Gunicorn(tree, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop_soon()  # its graceful stop goes on while the next test runs


def pytest_sessionfinish(session):
    finish_stopping()


@pytest.fixture
def search_looks_often(monkeypatch):
    """Search looks at the rollup and the edit journal every 50 ms instead of every second: a test
    polling for a change to be found waits for the change, not for the clock."""
    from lenslet.search import searcher
    monkeypatch.setattr(searcher, "CHECK_EVERY", 0.05)


@pytest.fixture(scope="session")
def s3_server():
    """A real S3-protocol server (moto, with atomic conditional writes: tests/s3server.py) on a
    loopback port, for the whole test session."""
    from s3server import AtomicS3Server  # moto is slow to import; local-only runs never need it
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    server = AtomicS3Server().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_endpoint(s3_server):
    return s3_server.url


@pytest.fixture
def bucket(s3_endpoint, request):
    """A fresh, empty bucket for one test."""
    import uuid
    name = f"lenslet-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name)
    return name


def gallery_on(backend, request, tmp_path, bucket=None):
    if backend == "local":
        config = Config(root=str(tmp_path / "tree"), recheck=0, create_root=True)
    else:
        config = Config(s3_bucket=bucket or request.getfixturevalue("bucket"), s3_prefix="photos", recheck=0,
                        s3_endpoint=request.getfixturevalue("s3_endpoint"), s3_region="us-east-1",
                        cache_dir=str(tmp_path / "cache"))
    return Gallery(config, tmp_path)


@pytest.fixture(params=["local", "s3"])
def gallery(request, tmp_path):
    return gallery_on(request.param, request, tmp_path)


@pytest.fixture(scope="module", params=["local", pytest.param("s3", marks=pytest.mark.system)])
def module_gallery(request, tmp_path_factory):
    """A gallery per backend for a module's tests that change nothing another of them reads: where building its
    tree costs more than the tests that read it."""
    bucket = None
    if request.param == "s3":
        import uuid
        bucket = f"lenslet-{uuid.uuid4().hex[:12]}"
        s3_client(request.getfixturevalue("s3_endpoint")).create_bucket(Bucket=bucket)
    return gallery_on(request.param, request, tmp_path_factory.mktemp("gallery"), bucket)


# Tests that start processes or servers (gunicorn, the CLI, the S3 server, exiftool, a browser)
# are marked `system`, wherever they live: `pytest -m "not system" -n 2` runs the rest in
# under a minute. A test in tests/system/ is one by its place; elsewhere, by what it uses.
SYSTEM_FIXTURES = {"gunicorn", "s3_server", "s3_endpoint", "bucket", "made_by_exiftool"}


def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if ("system" in item.path.parts or SYSTEM_FIXTURES & set(item.fixturenames)
                or params.get("gallery") == "s3"):
            item.add_marker(pytest.mark.system)
