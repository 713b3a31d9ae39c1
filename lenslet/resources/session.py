"""POST /session (sign in with a name and a password), DELETE /session (sign out), POST /setup (the first admin)."""

import falcon

from lenslet.errors import BadRequest
from lenslet.resources import read_json
from lenslet.resources.guard import client_address, cookie_name, over_tls, session_token


class SessionResource:
    """POST /session {"name", "password"}: a session, sent as an HttpOnly SameSite=Strict cookie;
    DELETE /session: the session ended everywhere, the cookie cleared."""

    def __init__(self, identities, longest):
        self.identities = identities
        self.longest = longest  # seconds a session lasts at most: the cookie's Max-Age

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
        # The next person on a shared browser must not be shown this one's photos from its cache. Not "cookies":
        # that would also sign them out of every other site under this domain.
        resp.set_header("Clear-Site-Data", '"cache"')
        resp.media = {"ok": True}
        resp.cache_control = ["no-store"]


class SetupResource:
    """POST /setup {"code", "name", "password"}: while the users file holds nobody, the holder of the setup code
    lenslet printed makes themselves its first admin (every folder), signed in at once."""

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
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Strict (no other site's request
    carries it), for the whole site, Secure (and __Host- named) when the browser came over TLS."""
    resp.set_cookie(cookie_name(req), token, max_age=int(longest), path="/", secure=over_tls(req),
                    http_only=True, same_site="Strict")
