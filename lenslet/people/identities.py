"""Who a request comes from: credentials (a bearer token, a share key) to a Principal, slowing
addresses that keep failing."""

import logging

from lenslet.errors import NotFound, TooManyAttempts, Unauthorized
from lenslet.people import shares as share_records
from lenslet.people.users import NOBODY, OPEN, TOKEN_ADMIN, Principal, Scope, same_hash, token_hash

log = logging.getLogger("lenslet")


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
            scope = self.reach(record)
            if scope is not None:
                return Principal("share", f"share:{record['id']}", "view", scope, record)
            log.info("share %s: used from %s, but it opens nothing any more", record["id"], address)
            raise NotFound("no such share link: it expired, was revoked, or is mistyped")
        if verdict == "locked":
            raise Unauthorized("this share link needs its password: POST /shares/unlock", share="locked")
        gone = NotFound("no such share link: it expired, was revoked, or is mistyped")
        if verdict == "expired":
            log.info("share %s: expired link used from %s", record["id"], address)
            raise gone
        raise self.refuse(address, "a share link" + (f" of share {record['id']}" if record else ""), gone, key)

    def reach(self, record):
        """What a live share opens now (a Scope), or None: never more than its maker may see now (a user
        removed, made a viewer or given fewer folders shrinks or ends it at once, in every process: the
        users file is read again when it changes), and only the very folder or image that was shared."""
        if not self.shares.still_there(record):
            return None
        maker = Scope([""])
        if self.users and share_records.made_by_user(record):
            user = self.directory.users().get(record["createdBy"])
            if user is None or not user.principal().can_write:  # removed, or may share nothing now
                return None
            maker = user.principal().scope
        return share_records.reach(record, maker)

    def unlock(self, key, password, address):
        """A share key with the proof of its password; 404 for a wrong key or password (counted as failures)."""
        self.held_back(address)
        unlocked = self.shares.unlock(key, password)
        if unlocked is None:
            raise self.refuse(address, "a share password", NotFound("no such share link, or not its password"),
                              f"{key}\n{password}")
        return unlocked
