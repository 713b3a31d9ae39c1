"""Check every answer the test suite gets against /openapi.json: a WSGI wrapper for test clients."""

import gzip
import json
import re

import jsonschema

from lenslet.resources.openapi import spec

SPEC = spec()
NO_BODY = {204, 301, 302, 304}


def served_paths():
    """Yield (URL path template, method, operation) for every operation at every server it is at."""
    for path, item in SPEC["paths"].items():
        for server in item.get("servers", SPEC["servers"]):
            for method, operation in item.items():
                if method != "servers":
                    yield server["url"].rstrip("/") + path, method, operation


ROUTES = [(re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(template)) + "$"), method, operation)
          for template, method, operation in served_paths()]


def spec_checked(app):
    """Wrap a WSGI app so each answer is checked against the spec; a mismatch fails the request."""

    def checked(environ, start_response):
        answer = {}

        def remember(status, headers, exc_info=None):
            answer.update(status=int(status[:3]), headers=dict((k.lower(), v) for k, v in headers))
            return start_response(status, headers, exc_info)

        result = app(environ, remember)
        try:
            chunks = list(result)
        finally:
            getattr(result, "close", lambda: None)()
        body = b"".join(chunks)
        if answer["headers"].get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        check(environ["REQUEST_METHOD"], environ["PATH_INFO"], answer["status"], answer["headers"], body)
        return chunks

    return checked


def operation_of(method, path):
    """The spec's operation for a request, or None when the spec does not describe it."""
    return next((operation for pattern, verb, operation in ROUTES
                 if verb == method.lower() and pattern.match(path)), None)


def check(method, path, status, headers, body):
    """Assert one answer agrees with the spec."""
    if path == "/dav" or path.startswith("/dav/"):
        return  # WebDAV's methods are not OpenAPI's: tests/api/test_dav.py checks its answers
    operation = operation_of(method, path)
    if operation is None:
        if method == "OPTIONS":
            return  # CORS preflights: Falcon's own responder, not part of the API
        # An unknown route or method: still a JSON error (the guard's, if it refuses first).
        assert status in (400, 401, 403, 404, 405, 414, 421), f"{method} {path}: {status} for a request not in the spec"
        if method != "HEAD":
            validate(json.loads(body), {"$ref": "#/components/schemas/Error"}, f"{method} {path}")
        return
    where = f"{method} {path} -> {status}"
    response = operation["responses"].get(str(status))
    assert response is not None, f"{where}: status not in the spec ({sorted(operation['responses'])})"
    response = resolve(response)
    for name, header in response.get("headers", {}).items():
        assert not resolve(header).get("required") or name.lower() in headers, f"{where}: no {name} header"
    content = response.get("content")
    if not content or status in NO_BODY:
        assert not body, f"{where}: a body the spec does not describe"
        return
    kind = headers.get("content-type", "").partition(";")[0]
    assert kind in content, f"{where}: content type {kind!r} not in {sorted(content)}"
    if kind == "application/json" and method != "HEAD":
        validate(json.loads(body), content[kind]["schema"], where)


def resolve(node):
    """Follow a "#/components/..." reference to what it names."""
    while "$ref" in node:
        target = SPEC
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def validate(instance, schema, where):
    # The schema is checked as if it sat at the spec's root, so "#/components/..." resolves.
    root = dict(schema, components=SPEC["components"])
    errors = sorted(jsonschema.Draft202012Validator(root).iter_errors(instance), key=str)
    assert not errors, f"{where}: the body breaks the spec: {errors[0].message} at {list(errors[0].path)}"
