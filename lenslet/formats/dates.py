"""A date a person gives a photo (wall-clock time, offset optional) and shifts by an amount ("-1 y 2 d")."""

import calendar
import datetime
import re

from lenslet.errors import BadRequest

TAKEN = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?([+-](0\d|1[0-4]):[0-5]\d)?")
SHIFT = re.compile(r"\s*([+-])\s*((?:\d{1,6}\s*(?:y|mo|d|h|min|s)\s*)+)")
PART = re.compile(r"(\d{1,6})\s*(y|mo|d|h|min|s)")
SECONDS = {"d": 86400, "h": 3600, "min": 60, "s": 1}
EPOCH = datetime.datetime(1970, 1, 1)
MAX_SHIFT = 100  # characters


def parsed(text):
    """Return a date a person gave as an aware or naive datetime, or None when it is not one."""
    try:
        return datetime.datetime.fromisoformat(text) if isinstance(text, str) and TAKEN.fullmatch(text) else None
    except ValueError:
        return None


def check_taken(text):
    """Validate a date to set: null (the camera's again) or `2024-05-12T10:30[:00][+02:00]`; return it whole."""
    moment = parsed(text)
    if moment is None and text is not None:
        raise BadRequest("takenAt must be null or a date and time, 2024-05-12T10:30:00, with its UTC offset "
                         "(+02:00) if known", field="takenAt")
    return None if moment is None else as_text(moment)


def as_text(moment):
    return moment.isoformat(timespec="seconds")


def camera_date(exif):
    """The camera's date in an image's EXIF fields (createdAt, takenOffset), or None."""
    taken = exif.get("createdAt") if isinstance(exif.get("createdAt"), str) else ""
    offset = exif.get("takenOffset") if isinstance(exif.get("takenOffset"), str) else ""
    moment = parsed(taken + offset) or parsed(taken)
    return None if moment is None else as_text(moment)


def file_date(mtime):
    """A file's time as a date to shift (UTC, as the timeline reads it; one past the years 1..9999 as 1970)."""
    try:
        return (EPOCH + datetime.timedelta(seconds=int(mtime))).isoformat()
    except (OverflowError, ValueError):
        return EPOCH.isoformat()


def wall_seconds(text):
    """The wall-clock time of a valid date in seconds, read as UTC as EXIF's is; None when not valid."""
    moment = parsed(text)
    return None if moment is None else (moment.replace(tzinfo=None) - EPOCH).total_seconds()


def check_shift(text):
    """Read `+1 h`, `-1 y 2 d`, `+30 min` (y, mo, d, h, min, s) as (sign, months, seconds), or raise BadRequest."""
    match = SHIFT.fullmatch(text) if isinstance(text, str) and len(text) <= MAX_SHIFT else None
    if match is None:
        raise BadRequest("shift must be a sign and amounts of y, mo, d, h, min or s: +1 h, -1 y 2 d, +30 min",
                         field="shift")
    sign, months, seconds = -1 if match[1] == "-" else 1, 0, 0
    for amount, unit in PART.findall(match[2]):
        months += int(amount) * {"y": 12, "mo": 1}.get(unit, 0)
        seconds += int(amount) * SECONDS.get(unit, 0)
    return sign * months, sign * seconds


def shifted(text, shift):
    """Return a valid date moved by a checked shift, its offset kept; BadRequest when it leaves years 1..9999."""
    moment, (months, seconds) = parsed(text), shift
    try:
        month = moment.year * 12 + moment.month - 1 + months
        year, month = divmod(month, 12)
        day = min(moment.day, calendar.monthrange(year, month + 1)[1])
        return as_text(moment.replace(year=year, month=month + 1, day=day) + datetime.timedelta(seconds=seconds))
    except (ValueError, OverflowError, calendar.IllegalMonthError):
        raise BadRequest(f"shifting {text} leaves the years 1 to 9999: nothing was changed", field="shift") from None
