import falcon.inspect
import pytest
from openapi_check import check, served_paths
from openapi_spec_validator import validate

from lenslet.app import ApiRouter, create_app
from lenslet.resources.openapi import spec

falcon.inspect.register_router(ApiRouter)(falcon.inspect.inspect_compiled_router)  # Falcon's own, under /api too


def test_the_spec_is_valid_openapi_3_1(client):
    served = client.get("/openapi.json").json
    validate(served)
    assert served["openapi"].startswith("3.1") and served == spec()
    assert client.get("/api/openapi.json").json == served


def test_every_route_is_in_the_spec_and_nothing_else(config):
    described = {(path, method.upper()) for path, method, _ in served_paths()}
    # falcon.inspect lists what create_app registered; "internal" methods are Falcon's
    # default responders (405 for a method a resource lacks, OPTIONS).
    # WebDAV (/dav) is described in docs/phone-and-desktop.md: OpenAPI has no PROPFIND, MKCOL, MOVE or LOCK.
    app = create_app(config)
    served = {(route.path, method.method) for route in falcon.inspect.inspect_routes(app)
              for method in route.methods if not method.internal and not route.path.startswith("/dav")}
    served |= {("/api" + path, method) for path, method in served if path in app._router.api_routes}  # the API twice
    assert served == described


def test_every_operation_lists_its_errors_and_they_are_json():
    for path, method, operation in served_paths():
        statuses = set(operation["responses"])
        # The gallery page needs no token (it asks for one when the API answers 401).
        assert {"401", "414"} <= statuses or path in ("/", "/s", "/static/{name}", "/static/vendor/{library}/{name}",
                                                     "/share-target"), (method, path)
        assert "500" not in statuses


@pytest.mark.parametrize("method, path, status, headers, body, complaint", [
    ("GET", "/item", 200, {"content-type": "application/json"}, b'{"title": "x"}', "breaks the spec"),
    ("GET", "/item", 201, {"content-type": "application/json"}, b"{}", "status not in the spec"),
    ("GET", "/thumb", 200, {"content-type": "image/png"}, b"PNG", "content type"),
    ("GET", "/api/thumb", 202, {"content-type": "application/json"},
     b'{"title": "t", "description": "d", "poll": "/thumb?path=a.jpg", "retryAfter": 1}', "Retry-After"),
    ("GET", "/file", 416, {"content-type": "application/json"}, b'{"title": "t", "description": "d"}',
     "Content-Range"),
    ("GET", "/nope", 404, {"content-type": "application/json"}, b'{"title": "404 Not Found"}', "description"),
    ("POST", "/folders", 500, {"content-type": "application/json"}, b"{}", "not in the spec"),
])
def test_the_check_of_each_answer_can_fail(method, path, status, headers, body, complaint):
    with pytest.raises(AssertionError, match=complaint):
        check(method, path, status, headers, body)
