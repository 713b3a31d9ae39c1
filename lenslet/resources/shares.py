"""Share links: who asks (/me), listing, making, revoking and unlocking shares."""

import falcon

from lenslet.errors import BadRequest
from lenslet.people import shares
from lenslet.resources import principal_of, read_json, read_object
from lenslet.storage import clean_path

LINK = "/s#"  # the key goes after '#': a fragment never reaches a server log or a Referer


class MeResource:
    """GET /me: who the credentials name and what they may do."""

    def on_get(self, req, resp):
        resp.media = principal_of(req).describe()
        if req.context.get("proxy"):
            resp.media["proxy"] = True  # signed in by the proxy: signing out is done there
        resp.cache_control = ["no-store"]


class SharesResource:
    """GET /shares: the caller's share links (all, for an admin); POST /shares: make one."""

    def __init__(self, shares_, tree, files, albums=None):
        self.shares, self.tree, self.files, self.albums = shares_, tree, files, albums

    def on_get(self, req, resp):
        resp.media = {"shares": self.shares.listed(principal_of(req))}
        resp.cache_control = ["no-store"]

    def on_post(self, req, resp):
        body = read_json(req)
        if not isinstance(body, dict) or sum(name in body for name in ("path", "paths", "album")) != 1:
            raise BadRequest("the body must be a JSON object: {\"path\": ..., \"expires\": \"7d\"}, "
                             "{\"paths\": [images of one folder], ...} or {\"album\": its id, ...}")
        images = album = None
        if "album" in body:
            album = self.albums.shareable(principal_of(req), body["album"])
            path, kind = "", "album"
        elif "paths" in body:
            images = [req.context.access.see(path) for path in shares.images_of(body["paths"])]
            path, kind = images[0].rpartition("/")[0], "images"
            if any(self.tree.is_folder(image) for image in images):
                raise BadRequest("only images are shared together", field="paths")
        else:
            path = req.context.access.see(clean_path(body.get("path")))
            kind = shares.kind_of(path, self.tree.is_folder(path))
        if kind in ("image", "images"):  # an image of a stack is shared with the stack's other file
            together = self.files.with_partners(images or [path])
            if len(together) > 1:
                images = [req.context.access.see(image) for image in shares.images_of(together)]
                path, kind = images[0].rpartition("/")[0], "images"
        expires = body.get("expires")
        try:
            seconds = None if expires is None else shares.duration(expires)
        except ValueError as ex:
            raise BadRequest(str(ex), field="expires") from None
        allow, details = body.get("allowDownload", True), body.get("details", False)
        for name, value in (("allowDownload", allow), ("details", details)):
            if not isinstance(value, bool):
                raise BadRequest(f"{name} is true or false", field=name)
        listed, key = self.shares.make(principal_of(req), path, kind, seconds, allow, body.get("password"), images,
                                       album, details)
        link = LINK + key
        resp.media = {**listed, "key": key, "link": link, "url": req.prefix + link}
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]


class ShareResource:
    """DELETE /shares/{id}: revoke a share link at once."""

    def __init__(self, shares_):
        self.shares = shares_

    def on_delete(self, req, resp, share_id):
        resp.media = self.shares.revoke(principal_of(req), share_id)


class UnlockResource:
    """POST /shares/unlock {"key", "password"}: unlock a share, returning the key to send as X-Lenslet-Share."""

    def __init__(self, identities, address):
        self.identities, self.address = identities, address  # address: whom failures are counted against

    def on_post(self, req, resp):
        body = read_object(req, "{\"key\": the share link's key, \"password\": ...}", "key")
        resp.media = {"key": self.identities.unlock(body["key"], body.get("password"), self.address(req))}
        resp.cache_control = ["no-store"]
