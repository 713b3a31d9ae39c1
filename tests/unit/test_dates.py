"""A person's date and the shifts that move one (lenslet/formats/dates.py), as tables."""

import pytest

from lenslet.errors import BadRequest
from lenslet.formats import dates


@pytest.mark.parametrize(("text", "shift", "moved"), [
    ("2024-05-12T10:00:00", "+1 h", "2024-05-12T11:00:00"),
    ("2024-05-12T10:00:00", "+30 min", "2024-05-12T10:30:00"),
    ("2024-05-12T10:00:00+02:00", "-1 y 2 d", "2023-05-10T10:00:00+02:00"),
    ("2024-01-31T23:00:00-05:00", "+1 mo 1 h", "2024-03-01T00:00:00-05:00"),
    ("2024-02-29T12:00:00", "+1 y", "2025-02-28T12:00:00"),
    ("2024-12-31T23:59:59", "+1 s", "2025-01-01T00:00:00"),
    ("0001-01-01T00:00:00", "+0 s", "0001-01-01T00:00:00"),
    ("9999-12-31T23:00:00", "+59min", "9999-12-31T23:59:00"),
])
def test_a_shift_moves_the_wall_clock_and_keeps_the_offset(text, shift, moved):
    assert dates.shifted(text, dates.check_shift(shift)) == moved


@pytest.mark.parametrize(("text", "shift"), [("0001-01-01T00:00:00", "-1 s"), ("9999-12-31T23:00:00", "+1 h"),
                                             ("2024-01-01T00:00:00", "+999999 y"), ("0001-03-01T00:00:00", "-3 mo")])
def test_a_shift_leaving_the_years_1_to_9999_is_a_clear_400(text, shift):
    with pytest.raises(BadRequest, match="1 to 9999"):
        dates.shifted(text, dates.check_shift(shift))


@pytest.mark.parametrize("shift", ["1 h", "+", "+1", "+1 hour", "+1 h -1 d", "++1 h", "+1.5 h", "+1234567 s",
                                   "+1 h" * 30, 5, None])
def test_a_shift_not_in_its_words_is_a_clear_400(shift):
    with pytest.raises(BadRequest, match="shift must be"):
        dates.check_shift(shift)


@pytest.mark.parametrize(("text", "kept"), [
    ("2024-05-12T10:30", "2024-05-12T10:30:00"), ("2024-05-12T10:30:05+14:00", "2024-05-12T10:30:05+14:00"),
    ("2024-05-12T10:30:05-00:30", "2024-05-12T10:30:05-00:30"), (None, None),
])
def test_a_date_to_set_is_kept_whole_with_its_seconds(text, kept):
    assert dates.check_taken(text) == kept


@pytest.mark.parametrize("text", ["2024-05-12", "2024-05-12 10:30", "2024-13-01T00:00", "0000-01-01T00:00",
                                  "12024-01-01T00:00", "2024-05-12T10:30+15:00", "2024-05-12T10:30Z",
                                  "2024-05-12T10:30:00.5", "２０２４-05-12T10:30", 20240512, []])
def test_what_is_no_such_date_is_refused_to_set_and_ignored_in_a_sidecar(text):
    with pytest.raises(BadRequest, match="takenAt"):
        dates.check_taken(text)
    assert dates.parsed(text) is None and dates.wall_seconds(text) is None


def test_the_camera_s_date_carries_its_offset_when_it_says_one():
    assert dates.camera_date({"createdAt": "2019-05-12T10:00:00", "takenOffset": "+02:00"}) == \
        "2019-05-12T10:00:00+02:00"
    assert dates.camera_date({"createdAt": "2019-05-12T10:00:00", "takenOffset": "bad"}) == "2019-05-12T10:00:00"
    assert dates.camera_date({"createdAt": 7}) is None and dates.camera_date({}) is None


@pytest.mark.parametrize(("mtime", "date"), [(1.5e9, "2017-07-14T02:40:00"), (-1e12, "1970-01-01T00:00:00"),
                                              (1e15, "1970-01-01T00:00:00")])
def test_a_file_s_time_past_the_years_1_to_9999_is_shifted_from_1970_as_the_timeline_places_it(mtime, date):
    assert dates.file_date(mtime) == date
