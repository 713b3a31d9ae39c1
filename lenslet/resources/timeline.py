import datetime
import re

from lenslet.errors import BadRequest
from lenslet.formats import query
from lenslet.resources.guard import access_of
from lenslet.search import timeline
from lenslet.storage import clean_path

FILTERS = ("star", "type", "camera", "country", "tagged", "date", "person")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def asked_of(req):
    """Return the listing filters a timeline or map request names."""
    return query.parse({name: req.get_param(name) for name in FILTERS})


def sees_of(req):
    """Return the principal's Access for a limited scope, else None (the whole tree)."""
    access = access_of(req)
    return access if access.limited else None


def folders_of(req):
    """Return the folders a timeline request looks in (None: everywhere), within the scope."""
    access, path = access_of(req), clean_path(req.get_param("path"))
    folders = access.search_folders(path)
    if folders is None and path:
        access.folder(path)
        folders = [path]
    return folders


class TimelineResource:
    """GET /timeline?limit=&before=|after=|at=: visible images, newest first, a slice at a time."""

    def __init__(self, timeline):
        self.timeline = timeline

    def on_get(self, req, resp):
        given = [name for name in ("before", "after", "at") if req.get_param(name)]
        if len(given) > 1:
            raise BadRequest(f"a slice starts at one place: {' or '.join(given)}, not both", param=given[1])
        limit = req.get_param_as_int("limit", min_value=1, max_value=timeline.MAX_LIMIT, default=100)
        before, after, at = req.get_param("before"), req.get_param("after"), req.get_param("at")
        answer = self.timeline.slice(folders_of(req), asked_of(req), limit,
                                     before=timeline.read_cursor(before, "before") if before else None,
                                     after=timeline.read_cursor(after, "after") if after else None,
                                     at=timeline.read_day(at) if at else None, sees=sees_of(req))
        answer["total"], answer["items"] = access_of(req).found("", answer["total"], answer["items"])
        resp.media = answer
        resp.cache_control = ["no-cache"]


class TimelineMonthsResource:
    """GET /timeline/months: image counts per month, newest first."""

    def __init__(self, timeline):
        self.timeline = timeline

    def on_get(self, req, resp):
        months = self.timeline.months(folders_of(req), asked_of(req), sees_of(req))
        resp.media = {"months": months, "total": sum(month["count"] for month in months)}
        resp.cache_control = ["no-cache"]


class OnThisDayResource:
    """GET /on-this-day?day=MM-DD: images taken on this day in earlier years, newest first."""

    def __init__(self, timeline, clock):
        self.timeline, self.clock = timeline, clock

    def on_get(self, req, resp):
        today = datetime.datetime.fromtimestamp(self.clock(), datetime.timezone.utc).date()
        asked = req.get_param("day")
        if asked:
            match = _MONTH_DAY.fullmatch(asked)
            try:
                today = today.replace(month=int(match[1]), day=int(match[2]))
            except (TypeError, ValueError):  # no match (None[1]), no such day, or a 29th of February this year lacks
                raise BadRequest("day is a month and day of this year, MM-DD (05-12)", param="day") from None
        access = access_of(req)
        years = self.timeline.on_this_day(folders_of(req), asked_of(req), today, sees_of(req))
        for year in years:
            year["count"], year["items"] = access.found("", year["count"], year["items"])
        resp.media = {"day": today.isoformat()[5:], "years": [year for year in years if year["items"]]}
        resp.cache_control = ["no-cache"]
