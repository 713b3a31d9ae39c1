"""Signing in and out, and making the first admin."""

import falcon

from lenslet.errors import BadRequest
from lenslet.resources import read_json
from lenslet.resources.guard import client_address, cookie_name, over_tls, session_token


class SessionResource:
    """POST /session {"name", "password"}: sign in with a session cookie; DELETE /session: sign out."""

    def __init__(self, identities, longest):
        self.identities = identities
        self.longest = longest  # the cookie's Max-Age, in seconds

    def on_post(self, req, resp):
        body = read_json(req)
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) \
                or not isinstance(body.get("password"), str):
            raise BadRequest("the body must be {\"name\": ..., \"password\": ...}")
        principal, token = self.identities.sign_in(body["name"], body["password"], client_address(req))
        send_session(req, resp, token, self.longest)
        resp.media = principal.describe()
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]

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
        self.identities = identities
        self.longest = longest

    def on_post(self, req, resp):
        body = read_json(req)
        if not isinstance(body, dict) or not all(isinstance(body.get(name), str) for name in ("code", "name",
                                                                                                "password")):
            raise BadRequest("the body must be {\"code\": the setup code, \"name\": ..., \"password\": ...}")
        principal, token = self.identities.make_first_admin(body["code"], body["name"], body["password"],
                                                            client_address(req))
        send_session(req, resp, token, self.longest)
        resp.media = principal.describe()
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]


def send_session(req, resp, token, longest):
    """Set the session cookie: HttpOnly, SameSite=Strict, and Secure over TLS."""
    resp.set_cookie(cookie_name(req), token, max_age=int(longest), path="/", secure=over_tls(req),
                    http_only=True, same_site="Strict")
