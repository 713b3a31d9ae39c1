"""The small state records a web process writes and every process reads back as input (a session, the
failed sign-ins of an address): JSON of exactly one shape, read strictly; anything else is no record."""

import json
import math


class BadRecord(ValueError):
    """A file in a record's place that is not a record lenslet wrote."""


def dumps(record):
    return json.dumps(record, separators=(",", ":")).encode()


def loads(data, keys, version, max_bytes):
    """The JSON object in data with exactly `keys`, `v` being `version` (a key given twice, NaN or Infinity,
    more than max_bytes: refused), or BadRecord. The caller checks its fields' values."""
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


def is_number(value):
    """Whether a field of a state file is a number lenslet writes: an int or a float, finite (never a bool)."""
    return type(value) in (int, float) and math.isfinite(value)


def _no_repeats(pairs):
    record = dict(pairs)
    if len(record) != len(pairs):
        raise ValueError("a key is given twice")
    return record


def _no_constant(name):
    raise ValueError(f"{name} is not a number lenslet writes")
