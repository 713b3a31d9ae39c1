"""WebDAV's preconditions as a table: the If header parsed (lists, tagged or not, lock tokens, entity tags, Not),
held against what a resource is now, and If-Match / If-None-Match."""

import pytest

from lenslet.dav.conditions import check, holds, listed, parse_if, tokens_in
from lenslet.errors import BadRequest, PreconditionFailed

TOKEN = "opaquelocktoken:" + "a" * 32
ETAG = '"5f1-2a"'


@pytest.mark.parametrize("header, lists", [
    (f"(<{TOKEN}>)", [(None, [(False, TOKEN, None)])]),
    (f"(<{TOKEN}> [{ETAG}]) (Not <DAV:no-lock> [{ETAG}])",
     [(None, [(False, TOKEN, None), (False, None, ETAG)]), (None, [(True, "DAV:no-lock", None), (False, None, ETAG)])]),
    ("(Not<DAV:no-lock>)", [(None, [(True, "DAV:no-lock", None)])]),
    ('  ( not  [W/"x"] ) ', [(None, [(True, None, 'W/"x"')])]),
    (f"<http://h/dav/a.jpg> (<{TOKEN}>) (Not <DAV:no-lock>) </dav/b.jpg> ([{ETAG}])",
     [("http://h/dav/a.jpg", [(False, TOKEN, None)]), ("http://h/dav/a.jpg", [(True, "DAV:no-lock", None)]),
      ("/dav/b.jpg", [(False, None, ETAG)])]),
])
def test_an_if_header_is_read_as_its_lists(header, lists):
    assert parse_if(header) == lists


@pytest.mark.parametrize("header", [
    "", "   ", "<opaquelocktoken:x>", "()", "(<>)", "([])", "(Not)", "(Not )", "(Not Not <a>)", "((<a>))", "(<a>",
    "<a>)", "[x]", "(<a>) <http://h/dav/b.jpg> (<c>)", "<http://h/dav/b.jpg>", "(<a>) x", "(Nothing <a>)",
    "(<a<b>)", "(<a>)" * 2000,
])
def test_an_if_header_that_is_no_list_of_conditions_is_refused(header):
    with pytest.raises(BadRequest):
        parse_if(header)


def test_the_tokens_an_if_header_submits_are_whole_and_never_negated():
    assert tokens_in(f"(<{TOKEN}x>) (Not <{TOKEN}>) (<DAV:no-lock>)") == {TOKEN + "x", "DAV:no-lock"}
    assert tokens_in(None) == set() and tokens_in(f"(<{TOKEN}>)") == {TOKEN}


LOCKED = {None: (ETAG, {TOKEN}), "/dav/other.jpg": (None, set()), "/dav/folder/": ("", set())}


@pytest.mark.parametrize("header, held", [
    (f"(<{TOKEN}>)", True),
    (f"(<{TOKEN}x>)", False),  # a token and more is another token
    (f"(<{TOKEN[:-1]}>)", False),
    (f"(<{TOKEN}> [{ETAG}])", True),
    (f'(<{TOKEN}> ["bogus"])', False),
    (f"(<{TOKEN}> [W/{ETAG}])", True),
    ("(<DAV:no-lock>)", False),
    ("(Not <DAV:no-lock>)", True),
    (f"(<{TOKEN}x>) (Not <DAV:no-lock>)", True),  # the second list holds: then the lock decides (423)
    (f'(<{TOKEN}> ["x"]) (Not <DAV:no-lock> ["x"])', False),
    (f"(<{TOKEN}> [{ETAG}]) (Not <DAV:no-lock> [{ETAG}])", True),
    (f"(Not [{ETAG}])", False),
    (f"(Not <{TOKEN}>)", False),
    (f"</dav/other.jpg> (<{TOKEN}>)", False),  # the tagged resource holds no lock
    (f"</dav/other.jpg> (Not [{ETAG}])", True),
    (f"</dav/folder/> ([{ETAG}])", False),  # a folder has no entity tag
    ("</dav/unknown.jpg> (Not <DAV:no-lock>)", True),
])
def test_an_if_header_holds_when_one_list_holds_on_its_resource(header, held):
    assert holds(parse_if(header), lambda tag: LOCKED.get(tag, (None, set()))) is held


@pytest.mark.parametrize("header, etag, named", [
    ("*", ETAG, True), ("*", "", True), ("*", None, False), (ETAG, ETAG, True), (f'"x", W/{ETAG}', ETAG, True),
    ('"x"', ETAG, False), (ETAG, None, False), ('""', "", False), (",", "", False),
])
def test_if_match_lists_name_what_is_there(header, etag, named):
    assert listed(header, etag) is named


@pytest.mark.parametrize("if_match, if_none_match, if_header, state, fails", [
    (None, None, None, (ETAG, set()), False),
    (ETAG, None, None, (ETAG, set()), False),
    ('"bogus"', None, None, (ETAG, set()), True),
    ("*", None, None, (None, set()), True),
    (None, "*", None, (ETAG, set()), True),
    (None, "*", None, (None, set()), False),
    (None, ETAG, None, (ETAG, set()), True),
    (None, '"old"', None, (ETAG, set()), False),
    (None, None, f'(<{TOKEN}> ["bogus"])', (ETAG, {TOKEN}), True),
    (None, None, f"(<{TOKEN}> [{ETAG}])", (ETAG, {TOKEN}), False),
])
def test_a_write_goes_ahead_only_when_every_condition_holds(if_match, if_none_match, if_header, state, fails):
    asked = []

    def state_of(tag):
        asked.append(tag)
        return state

    if fails:
        with pytest.raises(PreconditionFailed):
            check(if_match, if_none_match, if_header, state_of)
    else:
        check(if_match, if_none_match, if_header, state_of)
    assert len(asked) <= 1  # what a resource is, read once
