"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json."""

import falcon
import orjson

from lenslet import __version__
from lenslet.albums.format import MAX_CHANGE as ALBUM_CHANGE
from lenslet.albums.format import MAX_NAME as ALBUM_NAME
from lenslet.albums.store import MAX_PAGE as ALBUM_PAGE
from lenslet.formats import manifests, sidecars
from lenslet.layout import TYPES
from lenslet.resources import MAX_BODY, MAX_QUERY_STRING
from lenslet.resources.folders import MAX_PAGE
from lenslet.resources.search import MAX_OFFSET, MAX_QUERY
from lenslet.search.searcher import MAX_LIMIT
from lenslet.search.timeline import MAX_LIMIT as TIMELINE_LIMIT
from lenslet.storage.paths import MAX_PATH
from lenslet.tree import pointers

# What GET /file answers: every type lenslet lists (pictures, raws, videos).
IMAGE_TYPES = tuple(dict.fromkeys(TYPES.values()))

# Why each error status can happen; an operation lists the ones it can answer.
ERRORS = {
    400: "Bad input: a malformed or unsafe path, a query parameter out of range, a body that is not valid",
    401: "LENSLET_TOKEN is set and the request lacks `Authorization: Bearer <token>`; with LENSLET_USERS, it "
         "lacks a session, a user's token or a share link (`signIn: \"password\"` tells a page to ask for a name "
         "and password), or (POST /session) the name and password do not match",
    403: "Refused: lenslet or the folder is read-only, a pointer names a target not allowed, or a write comes "
         "from another site (an `Origin` not this gallery's nor in LENSLET_CORS_ORIGINS, `Origin: null`, "
         "`Sec-Fetch-Site: cross-site`)",
    404: "No such image, folder, page or endpoint; a path outside the user's folders answers exactly as a "
         "missing one; a share link expired, revoked or mistyped",
    409: "(/users) The name is taken, or the change would leave no admin; (/setup) there are users already; "
         "the sidecar cannot be parsed (PUT with `overwrite=true` replaces it, keeping the old bytes), "
         "or one of lenslet's own names is held by a link, folder or special file it never writes through, "
         "or (PATCH removeTags) a tag lives where lenslet does not write: inside the image, or in an XMP "
         "sidecar while LENSLET_XMP=read (an XMP sidecar it cannot read, or whose name a link, FIFO or folder "
         "holds, is never written either: the edit is refused)",
    412: "`If-Match` names a version the sidecar no longer has; `etag` is the current one",
    413: f"The body is larger than {MAX_BODY // 1024} KiB (an upload: larger than LENSLET_MAX_UPLOAD)",
    414: f"The query string is longer than {MAX_QUERY_STRING:,} characters",
    415: "The path does not name an image (JPEG, PNG, WebP, AVIF, GIF, HEIC, or a camera's raw file: DNG, CR2, "
         "NEF, ARW, ORF, RW2, RAF, PEF), or a body read as JSON does not "
         "say `Content-Type: application/json`",
    416: "The range starts past the end of the file; `Content-Range: bytes */<size>` gives the size",
    429: "Too many failed tokens, share links, share passwords or passwords from this address: wait `Retry-After` "
         "seconds",
    421: "The `Host` names a host lenslet does not answer to (DNS rebinding): add it to LENSLET_HOSTS",
    422: "An image that cannot be decoded, or larger than LENSLET_MAX_PIXELS",
    502: "A pointer folder whose target is missing or whose file is not valid",
    503: "The storage is busy or unreachable, or (LENSLET_XMP=write) another program kept changing the XMP "
         "sidecar while lenslet merged the edit into it: nothing was changed; ask again after `Retry-After` seconds",
    507: "The disk is full (or over quota): nothing was changed",
    508: f"Pointer folders that lead in a circle or deeper than {pointers.MAX_DEPTH}; `chain` lists them",
}
# Any request: bad input, credentials (a dead share link answers 404), the query's length, Host, storage.
ANY = (400, 401, 403, 404, 414, 421, 429, 503)
TREE = (403, 404, 502, 508)  # any request that finds a path in the tree


def spec():
    """Return the OpenAPI document as a dict."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lenslet", "version": __version__,
                 "description": "A file-based image gallery backend: folder listings, sidecar metadata, "
                                "thumbnails, originals, search and health. Errors are JSON "
                                "`{\"title\", \"description\", ...}` with fields that help."},
        "servers": [{"url": "/", "description": "the API at the root"},
                    {"url": "/api", "description": "the same API under /api"}],
        "security": [{}, {"token": []}, {"session": []}, {"share": []}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES,
                       "headers": HEADERS,
                       "securitySchemes": {"token": {"type": "http", "scheme": "bearer",
                                                     "description": "LENSLET_TOKEN; needed for writes when set, "
                                                                    "for reads too with LENSLET_TOKEN_READS; "
                                                                    "with LENSLET_USERS, a user's token"},
                                           "session": {"type": "apiKey", "in": "cookie", "name": "lenslet-session",
                                                       "description": "a session POST /session made (over TLS the "
                                                                      "cookie is `__Host-lenslet-session`); a write "
                                                                      "it signs must carry the page's `Origin`"},
                                           "share": {"type": "apiKey", "in": "header", "name": "X-Lenslet-Share",
                                                     "description": "a share link's key (the part after `/s#`), "
                                                                    "with its password's proof when it has one "
                                                                    "(POST /shares/unlock)"}}},
    }


def ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def errors(*statuses):
    return {str(status): ref("responses", str(status)) for status in sorted(statuses)}


def json_of(schema, description, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def images(description, headers=None):
    answer = {"description": description,
              "content": {kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in IMAGE_TYPES}}
    if headers:
        answer["headers"] = headers
    return answer


def nullable(kind, **more):
    return {"type": [kind, "null"], **more}


STRINGS = {"type": "array", "items": {"type": "string"}}
TAGS = {"type": "array", "maxItems": sidecars.MAX_TAGS,
        "items": {"type": "string", "minLength": 1, "maxLength": sidecars.MAX_TAG_LENGTH}}
STAR = {"type": ["integer", "null"], "minimum": 0, "maximum": 5}
# What /health tells everyone, admin or not: what the gallery page must know.
PAGE_FIELDS = {
    "readonly": {"type": "boolean", "description": "LENSLET_READONLY: every write answers 403"},
    "libraryReadonly": {"type": "boolean", "description": "LENSLET_STATE: the library is only read; file "
                        "operations (upload, move, trash, restore, delete, folders) answer 403 with reason "
                        "library-read-only, everything else works"},
    "rules": {"type": "object", "required": ["trash", "images"],
              "description": "what the gallery page must agree with the server on (it reads them here)",
              "properties": {
                  "trash": {"type": "string", "description": "the trash folder's name, at the root"},
                  "images": {"type": "object", "additionalProperties": {"type": "string"},
                             "description": "the files lenslet lists: extension (with its dot, "
                                            "lower case) -> media type"}}},
    "imageSettings": {"type": "object", "required": ["thumb", "preview"],
                      "description": "the settings thumbnails and previews are made with, as the last part of "
                                     "their URL version: `v=<size>-<mtime>-<these>` (size in hexadecimal, the "
                                     "mtime in whole microseconds in hexadecimal, as a listing's item says them) "
                                     "is answered `immutable` while it is the version of what is answered",
                      "properties": {"thumb": {"type": "string"}, "preview": {"type": "string"},
                                     "large": {"type": "string", "description": "of `/thumb?size=large`; absent "
                                               "when LENSLET_THUMB_SIZE_LARGE is 0"}}},
}

USER_FIELDS = {
    "role": {"enum": ["view", "edit", "admin"]},
    "folders": {**STRINGS, "minItems": 1, "maxItems": 1000, "description": "folder paths (\"\": every folder)"},
    "password": {"type": "string", "minLength": 8, "maxLength": 1024},
}
SCHEMAS = {
    "Done": {
        "type": "object", "required": ["ok"],
        "description": "a file operation that went through (the lenscat-lite front end checks `ok`)",
        "properties": {"ok": {"const": True}, "path": {"type": ["string", "null"]},
                       "paths": {"type": "array", "items": {"type": "string"}}},
    },
    "Moved": {
        "type": "object", "required": ["ok", "path", "paths"],
        "description": "a move that went through, of one image or of many: `path` the first one's new path, "
                       "`paths` every new path (the other file of a stack too when it went along)",
        "properties": {"ok": {"const": True}, "path": {"type": ["string", "null"]},
                       "paths": {"type": "array", "items": {"type": "string"}}},
    },
    "Paths": {
        "type": "object", "description": "which images: `paths` (or `src`, `path`), a path or a list of them",
        "properties": {"paths": {"type": ["string", "array"], "items": {"type": "string"}},
                       "src": {"type": ["string", "array"], "items": {"type": "string"}},
                       "path": {"type": "string"}, "dest": {"type": "string"}, "to": {"type": "string"},
                       "conflict": {"enum": ["rename", "replace"]}, "force": {"type": ["boolean", "string"]}},
    },
    "Error": {
        "type": "object", "required": ["title", "description"],
        "properties": {"title": {"type": "string"}, "description": {"type": "string"},
                       "path": {"type": "string"}},
        "examples": [{"title": "Not found", "description": "no such file or folder", "path": "trips/x.jpg"}],
    },
    "Alive": {
        "type": "object", "required": ["status", "version", "readonly", "rules"],
        "description": "what /health tells anyone who is not an admin (no credentials needed): what the "
                       "gallery page must know, none of the details",
        "properties": {"status": {"const": "ok"}, "version": {"type": "string"}, **PAGE_FIELDS},
    },
    "Me": {
        "type": "object", "required": ["kind", "name", "role", "canWrite", "folders", "images"],
        "properties": {
            "kind": {"enum": ["open", "user", "share"]}, "name": {"type": "string"},
            "role": {"enum": ["view", "edit", "admin"]}, "canWrite": {"type": "boolean"},
            "folders": {**STRINGS, "description": "folders they see with all they hold (\"\": everything)"},
            "images": {**STRINGS, "description": "single images they see (a share of one image, of images, or "
                                                 "of an album: what it holds now)"},
            "share": {"type": "object", "properties": {
                "id": {"type": "string"}, "path": {"type": "string"},
                "kind": {"enum": ["folder", "image", "images", "album"]}, "album": {"type": "string"},
                "expires": {"type": "string"}, "allowDownload": {"type": "boolean"},
                "details": {"type": "boolean", "description": "the link shows place and camera"}}},
        },
    },
    "User": {
        "type": "object", "required": ["name", "role", "folders", "password", "token"],
        "description": "a person of the users file, as an admin sees them: never a hash or a stamp",
        "properties": {
            "name": {"type": "string"}, "role": {"enum": ["view", "edit", "admin"]},
            "folders": {**STRINGS, "description": "folders they see with all they hold (\"\": everything)"},
            "password": {"type": "boolean", "description": "they may sign in with a password"},
            "token": {"type": "boolean", "description": "they hold a token (for scripts: `lenslet user add`)"},
            "note": {"type": "string", "description": "what lenslet takes differently from what their entry says "
                                                      "(an admin of some folders only: an edit user of them)"},
        },
    },
    "UserChange": {"type": "object", "additionalProperties": False, "properties": USER_FIELDS},
    "ShareAsked": {
        "type": "object", "oneOf": [{"required": ["path"]}, {"required": ["paths"]}, {"required": ["album"]}],
        "properties": {
            "path": {"type": "string", "description": "a folder or an image"},
            "album": {"type": "string", "description": "or an album the caller made (picked images, or a smart "
                                                       "album's saved search): the link shows what the album holds "
                                                       "(what the search finds for its maker) whenever it is opened"},
            "paths": {**STRINGS, "minItems": 2, "maxItems": 1000,
                      "description": "or several images of one folder (the selection): the link opens that folder "
                                     "showing them alone"},
            "expires": {"type": ["string", "number"], "description": "how long: `7d` (the default), `12h`, "
                        "`30m`, `2w` or seconds; at most LENSLET_SHARE_MAX_DAYS"},
            "allowDownload": {"type": "boolean", "default": True, "description": "originals may be downloaded"},
            "details": {"type": "boolean", "default": False, "description": "the link shows where each photo was "
                                                                            "taken (GPS) and with what camera"},
            "password": {"type": "string", "description": "asked by the shared view (POST /shares/unlock)"},
        },
    },
    "Share": {
        "type": "object",
        "required": ["id", "path", "kind", "createdBy", "createdAt", "expires", "allowDownload", "password",
                     "expired"],
        "properties": {
            "id": {"type": "string"}, "path": {"type": "string", "description": "the folder, image, or folder "
                                                                                  "of the images shared"},
            "kind": {"enum": ["folder", "image", "images", "album"]},
            "images": {**STRINGS, "description": "kind images: which"},
            "album": {"type": "string", "description": "kind album: its id"},
            "createdBy": {"type": "string"}, "createdAt": {"type": "string"}, "expires": {"type": "string"},
            "allowDownload": {"type": "boolean"}, "password": {"type": "boolean"}, "expired": {"type": "boolean"},
            "details": {"type": "boolean", "description": "the link shows place and camera"},
        },
    },
    "ShareMade": {
        "allOf": [ref("schemas", "Share")],
        "type": "object", "required": ["key", "link", "url"],
        "properties": {
            "key": {"type": "string", "description": "`<id>.<secret>`: sent as `X-Lenslet-Share`; shown once"},
            "link": {"type": "string", "description": "`/s#<key>`"}, "url": {"type": "string"}},
    },
    "Pending": {
        "allOf": [ref("schemas", "Error")],
        "type": "object", "required": ["poll", "retryAfter"],
        "properties": {"poll": {"type": "string", "description": "where to ask again"},
                       "retryAfter": {"type": "integer"}},
    },
    "ManifestItem": {
        "type": "object", "required": ["path", "name"],
        "properties": {
            "path": {"type": "string"}, "name": {"type": "string"}, "type": {"type": "string"},
            "w": nullable("integer"), "h": nullable("integer"), "size": {"type": "integer"},
            "mtime": {"type": "number"}, "hasThumb": {"type": "boolean"}, "hasMeta": {"type": "boolean"},
            "hash": nullable("string"), "tags": STRINGS, "notes": {"type": "string"}, "star": STAR,
            "metaMtime": nullable("number"),
            "metaVersion": nullable("string", description="the version of the sidecar the entry was made from"),
            "error": {"type": "string", "description": "why the file could not be read"},
            "rejected": {"type": "boolean", "description": "XMP rates it -1 (LENSLET_XMP; present when true)"},
            "xmpPaths": {**STRINGS, "description": "hierarchical keywords from XMP (Places|Iceland), searchable"},
            "xmpError": {"type": "string", "description": "why its XMP could not be read"},
            "link": {"type": "boolean", "description": "its name is a symbolic link (present when true): a user "
                                                      "with folders sees it only when it leads inside them"},
            "xmp": {"type": "array", "description": "the XMP sidecar the entry was made from: name, size, mtime"},
            "camera": {"type": "string", "description": "EXIF make and model, as one name (present when known)"},
            "taken": {"type": "string", "description": "EXIF's time taken, ISO-8601 without a zone (present when "
                                                       "known)"},
            "takenOffset": {"type": "string", "description": "the zone of `taken` (EXIF OffsetTimeOriginal, "
                                                             "`+02:00`; present when the camera says)"},
            "kind": {"enum": ["image", "raw", "video"],
                     "description": "what it is, by its name (absent in entries of an older lenslet: an image)"},
            "preview": {"type": "boolean",
                        "description": "false when lenslet shows no picture of it (a video, a file that cannot be "
                                       "read, a raw without a preview): drawn as a placeholder; /thumb answers 415 "
                                       "(video) or 422; /file serves it. Absent in entries of an older lenslet: true "
                                       "unless the entry has an `error`"},
            "stack": {"type": "object", "required": ["front", "members", "kind"],
                      "description": "the stack it is half of (docs/files.md, Stacks): a raw and its JPEG, a live "
                                     "photo's picture and video; shown as one, moved together (present when so)",
                      "properties": {"front": {"type": "string"}, "members": STRINGS,
                                     "kind": {"enum": ["raw", "live"]}}},
        },
    },
    "Duplicates": {
        "type": "object", "required": ["groups", "total", "offset", "limit"],
        "description": "groups of images (outside the trash) of one content hash, as the search rollup knows "
                       "them; each group holds only the images the caller may see, and at least two",
        "properties": {
            "total": {"type": "integer"}, "offset": {"type": "integer"}, "limit": {"type": "integer"},
            "groups": {"type": "array", "items": {
                "type": "object", "required": ["hash", "items"],
                "properties": {"hash": {"type": "string"},
                               "items": {"type": "array", "items": ref("schemas", "ManifestItem")}}}},
        },
    },
    "CopiesTrashed": {
        "type": "object", "required": ["ok", "paths", "changed"],
        "properties": {"ok": {"const": True}, "paths": {**STRINGS, "description": "the copies trashed"},
                       "changed": {**STRINGS, "description": "copies left alone: no longer of the hash"}},
    },
    "FolderView": {
        "allOf": [ref("schemas", "Counts")],
        "type": "object",
        "required": ["v", "path", "sort", "order", "offset", "limit", "total", "folderTotal", "dirs", "items"],
        "description": "A slice of a folder's items, filtered and sorted (any of sort, order, star, date, "
                       "camera, type, tagged, offset, limit given)",
        "properties": {
            "v": {"type": "integer"}, "path": {"type": "string"}, "generatedAt": nullable("string"),
            "sig": nullable("string"), "sort": {"enum": ["name", "date", "rating", "size"]},
            "order": {"enum": ["asc", "desc"]}, "offset": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer", "minimum": 1},
            "total": {"type": "integer", "minimum": 0, "description": "items the filters keep"},
            "folderTotal": {"type": "integer", "minimum": 0, "description": "items in the folder"},
            "dirs": {"type": "array", "items": {"type": "object"}},
            "items": {"type": "array", "items": ref("schemas", "ManifestItem")},
        },
    },
    "Counts": {
        "type": "object", "required": ["images", "allImages", "cover", "coverPicked"],
        "description": "a folder's counts and cover, as they are when answered",
        "properties": {
            "images": {"type": "integer", "minimum": 0, "description": "items in the folder itself (videos included)"},
            "videos": {"type": "integer", "minimum": 0,
                       "description": "of `images`, the videos (the page says `N images, M videos`); absent from "
                                      "an older lenslet's answers"},
            "allImages": {"type": "integer", "minimum": 0,
                          "description": "items in it and every folder below (the trash counts in no folder above it)"},
            "cover": nullable("string", description="browse path of the cover image: the one picked, else the first "
                                                    "image shown, else the first subfolder's cover; null for none"),
            "coverPicked": {"type": "boolean", "description": "the cover is the one picked for this folder"},
        },
    },
    "CoverPick": {
        "type": "object", "required": ["cover"], "additionalProperties": False,
        "properties": {"cover": nullable("string", maxLength=255,
                                         description="an image's name in this folder (not a path), or null to clear")},
    },
    "FolderPage": {
        "allOf": [ref("schemas", "Counts")],
        "type": "object", "required": ["v", "path", "page", "pageCount", "total", "dirs", "items"],
        "properties": {
            "v": {"type": "integer"}, "path": {"type": "string"}, "generatedAt": {"type": "string"},
            "builtAt": {"type": "number", "description": "when the build began (seconds since 1970)"},
            "sig": {"type": "string"}, "page": {"type": "integer", "minimum": 0},
            "pageCount": {"type": "integer", "minimum": 1}, "total": {"type": "integer", "minimum": 0},
            "dirs": {"type": "array", "items": {
                "allOf": [ref("schemas", "Counts")],
                "type": "object", "required": ["name", "kind"],
                "properties": {"name": {"type": "string"},
                               "kind": {"enum": [*manifests.KNOWN_KINDS, manifests.UNKNOWN],
                                        "description": "unknown: it could not be looked at when the listing "
                                                       "was made (it may hold folders)"},
                               "mtime": {"type": "number"},
                               "link": {"type": "boolean",
                                        "description": "a symbolic link (present when true)"}}}},
            "items": {"type": "array", "items": ref("schemas", "ManifestItem")},
        },
    },
    "Item": {
        "type": "object",
        "required": ["v", "tags", "notes", "star", "exif", "hash", "updatedAt", "updatedBy",
                     "updated_at", "updated_by"],
        "properties": {
            "v": {"type": "integer"}, "tags": STRINGS, "notes": {"type": "string"}, "star": STAR,
            "exif": {"type": "object", "description": "what the image's EXIF says, each key only when known: make, "
                     "model, createdAt, width, height, orientation, lens, focalLength (mm), focalLength35 (mm on 35 mm "
                     "film), fNumber, exposureTime (s), iso, latitude, longitude (decimal degrees, south and west "
                     "negative), altitude (m); text cleaned of control characters (docs/files.md)"},
            "hash": nullable("string"),
            "updatedAt": nullable("string"), "updatedBy": nullable("string"),
            "updated_at": nullable("string"), "updated_by": nullable("string"),
            "path": {"type": "string"}, "size": {"type": "integer"}, "mtime": {"type": "number"},
            "type": {"type": "string"}, "w": nullable("integer"), "h": nullable("integer"),
            "error": {"type": "string"},
            "mapLink": {"type": "string", "description": "where a map shows the image's GPS position "
                                                        "(LENSLET_MAP_LINK); absent when unset or no position"},
            "duration": nullable("number", description="a video's length in seconds, as the poster the worker "
                                                       "made with ffmpeg records it; null without one"),
            "rejected": {"type": "boolean", "description": "XMP rates it -1 (no star); LENSLET_XMP read or write"},
            "label": nullable("string", description="xmp:Label, a colour label"),
            "title": nullable("string", description="dc:title"),
            "description": nullable("string", description="dc:description"),
            "xmpPaths": STRINGS,
            "sources": {"type": "object", "description": "who holds each value: lenslet, the XMP sidecar's "
                        "file name, or embedded (the image itself); tags: tag -> [sources]"},
        },
        "description": "The sidecar, with snake_case aliases; GET adds what the image says.",
    },
    "ItemPut": {
        "type": "object",
        "description": "A whole sidecar (either spelling of its keys; the GET answer may be sent back). "
                       "A field left out keeps its stored value; unknown keys are kept.",
        "properties": {
            "tags": TAGS, "notes": {"type": "string", "maxLength": sidecars.MAX_NOTES}, "star": STAR,
            "updatedAt": {"type": ["string", "null"], "format": "date-time",
                          "description": "the version the edit was made on: older than the stored one merges"},
            "updatedBy": {"type": ["string", "null"], "maxLength": sidecars.MAX_WHO},
        },
        "examples": [{"tags": ["beach"], "notes": "", "star": 4}],
    },
    "ItemPatch": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "properties": {"addTags": TAGS, "removeTags": TAGS,
                       "notes": {"type": "string", "maxLength": sidecars.MAX_NOTES}, "star": STAR},
        "examples": [{"addTags": ["sunset"], "star": 5}],
    },
    "SearchAnswer": {
        "type": "object", "required": ["q", "path", "offset", "limit", "total", "items"],
        "properties": {"q": {"type": "string"}, "path": {"type": "string"},
                       "offset": {"type": "integer"}, "limit": {"type": "integer"},
                       "total": {"type": "integer"},
                       "items": {"type": "array", "items": ref("schemas", "ManifestItem")}},
    },
    "Album": {
        "type": "object", "required": ["id", "name", "owner", "smart", "cover", "count", "createdAt", "updatedAt"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "owner": {"type": "string"},
            "smart": {"anyOf": [{"type": "null"}, ref("schemas", "SmartSearch")],
                      "description": "a smart album's saved search (null: images picked by hand)"},
            "cover": nullable("string", description="the cover image (else the first)"),
            "count": nullable("integer", description="images the caller may see (null for a smart album)"),
            "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}},
    },
    "SmartSearch": {
        "type": "object", "description": "a search, as GET /search takes it",
        "properties": {name: {"type": "string"} for name in ("q", "path", "sort", "order", "star", "date", "camera",
                                                              "type", "tagged")},
    },
    "AlbumPage": {
        "allOf": [ref("schemas", "Album")],
        "type": "object", "required": ["offset", "limit", "total", "items"],
        "properties": {"offset": {"type": "integer"}, "limit": {"type": "integer"},
                       "total": {"type": "integer", "description": "images the caller may see"},
                       "items": {"type": "array", "items": ref("schemas", "ManifestItem")}},
    },
    "AlbumAsked": {
        "type": "object", "required": ["name"],
        "properties": {"name": {"type": "string", "minLength": 1, "maxLength": ALBUM_NAME},
                       "images": {**STRINGS, "maxItems": ALBUM_CHANGE, "description": "images picked, in order"},
                       "smart": ref("schemas", "SmartSearch")},
    },
    "AlbumChange": {
        "type": "object", "minProperties": 1,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": ALBUM_NAME},
            "add": {**STRINGS, "minItems": 1, "maxItems": ALBUM_CHANGE, "description": "images added at the end"},
            "remove": {**STRINGS, "minItems": 1, "maxItems": ALBUM_CHANGE,
                       "description": "images taken out (never deleted)"},
            "move": {"type": "array", "minItems": 1, "maxItems": ALBUM_CHANGE, "items": {
                "type": "object", "required": ["path"], "properties": {
                    "path": {"type": "string"},
                    "before": nullable("string", description="the image it goes before (null: the end)")}}},
            "cover": nullable("string", description="one of its images (null: the first)"),
            "smart": {"anyOf": [{"type": "null"}, ref("schemas", "SmartSearch")]}},
    },
    "TimelineItem": {"allOf": [ref("schemas", "ManifestItem"), {
        "type": "object", "required": ["takenAt", "dateSource"],
        "properties": {"takenAt": {"type": "string", "description": "when it was taken, ISO-8601: the camera's "
                                   "wall clock, with its zone where EXIF gives one (OffsetTimeOriginal)"},
                       "dateSource": {"enum": ["exif", "file"], "description": "`exif`: EXIF's "
                                      "DateTimeOriginal (the camera's wall clock); `file`: the file's time (UTC)"}}}]},
    "TimelineSlice": {
        "type": "object", "required": ["items", "total", "older", "newer"],
        "properties": {"items": {"type": "array", "items": ref("schemas", "TimelineItem")},
                       "total": {"type": "integer", "description": "images of the whole timeline (its filters)"},
                       "older": nullable("string", description="the cursor of the next older slice (`before=`); "
                                                               "null at the oldest"),
                       "newer": nullable("string", description="the cursor of the next newer slice (`after=`); "
                                                               "null at the newest")},
    },
    "TimelineMonths": {
        "type": "object", "required": ["months", "total"],
        "properties": {"total": {"type": "integer"}, "months": {"type": "array", "items": {
            "type": "object", "required": ["month", "count", "photos", "videos"],
            "properties": {"month": {"type": "string", "example": "2024-05"},
                           "count": {"type": "integer", "description": "every file of the month"},
                           "photos": {"type": "integer", "description": "the photos the page shows as tiles: the "
                                      "other file of a stack (a raw beside its JPEG, a live photo's video) is its "
                                      "front's tile"},
                           "videos": {"type": "integer", "description": "the videos the page shows as tiles"}}}}},
    },
    "OnThisDay": {
        "type": "object", "required": ["day", "years"],
        "properties": {"day": {"type": "string", "example": "05-12"}, "years": {"type": "array", "items": {
            "type": "object", "required": ["year", "count", "items"],
            "properties": {"year": {"type": "integer"}, "count": {"type": "integer"},
                           "items": {"type": "array", "items": ref("schemas", "TimelineItem")}}}}},
    },
    "Suggestions": {
        "type": "object", "required": ["q", "tags", "words"],
        "properties": {
            "q": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "object", "required": ["tag", "count"], "properties": {
                "tag": {"type": "string"}, "count": {"type": "integer"}}}},
            "words": {"type": "array", "items": {"type": "object", "required": ["word", "count"], "properties": {
                "word": {"type": "string"}, "count": {"type": "integer"}}}},
        },
    },
    "Health": {
        "type": "object", "required": ["status", "version", "storage", "worker", "report", "readonly", "rules"],
        "properties": {
            "status": {"enum": ["ok", "degraded"]}, "version": {"type": "string"},
            "storage": {"type": "object", "required": ["backend", "readable", "writable"], "properties": {
                "backend": {"enum": ["local", "s3"]}, "readable": {"type": "boolean"},
                "writable": {"type": "boolean"},
                "unavailable": {"type": "string", "description": "why the tree cannot be reached (its root "
                                "folder is missing, or the share that held it is no longer mounted): every "
                                "request then answers 503 with Retry-After, never an empty gallery"},
                "reservedNames": {"type": "array", "items": {"type": "string"}, "description":
                                  "lenslet's own names at the root held by someone else's file or folder; "
                                  "lenslet keeps its file in the state folder instead"},
                "name": {"type": "string", "description": "the root folder's name (never its path), or the "
                                                          "bucket and prefix: what the gallery page says it shows"}}},
            "worker": {"type": "object", "required": ["alive", "workers", "backlog"], "properties": {
                "alive": {"type": "boolean"}, "workers": {"type": "integer"},
                "lastHeartbeat": nullable("number"), "secondsSinceHeartbeat": nullable("number"),
                "backlog": {"type": "integer"}}},
            "report": {"type": ["object", "null"], "description": "the counts of the worker's _health.json"},
            "rejected": {"type": "object", "required": ["count", "files"],
                         "description": "journals (of moves, of edits) of a shape lenslet does not write: set "
                                        "aside, never acted on, kept for a person to look at",
                         "properties": {"count": {"type": "integer"},
                                        "files": {"type": "array", "items": {"type": "string"}}}},
            **PAGE_FIELDS,
        },
    },
}

PARAMETERS = {
    "imagePath": {"name": "path", "in": "query", "required": True,
                  "description": "an image, relative to the gallery root (`a/b.jpg` or `/a/b.jpg`)",
                  "schema": {"type": "string", "maxLength": MAX_PATH}, "example": "trips/2024/beach.jpg"},
    "folderPath": {"name": "path", "in": "query",
                   "description": "a folder, relative to the gallery root; the root when left out",
                   "schema": {"type": "string", "maxLength": MAX_PATH}, "example": "trips/2024"},
    "page": {"name": "page", "in": "query", "description": "manifest page, from 0",
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0}},
    "q": {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": MAX_QUERY}, "example": "beach"},
    "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                                         "default": 100}},
    "offset": {"name": "offset", "in": "query",
               "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}},
    "sort": {"name": "sort", "in": "query", "description": "name, date (taken, else the file's time), rating or "
             "size; ties keep the default order (a folder's names, search's paths)",
             "schema": {"enum": ["name", "date", "rating", "size"]}},
    "order": {"name": "order", "in": "query", "schema": {"enum": ["asc", "desc"], "default": "asc"}},
    "star": {"name": "star", "in": "query", "description": "at least this many stars (`4` or `4+`)",
             "schema": {"type": "string", "pattern": "^[0-5]\\+?$"}, "example": "4+"},
    "date": {"name": "date", "in": "query", "description": "taken (else the file's time, UTC) in a year, month "
             "or day, or a range of them: `2024`, `2024-05`, `2024-05-12`, `2024-01..2024-06`, `2024-01..`",
             "schema": {"type": "string", "maxLength": 100,
                        "pattern": "^(\\d{4}(-\\d{1,2}(-\\d{1,2})?)?)?(\\.\\.(\\d{4}(-\\d{1,2}(-\\d{1,2})?)?)?)?$"},
             "example": "2024-05"},
    "camera": {"name": "camera", "in": "query", "description": "part of the camera's name (EXIF make and model)",
               "schema": {"type": "string", "maxLength": 100}, "example": "canon"},
    "type": {"name": "type", "in": "query", "description": "file types, comma-separated: an extension "
             "(`jpg`, `png`, `heic`, `dng`, ...) or `raw`", "schema": {"type": "string", "maxLength": 100},
             "example": "png,jpg"},
    "tagged": {"name": "tagged", "in": "query", "description": "`yes`: only images with a tag; `no`: only without",
               "schema": {"enum": ["yes", "no", "true", "false", "1", "0"]}},
    "ifMatch": {"name": "If-Match", "in": "header", "schema": {"type": "string"},
                "description": "write only if the sidecar is still this version (an ETag; `\"none\"`: no sidecar)"},
    "ifNoneMatch": {"name": "If-None-Match", "in": "header", "schema": {"type": "string"}},
    "ifModifiedSince": {"name": "If-Modified-Since", "in": "header", "schema": {"type": "string"}},
    "range": {"name": "Range", "in": "header", "schema": {"type": "string"}, "example": "bytes=0-99",
              "description": "one byte range; anything else is ignored and the whole file sent"},
    "overwrite": {"name": "overwrite", "in": "query", "schema": {"type": "boolean"},
                  "description": "replace a sidecar lenslet cannot parse (its bytes are kept as `.bad-<time>`)"},
    "overwriteHeader": {"name": "X-Lenslet-Overwrite", "in": "header", "schema": {"type": "string"},
                        "description": "`true`: the same as `overwrite=true`"},
    "updatedBy": {"name": "X-Updated-By", "in": "header", "schema": {"type": "string"},
                  "description": "who edits, when the body does not say (default `api`)"},
}

HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "Last-Modified": {"schema": {"type": "string"}},
    "Retry-After": {"schema": {"type": "string"}, "required": True},
    "Set-Cookie": {"schema": {"type": "string"}, "required": True},
    "Content-Range": {"schema": {"type": "string"}, "required": True},
    "Location": {"schema": {"type": "string"}, "required": True},
}

RESPONSES = {str(status): json_of(ref("schemas", "Error"), why) for status, why in ERRORS.items()}
RESPONSES["503"]["headers"] = {"Retry-After": ref("headers", "Retry-After")}
RESPONSES["429"]["headers"] = {"Retry-After": ref("headers", "Retry-After")}
RESPONSES["416"]["headers"] = {"Content-Range": ref("headers", "Content-Range")}

CACHED = {"ETag": ref("headers", "ETag"), "Last-Modified": ref("headers", "Last-Modified")}
NOT_MODIFIED = {"description": "`If-None-Match` or `If-Modified-Since` matched", "headers": CACHED}
ITEM = json_of(ref("schemas", "Item"), "the sidecar", {"ETag": ref("headers", "ETag")})
IMAGE = [ref("parameters", "imagePath")]
CONDITIONAL = [ref("parameters", "ifNoneMatch"), ref("parameters", "ifModifiedSince")]


SIZE = {"name": "size", "in": "query", "required": False, "schema": {"enum": ["small", "large"], "default": "small"},
        "description": "large: the second, sharper size (LENSLET_THUMB_SIZE_LARGE, /health's `imageSettings.large` "
                       "its version's settings) for high-density screens; while it cannot be made in time, or is "
                       "turned off, the small one is answered in its place with `Cache-Control: no-cache`"}


def made_on_demand(summary, what, extra=()):
    """GET /thumb and GET /preview: a WebP made when first asked for, or 202 while the worker makes it."""
    return {
        "summary": summary,
        "parameters": IMAGE + CONDITIONAL + list(extra) + [{
            "name": "v", "in": "query", "required": False, "schema": {"type": "string", "maxLength": 200},
            "description": "the version of what is asked for (see /health's `imageSettings`): while it is the "
                           "version of what is answered, the answer is `Cache-Control: public, max-age=31536000, "
                           "immutable` (`private` with a credential); any other value is answered as without"}],
        "responses": {
            "200": {"description": what, "headers": CACHED,
                    "content": {"image/webp": {"schema": {"type": "string", "contentMediaType": "image/webp"}}}},
            "202": json_of(ref("schemas", "Pending"), "being made: ask `poll` again after `Retry-After`",
                           {"Retry-After": ref("headers", "Retry-After")}),
            "304": NOT_MODIFIED,
            **errors(*ANY, *TREE, 409, 415, 422, 507),
        },
    }


def thumb():
    return made_on_demand("The image's WebP thumbnail (or a video's poster), made on demand", "the thumbnail",
                          [SIZE])


def preview():
    return made_on_demand("A WebP of the image for the viewer (long edge LENSLET_PREVIEW_SIZE), made on demand "
                          "and kept in a bounded cache; a video's, once it has a poster, from its poster's frame "
                          "(made by the worker: 202 meanwhile)", "the preview")


def original():
    return {
        "summary": "The original image (or video), with caching and one byte range",
        "parameters": IMAGE + CONDITIONAL + [ref("parameters", "range")],
        "responses": {
            "200": images("the whole file (empty, with `X-Accel-Redirect`, under LENSLET_ACCEL_REDIRECT)", CACHED),
            "206": images("the range asked for", {**CACHED, "Content-Range": ref("headers", "Content-Range")}),
            "302": {"description": "S3: a presigned URL of the file, valid for 5 minutes",
                    "headers": {"Location": ref("headers", "Location")}},
            "304": NOT_MODIFIED,
            **errors(*ANY, *TREE, 409, 415, 416),
        },
    }


DONE = json_of(ref("schemas", "Done"), "done")
WRITES = (409, 413, 507)  # a taken name, a body too large, a full disk


def files_op(summary, created=False, done=DONE):
    body = ref("schemas", "Paths")
    return {
        "summary": summary,
        "parameters": [ref("parameters", "folderPath")],
        "requestBody": {"content": {kind: {"schema": body} for kind in (
            "application/json", "multipart/form-data", "application/x-www-form-urlencoded")}},
        "responses": {("201" if created else "200"): done, **errors(*ANY, *TREE, *WRITES, 415)},
    }


def upload(form):
    conflict = {"enum": ["rename", "replace"],
                "description": "a taken name: `rename` saves as `name (1).jpg`, `replace` replaces; else 409"}
    if form:
        body = {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"dest": {"type": "string", "description": "the folder, e.g. `/2024`"},
                           "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                           "conflict": conflict}}}}
        parameters = []
    else:
        body = {"application/octet-stream": {"schema": {"type": "string",
                                                        "contentMediaType": "application/octet-stream"}}}
        parameters = [dict(ref("parameters", "imagePath")),
                      {"name": "conflict", "in": "query", "schema": conflict}]
    return {
        "summary": "Upload an image (multipart `dest` + `file`)" if form else "Upload an image (the body)",
        "parameters": parameters,
        "requestBody": {"required": True, "content": body},
        "responses": {"201": DONE, **errors(*ANY, *TREE, *WRITES, 415, 422)},
    }


def page(description, asset=False):
    kinds = ("text/css", "text/javascript", "image/svg+xml", "image/png", "image/x-icon") if asset else ("text/html",)
    return {
        "summary": description,
        "parameters": ([{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}]
                       if asset else []) + [ref("parameters", "ifNoneMatch")],
        "responses": {"200": {"description": description,
                              "content": {kind: {"schema": {"type": "string"}} for kind in kinds}},
                      "304": NOT_MODIFIED, **errors(404, 414, 421),
                      **({"301": {"description": "index.html by name: the page is at /",
                                  "headers": {"Location": ref("headers", "Location")}}} if asset else {})},
    }


ALBUM_ID = {"name": "album_id", "in": "path", "required": True, "schema": {"type": "string"}}
TIMELINE_FILTERS = [ref("parameters", name) for name in ("star", "date", "camera", "type", "tagged")]
SORT_AND_FILTER = [ref("parameters", name) for name in ("sort", "order", "star", "date", "camera", "type", "tagged")]

PATHS = {
    "/folders": {"get": {
        "summary": "A folder's manifest page: its images and subfolders",
        "description": "With any of sort, order, star, date, camera, type, tagged, offset or limit: a slice "
                       "(offset, limit) of the folder's items filtered and sorted, over the whole folder. "
                       "Without them, the stored page carries an ETag (not when the principal sees only part "
                       "of the folder) and a conditional GET of an unchanged page is answered 304. An answer "
                       "served from the stored listing while another request looked at the changed folder "
                       "again, or while an edit in the moved folder was under way, says X-Lenslet-Checking: 1 "
                       "(no-store, no ETag): ask again in a moment.",
        "parameters": [ref("parameters", "folderPath"), ref("parameters", "page"), *SORT_AND_FILTER,
                       ref("parameters", "limit"), ref("parameters", "offset")],
        "responses": {"200": json_of({"oneOf": [ref("schemas", "FolderPage"), ref("schemas", "FolderView")]},
                                     "the manifest page, or the filtered and sorted slice"),
                      "304": NOT_MODIFIED, **errors(*ANY, *TREE, 409)},
    }, "patch": {
        "summary": "Pick the folder's cover (`cover`: an image's name in it) or clear the pick (`null`)",
        "parameters": [ref("parameters", "folderPath")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas", "CoverPick")}}},
        "responses": {"200": json_of({"allOf": [ref("schemas", "Counts")], "type": "object",
                                      "required": ["ok", "path"],
                                      "properties": {"ok": {"const": True}, "path": {"type": "string"}}},
                                     "the folder's counts and cover now"),
                      **errors(*ANY, *TREE, 409, 413, 415, 507)},
    }},
    "/item": {
        "get": {"summary": "An image's sidecar merged with what the image says (EXIF, size, type)",
                "parameters": IMAGE, "responses": {"200": ITEM, **errors(*ANY, *TREE, 415)}},
        "put": {"summary": "Create or replace the sidecar; an edit made on an older copy is merged",
                "parameters": IMAGE + [ref("parameters", "ifMatch"), ref("parameters", "updatedBy"),
                                       ref("parameters", "overwrite"), ref("parameters", "overwriteHeader")],
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": ref("schemas", "ItemPut")}}},
                "responses": {"200": ITEM, **errors(*ANY, *TREE, 409, 412, 413, 415, 507)}},
        "patch": {"summary": "Apply tag, notes and star operations atomically",
                  "parameters": IMAGE + [ref("parameters", "ifMatch"), ref("parameters", "updatedBy")],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": ref("schemas", "ItemPatch")}}},
                  "responses": {"200": ITEM, **errors(*ANY, *TREE, 409, 412, 413, 415, 507)}},
        "delete": {"summary": "Remove the sidecar (never the image)",
                   "parameters": IMAGE + [ref("parameters", "ifMatch")],
                   "responses": {"204": {"description": "removed (or there was none)"},
                                 **errors(*ANY, *TREE, 409, 412, 415, 507)}},
    },
    "/thumb": {"get": thumb(), "head": thumb()},
    "/preview": {"get": preview(), "head": preview()},
    "/file": {"get": original(), "head": original(), "post": upload(form=True), "put": upload(form=False)},
    "/search": {"get": {
        "summary": "Items under `path` whose name, tags, notes, folder, camera or date taken hold every term of "
                   "`q`; words `star:4+ date:2024-05 camera:canon type:png tagged untagged sort:date order:desc` "
                   "filter and sort as the parameters of the same names do",
        "parameters": [ref("parameters", "q"), ref("parameters", "folderPath"), ref("parameters", "limit"),
                       ref("parameters", "offset"), *SORT_AND_FILTER],
        "responses": {"200": json_of(ref("schemas", "SearchAnswer"), "the matches, in path order unless sorted"),
                      **errors(*ANY, 404)},
    }},
    "/timeline": {"get": {
        "summary": "Every image the caller may see, newest first by date taken (EXIF, else the file's time), a "
                   "slice at a time: from the newest, `before` a cursor (older), `after` a cursor (the newer ones "
                   "nearest it), or `at` a year, month or day (from its newest image: the scrubber's jump)",
        "parameters": [{"name": "before", "in": "query", "schema": {"type": "string", "maxLength": 4200},
                        "description": "a cursor (`older` of an answer): the images older than it"},
                       {"name": "after", "in": "query", "schema": {"type": "string", "maxLength": 4200},
                        "description": "a cursor (`newer` of an answer): the images newer than it"},
                       {"name": "at", "in": "query", "schema": {"type": "string", "maxLength": 10},
                        "description": "`2024`, `2024-05` or `2024-05-12`: from the newest image of then",
                        "example": "2024-05"},
                       {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                    "maximum": TIMELINE_LIMIT, "default": 100}},
                       ref("parameters", "folderPath"), *TIMELINE_FILTERS],
        "responses": {"200": json_of(ref("schemas", "TimelineSlice"), "one slice, newest first"),
                      **errors(*ANY)},
    }},
    "/timeline/months": {"get": {
        "summary": "How many images each month of the timeline holds, newest first (a scrubber's marks)",
        "parameters": [ref("parameters", "folderPath"), *TIMELINE_FILTERS],
        "responses": {"200": json_of(ref("schemas", "TimelineMonths"), "the months that hold images"),
                      **errors(*ANY)},
    }},
    "/on-this-day": {"get": {
        "summary": "Images taken on this month and day in earlier years, newest year first (empty when none)",
        "parameters": [{"name": "day", "in": "query", "schema": {"type": "string", "pattern": "^\\d{2}-\\d{2}$"},
                        "description": "the day as the page sees it, `MM-DD`; the server's day (UTC) when left out",
                        "example": "05-12"},
                       ref("parameters", "folderPath"), *TIMELINE_FILTERS],
        "responses": {"200": json_of(ref("schemas", "OnThisDay"), "up to 24 images of each earlier year"),
                      **errors(*ANY)},
    }},
    "/search/suggest": {"get": {
        "summary": "Tags and name words starting with `q`, with how many items have them",
        "parameters": [ref("parameters", "q")],
        "responses": {"200": json_of(ref("schemas", "Suggestions"), "up to 20 tags and 20 words"),
                      **errors(*ANY)},
    }},
    "/health": {"get": {
        "summary": "Version, read-only mode and the page's rules, for anyone (no credentials needed); "
                   "storage and worker status for admins",
        "responses": {"200": json_of({"anyOf": [ref("schemas", "Health"), ref("schemas", "Alive")]},
                                     "`status` ok or degraded (the details for admins only)"),
                      "503": json_of({"anyOf": [ref("schemas", "Health"), ref("schemas", "Error")]},
                                     "the storage cannot be read (the report), or the users file is broken "
                                     "and nobody is let in (an error saying why)"),
                      **errors(401, 404, 414, 421, 429)},
    }},
    "/move": {"post": files_op("Move images into a folder (`src`, `dest`), or rename one (`src`, `to`); "
                               "folders too. Image, sidecar and thumbnail move together",
                               done=json_of(ref("schemas", "Moved"), "moved"))},
    "/trash": {"post": files_op("Move images into `_trash_`, recording where they came from")},
    "/duplicates": {"get": {
        "summary": "Groups of identical images (one content hash), each of the images the caller may see",
        "parameters": [ref("parameters", "limit"), ref("parameters", "offset")],
        "responses": {"200": json_of(ref("schemas", "Duplicates"), "groups, by their first path"),
                      **errors(*ANY)},
    }},
    "/duplicates/trash": {"post": {
        "summary": "Keep one image of a group of copies and move the others (`paths`) to the trash, each only "
                   "if it still has `hash`; refused (409) when the one kept no longer has it",
        "requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "required": ["hash", "keep", "paths"],
            "properties": {"hash": {"type": "string"}, "keep": {"type": "string"}, "paths": STRINGS}}}}},
        "responses": {"200": json_of(ref("schemas", "CopiesTrashed"), "done"),
                      **errors(*ANY, *TREE, *WRITES, 415)},
    }},
    "/restore": {"post": files_op("Move trashed images back where they came from")},
    "/delete": {"post": files_op("Delete images for good with their sidecar and thumbnail; only from the "
                                 "trash unless `force` is true")},
    "/folder": {"post": files_op("Create a folder (`path`)", created=True),
                "delete": {"summary": "Remove an empty folder", "parameters": [ref("parameters", "folderPath")],
                           "responses": {"200": DONE, **errors(*ANY, *TREE, 409, 507)}}},
    "/export-intent": {"post": {"summary": "Accepted and agreed to (the lenscat-lite front end calls it)",
                                "responses": {"200": DONE, **errors(401, 403, 404, 414, 421, 429)}}},
    # The gallery page is served at the root only, and needs no token even with LENSLET_TOKEN_READS.
    "/": {"servers": [{"url": "/"}], "get": page("the gallery page (index.html)"),
          "head": page("the gallery page (index.html)")},
    "/static/{name}": {"servers": [{"url": "/"}], "get": page("one of the page's files", asset=True),
                       "head": page("one of the page's files", asset=True)},
    "/metrics": {"get": {
        "summary": "Prometheus metrics of every lenslet process (LENSLET_METRICS=true; 404 while off)",
        "responses": {"200": {"description": "the Prometheus text format",
                              "content": {"text/plain": {"schema": {"type": "string"}}}},
                      **errors(401, 403, 404, 414, 421, 429, 503)},
    }},
    "/openapi.json": {"get": {
        "summary": "This description",
        "responses": {"200": {"description": "the OpenAPI 3.1 document",
                              "content": {"application/json": {"schema": {"type": "object"}}}},
                      **errors(401, 403, 404, 414, 421, 429)},
    }},
    "/me": {"get": {
        "summary": "Who the request's credentials name (a user, a share link, or `open`: no users file) and "
                   "what they may see and do",
        "responses": {"200": json_of(ref("schemas", "Me"), "the principal"), **errors(*ANY)},
    }},
    "/me/password": {"put": {
        "summary": "Change one's own password (any role): the current one and the new one. A wrong current one is "
                   "counted as a failed sign-in (401, then 429); the person's other sessions end in every web process, "
                   "and a browser signed in by its session cookie gets a new one",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": False, "required": ["current", "password"],
            "properties": {"current": {"type": "string"},
                           "password": {"type": "string", "minLength": 8, "maxLength": 1024}}}}}},
        "responses": {"200": json_of({"type": "object", "required": ["ok", "name"], "properties": {
            "ok": {"const": True}, "name": {"type": "string"}}}, "changed", {"Set-Cookie": {
                "schema": {"type": "string"}, "description": "the new session, when one signed the request"}}),
            **errors(*ANY, 409, 413, 415)},
    }},
    "/albums": {
        "get": {"summary": "The caller's albums, last changed first",
                "responses": {"200": json_of({"type": "object", "required": ["albums"], "properties": {
                    "albums": {"type": "array", "items": ref("schemas", "Album")}}}, "the albums"),
                    **errors(*ANY)}},
        "post": {"summary": "Make an album: images picked from any folders (in this order), or a saved search "
                            "(smart: what it finds whenever the album is opened); `edit` and `admin` users",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas",
                                                                                                  "AlbumAsked")}}},
                 "responses": {"201": json_of(ref("schemas", "Album"), "the album"),
                               **errors(*ANY, 413, 415, 507)}},
    },
    "/albums/{album_id}": {
        "get": {"summary": "An album and one page of the images it holds now (moved ones found again by their "
                           "content hash), as the caller may see them; an album's share link opens its album",
                "parameters": [ALBUM_ID, {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                             "default": 0}},
                               {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                            "maximum": ALBUM_PAGE, "default": 100}}],
                "responses": {"200": json_of(ref("schemas", "AlbumPage"), "the album and a page of it"),
                              **errors(*ANY)}},
        "patch": {"summary": "Change an album: rename, add, remove, move (reorder), cover; made on the album as it "
                             "is now, whoever changed it meanwhile",
                  "parameters": [ALBUM_ID],
                  "requestBody": {"required": True, "content": {"application/json": {"schema": ref(
                      "schemas", "AlbumChange")}}},
                  "responses": {"200": json_of(ref("schemas", "Album"), "the album as changed"),
                                **errors(*ANY, 413, 415, 507)}},
        "delete": {"summary": "Remove an album (never its images)", "parameters": [ALBUM_ID],
                   "responses": {"200": json_of({"type": "object", "required": ["ok", "id"], "properties": {
                       "ok": {"const": True}, "id": {"type": "string"}}}, "removed"), **errors(*ANY)}},
    },
    "/shares": {
        "get": {"summary": "The caller's share links (an admin's: every one), newest first; expired ones too",
                "responses": {"200": json_of({"type": "object", "required": ["shares"], "properties": {
                    "shares": {"type": "array", "items": ref("schemas", "Share")}}}, "the shares"),
                    **errors(*ANY)}},
        "post": {"summary": "Share a folder (with its subfolders), one image, several images of one folder, or "
                            "an album of one's own (picked or smart) read-only, for a time; `edit` and `admin` "
                            "users, within their folders",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": ref("schemas",
                                                                                                  "ShareAsked")}}},
                 "responses": {"201": json_of(ref("schemas", "ShareMade"), "the share and its link, shown once"),
                               **errors(*ANY, *TREE, 413, 415, 507)}},
    },
    "/shares/{share_id}": {"delete": {
        "summary": "Revoke a share link: from now on it answers 404, in every web process",
        "parameters": [{"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}}],
        "responses": {"200": json_of({"type": "object", "required": ["ok", "id"], "properties": {
            "ok": {"const": True}, "id": {"type": "string"}}}, "revoked"), **errors(*ANY, 404)},
    }},
    "/shares/unlock": {"post": {
        "summary": "The key to send for a share link that has a password (`X-Lenslet-Share`)",
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["key"], "properties": {
                "key": {"type": "string", "description": "the link's key: what follows `/s#`"},
                "password": {"type": "string"}}}}}},
        "responses": {"200": json_of({"type": "object", "required": ["key"], "properties": {
            "key": {"type": "string", "description": "`<id>.<secret>.<proof>`"}}}, "the unlocked key"),
            **errors(*ANY, 404, 413, 415)},
    }},
    "/session": {
        "post": {"summary": "Sign in with a name and a password: a session, sent as an `HttpOnly; SameSite=Strict; "
                            "Path=/` cookie (`__Host-lenslet-session`, `Secure`, over TLS; else `lenslet-session`) "
                            "that every later request of the browser carries",
                 "security": [{}],
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "required": ["name", "password"],
                     "properties": {"name": {"type": "string"}, "password": {"type": "string"}}}}}},
                 "responses": {"201": json_of(ref("schemas", "Me"), "signed in: who, and what they may do",
                                              {"Set-Cookie": ref("headers", "Set-Cookie")}),
                               **errors(*ANY, 413, 415, 507)}},
        "delete": {"summary": "Sign out: the session ends at once in every web process, its cookie is cleared, "
                              "and `Clear-Site-Data: \"cache\"` has the browser drop what it kept for the site",
                   "security": [{}, {"session": []}],
                   "responses": {"200": json_of({"type": "object", "required": ["ok"], "properties": {
                       "ok": {"const": True}}}, "signed out"), **errors(*ANY)}},
    },
    "/setup": {"post": {
        "summary": "Make the first admin while the users file holds nobody: the setup code lenslet printed in its "
                   "log, a name and a password; signed in at once (a session cookie, as POST /session)",
        "security": [{}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["code", "name", "password"],
            "properties": {"code": {"type": "string"}, "name": {"type": "string"},
                           "password": {"type": "string", "minLength": 8, "maxLength": 1024}}}}}},
        "responses": {"201": json_of(ref("schemas", "Me"), "the first admin, signed in",
                                     {"Set-Cookie": ref("headers", "Set-Cookie")}),
                      **errors(*ANY, 409, 413, 415, 507)},
    }},
    "/users": {
        "get": {"summary": "Everyone in the users file (admins only): names, roles, folders, whether each has a "
                           "password and a token",
                "responses": {"200": json_of({"type": "object", "required": ["users"], "properties": {
                    "users": {"type": "array", "items": ref("schemas", "User")}}}, "the users, by name"),
                    **errors(*ANY)}},
        "post": {"summary": "Add someone who signs in with a password (admins only); the users file is changed "
                            "under its lock, and every web process reads it again",
                 "requestBody": {"required": True, "content": {"application/json": {"schema": {
                     "type": "object", "additionalProperties": False,
                     "required": ["name", "role", "folders", "password"],
                     "properties": {"name": {"type": "string"}, **USER_FIELDS}}}}},
                 "responses": {"201": json_of(ref("schemas", "User"), "added"),
                               **errors(*ANY, 409, 413, 415)}},
    },
    "/users/{name}": {
        "patch": {"summary": "Change someone's role, folders or password (admins only): each ends their sessions "
                             "in every web process (the admin's own browser gets a new session)",
                  "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                  "requestBody": {"required": True, "content": {"application/json": {
                      "schema": ref("schemas", "UserChange")}}},
                  "responses": {"200": json_of(ref("schemas", "User"), "changed"),
                                **errors(*ANY, 409, 413, 415)}},
        "delete": {"summary": "Remove someone (admins only): their sessions and token open nothing from the next "
                              "request; the last admin is not removed (409)",
                   "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                   "responses": {"200": json_of({"type": "object", "required": ["ok", "name"], "properties": {
                       "ok": {"const": True}, "name": {"type": "string"}}}, "removed"), **errors(*ANY, 409)}},
    },
    "/s": {"servers": [{"url": "/"}], "get": page("the gallery page for a share link: `/s#<key>` (the key after "
                                                  "`#` never reaches a server)"),
           "head": page("the gallery page for a share link")},
}


class OpenApiResource:
    """GET /openapi.json: the OpenAPI 3.1 description of this API."""

    def __init__(self):
        self.body = orjson.dumps(spec())  # the same for every request: encoded once

    def on_get(self, req, resp):
        resp.data, resp.content_type = self.body, falcon.MEDIA_JSON
