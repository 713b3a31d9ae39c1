"""One principal's scope over the tree, as a predicate: may this path be read, changed, passed through.

Pure: no storage, no listing. A path outside the scope raises exactly what a missing path raises
(404 "no such file or folder"), so a scope never tells what exists. Access is decided on what
storage opens, not on the path asked: for a principal with a limited scope the path is also looked
up through `opened` (a link or a pointer folder inside the scope that leads to another place of the
tree leads out of it). The trash is shared by the users who may change things: a trashed image
belongs to a scope by where it came from, which the caller looks up (origin_of: the image's
sidecar's originalPosition) only for a path in the trash; view users and share links never see it,
whatever their scope's breadth, and search and the timeline leave it out for everyone.
"""

import orjson

from lenslet.errors import LensletError, NotFound
from lenslet.formats import stacks
from lenslet.layout import TRASH, join
from lenslet.people.users import in_trash

# What a share link shows of a photo only when its maker chose so (its record's "details"): where it was taken
# (a phone's GPS is often home) and with what; a listing's items carry the camera and lens too.
PLACE_AND_CAMERA = ("latitude", "longitude", "altitude", "make", "model", "lens", "focalLength", "focalLength35",
                    "fNumber", "exposureTime", "iso")
LISTED_CAMERA = ("camera", "lens")


def missing(path):
    """What a path outside the scope answers: the very error of a path that is not there."""
    return NotFound("no such file or folder", path=path)


class Access:
    """One principal's view of the tree: what it may read and change."""

    def __init__(self, principal, origin_of=None, opened=None, is_image_at=None):
        self.principal = principal
        self.scope = principal.scope
        self.origin_of = origin_of  # a trashed image's browse path -> where it came from (its sidecar says)
        self.opened = opened  # a browse path -> the browse path of what storage opens for it (Tree.opened)
        self.is_image_at = is_image_at  # (path, content hash) -> whether that image is there (Albums.is_image_at)

    @property
    def limited(self):
        return not self.scope.everything

    def see(self, path):
        """Refuse (as missing) a path the principal may not read."""
        if not self.may_see(path):
            raise missing(path)
        return path

    def may_see(self, path):
        return self.in_scope(path) and self.given(path)

    def in_scope(self, path):
        """Whether path lies in the scope, decided on what storage opens (an album link's check of content aside,
        for a caller that checks it itself)."""
        if in_trash(path):
            return self.may_see_trashed(path)
        return self.scope.allows(path) and self.leads_inside(path)

    def may_see_trashed(self, path):
        """The trash rules, the same for every scope: only those who may change things, each the images
        trashed from their own folders (a whole-tree scope: all of it)."""
        if not self.trash_shown(TRASH):
            return False
        if not self.limited:
            return True
        return path != TRASH and self.origin_of is not None and self.scope.allows(self.origin(path))

    def leads_inside(self, path):
        """Whether what storage opens for a path of the scope is in the scope too (a whole-tree scope: always)."""
        if not self.limited or self.opened is None:
            return True
        try:
            return self.scope.allows(self.opened(path))
        except LensletError:
            return False  # a link out of the tree, a broken pointer: nothing of it is theirs

    def given(self, path):
        """Whether an album link's image at path is the very one the album was given (by its content hash)."""
        hashes = self.principal.share.get("hashes") if self.principal.share is not None else None
        if not hashes or path not in hashes or self.is_image_at is None:
            return True
        return self.is_image_at(path, hashes[path])

    def passes_through(self, folder):
        """Whether a folder that leads to the scope is that very folder, not a link or pointer elsewhere."""
        if self.opened is None:
            return True
        try:
            return self.opened(folder) == folder
        except LensletError:
            return False

    change = see  # a view user or a share never gets this far (the guard refuses their writes)

    def origin(self, path):
        """Where a trashed image came from (the trash itself when not known: then only a whole-tree scope has it)."""
        origin = self.origin_of(path)
        return origin if isinstance(origin, str) and origin and not in_trash(origin) else TRASH

    def folder(self, path):
        """Refuse (as missing) a folder the principal may neither read nor pass through (a share link
        passes through nothing: it opens at its own folder, or at the folder of the images it shares)."""
        share = self.principal.share
        if share is not None:
            if share.get("kind") == "images" and path == share.get("path"):
                return path  # the folder of the images shared: its listing shows them alone
            return self.see(path)
        if not (self.may_see(path) or self.scope.leads_to(path) or self.trash_shown(path)):
            raise missing(path)
        return path

    def trash_shown(self, path):
        """Whether path is the trash and the principal sees it: users who may change things, never a view
        user or a share link."""
        return path == TRASH and self.principal.share is None and self.principal.can_write

    def wholly(self, path):
        """Whether everything in a folder is the principal's to see (nothing to take out)."""
        if in_trash(path):
            return not self.limited and self.trash_shown(TRASH)
        return not self.limited or self.scope.allows(path)

    def shows_folder(self, path, name):
        """Whether a subfolder appears in a listing of path: it is the principal's, or leads to theirs."""
        folder = join(path, name)
        return (name in self.scope.next_names(path) and self.passes_through(folder)) or self.may_see(folder) \
            or self.trash_shown(folder)

    def visible(self, folder, items):
        """The items of a folder's listing the principal may see, each stack only of what they see."""
        seen = [item for item in items if isinstance(item, dict)
                and self.may_see(item.get("path") or join(folder, item.get("name", "")))]
        if len(seen) < len(items) and any("stack" in item for item in seen):
            stacks.marked(seen)
        return seen

    def found(self, folder, total, items):
        """A page of search results (and their total) as the principal sees them: without those found under
        a path of the scope that lead out of it (a link, a pointer folder)."""
        if not self.limited:
            return total, items
        seen = self.visible(folder, items)
        return total - (len(items) - len(seen)), seen

    @property
    def hides_details(self):
        """Whether the principal is a share link whose maker did not choose to show place and camera."""
        share = self.principal.share
        return share is not None and share.get("details") is not True

    def item_shown(self, body):
        """An /item answer as the principal may see it: a link's without place and camera unless chosen."""
        if not self.hides_details:
            return body
        exif = body.get("exif") if isinstance(body.get("exif"), dict) else {}
        shown = {key: value for key, value in body.items() if key not in LISTED_CAMERA and key != "mapLink"}
        return dict(shown, exif={key: value for key, value in exif.items() if key not in PLACE_AND_CAMERA})

    def items_shown(self, items):
        """Listing or album items as the principal may see them (see item_shown)."""
        if not self.hides_details:
            return items
        return [{key: value for key, value in item.items() if key not in LISTED_CAMERA} if isinstance(item, dict)
                else item for item in items]

    def listing_shown(self, data):
        """A listing's bytes as the principal may see them (see item_shown): the same bytes when nothing is cut."""
        if not self.hides_details or not any(f'"{key}"'.encode() in data for key in LISTED_CAMERA):
            return data
        page = orjson.loads(data)
        return orjson.dumps(dict(page, items=self.items_shown(page.get("items") or [])))

    def search_folders(self, folder):
        """The folders a search under folder may look in (None: all of it); as missing when none."""
        if in_trash(folder):
            raise NotFound("no such folder", path=folder)  # the trash is looked at in its listing, never searched
        folders = self.scope.folders_under(folder)
        if folders is not None and not folders and not self.scope.leads_to(folder):
            raise NotFound("no such folder", path=folder)  # what a search of a missing folder answers
        return folders
