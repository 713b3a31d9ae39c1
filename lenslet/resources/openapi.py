import falcon
import orjson

from ..openapi import spec


class OpenApiResource:
    """GET /openapi.json: the OpenAPI 3.1 description of this API."""

    def __init__(self):
        self.body = orjson.dumps(spec())  # the same for every request: encoded once

    def on_get(self, req, resp):
        resp.data, resp.content_type = self.body, falcon.MEDIA_JSON
