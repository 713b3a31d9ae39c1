"""Album endpoints: list, make, view, change and remove albums."""

import falcon

from lenslet.albums.store import MAX_PAGE
from lenslet.resources.bodies import read_json
from lenslet.resources.guard import access_of, principal_of


class AlbumsResource:
    """GET /albums: the caller's albums; POST /albums: make one."""

    def __init__(self, albums):
        self.albums = albums

    def on_get(self, req, resp):
        resp.media = {"albums": self.albums.listed(principal_of(req), access_of(req))}
        resp.cache_control = ["no-store"]

    def on_post(self, req, resp):
        resp.media = self.albums.create(principal_of(req), access_of(req), read_json(req))
        resp.status = falcon.HTTP_201


class AlbumResource:
    """GET /albums/{id}: an album and a page of its images; PATCH: change it; DELETE: remove it, not its images."""

    def __init__(self, albums):
        self.albums = albums

    def on_get(self, req, resp, album_id):
        offset = req.get_param_as_int("offset", min_value=0, max_value=10_000_000, default=0)
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_PAGE, default=100)
        access = access_of(req)
        view = self.albums.view(principal_of(req), access, album_id, offset, limit)
        resp.media = dict(view, items=access.items_shown(view["items"]))
        resp.cache_control = ["no-cache"]

    def on_patch(self, req, resp, album_id):
        resp.media = self.albums.change(principal_of(req), access_of(req), album_id, read_json(req))

    def on_delete(self, req, resp, album_id):
        resp.media = self.albums.remove(principal_of(req), album_id)
