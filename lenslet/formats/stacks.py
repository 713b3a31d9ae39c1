"""Stacks: the files a camera or phone makes of one shot, shown as one tile and moved together.

A raw and the JPEG (or HEIC) the camera wrote beside it (`IMG_1.CR2` + `IMG_1.JPG`), and an iPhone
live photo's picture and its short video (`IMG_2.HEIC` + `IMG_2.MOV`). The rule, one place for the
listing, the file operations and shares: two files of one folder (plain files, not links) whose names
share their stem (the name before its last dot) compared case-insensitively, and no other file lenslet
lists shares it; one of them a picture of FRONTS, the other a raw (layout.RAWS) or a LIVE video. The
picture is the stack's front: the one tile shows it. Anything else of one stem (three files, two
pictures, two raws, a `.png`) is no stack: each file is shown and moved alone. Pure: names in, names out.
"""

from lenslet.layout import RAWS

FRONTS = (".jpg", ".jpeg", ".heic", ".heif")
LIVE = ".mov"


def _split(name):
    dot = name.rfind(".")
    return (name[:dot].casefold(), name[dot:].lower()) if dot > 0 else (None, "")


def kind_of(front, other):
    """"raw" or "live" when the two names make a stack with front in front, else None."""
    (front_stem, front_extension), (stem, extension) = _split(front), _split(other)
    if front_stem is None or front_stem != stem or front_extension not in FRONTS:
        return None
    if extension in RAWS:
        return "raw"
    return "live" if extension == LIVE else None


def stacks(names):
    """{name: stack} for each name of a folder's listed files (plain files only: no links) that is half
    of a stack, the stack being {"front", "members" (front first), "kind": "raw" or "live"}."""
    by_stem = {}
    for name in names:
        stem, _ = _split(name)
        if stem is not None:
            by_stem.setdefault(stem, []).append(name)
    found = {}
    for group in by_stem.values():
        if len(group) != 2:
            continue
        for front, other in (group, group[::-1]):
            kind = kind_of(front, other)
            if kind is not None:
                stack = {"front": front, "members": [front, other], "kind": kind}
                found[front] = found[other] = stack
                break
    return found


def marked(items):
    """A folder's listing items with each one's `stack` set (or taken away) as stacks() finds them
    among the items not marked `link`; answers the same list, changed in place."""
    found = stacks([item["name"] for item in items if not item.get("link")])
    for item in items:
        stack = found.get(item["name"])
        if stack is not None:
            item["stack"] = stack
        else:
            item.pop("stack", None)
    return items


def renamed(partner, to):
    """Where the other file of a stack goes when its front is renamed to the path `to`: the new stem
    with the partner's own extension (IMG_1.CR2 beside IMG_1.JPG renamed beach.jpg: beach.CR2)."""
    stem = to.rpartition(".")[0] if "." in to.rpartition("/")[2][1:] else to
    return stem + partner[partner.rfind("."):]
