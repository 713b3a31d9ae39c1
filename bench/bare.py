"""The baseline: a bare Falcon resource answering one route with the bytes of one file.

    BARE_FILE=... BARE_TYPE=application/json gunicorn 'bench.bare:create_app()'
"""

import os

import falcon


class Bare:
    def __init__(self, data, media_type):
        self.data = data
        self.media_type = media_type

    def on_get(self, req, resp):
        resp.data = self.data
        resp.content_type = self.media_type


def create_app():
    with open(os.environ["BARE_FILE"], "rb") as f:
        data = f.read()
    app = falcon.App()
    app.add_sink(Bare(data, os.environ.get("BARE_TYPE", "application/json")).on_get)  # every path
    return app
