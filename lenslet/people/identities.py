"""Turn a request's credentials into a Principal, slowing addresses that keep failing."""

import ipaddress
import logging

from lenslet.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthorized
from lenslet.people import first_admin, passwords, shares
from lenslet.people.access import NOBODY, OPEN, Principal, Scope
from lenslet.people.users import NAME, TOKEN_ADMIN, checked_password, maker_in, named, same_hash, token_hash

log = logging.getLogger("lenslet")


class Identities:
    def __init__(self, token, directory, shares, throttle, sessions=None, setup=None, proxy_create=False,
                 proxy_header="", proxy_addresses=()):
        self.token_hash = token_hash(token) if token else None
        self.proxy_create = proxy_create  # LENSLET_PROXY_CREATE=view
        self.proxy_header = proxy_header
        self.proxies = tuple(ipaddress.ip_network(network, strict=False) for network in proxy_addresses)
        self.directory = directory  # None: no users file, lenslet is open
        self.shares, self.throttle, self.sessions, self.setup = shares, throttle, sessions, setup

    @property
    def users(self):
        return self.directory is not None

    def held_back(self, address):
        wait = self.throttle.wait(address)
        if wait:
            raise TooManyAttempts(f"too many failed attempts from {address}: try again in {wait} s", retry_after=wait)

    def refuse(self, address, what, error, credential):
        self.throttle.failed(address, token_hash(credential))
        log.warning("refused %s from %s", what, address)  # never the token itself
        return error

    def name_held_back(self, name, address):
        """Refuse (429) a password for a name being guessed, unless from a network it signed in from lately."""
        wait = self.throttle.account_wait(name)
        if wait and not self.throttle.known(name, address):
            log.warning("refused a password for %r from %s: that name is being guessed", name[:64], address)
            raise TooManyAttempts(f"too many wrong passwords for this name: try again in {wait} s, or from where "
                                  "you signed in before", retry_after=wait)

    def wrong_password(self, name, password, address, what, error):
        """Count a wrong password against its address, and against its name unless from a network it knows."""
        credential = f"{name}\n{password}"
        if not self.throttle.known(name, address):
            self.throttle.account_failed(name, token_hash(credential))
        return self.refuse(address, what, error, credential)

    def start_session(self, user, address):
        """Start a session of user, noting the network it started from; return its token."""
        self.throttle.signed_in(user.name, address)
        return self.sessions.start(user)

    def from_token(self, token, address, needed):
        """Return the principal a bearer token names; a wrong one passes where none is needed."""
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

    def from_app_password(self, name, password, address):
        """Return the principal of a person's app password (WebDAV's Basic sign-in)."""
        self.held_back(address)
        self.name_held_back(name, address)
        user = named(self.directory.users(), name) if self.users else None
        record = user.app_password(password) if user is not None and len(password) <= 512 else None
        if record is None:
            raise self.wrong_password(name, password, address, f"an app password for {name[:64]!r}",
                                      Unauthorized("that name and app password do not match: make an app password "
                                                   "for this device in the gallery's page (your sign-in password is "
                                                   "not one)"))
        return user.principal()

    def proxied_name(self, peer, header):
        """Return the name in the trusted proxy's header, believed only from LENSLET_PROXY_ADDRESSES, or None."""
        if not self.proxy_header:
            return None
        try:
            peer = ipaddress.ip_address(peer or "")
        except ValueError:
            return None
        if not any(peer in network for network in self.proxies):
            return None  # a header anyone else sends names nobody
        return (header(self.proxy_header) or "").strip() or None

    def from_proxy(self, name, address):
        """Return the person a trusted proxy signed in; a name the users file lacks is refused, or added as a
        viewer of no folders with LENSLET_PROXY_CREATE=view."""
        user = named(self.directory.users(), name)
        if user is None and self.proxy_create and NAME.match(name):
            user = self.directory.add_proxied(name)
            log.warning("%s, signed in by the proxy from %s, added with role view and no folders", name, address)
        if user is None:
            log.warning("refused %r, signed in by the proxy from %s: not in the users file", name[:64], address)
            raise Forbidden(f"your sign-in service names you {name[:64]!r}, whom lenslet does not know: an admin "
                            "adds that name in People", setting="LENSLET_PROXY_CREATE")
        return user.principal()

    def own_user(self, principal):
        """Return the users file's entry of a signed-in person."""
        user = self.directory.users().get(principal.name) if self.users else None
        if principal.kind != "user" or user is None or user.user_id != principal.user_id:
            raise NotFound("only people in the users file have app passwords (LENSLET_USERS)")
        return user

    def from_session(self, token):
        """Return the principal a session cookie names, or None.
        Not counted as a failure: a browser resends ended ones."""
        if not self.users or self.sessions is None:
            return None
        user = self.sessions.open(token, self.directory.users())
        return None if user is None else user.principal()

    def sign_in(self, name, password, address):
        """Check a name and password and start a session: return (principal, token)."""
        self.held_back(address)
        if not self.users or self.sessions is None:
            raise NotFound("this gallery has no users to sign in as (LENSLET_USERS)")
        self.name_held_back(name, address)
        user = named(self.directory.users(), name)  # "MUM" signs in as mum
        # Always compare, so the time does not tell which names exist.
        if not passwords.matches(user.password if user is not None else None, password) or user is None:
            raise self.wrong_password(name, password, address, f"a password for {name[:64]!r}",
                                      Unauthorized("that name and password do not match", signIn="password"))
        if passwords.stale(user.password):
            self.directory.upgrade(user, password)
        log.info("%s signed in from %s", user.name, address)
        return user.principal(), self.start_session(user, address)

    def change_password(self, principal, current, password, address):
        """Set a signed-in user's new password, given the current one; their sessions end."""
        self.held_back(address)
        if not self.users or self.sessions is None:
            raise NotFound("this gallery has no users file: there is no password to change (LENSLET_USERS)")
        user = self.directory.users().get(principal.name) if principal.kind == "user" else None
        if user is None or user.user_id != principal.user_id:
            raise Forbidden("only a person of the users file has a password to change here")
        checked_password(password)  # before the slow check of the current one
        if user.password is None:
            raise Conflict(f"{user.name} signs in with a token, not a password: an admin gives one")
        if not passwords.matches(user.password, current):
            raise self.refuse(address, f"the current password of {user.name!r}",
                              Unauthorized("that is not your current password", field="current"),
                              f"{user.name}\n{current}")
        changed = self.directory.set_own_password(user, password)
        log.info("%s changed their password from %s", user.name, address)
        return changed

    def needs_first_admin(self):
        """Whether the users file holds nobody yet."""
        return self.users and self.setup is not None and self.sessions is not None and not self.directory.users()

    def make_first_admin(self, code, name, password, address):
        """Make the first admin with the setup code and sign them in: (principal, token)."""
        self.held_back(address)
        if not self.needs_first_admin():
            raise Conflict("there are users already: sign in with your name and password")
        if not first_admin.same_code(code, self.setup.code()):
            raise self.refuse(address, "a setup code", Unauthorized(
                "that is not the setup code lenslet printed in its log", signIn="setup"), str(code))
        user = self.directory.create_first(name, password)
        log.warning("%s made the first admin from %s", user.name, address)
        return user.principal(), self.start_session(user, address)

    def sign_out(self, token):
        if self.sessions is not None and token:
            self.sessions.end(token)

    def nobody(self):
        """Return nobody, but fail while the users file is broken, so a health probe sees it."""
        if self.users:
            self.directory.users()
        return NOBODY

    def from_share(self, key, address):
        """Return the principal a share link's key names."""
        self.held_back(address)
        verdict, record = self.shares.open(key)
        gone = NotFound("no such share link: it expired, was revoked, or is mistyped")
        if verdict == "ok":
            reached = self.reach(record)
            if reached is not None:
                now, scope = reached  # an album's share carries the images it holds now
                return Principal("share", f"share:{record['id']}", "view", scope, now)
            log.info("share %s: used from %s, but it opens nothing any more", record["id"], address)
            raise gone
        if verdict == "locked":
            raise Unauthorized("this share link needs its password: POST /shares/unlock", share="locked")
        if verdict == "expired":
            log.info("share %s: expired link used from %s", record["id"], address)
            raise gone
        raise self.refuse(address, "a share link" + (f" of share {record['id']}" if record else ""), gone, key)

    def reach(self, record):
        """Return (share as now, Scope it opens now), or None; never more than its maker may see now."""
        maker = self.maker_of(record)
        record = None if maker is None else self.shares.as_now(record, maker)
        scope = None if record is None else shares.reach(record, maker.scope)
        return None if scope is None else (record, scope)

    def maker_of(self, record):
        """Return whom a share's reach follows now: its maker, or the server."""
        if self.users and shares.made_by_user(record):
            user = maker_in(self.directory.users(), record.get("makerId"), record["createdBy"])
            if user is None or not user.principal().can_write:  # removed, or may share nothing now
                return None
            return user.principal()
        return Principal("server", record["createdBy"], "admin", Scope([""]))

    def unlock(self, key, password, address):
        """Return a share key with proof of its password; a wrong one counts as a failure."""
        self.held_back(address)
        unlocked = self.shares.unlock(key, password)
        if unlocked is None:
            raise self.refuse(address, "a share password", NotFound("no such share link, or not its password"),
                              f"{key}\n{password}")
        return unlocked
