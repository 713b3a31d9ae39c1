"""Who a request comes from, and the scope every endpoint filters by.

Identities turns a request's credentials (a bearer token, a share key) into a Principal, slowing
addresses that keep failing. Access answers, for one principal, whether a path may be read or
changed: a path outside the scope raises exactly what a missing path raises (404 "no such file or
folder"), so a scope never tells what exists. The trash is shared by everyone: a trashed image
belongs to a scope by where it came from (its sidecar's originalPosition).
"""

import logging

import orjson

from lenslet.errors import BadRequest, NotFound, TooManyAttempts, Unauthorized
from lenslet.layout import TRASH, is_image, join
from lenslet.people.users import NOBODY, OPEN, TOKEN_ADMIN, Principal, Scope, in_trash, same_hash, token_hash
from lenslet.sidecar.store import sidecar_fields

log = logging.getLogger("lenslet")


def missing(path):
    """What a path outside the scope answers: the very error of a path that is not there."""
    return NotFound("no such file or folder", path=path)


class Identities:
    """Credentials to principals: users from the users file, share links, LENSLET_TOKEN."""

    def __init__(self, token, directory, shares, throttle):
        self.token_hash = token_hash(token) if token else None
        self.directory = directory  # None: no users file, lenslet is open as it always was
        self.shares = shares
        self.throttle = throttle

    @property
    def users(self):
        return self.directory is not None

    def held_back(self, address):
        wait = self.throttle.wait(address)
        if wait:
            raise TooManyAttempts(f"too many failed attempts from {address}: try again in {wait} s",
                                  retry_after=wait)

    def refuse(self, address, what, error, credential):
        self.throttle.failed(address, token_hash(credential))
        log.warning("refused %s from %s", what, address)  # never the token itself
        return error

    def from_token(self, token, address, needed):
        """The principal a bearer token names. needed: whether the request needs one (else a wrong
        token on an open lenslet is let pass, as it always was)."""
        self.held_back(address)
        if self.users:
            user = self.directory.find(token)
            if user is not None:
                return user.principal()
        if self.token_hash is not None and len(token) <= 512 and same_hash(token_hash(token), self.token_hash):
            return OPEN if not self.users else Principal("user", TOKEN_ADMIN, "admin", Scope([""]))
        if not needed:
            return OPEN
        raise self.refuse(address, "a bearer token", Unauthorized("the token is not one lenslet knows"), token)

    def nobody(self):
        """Who asks without credentials where none are needed (GET /health): nobody, once the users file
        can be read (while it is broken nobody is let in, and a health probe must see that: 503)."""
        if self.users:
            self.directory.users()
        return NOBODY

    def from_share(self, key, address):
        """The principal a share link's key names (read-only, its folder or image)."""
        self.held_back(address)
        verdict, record = self.shares.open(key)
        if verdict == "ok":
            scope = Scope([record["path"]]) if record["kind"] == "folder" else Scope(images=[record["path"]])
            return Principal("share", f"share:{record['id']}", "view", scope, record)
        if verdict == "locked":
            raise Unauthorized("this share link needs its password: POST /shares/unlock", share="locked")
        gone = NotFound("no such share link: it expired, was revoked, or is mistyped")
        if verdict == "expired":
            log.info("share %s: expired link used from %s", record["id"], address)
            raise gone
        raise self.refuse(address, "a share link" + (f" of share {record['id']}" if record else ""), gone, key)

    def unlock(self, key, password, address):
        """A share key with the proof of its password; 404 for a wrong key or password (counted as failures)."""
        self.held_back(address)
        unlocked = self.shares.unlock(key, password)
        if unlocked is None:
            raise self.refuse(address, "a share password", NotFound("no such share link, or not its password"),
                              f"{key}\n{password}")
        return unlocked


class Access:
    """One principal's view of the tree: what it may read and change."""

    def __init__(self, principal, tree=None):
        self.principal = principal
        self.scope = principal.scope
        self.tree = tree

    @property
    def limited(self):
        return not self.scope.everything

    def see(self, path):
        """Refuse (as missing) a path the principal may not read."""
        if not self.may_see(path):
            raise missing(path)
        return path

    def may_see(self, path):
        if self.scope.allows(path):
            return True
        if self.principal.share is None and in_trash(path) and path != TRASH:
            return self.scope.allows(self.origin_of(path))
        return False

    change = see  # a view user or a share never gets this far (the guard refuses their writes)

    def folder(self, path):
        """Refuse (as missing) a folder the principal may neither read nor pass through (a share link
        passes through nothing: it opens at its own folder)."""
        if self.principal.share is not None:
            return self.see(path)
        if not (self.may_see(path) or self.scope.leads_to(path) or self.trash_shown(path)):
            raise missing(path)
        return path

    def kind_of(self, path):
        """Whether a path the principal may read is a folder or an image (for a share of it)."""
        if in_trash(path):
            raise BadRequest("images in the trash are not shared", path=path)
        place = self.tree.locate(path)
        if place.storage.stat(place.key).is_dir:
            return "folder"
        if not is_image(path.rpartition("/")[2]):
            raise BadRequest("only folders and images are shared", path=path)
        return "image"

    def trash_shown(self, path):
        return path == TRASH and self.principal.share is None

    def origin_of(self, path):
        """Where a trashed image came from (the trash itself when not known: then only a whole-tree scope has it)."""
        place = self.tree.locate(path, is_file=True)
        origin = sidecar_fields(place.storage, place.key).get("originalPosition")
        return origin if isinstance(origin, str) and origin and not in_trash(origin) else TRASH

    def wholly(self, path):
        """Whether everything in a folder is the principal's to see (nothing to take out)."""
        return not self.limited or (self.scope.allows(path) and not in_trash(path))

    def listing(self, path, data, folders):
        """A folder page's bytes with what the principal may not see taken out, its total and counts
        counting only what they see (folders: lenslet's Folders, for the other pages and the counts)."""
        if self.wholly(path):
            return data
        page = self.passable(path, orjson.loads(data), folders)
        page["items"] = self.visible(path, page["items"])
        page["total"] = len(page["items"]) + sum(
            len(self.visible(path, orjson.loads(folders.page(path, n))["items"]))
            for n in range(page["pageCount"]) if n != page["page"]) if page["total"] else 0
        page.update(images=page["total"], allImages=page["total"] + page["allImages"])
        return orjson.dumps(page)

    def view(self, path, data, offset, limit, folders):
        """A sorted or filtered slice (data: the whole of it, from offset 0) as the principal sees it:
        one slice of what they see, its total and counts only theirs."""
        if self.wholly(path):
            return data
        view = self.passable(path, orjson.loads(data), folders)
        items = self.visible(path, view["items"])
        view.update(items=items[offset:offset + limit], total=len(items), offset=offset, limit=limit,
                    folderTotal=len(self.visible(path, orjson.loads(folders.view_all(path))["items"])))
        view.update(images=view["folderTotal"], allImages=view["folderTotal"] + view["allImages"])
        return orjson.dumps(view)

    def passable(self, path, page, folders):
        """A page of a folder not wholly the principal's: only the subfolders that are theirs or lead to
        theirs, each counted for what of it is theirs; the folder's own counts, of the folders below."""
        names = self.scope.next_names(path)
        page["dirs"] = [d for d in page["dirs"] if isinstance(d, dict) and (
            d.get("name") in names or self.may_see(join(path, d.get("name", ""))) or
            self.trash_shown(join(path, d.get("name", ""))))]
        below = 0
        for entry in page["dirs"]:
            folder = join(path, entry.get("name", ""))
            if self.trash_shown(folder):
                seen = self.visible(folder, orjson.loads(folders.view_all(folder))["items"])
                entry.update(images=len(seen), allImages=len(seen), cover=None, coverPicked=False)
            elif not self.may_see(folder):
                entry.update(self.counts_below(folder, folders))
            below += entry.get("allImages", 0) if not self.trash_shown(folder) else 0
        cover = next((d["cover"] for d in page["dirs"] if d.get("cover") and not self.trash_shown(
            join(path, d.get("name", "")))), None)
        page.update(images=0, allImages=below, cover=cover, coverPicked=False)
        return page

    def counts_below(self, folder, folders):
        """Counts and cover of a folder that only leads to the scope: what its scope folders hold."""
        total, cover = 0, None
        for start in self.scope.folders_under(folder) or []:
            try:
                own = folders.counts_of(start)
            except NotFound:
                continue  # a scope folder that is not (or no longer) there holds nothing
            total += own["allImages"]
            cover = cover or own["cover"]
        return {"images": 0, "allImages": total, "cover": cover, "coverPicked": False}

    def visible(self, folder, items):
        return [item for item in items if isinstance(item, dict)
                and self.may_see(item.get("path") or join(folder, item.get("name", "")))]

    def search_folders(self, folder):
        """The folders a search under folder may look in (None: all of it); as missing when none."""
        folders = self.scope.folders_under(folder)
        if folders is not None and not folders and not self.scope.leads_to(folder):
            raise NotFound("no such folder", path=folder)  # what a search of a missing folder answers
        return folders
