"""GET /people: who the photos show."""

from lenslet.resources.timeline import folders_of, sees_of


class PeopleResource:
    """GET /people?path=: each person the photos one may see show, with their count and a cover."""

    def __init__(self, faces):
        self.faces = faces

    def on_get(self, req, resp):
        people = self.faces.people(folders_of(req), sees_of(req))
        resp.media = {"people": people, "total": len(people)}
        resp.cache_control = ["no-cache"]
