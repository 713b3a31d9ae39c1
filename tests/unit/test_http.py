"""lenslet/resources/http.py: ETags, dates, conditional GETs and byte ranges, as pure functions."""

import pytest

from lenslet.resources import http
from lenslet.storage.base import Stat

MTIME = 1_700_000_000.25  # 2023-11-14T22:13:20.25Z
DATE = "Tue, 14 Nov 2023 22:13:20 GMT"
ETAG = '"abc-1"'


def test_an_etag_follows_the_files_size_and_time_to_the_microsecond():
    etag = http.etag_of(Stat(size=255, mtime=MTIME, is_dir=False, changed=MTIME))
    assert etag == f'"{int(MTIME * 1_000_000):x}-ff"'
    assert http.etag_of(Stat(255, MTIME + 0.000001, False, MTIME)) != etag
    assert http.etag_of(Stat(256, MTIME, False, MTIME)) != etag


def test_http_date_is_the_rfc_7231_form():
    assert http.http_date(MTIME) == DATE


@pytest.mark.parametrize("if_none_match, if_modified_since, answer", [
    (None, None, False),
    (ETAG, None, True),
    ('"other", "abc-1"', None, True),
    (f"W/{ETAG}", None, True),                      # a weak copy of the tag matches too
    ("*", None, True),
    ('"other"', None, False),
    ('"other"', DATE, False),                       # If-None-Match wins over If-Modified-Since
    (None, DATE, True),                             # the same second: a file time's fraction is not compared
    (None, "Tue, 14 Nov 2023 22:13:21 GMT", True),
    (None, "Tue, 14 Nov 2023 22:13:19 GMT", False),
    (None, "Tuesday, 14-Nov-23 22:13:20 GMT", True),  # RFC 850, which HTTP still allows
    (None, "Tue Nov 14 22:13:20 2023", True),         # asctime, naive: read as UTC
    (None, "yesterday", False),
    (None, "", False),
])
def test_not_modified(if_none_match, if_modified_since, answer):
    assert http.not_modified(if_none_match, if_modified_since, ETAG, MTIME) is answer


@pytest.mark.parametrize("header, span", [
    (None, None),
    ("", None),
    ("bytes=0-99", (0, 99)),
    ("bytes=10-", (10, 999)),
    ("bytes=-100", (900, 999)),        # the last 100 bytes
    ("bytes=-5000", (0, 999)),         # more than there is: all of it
    ("bytes=990-5000", (990, 999)),    # an end past the end is cut to it
    ("bytes=999-999", (999, 999)),
    ("BYTES = 1 - 2", (1, 2)),         # unit and spacing as clients send them
    ("bytes=5-4", None),               # backwards: ignored, the whole file is sent
    ("bytes=-", None),
    ("bytes=0-1,5-6", None),           # several ranges: the whole file
    ("items=0-1", None),
    ("bytes=a-b", None),
])
def test_a_range_header_gives_the_span_to_send(header, span):
    assert http.byte_range(header, 1000) == span


@pytest.mark.parametrize("header, size", [("bytes=1000-", 1000), ("bytes=1000-2000", 1000), ("bytes=-0", 1000),
                                          ("bytes=0-", 0)])
def test_a_range_wholly_past_the_end_is_unsatisfiable(header, size):
    with pytest.raises(http.Unsatisfiable):
        http.byte_range(header, size)
