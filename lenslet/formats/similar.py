"""Similar photos: a perceptual hash of a thumbnail's grey pixels, and the photos of a folder grouped by time and
hash."""

import math
import operator
import re

SIDE = 16  # a thumbnail is shrunk to SIDE x SIDE grey pixels before it is hashed
PHASH = re.compile(r"[0-9a-f]{16}")
MAX_SHARPNESS = 255.0
WINDOW = 120.0  # seconds between two photos of one moment at most
NEIGHBOURS = 16  # earlier photos each photo is held against: a folder of one moment costs no more than any other
_COSINES = [[math.cos((2 * x + 1) * u * math.pi / (2 * SIDE)) for x in range(SIDE)] for u in range(8)]


def perceptual_hash(grey):
    """Return the 64-bit DCT hash of SIDE x SIDE grey pixels (bytes, row by row) as 16 hex digits: one bit per low
    frequency, set when above their median, so a resize, a new encoding or an exposure shift changes few bits."""
    pixels = list(map(float, grey))
    rows = [[_dot(cosines, pixels[at:at + SIDE]) for cosines in _COSINES] for at in range(0, SIDE * SIDE, SIDE)]
    low = [_dot(cosines, column) for cosines in _COSINES for column in zip(*rows, strict=True)]
    median = sorted(low[1:])[len(low) // 2 - 1]  # the mean brightness (low[0]) left out
    return f"{sum(1 << bit for bit, value in enumerate(low) if value > median):016x}"


def _dot(left, right):
    return sum(map(operator.mul, left, right))


def look_of(item):
    """Return (perceptual hash as a number, sharpness) of a listing entry, or None when its hash is not one."""
    phash, sharpness = item.get("phash"), item.get("sharpness")
    if not isinstance(phash, str) or not PHASH.fullmatch(phash):
        return None
    valid = type(sharpness) in (int, float) and 0 <= sharpness <= MAX_SHARPNESS
    return int(phash, 16), sharpness if valid else 0.0


def unlooked(page):
    """Whether a listing page predates perceptual hashes: it lists thumbnails and no look of any."""
    items = [item for item in page.get("items", ()) if isinstance(item, dict)]
    return any(item.get("hasThumb") for item in items) and not any("phash" in item for item in items)


def groups(folders, threshold, window=WINDOW):
    """Group the photos of each folder, {folder: (times taken, perceptual hashes as numbers, keys)}: a photo taken
    within window seconds after one of the NEIGHBOURS before it whose hash differs in at most threshold bits joins
    its group; return the groups of two or more keys, each in the order taken, folder by folder."""
    found = []
    for folder in sorted(folders):
        times, hashes, keys = folders[folder]
        taken = sorted(range(len(keys)), key=lambda photo: (times[photo], keys[photo]))
        group_of = list(range(len(taken)))
        for at, photo in enumerate(taken):
            for before in range(at - 1, max(-1, at - 1 - NEIGHBOURS), -1):
                if times[photo] - times[taken[before]] > window:
                    break
                if (hashes[photo] ^ hashes[taken[before]]).bit_count() <= threshold:
                    group_of[at] = group_of[before]  # the nearest match: a burst joins one by one
                    break
        members = {}
        for at, group in enumerate(group_of):
            members.setdefault(group, []).append(keys[taken[at]])
        found += [group for group in members.values() if len(group) > 1]
    return found


def shown(item):
    """Return an item as a group shows it: a forged sharpness as none."""
    look = look_of(item)
    return dict(item, sharpness=look[1]) if look else item


def best(items):
    """Return the path of the photo to keep by default: the largest, then the sharpest, then the heaviest."""
    def merit(item):
        width, height, size = (item.get(key) if type(item.get(key)) in (int, float) else 0
                               for key in ("w", "h", "size"))
        look = look_of(item)
        return width * height, look[1] if look else 0.0, size

    return max(items, key=merit)["path"]
