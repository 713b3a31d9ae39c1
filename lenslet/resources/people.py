"""GET /people: who the photos show."""

from lenslet.resources.bodies import read_object
from lenslet.resources.guard import access_of
from lenslet.resources.item import who
from lenslet.resources.timeline import folders_of, sees_of


class PeopleResource:
    """GET /people?path=: each person the photos one may see show, with their count and a cover."""

    def __init__(self, faces):
        self.faces = faces

    def on_get(self, req, resp):
        people = self.faces.people(folders_of(req), sees_of(req))
        resp.media = {"people": people, "total": len(people)}
        resp.cache_control = ["no-cache"]


class PeopleRenameResource:
    """POST /people/rename {"name", "to"}: a person renamed (or merged into another) on every photo one may edit."""

    def __init__(self, faces, items):
        self.faces, self.items = faces, items

    def on_post(self, req, resp):
        body = read_object(req, '{"name": a person, "to": their new name}', "name", "to")
        access = access_of(req)
        paths = [access.change(path) for path in self.faces.photos(body["name"], folders_of(req), sees_of(req))]
        refused = self.items.rename_person(paths, body["name"], body["to"], who(req))
        resp.media = {"renamed": len(paths) - len(refused), "refused": refused}
