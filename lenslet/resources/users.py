"""The users file's people, managed by its admins, and anyone's own password."""

import falcon

from lenslet.errors import BadRequest, ConfigError, Forbidden, NotFound, Unavailable
from lenslet.resources.bodies import read_json
from lenslet.resources.guard import client_address
from lenslet.resources.session import send_session

FIELDS = {"name", "role", "folders", "password"}


def directory_for(req, directory):
    """Return the users file for its admins; 404 without one, 403 for anyone else."""
    if directory is None:
        raise NotFound("this gallery has no users file to manage (LENSLET_USERS)")
    principal = req.context.principal
    if not principal.admin or principal.kind != "user":
        raise Forbidden("only admins manage people")
    return directory


def body_of(req, allowed):
    body = read_json(req)
    if not isinstance(body, dict) or not body.keys() <= allowed:
        raise BadRequest(f"the body must be a JSON object of {', '.join(sorted(allowed))}")
    return body


def changing(call, *args, **kwargs):
    """Run a change of the users file; a failure to write it is the server's trouble: 503."""
    try:
        return call(*args, **kwargs)
    except ConfigError as ex:
        raise Unavailable(ex.description, retry_after=60, setting="LENSLET_USERS") from None


class UsersResource:
    """GET /users: everyone in the users file; POST /users: add someone."""

    def __init__(self, directory):
        self.directory = directory

    def on_get(self, req, resp):
        directory = directory_for(req, self.directory)
        resp.media = {"users": [user.shown() for user in changing(directory.everyone)]}
        resp.cache_control = ["no-store"]

    def on_post(self, req, resp):
        directory = directory_for(req, self.directory)
        body = body_of(req, FIELDS)
        user = changing(directory.create, body.get("name"), body.get("role"), body.get("folders"),
                        body.get("password"))
        resp.media = user.shown()
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]


class UserResource:
    """PATCH /users/{name}: a new role, folders or password; DELETE /users/{name}: remove them."""

    def __init__(self, directory, identities, longest):
        self.directory, self.identities = directory, identities
        self.longest = longest  # seconds a session lasts at most

    def on_patch(self, req, resp, name):
        directory = directory_for(req, self.directory)
        body = body_of(req, FIELDS - {"name"})
        user = changing(directory.update, name, body.get("role"), body.get("folders"), body.get("password"),
                        keep_admin=True)
        if name == req.context.principal.name and req.context.get("session"):
            # Their change ended all their sessions: this browser goes on with a new one.
            send_session(req, resp, self.identities.start_session(user, client_address(req)), self.longest)
        resp.media = user.shown()
        resp.cache_control = ["no-store"]

    def on_delete(self, req, resp, name):
        changing(directory_for(req, self.directory).remove, name, keep_admin=True)
        resp.media = {"ok": True, "name": name}
        resp.cache_control = ["no-store"]


class OwnPasswordResource:
    """PUT /me/password {"current", "password"}: change your own password, whatever your role."""

    def __init__(self, identities, longest):
        self.identities, self.longest = identities, longest

    def on_put(self, req, resp):
        body = body_of(req, {"current", "password"})
        if not all(isinstance(body.get(name), str) for name in ("current", "password")):
            raise BadRequest('the body must be {"current": your password now, "password": the new one}')
        user = changing(self.identities.change_password, req.context.principal, body["current"], body["password"],
                        client_address(req))
        if req.context.get("session"):
            send_session(req, resp, self.identities.start_session(user, client_address(req)), self.longest)
        resp.media = {"ok": True, "name": user.name}
        resp.cache_control = ["no-store"]


class AppPasswordsResource:
    """GET /me/app-passwords: your devices' WebDAV passwords; POST {"name"}: make one, shown once."""

    def __init__(self, identities, clock):
        self.identities, self.clock = identities, clock

    def on_get(self, req, resp):
        user = self.identities.own_user(req.context.principal)
        resp.media = {"appPasswords": [shown(record) for record in user.app_passwords]}
        resp.cache_control = ["no-store"]

    def on_post(self, req, resp):
        body = body_of(req, {"name"})
        user = self.identities.own_user(req.context.principal)
        record, password = changing(self.identities.directory.add_app_password, user, body.get("name"), self.clock())
        resp.media = {**shown(record), "user": user.name, "password": password}
        resp.status = falcon.HTTP_201
        resp.cache_control = ["no-store"]


class AppPasswordResource:
    """DELETE /me/app-passwords/{password_id}: revoke one; the device is refused from its next request on."""

    def __init__(self, identities):
        self.identities = identities

    def on_delete(self, req, resp, password_id):
        user = self.identities.own_user(req.context.principal)
        changing(self.identities.directory.remove_app_password, user, password_id)
        resp.media = {"ok": True, "id": password_id}
        resp.cache_control = ["no-store"]


def shown(record):
    return {key: record[key] for key in ("id", "name", "created")}
