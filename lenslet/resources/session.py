"""Signing in and out, and making the first admin."""

import falcon

from lenslet.resources.bodies import read_object
from lenslet.resources.guard import client_address, cookie_name, over_tls, session_token


class SessionResource:
    """POST /session {"name", "password"}: sign in with a session cookie; DELETE /session: sign out."""

    def __init__(self, identities, longest):
        self.identities, self.longest = identities, longest  # longest: the cookie's Max-Age, in seconds

    def on_post(self, req, resp):
        body = read_object(req, '{"name": ..., "password": ...}', "name", "password")
        signed_in(req, resp, *self.identities.sign_in(body["name"], body["password"], client_address(req)),
                  self.longest)

    def on_delete(self, req, resp):
        self.identities.sign_out(session_token(req))
        resp.unset_cookie(cookie_name(req), path="/", same_site="Strict")
        # Nothing cached for the next person on this browser; not "cookies": that ends other sites' sessions.
        resp.set_header("Clear-Site-Data", '"cache"')
        resp.media = {"ok": True}
        resp.cache_control = ["no-store"]


class SetupResource:
    """POST /setup {"code", "name", "password"}: make the first admin."""

    def __init__(self, identities, longest):
        self.identities, self.longest = identities, longest

    def on_post(self, req, resp):
        body = read_object(req, '{"code": the setup code, "name": ..., "password": ...}', "code", "name", "password")
        signed_in(req, resp, *self.identities.make_first_admin(body["code"], body["name"], body["password"],
                                                               client_address(req)), self.longest)


def signed_in(req, resp, principal, token, longest):
    """Answer 201 with who signed in, and their session cookie."""
    send_session(req, resp, token, longest)
    resp.media = principal.describe()
    resp.status = falcon.HTTP_201
    resp.cache_control = ["no-store"]


def send_session(req, resp, token, longest):
    """Set the session cookie: HttpOnly, SameSite=Strict, and Secure over TLS."""
    resp.set_cookie(cookie_name(req), token, max_age=int(longest), path="/", secure=over_tls(req),
                    http_only=True, same_site="Strict")
