"""Similar photos: a perceptual hash of a thumbnail's grey pixels, and the photos of a folder grouped by time and
hash."""

import io
import math
import operator
import re
from array import array
from collections import Counter
from itertools import accumulate, pairwise

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


class Looked:
    """The photos outside the trash with a look, taken one by one as the search columns are built."""

    def __init__(self):
        self.folders, self.folder, self.ids, self.looks = {}, array("I"), array("I"), array("Q")
        self.paths, self.ends = io.BytesIO(), array("Q")  # one buffer: many small strings would fragment the heap

    def add(self, path, item_id, look):
        self.folder.append(self.folders.setdefault(path.rpartition("/")[0], len(self.folders)))
        self.ids.append(item_id)
        self.looks.append(look)
        self.paths.write(path.encode())
        self.ends.append(self.paths.tell())

    def moments(self, times):
        """Return the Moments of the photos taken within WINDOW of another of their folder (times: by item id)."""
        folder, ids, ends, paths = self.folder, self.ids, self.ends, self.paths.getvalue()
        photos = sorted((folder[at], times[ids[at]], at) for at in range(len(ids)))  # ids ascend with at
        apart = [True, *(one[0] != later[0] or later[1] - one[1] > WINDOW for one, later in pairwise(photos)), True]
        kept = [photo[2] for n, photo in enumerate(photos) if not (apart[n] and apart[n + 1])]  # near another
        sizes, names = Counter(folder[at] for at in kept), list(self.folders)  # in the order kept
        kept_paths = [paths[ends[at - 1] if at else 0:ends[at]] for at in kept]
        return Moments([names[code] for code in sizes], list(sizes.values()), array("I", (ids[at] for at in kept)),
                       array("Q", (self.looks[at] for at in kept)), b"".join(kept_paths),
                       array("Q", accumulate(map(len, kept_paths))))


class Moments:
    """The only photos a group can hold (outside the trash, with a look, taken within WINDOW of another of their
    folder), folder by folder in the order taken: kept with the search columns, so groups need no rollup read."""

    def __init__(self, folders, sizes, ids, looks, paths, ends):
        self.folders, self.sizes = folders, sizes  # folder names, and how many of the photos each holds
        self.ids, self.looks = ids, looks          # item ids, perceptual hashes as numbers
        self.paths, self.ends = paths, ends        # the photos' paths as UTF-8 end to end, and where each ends

    def by_folder(self, times):
        """Return {folder: (times taken, hashes, keys)} for groups() (times: by item id); a key is an index of ids."""
        found, at = {}, 0
        for folder, size in zip(self.folders, self.sizes, strict=True):
            found[folder] = (array("d", map(times.__getitem__, self.ids[at:at + size])), self.looks[at:at + size],
                             range(at, at + size))
            at += size
        return found

    def path(self, at):
        return self.paths[self.ends[at - 1] if at else 0:self.ends[at]].decode(errors="replace")

    def to_parts(self):
        return [self.ids.tobytes(), self.looks.tobytes(), self.ends.tobytes(), self.paths]

    @classmethod
    def from_parts(cls, folders, sizes, parts, count):
        """Make the moments to_parts() described, of count items, or raise ValueError (a kept file is input)."""
        *columns, paths = parts
        ids, looks, ends = (array(kind, bytes(part)) for kind, part in zip("IQQ", columns, strict=True))
        if not (isinstance(folders, list) and all(isinstance(folder, str) for folder in folders)
                and isinstance(sizes, list) and all(type(n) is int and n > 0 for n in sizes)
                and len(folders) == len(sizes) and sum(sizes) == len(ids) == len(looks) == len(ends)
                and (not ids or max(ids) < count and ends[-1] == len(paths)) and all(map(operator.le, ends, ends[1:]))):
            raise ValueError("moments that are not the items'")
        return cls(folders, sizes, ids, looks, bytes(paths), ends)


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
