"""Small JSON state records, read strictly."""

import json
import math
from datetime import datetime, timezone

import orjson


class BadRecord(ValueError):
    """A file in a record's place that lenslet did not write."""


def iso(seconds):
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(record):
    return json.dumps(record, separators=(",", ":")).encode()


def loads(data, keys, version, max_bytes):
    """Parse a record of exactly `keys` and this version, or raise BadRecord."""
    if len(data) > max_bytes:
        raise BadRecord(f"larger than {max_bytes} bytes")
    try:
        record = json.loads(data.decode("utf-8"), object_pairs_hook=_no_repeats, parse_constant=_no_constant)
    except ValueError as ex:  # UnicodeDecodeError too
        raise BadRecord(f"not JSON: {ex}") from None
    if not isinstance(record, dict) or record.keys() != keys:
        raise BadRecord(f"not an object of the keys {sorted(keys)}")
    if type(record["v"]) is not int or record["v"] != version:
        raise BadRecord(f"version {record['v']!r}, not {version}")
    return record


def object_of(data, version, record_id, bad, what):
    """Parse a JSON object of this version and id, or raise bad."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as ex:
        raise bad(f"not JSON ({ex})") from None
    if not isinstance(record, dict) or record.get("v") != version or record.get("id") != record_id:
        raise bad(f"not {what} record of this id")
    return record


def is_number(value):
    """Tell whether a value is a finite int or float."""
    return type(value) in (int, float) and math.isfinite(value)


def _no_repeats(pairs):
    record = dict(pairs)
    if len(record) != len(pairs):
        raise ValueError("a key is given twice")
    return record


def _no_constant(name):
    raise ValueError(f"{name} is not a number lenslet writes")
