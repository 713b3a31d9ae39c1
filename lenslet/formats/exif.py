"""EXIF values as people read them: clean text, how a photo was taken and where."""

import math
import re
import unicodedata
from collections.abc import Mapping

MAX_TEXT = 200  # characters kept of one value

# Tags of the EXIF sub-directory, and of the GPS one.
EXPOSURE_TIME, F_NUMBER, ISO, FOCAL_LENGTH = 0x829A, 0x829D, 0x8827, 0x920A
FOCAL_LENGTH_35, LENS_MAKE, LENS_MODEL = 0xA405, 0xA433, 0xA434
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4
GPS_ALTITUDE_REF, GPS_ALTITUDE = 5, 6

_SPACES = re.compile(r"\s+")


def clean_text(value):
    """Clean EXIF text: cut at the first NUL, control characters to spaces; None when empty."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    value = value.split("\x00", 1)[0]
    value = "".join(" " if unicodedata.category(char) == "Cc" else char for char in value)
    value = _SPACES.sub(" ", value).strip()[:MAX_TEXT].strip()
    return value or None


def number(value):
    """Return a finite number from an EXIF value (int, float, rational, pair or one-tuple), or None."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]  # one level only: a one-tuple holds a number or a pair, never another tuple
    if isinstance(value, (tuple, list)):
        if len(value) == 2 and all(isinstance(part, int) and not isinstance(part, bool) for part in value):
            try:
                return value[0] / value[1] if value[1] else None
            except OverflowError:
                return None
        return None
    if isinstance(value, bool):
        return None
    try:
        found = float(value)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    return found if math.isfinite(found) else None


def _positive(value, most):
    found = number(value)
    return found if found is not None and 0 < found <= most else None


def lens_of(exif_ifd):
    """Return the lens name, led by its maker unless the model names it; or None."""
    model = clean_text(exif_ifd.get(LENS_MODEL))
    make = clean_text(exif_ifd.get(LENS_MAKE))
    if model and make and not model.casefold().startswith(make.split(" ")[0].casefold()):
        return f"{make} {model}"[:MAX_TEXT]
    return model or None


def shooting(exif_ifd):
    """Return the sane lens, focal length, aperture, exposure and ISO of an EXIF sub-directory."""
    found = {"lens": lens_of(exif_ifd),
             "focalLength": _positive(exif_ifd.get(FOCAL_LENGTH), 10_000),
             "focalLength35": _positive(exif_ifd.get(FOCAL_LENGTH_35), 10_000),
             "fNumber": _positive(exif_ifd.get(F_NUMBER), 1_000),
             "exposureTime": _positive(exif_ifd.get(EXPOSURE_TIME), 86_400),
             "iso": _positive(exif_ifd.get(ISO), 10_000_000)}
    for key, digits in (("focalLength35", None), ("iso", None), ("focalLength", 2), ("fNumber", 2)):
        if found[key] is not None:
            found[key] = round(found[key], digits)
    return {key: value for key, value in found.items() if value is not None}


def _degrees(parts, ref, negative, most):
    if not isinstance(parts, (tuple, list)) or not 1 <= len(parts) <= 3:
        return None
    values = [number(part) for part in parts]
    if any(value is None or value < 0 for value in values):
        return None
    degrees = sum(value / 60 ** at for at, value in enumerate(values))
    if degrees > most:
        return None
    ref = clean_text(ref) or ""
    return round(-degrees if ref.upper().startswith(negative) else degrees, 6)


def position(gps_ifd):
    """Return latitude, longitude (south and west negative) and altitude from GPS tags, or {}."""
    if not isinstance(gps_ifd, Mapping):
        return {}
    latitude = _degrees(gps_ifd.get(GPS_LATITUDE), gps_ifd.get(GPS_LATITUDE_REF), "S", 90)
    longitude = _degrees(gps_ifd.get(GPS_LONGITUDE), gps_ifd.get(GPS_LONGITUDE_REF), "W", 180)
    if latitude is None or longitude is None:
        return {}
    found = {"latitude": latitude, "longitude": longitude}
    altitude = number(gps_ifd.get(GPS_ALTITUDE))
    if altitude is not None and 0 <= altitude <= 100_000:
        below = gps_ifd.get(GPS_ALTITUDE_REF) in (1, b"\x01")
        found["altitude"] = round(-altitude if below else altitude, 1)
    return found


def map_link(template, found):
    """Return a map link for a position from the LENSLET_MAP_LINK template, or None."""
    latitude, longitude = found.get("latitude"), found.get("longitude")
    if not template or not all(isinstance(value, (int, float)) and not isinstance(value, bool)
                               for value in (latitude, longitude)):
        return None  # a sidecar's own "exif" may hold anything
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    return template.replace("{lat}", f"{latitude:.6f}").replace("{lon}", f"{longitude:.6f}")
