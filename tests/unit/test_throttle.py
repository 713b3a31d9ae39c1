"""The throttle's rules, called directly (lenslet/people/throttle.py): levels, waits, the record kept
for an address in the state folder and what is refused as one."""

import json
import math

import pytest

from lenslet.people import throttle

NOW = 1_700_000_000.0
FREE, DRAIN = throttle.FREE, throttle.DRAIN


def record(level, ago=0.0):
    return {"v": 1, "level": level, "at": NOW - ago}


@pytest.mark.parametrize("kept, wait", [
    (None, 0),                                   # never failed
    (record(1), 0),
    (record(FREE), 0),                           # ten counted: an eleventh try is answered
    (record(FREE + 1), math.ceil(DRAIN)),        # past the allowance: one try every DRAIN seconds
    (record(FREE + 1, ago=DRAIN / 2), math.ceil(DRAIN / 2)),
    (record(FREE + 1, ago=DRAIN), 0),            # drained back to the allowance
    (record(FREE + 0.5), math.ceil(DRAIN / 2)),
    (record(FREE + 1, ago=-100), math.ceil(DRAIN)),  # written by a host whose clock is ahead: not drained yet
    (record(throttle.MAX_LEVEL), math.ceil((throttle.MAX_LEVEL - FREE) * DRAIN)),
    (record(throttle.MAX_LEVEL, ago=throttle.FORGET_AFTER), 0),
])
def test_how_long_an_address_waits(kept, wait):
    assert throttle.seconds_to_wait(kept, NOW) == wait


@pytest.mark.parametrize("kept, level", [
    (None, 1),
    (record(5), 6),
    (record(5, ago=DRAIN), 5),
    (record(0.5, ago=10 * DRAIN), 1),            # drained to nothing, then this one
    (record(3, ago=-10), 4),                     # a clock ahead never makes a count older
    (record(throttle.MAX_LEVEL), throttle.MAX_LEVEL),  # capped: a record stays one lenslet reads back
])
def test_a_failure_raises_the_level_by_one(kept, level):
    after = throttle.after_failure(kept, NOW)
    assert after == {"v": 1, "level": level, "at": NOW}
    assert throttle.loads(throttle.dumps(after), NOW) == after


def test_a_burst_gets_the_allowance_and_no_more():
    kept, answered = None, 0
    for _ in range(50):
        if throttle.seconds_to_wait(kept, NOW) == 0:
            answered += 1
            kept = throttle.after_failure(kept, NOW)
    assert answered == FREE + 1 == throttle.ALLOWANCE


def test_a_record_lenslet_cannot_read_counts_as_the_allowance_spent():
    assert throttle.seconds_to_wait(throttle.blocking_record(NOW), NOW) == math.ceil(DRAIN)
    assert throttle.seconds_to_wait(throttle.blocking_record(NOW), NOW + DRAIN) == 0


@pytest.mark.parametrize("kept, gone", [
    (record(1), False),
    (record(1, ago=DRAIN), True),
    (record(FREE + 1, ago=DRAIN), False),
    (record(throttle.MAX_LEVEL, ago=throttle.FORGET_AFTER), True),
])
def test_a_drained_record_is_forgotten(kept, gone):
    assert throttle.forgotten(kept, NOW) is gone


def _json(value):
    return json.dumps(value).encode()


@pytest.mark.parametrize("data", [
    b"",
    b'{"v": 1, "level": 3',                                      # torn
    b"\xff\xfe\x00garbage",                                      # not UTF-8
    b"[1, 2, 3]", b'"level"', b"null", b"3",                     # another shape
    _json({"v": 2, "level": 1, "at": NOW}),                      # another version
    _json({"level": 1, "at": NOW}),                              # a key missing
    _json({"v": 1, "level": 1, "at": NOW, "address": "x"}),      # a key lenslet never writes
    _json({"v": 1, "level": -1, "at": NOW}),                     # forged: below nothing
    _json({"v": 1, "level": throttle.MAX_LEVEL + 1, "at": NOW}),  # forged: a lock-out for ever
    _json({"v": 1, "level": True, "at": NOW}),
    _json({"v": 1, "level": "3", "at": NOW}),
    b'{"v": 1, "level": NaN, "at": 1700000000.0}',
    b'{"v": 1, "level": Infinity, "at": 1700000000.0}',
    _json({"v": 1, "level": 1, "at": NOW + throttle.AHEAD + 1}),  # a time far ahead: never drains
    _json({"v": 1, "level": 1, "at": -5}),
    _json({"v": 1, "level": 1, "at": "yesterday"}),
    _json({"v": True, "level": 1, "at": NOW}),
    b'{"v": 1, "level": 1, "at": 1700000000.0}' + b" " * throttle.MAX_BYTES,  # too big to be one
    b'{"v": 1, "v": 1, "level": 1, "at": 1700000000.0}',         # a key twice
])
def test_a_record_of_another_shape_is_refused(data):
    with pytest.raises(throttle.BadRecord):
        throttle.loads(data, NOW)


@pytest.mark.parametrize("address", ["192.0.2.1", "2001:db8::1", "unknown", "", "../../etc/passwd", "a/b",
                                     ".lenslet", "x" * 5000, "\udcff"])
def test_an_address_names_a_record_by_its_digest(address):
    name = throttle.record_name(address)
    assert throttle.is_record_name(name) and len(name) == 32 + len(".json")
    assert name == throttle.record_name(address) != throttle.record_name(address + "0")


@pytest.mark.parametrize("name, ok", [
    ("0123456789abcdef0123456789abcdef.json", True),
    ("0123456789ABCDEF0123456789abcdef.json", False),
    ("0123456789abcdef0123456789abcde.json", False),
    ("0123456789abcdef0123456789abcdef.json.lenslet-tmp", False),
    ("rejected", False),
    ("", False),
])
def test_what_is_a_records_name(name, ok):
    assert throttle.is_record_name(name) is ok
