"""Sidecars (foo.jpg.json): parse, normalize, validate and merge."""

import datetime
import re

import orjson

from lenslet.errors import BadRequest, PreconditionFailed, TooLarge
from lenslet.formats import dates
from lenslet.places.table import country_name, label

NO_SIDECAR = "none"  # the version (ETag) of an image that has no sidecar yet
VERSION = 1
# The first lenscat backend's keys, still read and rewritten in camelCase.
LEGACY_KEYS = {"updated_at": "updatedAt", "updated_by": "updatedBy", "created_at": "createdAt",
               "original_position": "originalPosition"}


def defaults():
    """Return the sidecar of an image nobody has described yet."""
    return {"v": VERSION, "tags": [], "notes": "", "star": None, "exif": {}, "hash": None,
            "updatedAt": None, "updatedBy": None}


def normalize(raw):
    """Return a sidecar dict in today's shape: legacy keys renamed, unknown keys kept."""
    sidecar = defaults()
    for key, value in raw.items():
        sidecar[LEGACY_KEYS.get(key, key)] = value
    exif = sidecar["exif"] if isinstance(sidecar["exif"], dict) else {}
    sidecar["exif"] = {LEGACY_KEYS.get(key, key): value for key, value in exif.items()}
    tags = sidecar["tags"] if isinstance(sidecar["tags"], list) else []
    sidecar["tags"] = union([], [tag for tag in tags if isinstance(tag, str) and tag])
    if not isinstance(sidecar["notes"], str):
        sidecar["notes"] = ""
    if "v" not in raw and "notes" not in raw and isinstance(raw.get("description"), str):
        sidecar["notes"] = raw["description"][:MAX_NOTES]  # another program's notes (Google Takeout's)
    star = sidecar["star"]
    star = int(star) if type(star) is float and star.is_integer() else star  # another tool's 4.0 is the star 4
    sidecar["star"] = star if star is None or (type(star) is int and 0 <= star <= 5) else None
    if not is_turn(sidecar.get("turn", 1)):
        del sidecar["turn"]  # forged or torn: the camera's orientation holds
    sidecar["v"] = VERSION
    return sidecar


def parse(data):
    """Parse a sidecar file's bytes; None when they are not a JSON object."""
    raw = _object(data)
    return normalize(raw) if raw is not None else None


def _object(data):
    try:
        raw = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return raw if isinstance(raw, dict) else None


MAX_TAGS = 500
MAX_TAG_LENGTH = 100
MAX_NOTES = 20_000
MAX_WHO = 200
MAX_PLACE_NAME = 100
MAX_SIDECAR = 512 * 1024  # bytes a stored sidecar may grow to
MAX_EXTRA_KEYS = 64       # keys lenslet does not know, kept for other tools
SERVER_KEYS = ("exif", "hash", "xmpBase", "addedBy", "addedVia")  # lenslet writes these; a client's copy is ignored
# addedBy, addedVia: the guest who added an image through a share link, and that link's id.
# xmpBase: the tags, star and notes lenslet last wrote to the XMP sidecar.
# Keys GET /item adds from the image itself: never stored from a client.
IMAGE_KEYS = ("path", "size", "mtime", "type", "w", "h", "error", "unreadable",
              "rejected", "label", "title", "description", "sources", "xmpPaths", "country", "placeSet", "mapLink",
              "duration", "orientation", "dateSource", "people")
# addPeople and removePeople are checked by regions.check_edit.
PATCH_OPS = {"addTags", "removeTags", "notes", "star", "place", "takenAt", "addPeople", "removePeople"}
# takenAt: a date a person gave, in place of the camera's; dateSource "person" says so.
PERSONS = {"place", "takenAt"}
KNOWN_KEYS = frozenset(defaults()) | {"createdAt", "dateSource", "turn", "people"} | PERSONS
# A place a person set: {"city", "region", "country", "countryCode"}, as place_of names one.
PLACE_PARTS = ("city", "region", "country", "countryCode")


def check_tags(tags, field="tags"):
    """Validate a tag list: non-empty strings within limits; returns them stripped, deduplicated."""
    if not isinstance(tags, list):
        raise BadRequest(f"{field} must be a list of strings", field=field)
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"{field} holds more than {MAX_TAGS} tags", field=field)
    clean = []
    for tag in tags:
        if not isinstance(tag, str) or not tag.strip():
            raise BadRequest(f"{field} must hold non-empty strings", field=field)
        tag = tag.strip()
        if len(tag) > MAX_TAG_LENGTH:
            raise BadRequest(f"a tag is longer than {MAX_TAG_LENGTH} characters", field=field)
        clean.append(tag)
    return union([], clean)


def tag_key(tag):
    return tag.casefold()


def union(tags, more):
    """Return tags plus the new ones of more; between case variants the first spelling wins."""
    result, seen = list(tags), {tag_key(tag) for tag in tags}
    for tag in more:
        if tag_key(tag) not in seen:
            seen.add(tag_key(tag))
            result.append(tag)
    return result


def respell(tags, stored):
    """Return tags in the spelling already stored for those stored holds."""
    spelling = {tag_key(tag): tag for tag in reversed(stored)}
    return [spelling.get(tag_key(tag), tag) for tag in tags]


def check_notes(notes):
    if not isinstance(notes, str):
        raise BadRequest("notes must be a string", field="notes")
    if len(notes) > MAX_NOTES:
        raise BadRequest(f"notes are longer than {MAX_NOTES} characters", field="notes")
    return notes


def check_star(star):
    if star is not None and (type(star) is not int or not 0 <= star <= 5):
        raise BadRequest("star must be null or a whole number from 0 to 5", field="star")
    return star


def check_place(place):
    """Validate a person's place: null (none: the one its GPS says), or {"city", "region", "countryCode"}, the
    names optional; return it with its country's name."""
    if place is None:
        return None
    if not isinstance(place, dict) or not set(place) <= set(PLACE_PARTS):
        raise BadRequest("place must be null or an object of city, region and countryCode", field="place")
    names = {}
    for part in ("city", "region"):
        name = place.get(part)
        if name is not None and (not isinstance(name, str) or len(name) > MAX_PLACE_NAME or CONTROL.search(name)):
            raise BadRequest(f"place.{part} must be a name of at most {MAX_PLACE_NAME} characters", field="place")
        names[part] = (name or "").strip() or None
    code = place.get("countryCode")
    country = country_name(code)
    if country is None:
        raise BadRequest("place.countryCode must be a country's two-letter code, such as PT", field="place")
    return {**names, "country": country, "countryCode": code}


def is_place(value):
    """Tell whether a stored place (untrusted input) has the shape lenslet writes."""
    return isinstance(value, dict) and set(value) == set(PLACE_PARTS) and \
        all(value[part] is None or (isinstance(value[part], str) and len(value[part]) <= MAX_PLACE_NAME)
            for part in ("city", "region", "country")) and \
        isinstance(value["countryCode"], str) and bool(COUNTRY_CODE.fullmatch(value["countryCode"]))


CONTROL = re.compile(r"[\x00-\x1f\x7f]")
COUNTRY_CODE = re.compile(r"[A-Z]{2}")


def check_put(body):
    """Validate a PUT body (a whole sidecar, either spelling of its keys); return it normalized."""
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object (a sidecar)")
    sidecar = {LEGACY_KEYS.get(key, key): value for key, value in body.items()}
    if isinstance(sidecar.get("place"), str):
        del sidecar["place"]  # the GET answer's, as the listing names it: its parts are what a PUT sets
    if sidecar.get("dateSource") != "person":
        sidecar.pop("takenAt", None)  # the GET answer's camera date, not a person's
    # A field left out keeps its stored value: a PUT never erases tags by omission.
    for field, check in (("tags", check_tags), ("notes", check_notes), ("star", check_star), ("place", check_place),
                         ("takenAt", dates.check_taken)):
        if field in sidecar:
            sidecar[field] = check(sidecar[field])
    based_on = sidecar.get("updatedAt")
    if based_on is not None and parse_time(based_on) is None:
        raise BadRequest("updatedAt must be an ISO-8601 time", field="updatedAt")
    who = sidecar.get("updatedBy")
    if who is not None and (not isinstance(who, str) or len(who) > MAX_WHO):
        raise BadRequest(f"updatedBy must be a string of at most {MAX_WHO} characters", field="updatedBy")
    return sidecar


def check_patch(body):
    """Validate a PATCH body of field operations; return it normalized."""
    if not isinstance(body, dict) or not body:
        raise BadRequest("the body must be a JSON object of operations: " + ", ".join(sorted(PATCH_OPS)))
    unknown = sorted(set(body) - PATCH_OPS)
    if unknown:
        raise BadRequest(f"unknown operations {unknown}; expected " + ", ".join(sorted(PATCH_OPS)))
    ops = {field: check_tags(body[field], field) for field in ("addTags", "removeTags") if field in body}
    for field, check in (("notes", check_notes), ("star", check_star), ("place", check_place),
                         ("takenAt", dates.check_taken)):
        if field in body:
            ops[field] = check(body[field])
    return ops


def check_growth(sidecar, stored):
    """Refuse a sidecar that grows past the caps (what already is past them may still shrink)."""
    before = stored or defaults()
    if len(sidecar["tags"]) > MAX_TAGS and len(sidecar["tags"]) > len(before["tags"]):
        raise BadRequest(f"an image holds at most {MAX_TAGS} tags; remove some first", field="tags")
    extra = len(set(sidecar) - KNOWN_KEYS)
    if extra > MAX_EXTRA_KEYS and extra > len(set(before) - KNOWN_KEYS):
        raise BadRequest(f"a sidecar keeps at most {MAX_EXTRA_KEYS} keys lenslet does not know")
    size = len(orjson.dumps(sidecar))
    if size > MAX_SIDECAR and size > len(orjson.dumps(before)):
        raise TooLarge(f"a sidecar may hold at most {MAX_SIDECAR} bytes")
    return sidecar


def merge_put(stored, incoming, now, who):
    """Apply a PUT to the stored sidecar (None if none); last writer wins by timestamp.
    A stale client's tags are added to the stored ones; the newer notes and star stay."""
    result = dict(stored) if stored is not None else defaults()
    stored_time = parse_time(result.get("updatedAt"))
    client_time = parse_time(incoming.get("updatedAt"))
    stale = stored is not None and stored_time is not None and (client_time is None or client_time < stored_time)
    for key, value in incoming.items():
        if key not in SERVER_KEYS and key not in IMAGE_KEYS and \
                key not in ("tags", "notes", "star", "turn", *PERSONS, "updatedAt", "updatedBy", "v"):
            result[key] = value  # unknown keys are kept, the client's copy winning
    if stale:
        result["tags"] = union(result["tags"], incoming.get("tags", ()))
    else:
        result.update({key: incoming[key] for key in ("tags", "notes", "star", *PERSONS) if key in incoming})
        if "tags" in incoming:
            result["tags"] = respell(incoming["tags"], stored["tags"] if stored is not None else [])
    return stamp(without_empty_place(result), now, who)


def apply_patch(stored, ops, now, who):
    """Apply PATCH operations to the stored sidecar (None if none)."""
    result = dict(stored) if stored is not None else defaults()
    removed = {tag_key(tag) for tag in ops.get("removeTags", ())}
    kept = [tag for tag in result["tags"] if tag_key(tag) not in removed]
    result["tags"] = union(kept, [tag for tag in ops.get("addTags", ()) if tag_key(tag) not in removed])
    result.update({field: ops[field] for field in ("notes", "star", *PERSONS) if field in ops})
    return stamp(without_empty_place(result), now, who)


def shift_taken(stored, camera_date, shift, now, who):
    """Move the person's date, else the camera's, by a checked shift."""
    result = dict(stored) if stored is not None else defaults()
    result["takenAt"] = dates.shifted(taken_set(result) or camera_date, shift)
    return stamp(without_empty_place(result), now, who)


# An EXIF orientation as (mirrored first, then quarter turns clockwise); "turn" in a sidecar is the one a
# person applied over the camera's upright picture, 2-8 (1, none, is no key).
MIRROR_QUARTERS = {1: (0, 0), 2: (1, 0), 3: (0, 2), 4: (1, 2), 5: (1, 3), 6: (0, 1), 7: (1, 1), 8: (0, 3)}
ORIENTATION_OF = {pair: orientation for orientation, pair in MIRROR_QUARTERS.items()}
TURNS, FLIPS = {90: 1, 180: 2, 270: 3, -90: 3}, {None: 1, "horizontal": 2, "vertical": 4}


def is_turn(value):
    return type(value) is int and 1 <= value <= 8


def sideways(turn):
    """Tell whether a turn (None: none) is a quarter turn, which swaps width and height."""
    return is_turn(turn) and MIRROR_QUARTERS[turn][1] % 2 == 1


def then(first, second):
    """Return the orientation of applying orientation first, then second."""
    (mirror_a, quarters_a), (mirror_b, quarters_b) = MIRROR_QUARTERS[first], MIRROR_QUARTERS[second]
    quarters = quarters_b - quarters_a if mirror_b else quarters_b + quarters_a
    return ORIENTATION_OF[(mirror_a ^ mirror_b, quarters % 4)]


def undone(orientation):
    """Return the orientation that undoes one."""
    mirror, quarters = MIRROR_QUARTERS[orientation]
    return ORIENTATION_OF[(mirror, quarters if mirror else -quarters % 4)]


def check_rotation(body):
    """Validate a rotation ({"turn": 90|180|270|-90, "flip": "horizontal"|"vertical"} or {"orientation": 1-8});
    return (orientation to set or None, the change to apply after the current one)."""
    if not isinstance(body, dict) or not body or not set(body) <= {"turn", "flip", "orientation"}:
        raise BadRequest('the body must be {"turn": 90|180|270|-90, "flip": "horizontal"|"vertical"} '
                         'or {"orientation": 1-8}')
    if "orientation" in body:
        if len(body) > 1 or not is_turn(body["orientation"]):
            raise BadRequest("orientation must be a whole number from 1 to 8 (EXIF's), alone", field="orientation")
        return body["orientation"], None
    if "turn" in body and (type(body["turn"]) is not int or body["turn"] not in TURNS):
        raise BadRequest("turn must be 90, 180, 270 or -90 (degrees clockwise)", field="turn")
    if not isinstance(body.get("flip"), (str, type(None))) or body.get("flip") not in FLIPS:
        raise BadRequest('flip must be "horizontal" or "vertical"', field="flip")
    return None, then(FLIPS[body.get("flip")], ORIENTATION_OF[(0, TURNS.get(body.get("turn"), 0))])


def rotated(stored, rotation, camera, now, who):
    """Apply a checked rotation to the stored sidecar (None if none), over the camera's orientation camera."""
    wanted, change = rotation
    result = {key: value for key, value in (stored or defaults()).items() if key != "turn"}
    turn = then(undone(camera), wanted) if wanted is not None else then((stored or {}).get("turn", 1), change)
    return stamp(dict(result, **({"turn": turn} if turn != 1 else {})), now, who)


def without_empty_place(sidecar):
    """A place or date set to null is none: the key goes; a date kept says it is a person's."""
    for key in PERSONS:
        if key in sidecar and sidecar[key] is None:
            del sidecar[key]
    sidecar.pop("dateSource", None)
    if dates.parsed(sidecar.get("takenAt")) is not None:
        sidecar["dateSource"] = "person"
    return sidecar


def taken_set(sidecar):
    """Return the date a person gave (a forged one is none), or None."""
    taken = sidecar.get("takenAt")
    return taken if sidecar.get("dateSource") == "person" and dates.parsed(taken) is not None else None


def words_changed(stored, new):
    """Return what an edit changed (tags added and removed, star, notes), for xmp.update."""
    old_keys, new_keys = {tag_key(tag) for tag in stored["tags"]}, {tag_key(tag) for tag in new["tags"]}
    added = [tag for tag in new["tags"] if tag_key(tag) not in old_keys]
    removed = [tag for tag in stored["tags"] if tag_key(tag) not in new_keys]
    changes = {op: tags for op, tags in (("addTags", added), ("removeTags", removed)) if tags}
    if (new["star"] or None) != stored["star"]:
        changes["star"] = new["star"] or None
    if new["notes"] != stored["notes"]:
        changes["notes"] = new["notes"]
    return changes


def stamp(sidecar, now, who):
    sidecar.update(v=VERSION, updatedAt=format_time(now), updatedBy=who)
    return sidecar


def blank(sidecar):
    """Tell whether a sidecar holds nothing a person or another program wrote, so it may be refilled."""
    return set(sidecar) <= KNOWN_KEYS - {"createdAt", "dateSource", "turn", "people", *PERSONS} and not (
        sidecar["tags"] or sidecar["notes"] or sidecar["star"] is not None or sidecar["updatedAt"])


def _when(value):
    return value is None or parse_time(value) is not None


def _tags(value):
    return isinstance(value, list) and all(isinstance(tag, str) and tag for tag in value)


def _xmp_base(value):
    return isinstance(value, dict) and set(value) <= {"file", "tags", "star", "notes"} and \
        isinstance(value.get("file"), (str, type(None))) and _tags(value.get("tags", [])) and \
        isinstance(value.get("notes", ""), str) and (value.get("star") is None or
                                                     (type(value["star"]) is int and -1 <= value["star"] <= 5))


# The keys lenslet writes in a sidecar, with the shape of their values.
WRITTEN = {
    "v": lambda value: type(value) is int and value == VERSION, "tags": _tags,
    "notes": lambda value: isinstance(value, str),
    "star": lambda value: value is None or (type(value) is int and 0 <= value <= 5),
    "exif": lambda value: isinstance(value, dict) and all(isinstance(field, (str, int, float, bool, type(None)))
                                                          for field in value.values()),
    "hash": lambda value: value is None or (isinstance(value, str) and bool(HASH.fullmatch(value))),
    "updatedAt": _when, "createdAt": _when, "updatedBy": lambda value: value is None or isinstance(value, str),
    "originalPosition": lambda value: isinstance(value, str), "trashedAt": _when, "xmpBase": _xmp_base,
    "place": is_place, "turn": is_turn, "takenAt": lambda value: dates.parsed(value) is not None,
    "dateSource": lambda value: value == "person",
    "addedBy": lambda value: isinstance(value, str), "addedVia": lambda value: isinstance(value, str),
}
WRITTEN.update({legacy: WRITTEN[key] for legacy, key in LEGACY_KEYS.items()})
HASH = re.compile(r"blake3:[0-9a-f]{64}")  # an original's content hash


def not_lenslets(data):
    """Say why a sidecar's raw bytes hold something lenslet never writes there, or None."""
    raw = _object(data)
    if raw is None:
        return "not a sidecar lenslet can parse"
    foreign = sorted(key for key in raw if key not in WRITTEN)
    if foreign:
        return "holds keys of another program: " + _few(foreign)
    odd = sorted(key for key, value in raw.items() if not WRITTEN[key](value))
    if odd:
        return "holds values lenslet does not write: " + _few(odd)
    if "v" not in raw:
        return "no version: not written by lenslet"
    return None


def written_by_lenslet(data):
    """Tell whether a sidecar carries lenslet's version key; one without it is another program's."""
    raw = _object(data)
    return raw is not None and raw.get("v") == VERSION


def _few(keys):
    shown = ", ".join(key[:40] for key in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def listed(sidecar, version):
    """Return an image's listing fields from its sidecar at version (None: no sidecar).
    metaMtime stays None: a time read after the write may be another writer's."""
    if sidecar is None:
        return {"tags": [], "notes": "", "star": None, "hasMeta": False, "metaMtime": None, "metaVersion": None,
                "hash": None, "placeSet": None, "turn": None, "dateSet": None}
    return {"tags": sidecar["tags"], "notes": sidecar["notes"], "star": sidecar["star"], "hasMeta": True,
            "turn": sidecar.get("turn"),
            "hash": sidecar.get("hash"), "metaMtime": None, "metaVersion": version, **place_listed(sidecar),
            "dateSet": taken_set(sidecar)}


def place_listed(sidecar):
    """Return the listing fields of the place a person set ({"place", "country", "placeSet": True}), else
    {"placeSet": None}: the place its GPS says."""
    place = sidecar.get("place")
    if not is_place(place):
        return {"placeSet": None}
    return {"place": label(place), "country": place["countryCode"], "placeSet": True}


def searched(sidecar):
    """Return the fields search matches from a sidecar (None: no sidecar)."""
    sidecar = sidecar or defaults()
    place = place_listed(sidecar)
    return {"tags": sidecar["tags"], "notes": sidecar["notes"], "star": sidecar["star"], "turn": sidecar.get("turn"),
            "dateSet": taken_set(sidecar),
            **({"place": place["place"], "country": place["country"]} if place["placeSet"] else {})}


def with_aliases(sidecar):
    """Add the snake_case aliases that clients of the first lenscat backend read."""
    aliased = dict(sidecar, updated_at=sidecar.get("updatedAt"), updated_by=sidecar.get("updatedBy"))
    if "originalPosition" in sidecar:  # where a trashed image came from
        aliased["original_position"] = sidecar["originalPosition"]
    return aliased


def format_time(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def parse_time(value):
    """Parse an ISO-8601 time to seconds since the epoch (naive means UTC); None if it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def check_version(if_match, version):
    """Refuse a write whose If-Match does not name the sidecar's current version."""
    if if_match is None:
        return
    current = version or NO_SIDECAR
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if current not in tags and not ("*" in tags and version is not None):
        raise PreconditionFailed("the sidecar changed since it was read; read it again", etag=f'"{current}"')
