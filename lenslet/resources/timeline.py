import datetime
import re

from lenslet.errors import BadRequest
from lenslet.formats import query
from lenslet.resources import access_of
from lenslet.search import timeline
from lenslet.storage import clean_path

FILTERS = ("star", "type", "camera", "tagged", "date")
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})")


def asked_of(req):
    """The filters a timeline request names (as a listing's: star, type, camera, tagged, date)."""
    return query.parse({name: req.get_param(name) for name in FILTERS})


def sees_of(req):
    """What a timeline request leaves out, decided on what storage opens: for a limited scope, whether
    the principal may see a path (what leads out of their folders is not counted); None for the whole tree."""
    access = access_of(req)
    return access.may_see if access.limited else None


def folders_of(req):
    """The folders a timeline request looks in (None: everywhere), as the principal's scope allows."""
    access, path = access_of(req), clean_path(req.get_param("path"))
    folders = access.search_folders(path)
    if folders is None and path:
        access.folder(path)
        folders = [path]
    return folders


class TimelineResource:
    """GET /timeline?limit=&before=|after=|at=: every image the principal may see, newest first by date
    taken, a slice at a time (search/timeline.py); the filters of listings."""

    def __init__(self, timeline):
        self.timeline = timeline

    def on_get(self, req, resp):
        given = [name for name in ("before", "after", "at") if req.get_param(name)]
        if len(given) > 1:
            raise BadRequest(f"a slice starts at one place: {' or '.join(given)}, not both", param=given[1])
        limit = req.get_param_as_int("limit", min_value=1, max_value=timeline.MAX_LIMIT, default=100)
        before, after, at = req.get_param("before"), req.get_param("after"), req.get_param("at")
        answer = self.timeline.slice(
            folders_of(req), asked_of(req), limit,
            before=timeline.read_cursor(before, "before") if before else None,
            after=timeline.read_cursor(after, "after") if after else None,
            at=timeline.read_day(at) if at else None, sees=sees_of(req))
        access = access_of(req)
        answer["total"], answer["items"] = access.found("", answer["total"], answer["items"])
        resp.media = answer
        resp.cache_control = ["no-cache"]


class TimelineMonthsResource:
    """GET /timeline/months: how many images each month holds, newest first (the scrubber's marks)."""

    def __init__(self, timeline):
        self.timeline = timeline

    def on_get(self, req, resp):
        months = self.timeline.months(folders_of(req), asked_of(req), sees_of(req))
        resp.media = {"months": months, "total": sum(month["count"] for month in months)}
        resp.cache_control = ["no-cache"]


class OnThisDayResource:
    """GET /on-this-day?day=MM-DD: images taken on this month and day (the page's own day; else the
    server's) in earlier years, newest year first; an empty list when there are none."""

    def __init__(self, timeline, clock):
        self.timeline = timeline
        self.clock = clock

    def on_get(self, req, resp):
        today = datetime.datetime.fromtimestamp(self.clock(), datetime.timezone.utc).date()
        asked = req.get_param("day")
        if asked:
            match = _MONTH_DAY.fullmatch(asked)
            try:
                today = datetime.date(2000, int(match[1]), int(match[2])).replace(year=today.year) if match \
                    else None
            except ValueError:
                today = None  # no such day (13-40), or the 29th of February this year does not have
            if today is None:
                raise BadRequest("day is a month and day of this year, MM-DD (05-12)", param="day")
        access = access_of(req)
        years = self.timeline.on_this_day(folders_of(req), asked_of(req), today, sees_of(req))
        for year in years:
            count, year["items"] = access.found("", year["count"], year["items"])
            year["count"] = count
        resp.media = {"day": today.isoformat()[5:], "years": [year for year in years if year["items"]]}
        resp.cache_control = ["no-cache"]
