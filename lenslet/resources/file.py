from contextlib import closing

import falcon

from lenslet.errors import BadRequest
from lenslet.formats.positions import patched
from lenslet.images.originals import position_patches
from lenslet.layout import mime_of, name_of, parent
from lenslet.resources.bodies import CHUNK, ThenCheck, body_of, form_parts, media_type
from lenslet.resources.guard import access_of
from lenslet.resources.http import (
    CACHE,
    Unsatisfiable,
    accel_uri,
    attachment,
    byte_range,
    etag_of,
    http_date,
    not_modified,
)
from lenslet.resources.preview import PreviewResource
from lenslet.storage import clean_path, spool

FORM_SLACK = 64 * 1024  # room for a multipart body's field names and boundaries


class FileResource:
    """GET /file?path=: the original image, with caching and single byte ranges; POST and PUT upload one."""

    def __init__(self, tree, accel_redirect, s3_stream=False, files=None, previews=None):
        self.tree, self.accel, self.s3_stream, self.files = tree, accel_redirect, s3_stream, files
        self.preview = PreviewResource(previews, accel_redirect)

    def on_post(self, req, resp):
        resp.media = upload_form(self.files, req)
        resp.status = falcon.HTTP_201

    def on_put(self, req, resp):
        resp.media = upload_raw(self.files, req)
        resp.status = falcon.HTTP_201

    def on_get(self, req, resp):
        access = access_of(req)
        place, stat = self.tree.locate_image(access.see(clean_path(req.get_param("path", required=True))))
        # A link without details hands out no position: taken out of the file, else its preview instead.
        patches = position_patches(place.storage, place.key, stat.size) if access.hides_details else []
        if patches is None:
            self.preview.on_get(req, resp)
            resp.set_header("Content-Disposition", attachment(name_of(place.key) + ".webp"))  # not the original
            return
        send_file(req, resp, place, stat, self.accel, self.s3_stream, patches)

    on_head = on_get


def send_original(req, resp, tree, path, accel_location, s3_stream):
    """Answer an original image, with caching and single byte ranges."""
    place, stat = tree.locate_image(access_of(req).see(path))
    send_file(req, resp, place, stat, accel_location, s3_stream)


def send_file(req, resp, place, stat, accel_location, s3_stream, patches=()):
    """Answer a located original, the patches laid over its bytes."""
    storage, key, kind = place.storage, place.key, mime_of(place.key)
    resp.etag = etag_of(stat) if not patches else etag_of(stat)[:-1] + '-placeless"'
    resp.set_header("Last-Modified", http_date(stat.mtime))
    resp.cache_control = [CACHE]
    if not_modified(req.get_header("If-None-Match"), req.get_header("If-Modified-Since"), resp.etag, stat.mtime):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = kind
    # nginx's location serves the root tree only, not a pointer's target.
    accel = None if place.prefix or patches else accel_uri(accel_location, storage, key)
    if accel is not None:
        resp.set_header("X-Accel-Redirect", accel)
        return
    url = None if s3_stream or patches else storage.presign(key, content_type=kind)
    if url is not None:
        raise falcon.HTTPFound(url)
    # Only here: nginx adds its own Accept-Ranges to an X-Accel answer.
    resp.accept_ranges = "bytes"
    try:
        span = byte_range(req.get_header("Range"), stat.size)
    except Unsatisfiable:
        raise falcon.HTTPRangeNotSatisfiable(
            stat.size, title="Range not satisfiable",
            description=f"the range starts past the end of the file ({stat.size} bytes)") from None
    if span is None:
        # A local file goes as it is, so gunicorn can sendfile() it.
        resp.set_stream(patched_stream(storage.open(key), 0, patches), stat.size)
        return
    start, end = span
    resp.status = falcon.HTTP_206
    resp.content_range = (start, end, stat.size)
    resp.set_stream(patched_stream(storage.open_range(key, start, end - start + 1), start, patches), end - start + 1)


def patched_stream(stream, start, patches):
    """Return an original's stream from start on, with the patches laid over its bytes."""
    return stream if not patches else (patched(chunk, at, patches) for chunk, at in _chunks(stream, start))


def _chunks(stream, at):
    with closing(stream):
        while chunk := stream.read(CHUNK):
            yield chunk, at
            at += len(chunk)


def upload_form(files, req):
    """POST /file: a multipart form with `dest` and `file`, streamed to disk.
    The file is named only once the whole form has arrived."""
    limit = files.limit
    if media_type(req) != "multipart/form-data":
        raise BadRequest("send the image as multipart/form-data with fields dest and file, or PUT it raw")
    fields, held = dict(req.params), None
    parts = form_parts(req, limit + FORM_SLACK, files.too_large)
    try:
        for part in parts:
            if part.name != "file":
                fields[part.name] = part.get_text()
            elif "dest" in fields or "path" in fields:
                whole = ThenCheck(part.stream, lambda: _read_to_the_end(parts))
                return files.upload(_dest(req, fields), part.filename or "", whole, fields.get("conflict"))
            else:
                held = (part.filename or "", spool(part.stream, limit))
        if held is None:
            raise BadRequest("the form has no file field")
        return files.upload(_dest(req, fields), held[0], held[1], fields.get("conflict"))
    finally:
        if held is not None:
            held[1].close()


def _read_to_the_end(parts):
    """Read the rest of the form: it must end with its closing boundary."""
    for _ in parts:
        pass


def _dest(req, fields):
    return access_of(req).change(clean_path(fields.get("dest", fields.get("path"))))


def upload_raw(files, req):
    """PUT /file?path=folder/name.jpg: the request body is the image."""
    path = access_of(req).change(clean_path(req.get_param("path")))
    if not path:
        raise BadRequest("say where: path=folder/name.jpg")
    body = body_of(req, *files.body_limit(path))
    return files.upload(parent(path), name_of(path), body, req.get_param("conflict"))
