"""schemathesis drives the app with requests made from its OpenAPI spec: no 5xx, no answer that breaks it."""

import pytest
import schemathesis
from helpers import draw
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.resources.openapi import spec

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]

# The document /openapi.json serves (test_openapi.py holds them equal), loaded without an
# app so pytest can make one test per operation: its examples, schemathesis' coverage
# cases (edges, wrong types, missing parameters, other methods) and fuzzed ones.
schema = schemathesis.openapi.from_dict(spec())


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """The app over a tree holding the files the spec's examples name, and a few more."""
    root = tmp_path_factory.mktemp("fuzzed")
    draw(root / "trips" / "2024" / "beach.jpg", size=(120, 80))
    draw(root / "trips" / "2024" / "sunset.png", size=(40, 60), fmt="PNG")
    draw(root / "trips" / "notes.gif", size=(20, 20), fmt="GIF")
    (root / "trips" / "2024" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return create_app(Config(root=str(root)))


@schema.parametrize()
# Bounded and derandomized: the same requests on every run, a few seconds in all.
@settings(max_examples=25, derandomize=True, database=None, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_the_app_keeps_to_its_spec(case, gallery):
    # The WSGI client does not undo gzip (tests/api/test_answers_are_gzipped.py checks what is gzipped).
    case.call_and_validate(app=gallery, checks=CHECKS, headers={"Accept-Encoding": "identity"})
