"""WebDAV's preconditions, pure: If-Match, If-None-Match and RFC 4918's If header (lists of lock tokens and entity
tags, tagged or not, with Not), held against what a resource is now."""

import functools
import re

from lenslet.errors import BadRequest, PreconditionFailed

MAX_IF = 8192
# A lock token or resource tag <...>, an entity tag [...], a parenthesis, Not, or anything else (refused).
_PART = re.compile(r"\s*(?:<([^<>]*)>|\[([^\[\]]*)\]|([()])|([Nn][Oo][Tt])(?=[\s<\[])|(\S))")


def parse_if(header):
    """Return an If header's lists: (its resource tag or None, [(negated, lock token, entity tag), ...]) each, the
    token or the tag None."""
    if len(header) > MAX_IF:
        raise BadRequest(f"the If header is longer than {MAX_IF} characters")
    lists, tag, conditions, negated = [], None, None, False
    for angled, etag, paren, negation, _ in _PART.findall(header):
        if conditions is None and angled and not (lists and lists[-1][0] is None):
            tag = angled  # a resource tag: the lists after it are held against that resource
        elif conditions is None and paren == "(":
            conditions = []
        elif conditions is not None and (angled or etag):
            conditions.append((negated, angled or None, etag or None))
            negated = False
        elif conditions is not None and negation and not negated:
            negated = True
        elif conditions and paren == ")" and not negated:
            lists.append((tag, conditions))
            conditions = None
        else:
            raise BadRequest("the If header is not a list of conditions (RFC 4918 10.4)")
    if conditions is not None or not lists or (tag is not None and lists[-1][0] != tag):
        raise BadRequest("the If header is not a list of conditions (RFC 4918 10.4)")
    return lists


def tokens_in(header):
    """Return the lock tokens an If header submits (named, not negated)."""
    if not header:
        return set()
    return {token for _, conditions in parse_if(header) for negated, token, _ in conditions if token and not negated}


def listed(header, etag):
    """Whether an If-Match or If-None-Match header names the entity tag ("*": anything there; etag None: nothing)."""
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag is not None and ("*" in tags or etag in tags - {""})


def holds(lists, state_of):
    """Whether one list holds every condition against the resource it names; state_of(tag or None) gives that
    resource's (entity tag, "" for a folder, None for nothing; tokens of the locks that hold it)."""
    for tag, conditions in lists:
        etag, tokens = state_of(tag)
        if all(negated != (token in tokens if token else etag is not None and wanted.removeprefix("W/") == etag)
               for negated, token, wanted in conditions):
            return True
    return False


def check(if_match, if_none_match, if_header, state_of):
    """Raise PreconditionFailed unless every condition of a write holds on what is there now."""
    state_of = functools.cache(state_of)  # each resource looked at once
    if if_match is not None and not listed(if_match, state_of(None)[0]):
        raise PreconditionFailed("If-Match: it is not at that version (changed or gone meanwhile)")
    if if_none_match is not None and listed(if_none_match, state_of(None)[0]):
        raise PreconditionFailed("If-None-Match: something is there at that version")
    if if_header and not holds(parse_if(if_header), state_of):
        raise PreconditionFailed("If: no list of conditions holds (a lock gone, or another version)")
