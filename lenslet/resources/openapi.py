"""The OpenAPI 3.1 description of the HTTP API, served at /openapi.json."""

import falcon
import orjson

from lenslet import __version__
from lenslet.albums.format import MAX_CHANGE as ALBUM_CHANGE
from lenslet.albums.format import MAX_NAME as ALBUM_NAME
from lenslet.albums.store import MAX_PAGE as ALBUM_PAGE
from lenslet.formats import dates, listing_pages, regions, sidecars
from lenslet.layout import TYPES
from lenslet.resources.bodies import MAX_BODY
from lenslet.resources.folders import MAX_PAGE
from lenslet.resources.guard import MAX_QUERY_STRING
from lenslet.resources.operations import MAX_PATHS
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
    411: "(PUT /shares/upload) The body does not say its size (`Content-Length`): a link's byte cap counts it first",
    412: "`If-Match` names a version the sidecar no longer has; `etag` is the current one",
    413: f"The body is larger than {MAX_BODY // 1024} KiB (an upload: larger than LENSLET_MAX_UPLOAD, a video "
         "LENSLET_MAX_VIDEO_UPLOAD)",
    414: f"The query string is longer than {MAX_QUERY_STRING:,} characters",
    415: "The path does not name an image (JPEG, PNG, WebP, AVIF, GIF, HEIC, or a camera's raw file: DNG, CR2, NEF, "
         "ARW, ORF, RW2, RAF, PEF), an upload is neither that nor a video lenslet lists or its name says the other "
         "kind, or a body read as JSON does not say `Content-Type: application/json`",
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
WRITES = (409, 413, 507)  # a taken name, a body too large, a full disk


def spec():
    """Return the OpenAPI document as a dict."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "lenslet", "version": __version__,
                 "description": "A file-based image gallery backend: folder listings, sidecar metadata, thumbnails, "
                                "originals, search and health. Errors are JSON `{\"title\", \"description\", ...}` "
                                "with fields that help."},
        "servers": [{"url": "/", "description": "the API at the root"},
                    {"url": "/api", "description": "the same API under /api"}],
        "security": [{}, {"token": []}, {"session": []}, {"share": []}],
        "paths": PATHS,
        "components": {"schemas": SCHEMAS, "parameters": PARAMETERS, "responses": RESPONSES, "headers": HEADERS,
                       "securitySchemes": SECURITY},
    }


def ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def errors(*statuses):
    return {str(status): ref("responses", str(status)) for status in sorted(statuses)}


def json_of(schema, description, headers=None):
    answer = {"description": description, "content": {"application/json": {"schema": schema}}}
    return {**answer, "headers": headers} if headers else answer


def nullable(kind, **more):
    return {"type": [kind, "null"], **more}


def described(kind, description, **more):
    return {"type": kind, "description": description, **more}


def obj(required, properties, **more):
    return {"type": "object", "required": required, "properties": properties, **more}


def param(name, schema, where="query", **more):
    return {"name": name, "in": where, "schema": schema, **more}


STR, INT, NUM, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
UPLOAD = obj(["showPhotos", "folder", "maxFiles", "maxBytes"], {
    "showPhotos": BOOL, "folder": STR, "maxFiles": nullable("integer"), "maxBytes": nullable("integer")},
    description="what a link lets guests add: its caps (null: none) and subfolder (\"\": the folder itself)")
OK = {"const": True}
APP_PASSWORD = {"type": "object", "required": ["id", "name", "created"],
                "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "created": {"type": "number"}}}

SECURITY = {
    "token": {"type": "http", "scheme": "bearer", "description": "LENSLET_TOKEN; needed for writes when set, for reads "
              "too with LENSLET_TOKEN_READS; with LENSLET_USERS, a user's token"},
    "session": {"type": "apiKey", "in": "cookie", "name": "lenslet-session", "description": "a session POST /session "
                "made (over TLS the cookie is `__Host-lenslet-session`); a write it signs must carry the page's "
                "`Origin`"},
    "share": {"type": "apiKey", "in": "header", "name": "X-Lenslet-Share", "description": "a share link's key (the "
              "part after `/s#`), with its password's proof when it has one (POST /shares/unlock)"},
}
STRINGS = {"type": "array", "items": STR}
TAKEN = {"type": ["string", "null"], "maxLength": 25, "description": "when it was taken, as a person says: the wall "
         "clock, `2024-05-12T10:30:00`, with its UTC offset if known (`+02:00`); null gives back the camera's"}
TAGS = {"type": "array", "maxItems": sidecars.MAX_TAGS,
        "items": {"type": "string", "minLength": 1, "maxLength": sidecars.MAX_TAG_LENGTH}}
STAR = {"type": ["integer", "null"], "minimum": 0, "maximum": 5}
ROLE = {"enum": ["view", "edit", "admin"]}
SEEN = {**STRINGS, "description": "folders they see with all they hold (\"\": everything)"}
PLACE = described("boolean", "the link shows place and camera")
# What /health tells everyone, admin or not: what the gallery page must know.
PAGE_FIELDS = {
    "readonly": described("boolean", "LENSLET_READONLY: every write answers 403"),
    "libraryReadonly": described("boolean", "LENSLET_STATE: the library is only read; file operations (upload, move, "
                                 "trash, restore, delete, folders) answer 403 with reason library-read-only, "
                                 "everything else works"),
    "rules": obj(["trash", "images", "videos"], {
        "trash": described("string", "the trash folder's name, at the root"),
        "images": described("object", "the pictures lenslet lists: extension (with its dot, lower case) -> media type",
                            additionalProperties=STR),
        "videos": described("object", "the videos lenslet lists and uploads take, as images are",
                            additionalProperties=STR)},
        description="what the gallery page must agree with the server on (it reads them here)"),
    "map": obj(["tiles", "attribution"], {
        "tiles": described("string", "LENSLET_MAP_TILES: the map's tile address ({z}, {x}, {y}), or none: the page "
                           "draws the photos over its own outline of the world"),
        "attribution": described("string", "LENSLET_MAP_ATTRIBUTION: the tiles' credit")}),
    "imageSettings": obj(["thumb", "preview"], {
        "thumb": STR, "preview": STR,
        "large": described("string", "of `/thumb?size=large`; absent when LENSLET_THUMB_SIZE_LARGE is 0")},
        description="the settings thumbnails and previews are made with, as the last part of their URL version: "
                    "`v=<size>-<mtime>-<these>` (size in hexadecimal, the mtime in whole microseconds in "
                    "hexadecimal, as a listing's item says them), and `-t<turn>` when the item has a `turn`, is "
                    "answered `immutable` while it is the version of what is answered"),
}
USER_FIELDS = {
    "role": ROLE,
    "folders": {**STRINGS, "minItems": 1, "maxItems": 1000, "description": "folder paths (\"\": every folder)"},
    "password": {"type": "string", "minLength": 8, "maxLength": 1024},
}
TURN = {"type": "integer", "minimum": 2, "maximum": 8,
        "description": "the EXIF orientation a person applied over the camera's upright picture (absent: none)"}
PEOPLE = {"type": "array", "items": obj(["name"], {"name": STR, "box": {
    "type": "array", "items": NUM, "minItems": 4, "maxItems": 4,
    "description": "where the face is on screen: x, y from the top-left, width, height, in fractions of the "
                   "picture as shown"}}),
    "description": "the people XMP names in it (face regions, person keywords); absent: none"}
PERSON = {"type": "string", "minLength": 1, "maxLength": regions.MAX_NAME, "description": "a person's name"}
PAGED = {"offset": INT, "limit": INT}
ITEMS = {"type": "array", "items": ref("schemas", "ManifestItem")}
TOOK = {"path": nullable("string"), "paths": STRINGS}  # what a file operation did
SCHEMAS = {
    "Done": obj(["ok"], {"ok": OK, **TOOK},
                description="a file operation that went through (the lenscat-lite front end checks `ok`)"),
    "Moved": obj(["ok", "path", "paths"], {"ok": OK, **TOOK},
                 description="a move that went through, of one image or of many: `path` the first one's new path, "
                             "`paths` every new path (the other file of a stack too when it went along)"),
    "Paths": {
        "type": "object", "description": "which images: `paths` (or `src`, `path`), a path or a list of them",
        "properties": {"paths": {"type": ["string", "array"], "items": STR},
                       "src": {"type": ["string", "array"], "items": STR}, "path": STR, "dest": STR, "to": STR,
                       "conflict": {"enum": ["rename", "replace"]}, "force": {"type": ["boolean", "string"]}},
    },
    "Error": obj(["title", "description"], {"title": STR, "description": STR, "path": STR},
                 examples=[{"title": "Not found", "description": "no such file or folder", "path": "trips/x.jpg"}]),
    "Alive": obj(["status", "version", "readonly", "rules"],
                 {"status": {"const": "ok"}, "version": STR, **PAGE_FIELDS},
                 description="what /health tells anyone who is not an admin (no credentials needed): what the "
                             "gallery page must know, none of the details"),
    "Me": obj(["kind", "name", "role", "canWrite", "folders", "images"], {
        "kind": {"enum": ["open", "user", "share"]}, "name": STR, "role": ROLE, "canWrite": BOOL, "folders": SEEN,
        "images": {**STRINGS, "description": "single images they see (a share of one image, of images, or of an "
                                             "album: what it holds now)"},
        "share": {"type": "object", "properties": {
            "id": STR, "path": STR, "kind": {"enum": ["folder", "image", "images", "album"]}, "album": STR,
            "expires": STR, "allowDownload": BOOL, "details": PLACE, "upload": UPLOAD}},
        "proxy": described("boolean", "signed in by the trusted proxy (LENSLET_PROXY_USER_HEADER): sign out there")}),
    "User": obj(["name", "role", "folders", "password", "token"], {
        "name": STR, "role": ROLE, "folders": SEEN,
        "password": described("boolean", "they may sign in with a password"),
        "token": described("boolean", "they hold a token (for scripts: `lenslet user add`)"),
        "note": described("string", "what lenslet takes differently from what their entry says (an admin of some "
                          "folders only: an edit user of them)")},
        description="a person of the users file, as an admin sees them: never a hash or a stamp"),
    "UserChange": {"type": "object", "additionalProperties": False, "properties": USER_FIELDS},
    "ShareAsked": {
        "type": "object", "oneOf": [{"required": ["path"]}, {"required": ["paths"]}, {"required": ["album"]}],
        "properties": {
            "path": described("string", "a folder or an image"),
            "album": described("string", "or an album the caller made (picked images, or a smart album's saved "
                               "search): the link shows what the album holds (what the search finds for its maker) "
                               "whenever it is opened"),
            "paths": {**STRINGS, "minItems": 2, "maxItems": 1000, "description": "or several images of one folder "
                      "(the selection): the link opens that folder showing them alone"},
            "expires": described(["string", "number"], "how long: `7d` (the default), `12h`, `30m`, `2w` or "
                                 "seconds; at most LENSLET_SHARE_MAX_DAYS"),
            "allowDownload": described("boolean", "originals may be downloaded", default=True),
            "details": described("boolean", "the link shows where each photo was taken (GPS) and with what camera",
                                 default=False),
            "password": described("string", "asked by the shared view (POST /shares/unlock)"),
            "allowUpload": described("boolean", "a folder's or a picked album's link: guests add photos and "
                                     "videos to it (PUT /shares/upload)", default=False),
            "showPhotos": described("boolean", "false: the link only takes uploads, it shows no photos", default=True),
            "maxFiles": nullable("integer", minimum=1, description="with allowUpload: how many files guests add"),
            "maxBytes": nullable("integer", minimum=1, description="with allowUpload: how many bytes in all"),
            "uploadFolder": described("string", "with allowUpload: the subfolder of the shared folder uploads land "
                                      "in (made at the first), one name; an album's link: the folder (required)"),
        },
    },
    "Share": obj(["id", "path", "kind", "createdBy", "createdAt", "expires", "allowDownload", "password", "expired"], {
        "id": STR, "path": described("string", "the folder, image, or folder of the images shared"),
        "kind": {"enum": ["folder", "image", "images", "album"]},
        "images": {**STRINGS, "description": "kind images: which"},
        "album": described("string", "kind album: its id"), "createdBy": STR, "createdAt": STR, "expires": STR,
        "allowDownload": BOOL, "password": BOOL, "expired": BOOL, "details": PLACE,
        "allowUpload": described("boolean", "guests add photos and videos through it"), "upload": UPLOAD,
        "uploaded": obj(["files", "bytes"], {"files": INT, "bytes": INT},
                        description="what guests added through it so far (GET /shares)")}),
    "ShareMade": obj(["key", "link", "url"], {
        "key": described("string", "`<id>.<secret>`: sent as `X-Lenslet-Share`; shown once"),
        "link": described("string", "`/s#<key>`"), "url": STR}, allOf=[ref("schemas", "Share")]),
    "Pending": obj(["poll", "retryAfter"], {"poll": described("string", "where to ask again"), "retryAfter": INT},
                   allOf=[ref("schemas", "Error")]),
    "ManifestItem": obj(["path", "name"], {
        "path": STR, "name": STR, "type": STR, "w": nullable("integer"), "h": nullable("integer"), "size": INT,
        "mtime": NUM, "hasThumb": BOOL, "hasMeta": BOOL, "hash": nullable("string"), "tags": STRINGS, "notes": STR,
        "star": STAR, "metaMtime": nullable("number"),
        "metaVersion": nullable("string", description="the version of the sidecar the entry was made from"),
        "error": described("string", "why the file could not be read"),
        "rejected": described("boolean", "XMP rates it -1 (LENSLET_XMP; present when true)"),
        "xmpPaths": {**STRINGS, "description": "hierarchical keywords from XMP (Places|Iceland), searchable"},
        "people": PEOPLE,
        "xmpError": described("string", "why its XMP could not be read"),
        "link": described("boolean", "its name is a symbolic link (present when true): a user with folders sees it "
                          "only when it leads inside them"),
        "xmp": described("array", "the XMP sidecar the entry was made from: name, size, mtime"),
        "camera": described("string", "EXIF make and model, as one name (present when known)"),
        "taken": described("string", "EXIF's time taken, ISO-8601 without a zone (present when known)"),
        "takenOffset": described("string", "the zone of `taken` (EXIF OffsetTimeOriginal, `+02:00`; present when the "
                                 "camera says)"),
        "gps": {"type": "array", "items": NUM, "minItems": 2, "maxItems": 2,
                "description": "EXIF's position, [latitude, longitude] (present when the photo says; never to a share "
                               "link made without details)"},
        "place": described("string", "where it was taken, named offline from `gps`, or as a person set it: "
                           "`Nazaré, Leiria, Portugal`"),
        "country": described("string", "the ISO 3166 code of `place`'s country"),
        "placeSet": described("boolean", "`place` is the one a person set (present when true)"),
        "turn": TURN,
        "dateSet": described("string", "the date a person set, in place of `taken` (present when set)"),
        "kind": {"enum": ["image", "raw", "video"],
                 "description": "what it is, by its name (absent in entries of an older lenslet: an image)"},
        "preview": described("boolean", "false when lenslet shows no picture of it (a video, a file that cannot be "
                             "read, a raw without a preview): drawn as a placeholder; /thumb answers 415 (video) or "
                             "422; /file serves it. Absent in entries of an older lenslet: true unless the entry has "
                             "an `error`"),
        "phash": described("string", "the perceptual hash of its thumbnail's pixels, 16 hex digits (present once "
                           "the worker read its thumbnail)", pattern="^[0-9a-f]{16}$"),
        "sharpness": described("number", "how sharp its thumbnail is: its mean edge strength, 0 to 255 (beside "
                               "`phash`)", minimum=0, maximum=255),
        "stack": obj(["front", "members", "kind"], {"front": STR, "members": STRINGS,
                                                    "kind": {"enum": ["raw", "live"]}},
                     description="the stack it is half of (docs/files.md, Stacks): a raw and its JPEG, a live "
                                 "photo's picture and video; shown as one, moved together (present when so)"),
    }),
    "Duplicates": obj(["groups", "total", "offset", "limit"], {
        "total": INT, **PAGED,
        "groups": {"type": "array", "items": obj(["hash", "items"], {"hash": STR, "items": ITEMS})}},
        description="groups of images (outside the trash) of one content hash, as the search rollup knows them; "
                    "each group holds only the images the caller may see, and at least two"),
    "Similar": obj(["groups", "total", "offset", "limit", "threshold"], {
        "total": INT, **PAGED, "threshold": described("integer", "LENSLET_SIMILAR_THRESHOLD", minimum=0),
        "groups": {"type": "array", "items": obj(["count", "keep", "items"], {
            "count": described("integer", "photos in the group (at most 200 are listed)", minimum=2),
            "keep": described("string", "the one kept unless a person picks another: the largest, then the sharpest"),
            "items": ITEMS})}},
        description="groups of similar photos outside the trash: taken in one folder within two minutes of one "
                    "another, their perceptual hashes near; each group holds only photos the caller may see, and at "
                    "least two, in the order taken"),
    "CopiesTrashed": obj(["ok", "paths", "changed"], {
        "ok": OK, "paths": {**STRINGS, "description": "the copies trashed"},
        "changed": {**STRINGS, "description": "copies left alone: no longer of the hash"}}),
    "FolderView": obj(["v", "path", "sort", "order", "offset", "limit", "total", "folderTotal", "dirs", "items"], {
        "v": INT, "path": STR, "generatedAt": nullable("string"), "sig": nullable("string"),
        "sort": {"enum": ["name", "date", "rating", "size"]}, "order": {"enum": ["asc", "desc"]},
        "offset": {"type": "integer", "minimum": 0}, "limit": {"type": "integer", "minimum": 1},
        "total": described("integer", "items the filters keep", minimum=0),
        "folderTotal": described("integer", "items in the folder", minimum=0),
        "dirs": {"type": "array", "items": {"type": "object"}}, "items": ITEMS},
        allOf=[ref("schemas", "Counts")],
        description="A slice of a folder's items, filtered and sorted (any of sort, order, star, date, camera, "
                    "country, type, tagged, offset, limit given)"),
    "Counts": obj(["images", "allImages", "cover", "coverPicked"], {
        "images": described("integer", "items in the folder itself (videos included)", minimum=0),
        "videos": described("integer", "of `images`, the videos (the page says `N images, M videos`); absent from an "
                            "older lenslet's answers", minimum=0),
        "allImages": described("integer", "items in it and every folder below (the trash counts in no folder above "
                               "it)", minimum=0),
        "cover": nullable("string", description="browse path of the cover image: the one picked, else the first image "
                                                "shown, else the first subfolder's cover; null for none"),
        "coverPicked": described("boolean", "the cover is the one picked for this folder")},
        description="a folder's counts and cover, as they are when answered"),
    "CoverPick": obj(["cover"], {"cover": nullable("string", maxLength=255, description="an image's name in this "
                                                   "folder (not a path), or null to clear")},
                     additionalProperties=False),
    "FolderPage": obj(["v", "path", "page", "pageCount", "total", "dirs", "items"], {
        "v": INT, "path": STR, "generatedAt": STR,
        "builtAt": described("number", "when the build began (seconds since 1970)"),
        "sig": STR, "page": {"type": "integer", "minimum": 0}, "pageCount": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
        "dirs": {"type": "array", "items": obj(["name", "kind"], {
            "name": STR, "kind": {"enum": [*listing_pages.KNOWN_KINDS, listing_pages.UNKNOWN],
                                  "description": "unknown: it could not be looked at when the listing was made "
                                                 "(it may hold folders)"},
            "mtime": NUM, "link": described("boolean", "a symbolic link (present when true)")},
            allOf=[ref("schemas", "Counts")])},
        "items": ITEMS}, allOf=[ref("schemas", "Counts")]),
    "Item": obj(["v", "tags", "notes", "star", "exif", "hash", "updatedAt", "updatedBy", "updated_at", "updated_by"], {
        "v": INT, "tags": STRINGS, "notes": STR, "star": STAR,
        "exif": described("object", "what the image's EXIF says, each key only when known: make, model, createdAt, "
                          "width, height, orientation, lens, focalLength (mm), focalLength35 (mm on 35 mm film), "
                          "fNumber, exposureTime (s), iso, latitude, longitude (decimal degrees, south and west "
                          "negative), altitude (m); text cleaned of control characters (docs/files.md)"),
        "hash": nullable("string"), "updatedAt": nullable("string"), "updatedBy": nullable("string"),
        "addedBy": described("string", "the name a guest gave when adding it through a share link"),
        "addedVia": described("string", "the id of the share link it was added through"),
        "updated_at": nullable("string"), "updated_by": nullable("string"), "path": STR, "size": INT, "mtime": NUM,
        "type": STR, "w": nullable("integer"), "h": nullable("integer"), "error": STR, "turn": TURN,
        "orientation": {"type": "integer", "minimum": 1, "maximum": 8, "description": "how it is shown: the "
                        "camera's EXIF orientation with `turn` applied over it; `w` and `h` are as shown"},
        "mapLink": described("string", "where a map shows the image's GPS position (LENSLET_MAP_LINK); absent when "
                             "unset or no position"),
        "duration": nullable("number", description="a video's length in seconds, as the poster the worker made with "
                                                   "ffmpeg records it; null without one"),
        "rejected": described("boolean", "XMP rates it -1 (no star); LENSLET_XMP read or write"),
        "label": nullable("string", description="xmp:Label, a colour label"),
        "title": nullable("string", description="dc:title"),
        "description": nullable("string", description="dc:description"), "xmpPaths": STRINGS, "people": PEOPLE,
        "sources": described("object", "who holds each value: lenslet, the XMP sidecar's file name, or embedded (the "
                             "image itself); tags: tag -> [sources]"),
        "takenAt": nullable("string", description="when it was taken: a person's date, else EXIF's; null: no date"),
        "dateSource": {"enum": ["person", "exif", None], "description": "where `takenAt` came from"}},
        description="The sidecar, with snake_case aliases; GET adds what the image says."),
    "Place": nullable("object", description="where a person says it was taken (null: where its GPS says); the "
                      "country is named from its code", properties={
                          "city": {"type": ["string", "null"], "maxLength": sidecars.MAX_PLACE_NAME},
                          "region": {"type": ["string", "null"], "maxLength": sidecars.MAX_PLACE_NAME},
                          "country": STR, "countryCode": {"type": "string", "pattern": "^[A-Z]{2}$"}},
                      required=["countryCode"]),
    "ItemPut": {
        "type": "object", "description": "A whole sidecar (either spelling of its keys; the GET answer may be sent "
                                         "back). A field left out keeps its stored value; unknown keys are kept.",
        "properties": {
            "tags": TAGS, "notes": {"type": "string", "maxLength": sidecars.MAX_NOTES}, "star": STAR,
            "place": ref("schemas", "Place"), "takenAt": TAKEN,
            "dateSource": described("string", "`person`: keep `takenAt` (the GET answer's camera date is not kept)"),
            "updatedAt": described(["string", "null"], "the version the edit was made on: older than the stored one "
                                   "merges", format="date-time"),
            "updatedBy": {"type": ["string", "null"], "maxLength": sidecars.MAX_WHO}},
        "examples": [{"tags": ["beach"], "notes": "", "star": 4}],
    },
    "ItemPatch": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "properties": {"addTags": TAGS, "removeTags": TAGS,
                       "notes": {"type": "string", "maxLength": sidecars.MAX_NOTES}, "star": STAR,
                       "place": ref("schemas", "Place"), "takenAt": TAKEN,
                       "addPeople": {"type": "array", "maxItems": regions.MAX_PEOPLE, "items": {
                           **obj(["name"], {"name": PERSON, "box": PEOPLE["items"]["properties"]["box"]}),
                           "additionalProperties": False}, "description": "name the photo (no box) or a face in it "
                           "(its box as shown); a name given again takes the new box"},
                       "removePeople": {"type": "array", "maxItems": regions.MAX_PEOPLE, "items": PERSON,
                                        "description": "names lenslet keeps (409 for a name another tool's XMP "
                                                       "holds)"}},
        "examples": [{"addTags": ["sunset"], "star": 5}, {"place": {"city": "Nazaré", "countryCode": "PT"}},
                     {"takenAt": "2024-05-12T10:30:00+02:00"}, {"addPeople": [{"name": "Ann", "box": [0.4, 0.2, 0.1,
                                                                                                     0.15]}]}],
    },
    "ItemRotate": {
        "type": "object", "minProperties": 1, "additionalProperties": False,
        "description": "a turn clockwise and a flip (flipped first) over how it is shown now, or the orientation to "
                       "show it in (EXIF's 1-8, the stored pixels' own)",
        "properties": {"turn": {"enum": [90, 180, 270, -90]}, "flip": {"enum": ["horizontal", "vertical"]},
                       "orientation": {"type": "integer", "minimum": 1, "maximum": 8}},
        "examples": [{"turn": 90}, {"turn": -90}, {"flip": "horizontal"}, {"orientation": 1}],
    },
    "SearchAnswer": obj(["q", "path", "offset", "limit", "total", "items"],
                        {"q": STR, "path": STR, **PAGED, "total": INT, "items": ITEMS}),
    "Album": obj(["id", "name", "owner", "smart", "cover", "count", "createdAt", "updatedAt"], {
        "id": STR, "name": STR, "owner": STR,
        "smart": {"anyOf": [{"type": "null"}, ref("schemas", "SmartSearch")],
                  "description": "a smart album's saved search (null: images picked by hand; {} through a "
                                 "share link, which never tells the search)"},
        "cover": nullable("string", description="the cover image (else the first)"),
        "count": nullable("integer", description="images the caller may see (null for a smart album)"),
        "createdAt": STR, "updatedAt": STR}),
    "SmartSearch": {
        "type": "object", "description": "a search, as GET /search takes it",
        "properties": {name: STR for name in ("q", "path", "sort", "order", "star", "date", "camera", "country",
                                              "type", "tagged", "person")},
    },
    "AlbumPage": obj(["offset", "limit", "total", "items"], {
        **PAGED, "total": described("integer", "images the caller may see"), "items": ITEMS},
        allOf=[ref("schemas", "Album")]),
    "AlbumAsked": obj(["name"], {
        "name": {"type": "string", "minLength": 1, "maxLength": ALBUM_NAME},
        "images": {**STRINGS, "maxItems": ALBUM_CHANGE, "description": "images picked, in order"},
        "smart": ref("schemas", "SmartSearch")}),
    "AlbumChange": {
        "type": "object", "minProperties": 1,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": ALBUM_NAME},
            "add": {**STRINGS, "minItems": 1, "maxItems": ALBUM_CHANGE, "description": "images added at the end"},
            "remove": {**STRINGS, "minItems": 1, "maxItems": ALBUM_CHANGE,
                       "description": "images taken out (never deleted)"},
            "move": {"type": "array", "minItems": 1, "maxItems": ALBUM_CHANGE, "items": obj(["path"], {
                "path": STR, "before": nullable("string", description="the image it goes before (null: the end)")})},
            "cover": nullable("string", description="one of its images (null: the first)"),
            "smart": {"anyOf": [{"type": "null"}, ref("schemas", "SmartSearch")]}},
    },
    "TimelineItem": {"allOf": [ref("schemas", "ManifestItem"), obj(["takenAt", "dateSource"], {
        "takenAt": described("string", "when it was taken, ISO-8601: the camera's wall clock, with its zone where "
                             "EXIF gives one (OffsetTimeOriginal)"),
        "dateSource": {"enum": ["person", "exif", "file"], "description": "`person`: the date a person set; `exif`: "
                       "EXIF's DateTimeOriginal (the camera's wall clock); `file`: the file's time (UTC)"}})]},
    "DatesShift": obj(["paths", "shift"], {
        "paths": {**STRINGS, "minItems": 1, "maxItems": MAX_PATHS},
        "shift": {"type": "string", "maxLength": dates.MAX_SHIFT, "examples": ["+1 h", "-1 y 2 d", "+30 min"],
                  "description": "a sign, then amounts of y, mo, d, h, min, s"}}),
    "DatesShifted": obj(["items"], {"items": {"type": "array", "items": obj(["path", "takenAt", "dateSource"], {
        "path": STR, "takenAt": STR, "dateSource": {"enum": ["person"]}})}}),
    "TimelineSlice": obj(["items", "total", "older", "newer"], {
        "items": {"type": "array", "items": ref("schemas", "TimelineItem")},
        "total": described("integer", "images of the whole timeline (its filters)"),
        "older": nullable("string", description="the cursor of the next older slice (`before=`); null at the oldest"),
        "newer": nullable("string", description="the cursor of the next newer slice (`after=`); null at the newest")}),
    "MapClusters": obj(["total", "level", "clusters"], {
        "total": described("integer", "photos with a GPS position the caller may see (in `path`)"),
        "level": described("integer", "the cells' level: 2^level cells across the world, Web Mercator"),
        "clusters": {"type": "array", "items": obj(["lat", "lon", "count", "cell", "cover"], {
            "lat": NUM, "lon": NUM, "count": INT, "cover": described("string", "the path of its first photo"),
            "cell": {"type": "string", "example": "9/251/194", "description": "`level/x/y`: `/map/photos?cell=`"}})}}),
    "People": obj(["people", "total"], {"total": INT, "people": {"type": "array", "items": obj(
        ["name", "count", "cover"], {"name": STR, "count": described("integer", "the photos the caller may see"),
                                     "cover": obj(["path"], {"path": STR, "box": PEOPLE["items"]["properties"]["box"]},
                                                  description="their newest photo, and their face in it")})}}),
    "MapPhotos": obj(["total", "offset", "limit", "items"], {
        "total": INT, "offset": INT, "limit": INT,
        "items": {"type": "array", "items": ref("schemas", "ManifestItem")}}),
    "TimelineMonths": obj(["months", "total"], {"total": INT, "months": {"type": "array", "items": obj(
        ["month", "count", "photos", "videos"], {
            "month": {"type": "string", "example": "2024-05"},
            "count": described("integer", "every file of the month"),
            "photos": described("integer", "the photos the page shows as tiles: the other file of a stack (a raw "
                                "beside its JPEG, a live photo's video) is its front's tile"),
            "videos": described("integer", "the videos the page shows as tiles")})}}),
    "OnThisDay": obj(["day", "years"], {"day": {"type": "string", "example": "05-12"}, "years": {
        "type": "array", "items": obj(["year", "count", "items"], {
            "year": INT, "count": INT, "items": {"type": "array", "items": ref("schemas", "TimelineItem")}})}}),
    "Suggestions": obj(["q", "tags", "words"], {
        "q": STR, "tags": {"type": "array", "items": obj(["tag", "count"], {"tag": STR, "count": INT})},
        "words": {"type": "array", "items": obj(["word", "count"], {"word": STR, "count": INT})}}),
    "Health": obj(["status", "version", "storage", "worker", "report", "readonly", "rules"], {
        "status": {"enum": ["ok", "degraded"]}, "version": STR,
        "storage": obj(["backend", "readable", "writable"], {
            "backend": {"enum": ["local", "s3"]}, "readable": BOOL, "writable": BOOL,
            "unavailable": described("string", "why the tree cannot be reached (its root folder is missing, or the "
                                     "share that held it is no longer mounted): every request then answers 503 with "
                                     "Retry-After, never an empty gallery"),
            "reservedNames": {"type": "array", "items": STR, "description": "lenslet's own names at the root held "
                              "by someone else's file or folder; lenslet keeps its file in the state folder instead"},
            "name": described("string", "the root folder's name (never its path), or the bucket and prefix: what the "
                              "gallery page says it shows")}),
        "worker": obj(["alive", "workers", "backlog"], {
            "alive": BOOL, "workers": INT, "lastHeartbeat": nullable("number"),
            "secondsSinceHeartbeat": nullable("number"), "backlog": INT}),
        "report": described(["object", "null"], "the counts of the worker's _health.json"),
        "rejected": obj(["count", "files"], {"count": INT, "files": STRINGS},
                        description="journals (of moves, of edits) of a shape lenslet does not write: set aside, never "
                                    "acted on, kept for a person to look at"),
        **PAGE_FIELDS}),
}

PARAMETERS = {
    "imagePath": param("path", {"type": "string", "maxLength": MAX_PATH}, required=True, example="trips/2024/beach.jpg",
                       description="an image, relative to the gallery root (`a/b.jpg` or `/a/b.jpg`)"),
    "folderPath": param("path", {"type": "string", "maxLength": MAX_PATH}, example="trips/2024",
                        description="a folder, relative to the gallery root; the root when left out"),
    "page": param("page", {"type": "integer", "minimum": 0, "maximum": MAX_PAGE, "default": 0},
                  description="manifest page, from 0"),
    "q": param("q", {"type": "string", "maxLength": MAX_QUERY}, example="beach"),
    "limit": param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100}),
    "offset": param("offset", {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
    "sort": param("sort", {"enum": ["name", "date", "rating", "size"]}, description="name, date (taken, else the "
                  "file's time), rating or size; ties keep the default order (a folder's names, search's paths)"),
    "order": param("order", {"enum": ["asc", "desc"], "default": "asc"}),
    "star": param("star", {"type": "string", "pattern": "^[0-5]\\+?$"}, example="4+",
                  description="at least this many stars (`4` or `4+`)"),
    "date": param("date", {"type": "string", "maxLength": 100,
                           "pattern": "^(\\d{4}(-\\d{1,2}(-\\d{1,2})?)?)?(\\.\\.(\\d{4}(-\\d{1,2}(-\\d{1,2})?)?)?)?$"},
                  example="2024-05", description="taken (else the file's time, UTC) in a year, month or day, or a "
                  "range of them: `2024`, `2024-05`, `2024-05-12`, `2024-01..2024-06`, `2024-01..`"),
    "camera": param("camera", {"type": "string", "maxLength": 100}, example="canon",
                    description="part of the camera's name (EXIF make and model)"),
    "country": param("country", {"type": "string", "maxLength": 100, "pattern": "^[A-Za-z]{2}( *, *[A-Za-z]{2})*$"},
                     example="PT,ES", description="where it was taken: one or more ISO 3166-1 country codes, "
                     "comma-separated (placeless photos never pass; a share link without details may not ask)"),
    "type": param("type", {"type": "string", "maxLength": 100}, example="png,jpg", description="file types, "
                  "comma-separated: an extension (`jpg`, `png`, `heic`, `dng`, ...) or `raw`"),
    "person": param("person", {"type": "string", "maxLength": 100}, example="Ann Lee",
                    description="a person it shows, by their whole name (case and accents aside; in `q`, "
                    "`person:Ann_Lee`; a share link without details may not ask)"),
    "tagged": param("tagged", {"enum": ["yes", "no", "true", "false", "1", "0"]},
                    description="`yes`: only images with a tag; `no`: only without"),
    "ifMatch": param("If-Match", STR, "header", description="write only if the sidecar is still this version (an "
                     "ETag; `\"none\"`: no sidecar)"),
    "ifNoneMatch": param("If-None-Match", STR, "header"),
    "ifModifiedSince": param("If-Modified-Since", STR, "header"),
    "range": param("Range", STR, "header", example="bytes=0-99",
                   description="one byte range; anything else is ignored and the whole file sent"),
    "overwrite": param("overwrite", BOOL, description="replace a sidecar lenslet cannot parse (its bytes are kept as "
                       "`.bad-<time>`)"),
    "overwriteHeader": param("X-Lenslet-Overwrite", STR, "header", description="`true`: the same as `overwrite=true`"),
    "updatedBy": param("X-Updated-By", STR, "header", description="who edits, when the body does not say (default "
                       "`api`)"),
}

HEADERS = {"ETag": {"schema": STR}, "Last-Modified": {"schema": STR},
           **{name: {"schema": STR, "required": True}
              for name in ("Retry-After", "Set-Cookie", "Content-Range", "Location")}}
RESPONSES = {str(status): json_of(ref("schemas", "Error"), why) for status, why in ERRORS.items()}
for status, header in (("503", "Retry-After"), ("429", "Retry-After"), ("416", "Content-Range")):
    RESPONSES[status]["headers"] = {header: ref("headers", header)}

CACHED = {"ETag": ref("headers", "ETag"), "Last-Modified": ref("headers", "Last-Modified")}
NOT_MODIFIED = {"description": "`If-None-Match` or `If-Modified-Since` matched", "headers": CACHED}
ITEM = json_of(ref("schemas", "Item"), "the sidecar", {"ETag": ref("headers", "ETag")})
DONE = json_of(ref("schemas", "Done"), "done")
IMAGE = [ref("parameters", "imagePath")]
CONDITIONAL = [ref("parameters", "ifNoneMatch"), ref("parameters", "ifModifiedSince")]
IMAGES = {kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in IMAGE_TYPES}
LOCATION = {"Location": ref("headers", "Location")}
SET_COOKIE = {"Set-Cookie": ref("headers", "Set-Cookie")}
FOLDER = [ref("parameters", "folderPath")]
TIMELINE_FILTERS = [ref("parameters", name) for name in ("star", "date", "camera", "country", "type", "tagged",
                                                         "person")]
SORT_AND_FILTER = [ref("parameters", name) for name in ("sort", "order", "star", "date", "camera", "country", "type",
                                                        "tagged", "person")]
SIZE = param("size", {"enum": ["small", "large"], "default": "small"}, required=False, description="large: the "
             "second, sharper size (LENSLET_THUMB_SIZE_LARGE, /health's `imageSettings.large` its version's "
             "settings) for high-density screens; while it cannot be made in time, or is turned off, the small one "
             "is answered in its place with `Cache-Control: no-cache`")


def op(summary, ok, *statuses, code="200", parameters=None, body=None, answers=(), **more):
    """An operation answering ok (as code), answers, or the errors of ANY and statuses; body: a JSON body's schema."""
    made = {"summary": summary, **more}
    if parameters is not None:
        made["parameters"] = parameters
    if body is not None:
        made["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    made["responses"] = {code: ok, **dict(answers), **errors(*ANY, *statuses)}
    return made


def made_on_demand(summary, what, extra=()):
    """GET /thumb and GET /preview: a WebP made when first asked for, or 202 while the worker makes it."""
    version = param("v", {"type": "string", "maxLength": 200}, required=False, description="the version of what is "
                    "asked for (see /health's `imageSettings`): while it is the version of what is answered, the "
                    "answer is `Cache-Control: public, max-age=31536000, immutable` (`private` with a credential); "
                    "any other value is answered as without")
    webp = {"image/webp": {"schema": {"type": "string", "contentMediaType": "image/webp"}}}
    return op(summary, {"description": what, "headers": CACHED, "content": webp}, *TREE, 409, 415, 422, 507,
              parameters=IMAGE + CONDITIONAL + list(extra) + [version], answers={
                  "202": json_of(ref("schemas", "Pending"), "being made: ask `poll` again after `Retry-After`",
                                 {"Retry-After": ref("headers", "Retry-After")}),
                  "304": NOT_MODIFIED})


THUMB = made_on_demand("The image's WebP thumbnail (or a video's poster), made on demand", "the thumbnail", [SIZE])
PREVIEW = made_on_demand("A WebP of the image for the viewer (long edge LENSLET_PREVIEW_SIZE), made on demand and kept "
                         "in a bounded cache; a video's, once it has a poster, from its poster's frame (made by the "
                         "worker: 202 meanwhile)", "the preview")
FACE = made_on_demand("A face cut from the image's preview (a person's cover in the People view), kept with the "
                      "previews; never through a share link (as `/people`)", "the face, long edge at most 256",
                      [param("box", {"type": "string", "maxLength": 200}, required=True, example="0.4,0.3,0.2,0.4",
                             description="x,y,w,h: the face as shown, from the top-left, in fractions of the "
                             "picture's sides (a person's `cover.box` of `GET /people`)")])
ORIGINAL = op(
    "The original image (or video), with caching and one byte range; through a share link without `details`, with "
    "its GPS position taken out (EXIF, XMP), or its preview (a WebP) when it cannot surely be",
    {"description": "the whole file (empty, with `X-Accel-Redirect`, under LENSLET_ACCEL_REDIRECT)", "headers": CACHED,
     "content": IMAGES}, *TREE, 409, 415, 416, 422, 507, parameters=IMAGE + CONDITIONAL + [ref("parameters", "range")],
    answers={"202": PREVIEW["responses"]["202"], "206": {"description": "the range asked for", "content": IMAGES,
                     "headers": {**CACHED, "Content-Range": ref("headers", "Content-Range")}},
             "302": {"description": "S3: a presigned URL of the file, valid for 5 minutes", "headers": LOCATION},
             "304": NOT_MODIFIED})


def files_op(summary, created=False, done=DONE):
    content = {kind: {"schema": ref("schemas", "Paths")}
               for kind in ("application/json", "multipart/form-data", "application/x-www-form-urlencoded")}
    return op(summary, done, *TREE, *WRITES, 415, code="201" if created else "200", parameters=FOLDER,
              requestBody={"content": content})


def upload(form):
    conflict = {"enum": ["rename", "replace"],
                "description": "a taken name: `rename` saves as `name (1).jpg`, `replace` replaces (the old bytes go "
                               "to the trash with their words, named in the answer's `trashed`); else 409"}
    octets = {"type": "string", "contentMediaType": "application/octet-stream"}
    if form:
        content = {"multipart/form-data": {"schema": obj(["file"], {
            "dest": described("string", "the folder, e.g. `/2024`"), "file": octets, "conflict": conflict})}}
    else:
        content = {"application/octet-stream": {"schema": octets}}
    return op("Upload an image or video (multipart `dest` + `file`)" if form else "Upload an image or video (the body)",
              DONE, *TREE,
              *WRITES, 415, 422, code="201", parameters=[] if form else IMAGE + [param("conflict", conflict)],
              requestBody={"required": True, "content": content})


def page(description, asset=False, library=False):
    kinds = ("text/css", "text/javascript", "image/svg+xml", "image/png", "image/x-icon",
             "application/manifest+json", "application/json", "text/html") if asset else ("text/html",)
    moved = {"301": {"description": "index.html by name: the page is at /", "headers": LOCATION}} if asset else {}
    named = ([param("library", STR, "path", required=True)] if library else []) + (
        [param("name", STR, "path", required=True)] if asset else []) + ([param("v", STR, description=(
            "the page's version, as the page names its scripts and styles: then answered `immutable`"))]
        if asset and not library else [])
    return {
        "summary": description, "parameters": named + [ref("parameters", "ifNoneMatch")],
        "responses": {"200": {"description": description, "content": {
            kind: {"schema": {"type": "object"} if kind == "application/json" else STR} for kind in kinds}},
                      "304": NOT_MODIFIED, **errors(404, 414, 421), **moved},
    }


def gone(name, description):
    """What DELETE answers: ok and the name (or id) of what is gone."""
    return json_of(obj(["ok", name], {"ok": OK, name: STR}), description)


def listed(key, name, description):
    return json_of(obj([key], {key: {"type": "array", "items": ref("schemas", name)}}), description)


ALBUM_ID = param("album_id", STR, "path", required=True)
USER_NAME = param("name", STR, "path", required=True)
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 1024}

PATHS = {
    "/folders": {"get": op(
        "A folder's manifest page: its images and subfolders",
        json_of({"oneOf": [ref("schemas", "FolderPage"), ref("schemas", "FolderView")]},
                "the manifest page, or the filtered and sorted slice"), *TREE, 409,
        description="With any of sort, order, star, date, camera, country, type, tagged, offset or limit: a slice "
                    "(offset, limit) of the folder's items filtered and sorted, over the whole folder. Without them, "
                    "the stored page carries an ETag (not when the principal sees only part of the folder) and a "
                    "conditional GET of an unchanged page is answered 304. An answer served from the stored listing "
                    "while another request looked at the changed folder again, or while an edit in the moved folder "
                    "was under way, says X-Lenslet-Checking: 1 (no-store, no ETag): ask again in a moment.",
        parameters=FOLDER + [ref("parameters", "page"), *SORT_AND_FILTER, ref("parameters", "limit"),
                             ref("parameters", "offset")], answers={"304": NOT_MODIFIED}),
        "patch": op("Pick the folder's cover (`cover`: an image's name in it) or clear the pick (`null`)", json_of(
            obj(["ok", "path"], {"ok": OK, "path": STR}, allOf=[ref("schemas", "Counts")]),
            "the folder's counts and cover now"), *TREE, 409, 413, 415, 507, parameters=FOLDER,
            body=ref("schemas", "CoverPick"))},
    "/item": {
        "get": op("An image's sidecar merged with what the image says (EXIF, size, type)", ITEM, *TREE, 415,
                  parameters=IMAGE),
        "put": op("Create or replace the sidecar; an edit made on an older copy is merged", ITEM,
                  *TREE, 409, 412, 413, 415, 507, body=ref("schemas", "ItemPut"),
                  parameters=IMAGE + [ref("parameters", name)
                                      for name in ("ifMatch", "updatedBy", "overwrite", "overwriteHeader")]),
        "patch": op("Apply tag, notes, star, place and date operations atomically", ITEM, *TREE, 409, 412, 413,
                    415, 507,
                    parameters=IMAGE + [ref("parameters", "ifMatch"), ref("parameters", "updatedBy")],
                    body=ref("schemas", "ItemPatch")),
        "delete": op("Remove the sidecar (never the image)", {"description": "removed (or there was none)"}, *TREE,
                     409, 412, 415, 507, code="204", parameters=IMAGE + [ref("parameters", "ifMatch")]),
    },
    "/item/rotate": {"post": op(
        "Turn or flip how an image is shown, kept in its sidecar over the camera's orientation (the original is never "
        "changed; tiff:Orientation written to its XMP sidecar under LENSLET_XMP=write); its thumbnail and preview "
        "follow, under new URL versions", ITEM, *TREE, 409, 412, 413, 415, 507,
        parameters=IMAGE + [ref("parameters", "ifMatch"), ref("parameters", "updatedBy")],
        body=ref("schemas", "ItemRotate"))},
    "/thumb": {"get": THUMB, "head": THUMB},
    "/preview": {"get": PREVIEW, "head": PREVIEW},
    "/face": {"get": FACE},
    "/file": {"get": ORIGINAL, "head": ORIGINAL, "post": upload(form=True), "put": upload(form=False)},
    "/zip": {"get": op(
        "The originals of a folder and its subfolders, of the images picked, or of an album, as one ZIP streamed as it "
        "is read: stored, not compressed (ZIP64 past 4 GB), names as in the tree (NFC, each once); only what the "
        "caller may see, through a share link only when it allows downloads; a photo moved or trashed meanwhile is "
        "named in `not-included.txt` instead",
        {"description": "the archive", "content": {"application/zip": {"schema": {"type": "string",
                                                                                  "format": "binary"}}},
         "headers": {"Content-Disposition": {"schema": STR, "description": "attachment, named after what it holds"}}},
        *TREE, 413, 415, parameters=[
            param("path", {"type": "string"}, description="a folder: its images and its subfolders'"),
            param("paths", {"type": "array", "items": {"type": "string"}}, style="form", explode=True,
                  description="the images picked, each its own `paths=`"),
            param("album", {"type": "string"}, description="an album's id: what it shows the caller now")])},
    "/search": {"get": op(
        "Items under `path` whose name, tags, notes, folder, camera, date taken or place hold every term of `q` (a big "
        "town's place also by its other names: `lisboa`, `münchen`); words "
        "`star:4+ date:2024-05 camera:canon country:PT type:png tagged untagged sort:date order:desc` filter and sort "
        "as the parameters of the same names do",
        json_of(ref("schemas", "SearchAnswer"), "the matches, in path order unless sorted"), 404,
        parameters=[ref("parameters", "q"), *FOLDER, ref("parameters", "limit"), ref("parameters", "offset"),
                    *SORT_AND_FILTER])},
    "/timeline": {"get": op(
        "Every image the caller may see, newest first by date taken (EXIF, else the file's time), a slice at a time: "
        "from the newest, `before` a cursor (older), `after` a cursor (the newer ones nearest it), or `at` a year, "
        "month or day (from its newest image: the scrubber's jump)",
        json_of(ref("schemas", "TimelineSlice"), "one slice, newest first"), parameters=[
            param("before", {"type": "string", "maxLength": 4200},
                  description="a cursor (`older` of an answer): the images older than it"),
            param("after", {"type": "string", "maxLength": 4200},
                  description="a cursor (`newer` of an answer): the images newer than it"),
            param("at", {"type": "string", "maxLength": 10}, example="2024-05",
                  description="`2024`, `2024-05` or `2024-05-12`: from the newest image of then"),
            param("limit", {"type": "integer", "minimum": 1, "maximum": TIMELINE_LIMIT, "default": 100}),
            *FOLDER, *TIMELINE_FILTERS])},
    "/timeline/months": {"get": op(
        "How many images each month of the timeline holds, newest first (a scrubber's marks)",
        json_of(ref("schemas", "TimelineMonths"), "the months that hold images"),
        parameters=FOLDER + TIMELINE_FILTERS)},
    "/map": {"get": op(
        "The photos with a GPS position the caller may see, in clusters of the view's cells that split as the map "
        "zooms in; never for a share link", json_of(ref("schemas", "MapClusters"), "the view's clusters"),
        parameters=[param("zoom", {"type": "integer", "minimum": 0, "maximum": 22}, required=True),
                    *(param(name, {"type": "number", "minimum": -limit, "maximum": limit}, required=True)
                      for name, limit in (("west", 180), ("south", 90), ("east", 180), ("north", 90))),
                    *FOLDER, *TIMELINE_FILTERS])},
    "/map/photos": {"get": op(
        "The photos of one cluster (its `cell`), in path order", json_of(ref("schemas", "MapPhotos"), "a page of them"),
        parameters=[param("cell", {"type": "string", "pattern": "^\\d+/\\d+/\\d+$"}, required=True),
                    param("offset", {"type": "integer", "minimum": 0, "default": 0}),
                    param("limit", {"type": "integer", "minimum": 1, "maximum": TIMELINE_LIMIT, "default": 100}),
                    *FOLDER, *TIMELINE_FILTERS])},
    "/people": {"get": op(
        "Each person the photos name (XMP face regions and person keywords), most photos first; only the photos "
        "the caller may see are counted (a share link: 403). Photos named since the last rollup "
        "count once it is built", json_of(ref("schemas", "People"), "the people"), parameters=FOLDER)},
    "/people/rename": {"post": op(
        "Rename a person on every photo the caller may see and edit (to a name already given: the two merge), one "
        "sidecar at a time; a photo whose XMP names them is refused (lenslet writes no people into XMP)",
        json_of(obj(["renamed", "refused"], {"renamed": INT, "refused": {"type": "array", "items": obj(
            ["path", "description"], {"path": STR, "description": STR})}}), "what was renamed and refused"), 415,
        parameters=FOLDER, body={**obj(["name", "to"], {"name": STR, "to": PERSON}), "additionalProperties": False})},
    "/on-this-day": {"get": op(
        "Images taken on this month and day in earlier years, newest year first (empty when none)",
        json_of(ref("schemas", "OnThisDay"), "up to 24 images of each earlier year"), parameters=[
            param("day", {"type": "string", "pattern": "^\\d{2}-\\d{2}$"}, example="05-12",
                  description="the day as the page sees it, `MM-DD`; the server's day (UTC) when left out"),
            *FOLDER, *TIMELINE_FILTERS])},
    "/places": {"get": op(
        "Places of lenslet's offline table named as `q` says (the start of a name, or of another name of a big town: "
        "`lisboa`; then perhaps its region's or country's after commas: `lisbon, portugal`), whole names first, then "
        "the most populous; to set a photo's place with", json_of(
            obj(["places"], {"places": {"type": "array", "items": obj(["city", "region", "country", "countryCode"], {
                "city": STR, "region": nullable("string"), "country": STR, "countryCode": STR})}}),
            "up to `limit`; the names are GeoNames', under CC BY 4.0: a page showing them credits "
            "\"GeoNames (geonames.org), CC BY 4.0\""),
        parameters=[param("q", {"type": "string", "minLength": 2, "maxLength": 200}, required=True),
                    param("limit", {"type": "integer", "minimum": 1, "maximum": 50, "default": 10})])},
    "/search/suggest": {"get": op("Tags and name words starting with `q`, with how many items have them",
                                  json_of(ref("schemas", "Suggestions"), "up to 20 tags and 20 words"),
                                  parameters=[ref("parameters", "q")])},
    "/health": {"get": {
        "summary": "Version, read-only mode and the page's rules, for anyone (no credentials needed); storage and "
                   "worker status for admins",
        "responses": {"200": json_of({"anyOf": [ref("schemas", "Health"), ref("schemas", "Alive")]},
                                     "`status` ok or degraded (the details for admins only)"),
                      "503": json_of({"anyOf": [ref("schemas", "Health"), ref("schemas", "Error")]},
                                     "the storage cannot be read (the report), or the users file is broken and nobody "
                                     "is let in (an error saying why)"),
                      **errors(401, 404, 414, 421, 429)},
    }},
    "/move": {"post": files_op("Move images into a folder (`src`, `dest`), or rename one (`src`, `to`); folders too. "
                               "Image, sidecar and thumbnail move together",
                               done=json_of(ref("schemas", "Moved"), "moved"))},
    "/dates": {"post": op(
        "Move the dates of the images picked by one amount, each from its own (a person's, else EXIF's, else the "
        "file's time): all checked first (a date leaving the years 1 to 9999 refuses the whole), then each written",
        json_of(ref("schemas", "DatesShifted"), "the new dates"), *TREE, *WRITES, 415,
        body=ref("schemas", "DatesShift"))},
    "/trash": {"post": files_op("Move images into `_trash_`, recording where they came from")},
    "/duplicates": {"get": op("Groups of identical images (one content hash), each of the images the caller may see",
                              json_of(ref("schemas", "Duplicates"), "groups, by their first path"),
                              parameters=[ref("parameters", "limit"), ref("parameters", "offset")])},
    "/similar": {"get": op("Groups of similar photos (a burst, a moment's tries) in a folder and below, by folder "
                           "and time; keep one, trash the others with POST /trash",
                           json_of(ref("schemas", "Similar"), "groups, by folder and time"), 404,
                           parameters=[*FOLDER, ref("parameters", "limit"), ref("parameters", "offset")])},
    "/duplicates/trash": {"post": op(
        "Keep one image of a group of copies and move the others (`paths`) to the trash, each only if it still has "
        "`hash`; refused (409) when the one kept no longer has it",
        json_of(ref("schemas", "CopiesTrashed"), "done"), *TREE, *WRITES, 415,
        requestBody={"content": {"application/json": {"schema": obj(["hash", "keep", "paths"], {
            "hash": STR, "keep": STR, "paths": STRINGS})}}})},
    "/restore": {"post": files_op("Move trashed images back where they came from")},
    "/delete": {"post": files_op("Delete images for good with their sidecar and thumbnail; only from the trash unless "
                                 "`force` is true")},
    "/folder": {"post": files_op("Create a folder (`path`)", created=True),
                "delete": op("Remove an empty folder", DONE, *TREE, 409, 507, parameters=FOLDER)},
    "/export-intent": {"post": {"summary": "Accepted and agreed to (the lenscat-lite front end calls it)",
                                "responses": {"200": DONE, **errors(401, 403, 404, 414, 421, 429)}}},
    # The gallery page is served at the root only, and needs no token even with LENSLET_TOKEN_READS.
    "/": {"servers": [{"url": "/"}], "get": page("the gallery page (index.html)"),
          "head": page("the gallery page (index.html)")},
    "/static/{name}": {"servers": [{"url": "/"}], "get": page("one of the page's files", asset=True),
                       "head": page("one of the page's files", asset=True)},
    "/static/vendor/{library}/{name}": {"servers": [{"url": "/"}],
                                        "get": page("a library's file the page uses as published", True, True),
                                        "head": page("a library's file the page uses as published", True, True)},
    "/share-target": {"servers": [{"url": "/"}], "post": {
        "summary": "Photos shared to lenslet from another app when the page's service worker was not there to keep "
                   "them: nothing is kept, and the page says to share again; another site's form is refused",
        "responses": {"303": {"description": "to the page, which says so", "headers": LOCATION},
                      **errors(403, 414, 421)}}},
    "/metrics": {"get": {
        "summary": "Prometheus metrics of every lenslet process (LENSLET_METRICS=true; 404 while off)",
        "responses": {"200": {"description": "the Prometheus text format", "content": {"text/plain": {"schema": STR}}},
                      **errors(401, 403, 404, 414, 421, 429, 503)},
    }},
    "/openapi.json": {"get": {
        "summary": "This description",
        "responses": {"200": json_of({"type": "object"}, "the OpenAPI 3.1 document"),
                      **errors(401, 403, 404, 414, 421, 429)},
    }},
    "/me": {"get": op("Who the request's credentials name (a user, a share link, or `open`: no users file) and what "
                      "they may see and do", json_of(ref("schemas", "Me"), "the principal"))},
    "/me/password": {"put": op(
        "Change one's own password (any role): the current one and the new one. A wrong current one is counted as a "
        "failed sign-in (401, then 429); the person's other sessions end in every web process, and a browser signed "
        "in by its session cookie gets a new one",
        json_of(obj(["ok", "name"], {"ok": OK, "name": STR}), "changed", {"Set-Cookie": {
            "schema": STR, "description": "the new session, when one signed the request"}}), 409, 413, 415,
        body={**obj(["current", "password"], {"current": STR, "password": PASSWORD}), "additionalProperties": False})},
    "/me/app-passwords": {
        "get": op("The caller's app passwords: one per device that signs in to WebDAV (`/dav`), by name; never the "
                  "passwords", json_of(obj(["appPasswords"], {"appPasswords": {
                      "type": "array", "items": APP_PASSWORD}}), "the app passwords")),
        "post": op("Make an app password for a device (any role; the users file's people only): WebDAV's Basic sign-in "
                   "takes the person's name and it; shown once", json_of(
                       obj(["id", "name", "created", "user", "password"],
                           {**APP_PASSWORD["properties"], "user": STR, "password": STR}),
                       "the app password, shown once"),
                   409, 413, 415, 503, code="201",
                   body={**obj(["name"], {"name": STR}), "additionalProperties": False}),
    },
    "/me/app-passwords/{password_id}": {"delete": op(
        "Revoke one of the caller's app passwords: the device is refused from its next request, in every web process",
        gone("id", "revoked"), 503, parameters=[param("password_id", STR, "path", required=True)])},
    "/albums": {
        "get": op("The caller's albums, last changed first", listed("albums", "Album", "the albums")),
        "post": op("Make an album: images picked from any folders (in this order), or a saved search (smart: what it "
                   "finds whenever the album is opened); `edit` and `admin` users",
                   json_of(ref("schemas", "Album"), "the album"), 413, 415, 507, code="201",
                   body=ref("schemas", "AlbumAsked")),
    },
    "/albums/{album_id}": {
        "get": op("An album and one page of the images it holds now (moved ones found again by their content hash), "
                  "as the caller may see them; an album's share link opens its album",
                  json_of(ref("schemas", "AlbumPage"), "the album and a page of it"), parameters=[
                      ALBUM_ID, param("offset", {"type": "integer", "minimum": 0, "default": 0}),
                      param("limit", {"type": "integer", "minimum": 1, "maximum": ALBUM_PAGE, "default": 100})]),
        "patch": op("Change an album: rename, add, remove, move (reorder), cover; made on the album as it is now, "
                    "whoever changed it meanwhile", json_of(ref("schemas", "Album"), "the album as changed"),
                    413, 415, 507, parameters=[ALBUM_ID], body=ref("schemas", "AlbumChange")),
        "delete": op("Remove an album (never its images)", gone("id", "removed"), parameters=[ALBUM_ID]),
    },
    "/shares": {
        "get": op("The caller's share links (an admin's: every one), newest first; expired ones too",
                  listed("shares", "Share", "the shares")),
        "post": op("Share a folder (with its subfolders), one image, several images of one folder, or an album of "
                   "one's own (picked or smart) read-only, for a time; `edit` and `admin` users, within their folders",
                   json_of(ref("schemas", "ShareMade"), "the share and its link, shown once"), *TREE, 413, 415, 507,
                   code="201", body=ref("schemas", "ShareAsked")),
    },
    "/shares/{share_id}": {"delete": op("Revoke a share link: from now on it answers 404, in every web process",
                                        gone("id", "revoked"), 404,
                                        parameters=[param("share_id", STR, "path", required=True)])},
    "/shares/upload": {"put": op(
        "A guest adds a photo or video (the body) through a share link that takes uploads (`X-Lenslet-Share`): into "
        "its folder or subfolder, under the next free name, kept with the guest's name (`addedBy`) and the link "
        "(`addedVia`); past a cap of the link 403 (`cap: maxFiles`) or 413 (`cap: maxBytes`), nothing written; a "
        "link revoked or expired before the body's end keeps nothing of it (404)", DONE, *TREE, *WRITES, 411, 415,
        422, code="201", parameters=[param("name", STR, required=True, description="the file's name on the phone"),
                                     param("guest", {"type": "string", "minLength": 1}, required=True,
                                           description="who adds it, as they said once")],
        requestBody={"required": True, "content": {"application/octet-stream": {"schema": {
            "type": "string", "contentMediaType": "application/octet-stream"}}}})},
    "/shares/unlock": {"post": op(
        "The key to send for a share link that has a password (`X-Lenslet-Share`)",
        json_of(obj(["key"], {"key": described("string", "`<id>.<secret>.<proof>`")}), "the unlocked key"),
        404, 413, 415, body=obj(["key"], {"key": described("string", "the link's key: what follows `/s#`"),
                                          "password": STR}))},
    "/session": {
        "post": op("Sign in with a name and a password: a session, sent as an `HttpOnly; SameSite=Strict; Path=/` "
                   "cookie (`__Host-lenslet-session`, `Secure`, over TLS; else `lenslet-session`) that every later "
                   "request of the browser carries",
                   json_of(ref("schemas", "Me"), "signed in: who, and what they may do", SET_COOKIE), 413, 415, 507,
                   code="201", security=[{}], body=obj(["name", "password"], {"name": STR, "password": STR})),
        "delete": op("Sign out: the session ends at once in every web process, its cookie is cleared, and "
                     "`Clear-Site-Data: \"cache\"` has the browser drop what it kept for the site",
                     json_of(obj(["ok"], {"ok": OK}), "signed out"), security=[{}, {"session": []}]),
    },
    "/setup": {"post": op(
        "Make the first admin while the users file holds nobody: the setup code lenslet printed in its log, a name "
        "and a password; signed in at once (a session cookie, as POST /session)",
        json_of(ref("schemas", "Me"), "the first admin, signed in", SET_COOKIE), 409, 413, 415, 507, code="201",
        security=[{}], body=obj(["code", "name", "password"], {"code": STR, "name": STR, "password": PASSWORD}))},
    "/users": {
        "get": op("Everyone in the users file (admins only): names, roles, folders, whether each has a password and a "
                  "token", listed("users", "User", "the users, by name")),
        "post": op("Add someone who signs in with a password (admins only); the users file is changed under its lock, "
                   "and every web process reads it again", json_of(ref("schemas", "User"), "added"), 409, 413, 415,
                   code="201", body={**obj(["name", "role", "folders", "password"], {"name": STR, **USER_FIELDS}),
                                     "additionalProperties": False}),
    },
    "/users/{name}": {
        "patch": op("Change someone's role, folders or password (admins only): each ends their sessions in every web "
                    "process (the admin's own browser gets a new session)", json_of(ref("schemas", "User"), "changed"),
                    409, 413, 415, parameters=[USER_NAME], body=ref("schemas", "UserChange")),
        "delete": op("Remove someone (admins only): their sessions and token open nothing from the next request; the "
                     "last admin is not removed (409)", gone("name", "removed"), 409, parameters=[USER_NAME]),
    },
    "/s": {"servers": [{"url": "/"}], "get": page("the gallery page for a share link: `/s#<key>` (the key after `#` "
                                                  "never reaches a server)"),
           "head": page("the gallery page for a share link")},
}


class OpenApiResource:
    """GET /openapi.json: the OpenAPI 3.1 description of this API."""

    def __init__(self):
        self.body = orjson.dumps(spec())  # the same for every request: encoded once

    def on_get(self, req, resp):
        resp.data, resp.content_type = self.body, falcon.MEDIA_JSON
