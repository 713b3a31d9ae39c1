"""GET /map: the photos with a GPS position, in clusters; GET /map/photos: the photos of one cluster."""

from lenslet.errors import BadRequest
from lenslet.resources.guard import access_of
from lenslet.resources.timeline import asked_of, folders_of, sees_of
from lenslet.search import clusters
from lenslet.search.timeline import MAX_LIMIT


def degrees(req, name, limit):
    value = req.get_param_as_float(name, required=True)
    if not -limit <= value <= limit:  # NaN too
        raise BadRequest(f"{name} is a number of degrees from -{limit} to {limit}", param=name)
    return value


class MapResource:
    """GET /map?zoom=&west=&south=&east=&north=&path=&star=...: the clusters of a view, each counted, with its centre,
    its cell and a photo to show for it."""

    def __init__(self, places):
        self.places = places

    def on_get(self, req, resp):
        zoom = req.get_param_as_int("zoom", required=True, min_value=0, max_value=clusters.MAX_ZOOM)
        west, east = degrees(req, "west", 180), degrees(req, "east", 180)
        south, north = degrees(req, "south", 90), degrees(req, "north", 90)
        if south > north:
            raise BadRequest("south is below north", param="south")
        resp.media = self.places.clusters(folders_of(req), sees_of(req), zoom, west, south, east, north, asked_of(req))
        resp.cache_control = ["no-store"]


class MapPhotosResource:
    """GET /map/photos?cell=&offset=&limit=&path=: the photos of one cluster, in path order."""

    def __init__(self, places):
        self.places = places

    def on_get(self, req, resp):
        where = clusters.read_cell(req.get_param("cell"))
        offset = req.get_param_as_int("offset", min_value=0, default=0)
        limit = req.get_param_as_int("limit", min_value=1, max_value=MAX_LIMIT, default=100)
        total, items = self.places.photos(folders_of(req), sees_of(req), where, offset, limit, asked_of(req))
        resp.media = {"total": total, "offset": offset, "limit": limit, "items": access_of(req).items_shown(items)}
        resp.cache_control = ["no-store"]
