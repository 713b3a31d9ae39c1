"""Stacks: a raw or live video beside its JPEG or HEIC, shown and moved as one."""

from lenslet.layout import RAWS

FRONTS = (".jpg", ".jpeg", ".heic", ".heif")
LIVE = ".mov"


def split(name):
    dot = name.rfind(".")
    return (name[:dot].casefold(), name[dot:].lower()) if dot > 0 else (None, "")


def kind_of(front, other):
    """Return "raw" or "live" when front and other make a stack, else None."""
    (front_stem, front_extension), (stem, extension) = split(front), split(other)
    if front_stem is None or front_stem != stem or front_extension not in FRONTS:
        return None
    if extension in RAWS:
        return "raw"
    return "live" if extension == LIVE else None


def stacks(names):
    """Map each name that is half of a stack to its stack."""
    by_stem = {}
    for name in names:
        stem, _ = split(name)
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
    """Set or clear each listing item's `stack`, ignoring links; changes the list in place."""
    found = stacks([item["name"] for item in items if not item.get("link")])
    for item in items:
        stack = found.get(item["name"])
        if stack is not None:
            item["stack"] = stack
        else:
            item.pop("stack", None)
    return items


def renamed(partner, to):
    """Return where a stack's partner goes when its front is renamed to `to`."""
    stem = to.rpartition(".")[0] if "." in to.rpartition("/")[2][1:] else to
    return stem + partner[partner.rfind("."):]
