"""GET /places?q=: places of the offline table by name, to set a photo's place with."""

from lenslet.errors import BadRequest
from lenslet.places.suggest import named

MAX_ASKED = 200


class PlaceNamesResource:
    """GET /places?q=&limit=: up to limit places named as q says."""

    def on_get(self, req, resp):
        asked = req.get_param("q", required=True)
        if not 2 <= len(asked.strip()) <= MAX_ASKED:
            raise BadRequest(f"q is 2 to {MAX_ASKED} characters of a place's name", param="q")
        limit = req.get_param_as_int("limit", min_value=1, max_value=50, default=10)
        resp.media = {"places": named(asked, limit)}
        resp.cache_control = ["private", "max-age=3600"]
