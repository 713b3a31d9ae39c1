"""Album records and the changes a person makes to one; pure, no I/O."""

import re
import secrets

import orjson

from lenslet.errors import BadRequest
from lenslet.formats import query, records
from lenslet.layout import is_image, name_of
from lenslet.storage.paths import is_clean

FORMAT = 1
ID = re.compile(r"^[0-9a-f]{16}$")
HASH = re.compile(r"^blake3:[0-9a-f]{64}$")
MAX_IMAGES = 10_000   # images one album holds
MAX_NAME = 200        # characters of an album's name
MAX_FILE = 4 << 20    # bytes of an album's file
MAX_CHANGE = 1000     # images one change adds, removes or moves
MAX_QUERY = 1000      # characters of a smart album's q
SMART_KEYS = ("q", "path", *query.PARAMS)


class BadAlbum(ValueError):
    """An album file of a shape lenslet does not write."""


def checked_name(name):
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise BadRequest(f"an album's name has 1 to {MAX_NAME} characters, no control characters", field="name")
    return name.strip()


def checked_smart(smart):
    """Check a smart album's saved search: q, path, sort and filters."""
    if not isinstance(smart, dict) or set(smart) - set(SMART_KEYS) or \
            not all(isinstance(value, str) for value in smart.values()):
        raise BadRequest(f"smart is an object of texts: {', '.join(SMART_KEYS)}", field="smart")
    if len(smart.get("q", "")) > MAX_QUERY:
        raise BadRequest(f"smart.q is longer than {MAX_QUERY} characters", field="smart")
    if smart.get("path") and not is_clean(smart["path"]):
        raise BadRequest("smart.path is a folder of the gallery", field="smart")
    asked_of(smart)  # raises BadRequest for a value search cannot read
    return {key: value for key, value in smart.items() if value}


def asked_of(smart):
    """Return the query.Query a smart album's saved search asks."""
    return query.parse({name: smart.get(name) for name in query.PARAMS}, smart.get("q", ""))


def checked_paths(paths, field):
    """Check the image paths a change names, dropping duplicates."""
    if not isinstance(paths, list) or not 1 <= len(paths) <= MAX_CHANGE or not all(map(is_clean, paths)):
        raise BadRequest(f"{field} is a list of 1 to {MAX_CHANGE} image paths", field=field)
    for path in paths:
        if not is_image(name_of(path)):
            raise BadRequest("an album holds images only", field=field, path=path)
    return list(dict.fromkeys(paths))


def new(name, owner, now, smart=None, owner_id=None):
    """Make a new album record, bound to owner_id when the owner has one."""
    record = {"v": FORMAT, "id": secrets.token_hex(8), "name": checked_name(name), "owner": owner, "createdAt": now,
              "updatedAt": now, "images": [], "cover": None, "smart": None if smart is None else checked_smart(smart)}
    if owner_id:
        record["ownerId"] = owner_id
    return record


def dumps(record):
    return orjson.dumps(record)


def loads(data, album_id):
    """Parse and check an album file's bytes; raise BadAlbum when they do not hold one."""
    record = records.object_of(data, FORMAT, album_id, BadAlbum, "an album")
    if not isinstance(record.get("owner"), str) or not all(isinstance(record.get(key), str)
                                                           for key in ("createdAt", "updatedAt")):
        raise BadAlbum("no owner and times")
    if "ownerId" in record and not ID.match(str(record["ownerId"])):
        raise BadAlbum("an ownerId that is no user's id")
    try:
        checked_name(record.get("name"))
        if record.get("smart") is not None:
            checked_smart(record["smart"])
    except BadRequest as ex:
        raise BadAlbum(ex.description) from None
    images = record.get("images")
    if not isinstance(images, list) or len(images) > MAX_IMAGES or not all(map(_image_shaped, images)):
        raise BadAlbum(f"no list of at most {MAX_IMAGES} images, each a path and a hash")
    if len({image["path"] for image in images}) != len(images):
        raise BadAlbum("an image named twice")
    if record.get("smart") is not None and images:
        raise BadAlbum("a smart album with images picked by hand")
    cover = record.get("cover")
    if cover is not None and not (isinstance(cover, str) and is_clean(cover)):
        raise BadAlbum("a cover that is no path")
    return {"smart": None, "cover": None, **record}  # optional keys another program may leave out


def _image_shaped(image):
    return isinstance(image, dict) and set(image) == {"path", "hash"} and is_clean(image["path"]) \
        and is_image(name_of(image["path"])) and (image["hash"] is None or
                                                  (isinstance(image["hash"], str) and HASH.match(image["hash"])))


def change(record, body, now, found):
    """Return the record after a PATCH /albums/{id} change, or raise BadRequest and change nothing.
    found(paths) returns [{"path", "hash"}] of the images the caller may add."""
    if not isinstance(body, dict) or not body or set(body) - {"name", "add", "remove", "move", "cover", "smart"}:
        raise BadRequest("the body is an object of changes: name, add, remove, move, cover, smart")
    record = dict(record, images=list(record["images"]))
    if "name" in body:
        record["name"] = checked_name(body["name"])
    if "smart" in body:
        if record["images"] or "add" in body:
            raise BadRequest("a smart album holds no images picked by hand", field="smart")
        record["smart"] = None if body["smart"] is None else checked_smart(body["smart"])
    if "add" in body:
        if record["smart"] is not None:
            raise BadRequest("a smart album holds what its search finds: add to an album of picked images", field="add")
        held = {image["path"] for image in record["images"]}
        record["images"] += [image for image in found(checked_paths(body["add"], "add")) if image["path"] not in held]
        if len(record["images"]) > MAX_IMAGES:
            raise BadRequest(f"an album holds at most {MAX_IMAGES} images", field="add")
    if "remove" in body:
        gone = set(checked_paths(body["remove"], "remove"))
        record["images"] = [image for image in record["images"] if image["path"] not in gone]
    if "move" in body:
        record["images"] = moved(record["images"], body["move"])
    held = {image["path"] for image in record["images"]}
    if "cover" in body:
        cover = body["cover"]
        if cover is not None and cover not in held and record["smart"] is None:
            raise BadRequest("the cover is one of the album's images", field="cover")
        if cover is not None and not is_clean(cover):
            raise BadRequest("the cover is an image path", field="cover")
        record["cover"] = cover
    if record["cover"] is not None and record["smart"] is None and record["cover"] not in held:
        record["cover"] = None  # its image removed
    record["updatedAt"] = now
    return record


def moved(images, moves):
    """Return images after each move [{"path", "before": a path, or null for the end}] in turn."""
    if not isinstance(moves, list) or not 1 <= len(moves) <= MAX_CHANGE or not all(
            isinstance(move, dict) and set(move) <= {"path", "before"} and isinstance(move.get("path"), str)
            and (move.get("before") is None or isinstance(move.get("before"), str)) for move in moves):
        raise BadRequest(f"move is a list of 1 to {MAX_CHANGE} {{\"path\", \"before\"}} (before: null for the end)",
                         field="move")
    images = list(images)
    for move in moves:
        at = {image["path"]: n for n, image in enumerate(images)}
        if move["path"] not in at or (move.get("before") is not None and move["before"] not in at):
            raise BadRequest("move names an image the album does not hold", field="move", path=move["path"])
        image = images.pop(at[move["path"]])
        if move.get("before") is None:
            images.append(image)
        else:
            images.insert(next(n for n, other in enumerate(images) if other["path"] == move["before"]), image)
    return images


def shown(record, count):
    """Return an album as GET /albums lists it."""
    return {"id": record["id"], "name": record["name"], "owner": record["owner"], "smart": record["smart"],
            "cover": record["cover"] or (record["images"][0]["path"] if record["images"] else None),
            "count": count, "createdAt": record["createdAt"], "updatedAt": record["updatedAt"]}
