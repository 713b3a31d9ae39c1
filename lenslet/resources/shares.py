"""Share links: who asks (/me), listing, making, revoking and unlocking shares."""

from contextlib import suppress

import falcon

from lenslet.errors import AlreadyExists, BadRequest, Forbidden
from lenslet.people import shares
from lenslet.resources.bodies import ThenCheck, body_of, read_json, read_object
from lenslet.resources.guard import access_of, principal_of
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
            album = self.albums.shareable(principal_of(req), body["album"], body.get("allowUpload") is True)
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
        upload = shares.upload_of(body, kind)
        if upload is not None and kind == "album":  # made now, so its maker learns at once if it cannot be
            with suppress(AlreadyExists):
                self.files.make_folder(req.context.access.change(upload["folder"]))
        listed, key = self.shares.make(principal_of(req), path, kind, seconds, allow, body.get("password"), images,
                                       album, details, upload)
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


class GuestUploadResource:
    """PUT /shares/upload?name=&guest=: a guest adds a photo or video through a share link that takes uploads."""

    def __init__(self, shares_, files, albums, maker_access):
        self.shares, self.files, self.albums = shares_, files, albums
        self.maker_access = maker_access  # share record -> Access of its maker now

    def on_put(self, req, resp):
        record = principal_of(req).share
        if record is None or "upload" not in record:
            raise Forbidden("photos are added here through a share link that takes them (X-Lenslet-Share)")
        added = {"addedBy": shares.guest_name(req.get_param("guest")), "addedVia": record["id"]}
        body = body_of(req, self.files.limit, self.files.too_large)
        if req.content_length is None:
            raise falcon.HTTPLengthRequired(title="Length required",
                                            description="say the file's size (Content-Length): a link counts bytes")
        # An album's link adds to a folder its guests do not see: what its maker may change decides.
        access = access_of(req) if record["kind"] == "folder" else self.maker_access(record)
        folder = access.change(shares.upload_folder(record))
        if record["upload"]["folder"]:
            with suppress(AlreadyExists):
                self.files.make_folder(folder)
        resp.media = self.shares.receive(record, req.content_length, lambda check: self.files.upload(
            folder, req.get_param("name") or "", ThenCheck(body, check), "rename", added=added))
        if record["kind"] == "album":
            self.albums.add_upload(record["album"], resp.media["path"])
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]
