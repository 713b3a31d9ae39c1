"""Place names offline: the city or town, region and country nearest a GPS position, from a table shipped here."""

import gzip
import math
import threading
from importlib import resources

from lenslet.places.table import read_table

TABLE_FILE = "places.bin.gz"

_table = None
_loading = threading.Lock()


def table():
    """Return the places table, read once per process on first use."""
    global _table
    if _table is None:
        with _loading:
            if _table is None:
                payload = gzip.decompress(resources.files(__name__).joinpath(TABLE_FILE).read_bytes())
                _table = read_table(payload)
    return _table


def table_version():
    """Return the version of the places table, which changes whenever its content does."""
    return table().version


def _coordinate(value, most):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        value = float(value)
    except OverflowError:  # an int past any float
        return None
    return value if math.isfinite(value) and -most <= value <= most else None


def place_of(latitude, longitude):
    """Return {"city", "region", "country", "countryCode"} of the place nearest a position, or None.

    None for a position too far from any town (the open sea, the poles, a wilderness) and for anything
    that is not a position."""
    latitude, longitude = _coordinate(latitude, 90), _coordinate(longitude, 180)
    if latitude is None or longitude is None:
        return None
    places = table()
    index, km = places.nearest(latitude, longitude, places.most_km)
    if index < 0 or km > places.reaches[index]:
        return None
    return places.place(index)
