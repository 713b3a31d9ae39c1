"""Decide what one principal may read, change or pass through; anything else looks missing."""

from dataclasses import dataclass

import orjson

from lenslet.errors import Forbidden, LensletError, NotFound
from lenslet.formats import stacks
from lenslet.layout import TRASH, in_trash, join

# Shown by a share link only if its maker chose.
PLACE_AND_CAMERA = ("latitude", "longitude", "altitude", "make", "model", "lens", "focalLength", "focalLength35",
                    "fNumber", "exposureTime", "iso")
LISTED_DETAILS = ("camera", "lens", "gps", "place", "country", "placeSet", "people")


def missing(path):
    return NotFound("no such file or folder", path=path)


class Scope:
    """The paths a principal may reach: whole folders and single images; "" is the whole tree."""

    def __init__(self, folders=(), images=()):
        folders = sorted(set(folders))
        self.everything = "" in folders
        # Drop folders inside others so none overlap (search walks them in turn).
        self.folders = () if self.everything else tuple(
            f for f in folders if not any(inside(f, other) and f != other for other in folders))
        self.images = frozenset(images)

    def __repr__(self):
        return f"Scope(folders={self.folders!r}, images={sorted(self.images)!r}, everything={self.everything})"

    def allows(self, path):
        return self.everything or path in self.images or any(inside(path, f) for f in self.folders)

    def leads_to(self, folder):
        """Whether folder holds part of the scope without lying inside it."""
        return not self.allows(folder) and any(inside(f, folder) for f in self.starts())

    def starts(self):
        """Return the folders a shared view begins at."""
        return self.folders + tuple(sorted({parent_of(image) for image in self.images}))

    def next_names(self, folder):
        """Return the names of folder's subfolders that lead into the scope."""
        return {start[len(folder) + 1 if folder else 0:].split("/")[0] for start in self.starts()
                if start != folder and inside(start, folder)}

    def folders_under(self, folder):
        """Return the scope's folders inside folder for search; None for no limit."""
        if self.everything:
            return None
        if self.allows(folder):
            return [folder]
        # Sorting by F + "/" keeps the folders in path-index order.
        return sorted((f for f in self.folders if inside(f, folder)), key=lambda f: f + "/")


def inside(path, folder):
    """Whether path is folder or lies beneath it, by whole segments."""
    return not folder or path == folder or path.startswith(folder + "/")


def parent_of(path):
    return path.rpartition("/")[0]


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: open, a user, a share link or nobody."""

    kind: str
    name: str
    role: str
    scope: Scope
    share: object = None  # a share link's record
    user_id: str = ""

    @property
    def can_write(self):
        return self.role in ("edit", "admin")

    @property
    def admin(self):
        return self.role == "admin"

    def is_maker(self, maker_id, maker_name):
        """Whether a record's maker is this principal: by id, or by name only for one without an id."""
        if maker_id is not None:
            return self.user_id == maker_id
        return not self.user_id and self.name == maker_name

    def describe(self):
        about = {"kind": self.kind, "name": self.name, "role": self.role, "canWrite": self.can_write,
                 "folders": [""] if self.scope.everything else list(self.scope.folders),
                 "images": sorted(self.scope.images)}
        if self.share is not None:
            about["share"] = {key: self.share[key] for key in ("id", "path", "kind", "expires", "allowDownload")}
            about["share"]["details"] = self.share.get("details") is True
            if self.share.get("album"):
                about["share"]["album"] = self.share["album"]
            if "upload" in self.share:
                about["share"]["upload"] = self.share["upload"]
        return about


OPEN = Principal("open", "api", "admin", Scope([""]))
# Who asks without credentials: let into GET /health alone.
NOBODY = Principal("nobody", "", "view", Scope())

class Access:
    def __init__(self, principal, origin_of=None, opened=None, is_image_at=None):
        self.principal = principal
        self.scope = principal.scope
        self.origin_of = origin_of  # trashed path -> its origin
        self.opened = opened  # path -> path storage opens
        self.is_image_at = is_image_at  # (path, hash) -> whether it is there

    @property
    def limited(self):
        return not self.scope.everything

    def see(self, path):
        """Refuse as missing a path the principal may not read."""
        if not self.may_see(path):
            raise missing(path)
        return path

    def may_see(self, path):
        return self.in_scope(path) and self.given(path)

    def in_scope(self, path):
        """Whether path is in the scope, by what storage opens."""
        if in_trash(path):
            return self.may_see_trashed(path)
        return self.scope.allows(path) and self.leads_inside(path)

    def may_see_trashed(self, path):
        """Writers see images trashed from their own scope."""
        if not self.trash_shown(TRASH):
            return False
        if not self.limited:
            return True
        if path == TRASH or self.origin_of is None or not self.scope.allows(self.origin(path)):
            return False
        # A link keeps its target's name when trashed, so what it opens there is judged too.
        return self.opened is None or self._opens_where(path, lambda opened: opened == path or self.in_scope(opened))

    def leads_inside(self, path):
        return not self.limited or self.opened is None or self._opens_where(path, self.scope.allows)

    @property
    def sight(self):
        """What may_see decides on besides storage (scope, an album link's hashes, the trash): an answer kept for it."""
        hashes = self.principal.share.get("hashes") if self.principal.share is not None else None
        return self.scope.folders, self.scope.images, frozenset((hashes or {}).items()), self.trash_shown(TRASH)

    def given(self, path):
        """Whether an album link's image at path is still the one given."""
        hashes = self.principal.share.get("hashes") if self.principal.share is not None else None
        if not hashes or path not in hashes or self.is_image_at is None:
            return True
        return self.is_image_at(path, hashes[path])

    def passes_through(self, folder):
        """Whether a folder is itself, not a link or pointer elsewhere."""
        return self.opened is None or self._opens_where(folder, lambda opened: opened == folder)

    def _opens_where(self, path, wanted):
        """Whether what storage opens for path is wanted; never if it opens nothing."""
        try:
            return wanted(self.opened(path))
        except LensletError:
            return False

    change = see  # writes by view users and shares are refused before this

    def origin(self, path):
        """Return where a trashed image came from, or the trash if not known."""
        origin = self.origin_of(path)
        return origin if isinstance(origin, str) and origin and not in_trash(origin) else TRASH

    def folder(self, path):
        """Refuse as missing a folder the principal may neither read nor pass through."""
        share = self.principal.share
        if share is not None:  # a share of several images passes through their folder
            return path if share.get("kind") == "images" and path == share.get("path") else self.see(path)
        if not (self.may_see(path) or self.scope.leads_to(path) or self.trash_shown(path)):
            raise missing(path)
        return path

    def trash_shown(self, path):
        return path == TRASH and self.principal.share is None and self.principal.can_write

    def wholly(self, path):
        if in_trash(path):
            return not self.limited and self.trash_shown(TRASH)
        return not self.limited or self.scope.allows(path)

    def shows_folder(self, path, name):
        folder = join(path, name)
        return (name in self.scope.next_names(path) and self.passes_through(folder)) or self.may_see(folder) \
            or self.trash_shown(folder)

    def visible(self, folder, items):
        seen = [item for item in items if isinstance(item, dict)
                and self.may_see(item.get("path") or join(folder, item.get("name", "")))]
        if len(seen) < len(items) and any("stack" in item for item in seen):
            stacks.marked(seen)
        return seen

    def found(self, folder, total, items):
        """Return search results as the principal sees them."""
        if not self.limited:
            return total, items
        seen = self.visible(folder, items)
        return total - (len(items) - len(seen)), seen

    @property
    def hides_details(self):
        """Whether a share link's maker hid place (and GPS) and camera."""
        share = self.principal.share
        return share is not None and share.get("details") is not True

    def check_filters(self, asked):
        """Refuse a filter on what a share link hides: the photos it keeps would tell."""
        if self.hides_details and (asked.cameras or asked.countries or asked.people):
            raise Forbidden("this share link shows no place, camera or people, so it filters by none of them",
                            param="country" if asked.countries else "person" if asked.people else "camera")

    def item_shown(self, body):
        if not self.hides_details:
            return body
        exif = body.get("exif") if isinstance(body.get("exif"), dict) else {}
        shown = {key: value for key, value in body.items() if key not in LISTED_DETAILS and key != "mapLink"}
        return dict(shown, exif={key: value for key, value in exif.items() if key not in PLACE_AND_CAMERA})

    def items_shown(self, items):
        if not self.hides_details:
            return items
        return [{key: value for key, value in item.items() if key not in LISTED_DETAILS} if isinstance(item, dict)
                else item for item in items]

    def listing_shown(self, data):
        if not self.hides_details or not any(f'"{key}"'.encode() in data for key in LISTED_DETAILS):
            return data
        page = orjson.loads(data)
        return orjson.dumps(dict(page, items=self.items_shown(page.get("items") or [])))

    def search_folders(self, folder):
        """Return the folders a search may look in (None: all), or raise as missing."""
        folders = self.scope.folders_under(folder)
        if self.limited and folders == [folder] and not self.leads_inside(folder):
            folders = []  # a link or pointer inside the scope leading out
        if in_trash(folder) or (folders == [] and not self.scope.leads_to(folder)):  # the trash is never searched
            raise NotFound("no such folder", path=folder)
        return folders
