"""lenslet/tree/pointers.py: reading a pointer file (.lenslet.folder.json) and where it may point."""

import json

import pytest

from lenslet.errors import BadRequest, Forbidden
from lenslet.tree import pointers


def parsed(**raw):
    return pointers.parse(json.dumps(raw).encode(), "trip")


@pytest.mark.parametrize("raw, pointer", [
    ({"target": {"type": "local", "path": "/srv/archive"}},
     {"type": "local", "path": "/srv/archive", "label": None, "readonly": False}),
    ({"kind": "pointer", "label": "Archive", "readonly": True, "target": {"type": "local", "path": "/srv/a"}},
     {"type": "local", "path": "/srv/a", "label": "Archive", "readonly": True}),
    ({"readonly": "yes", "target": {"type": "local", "path": "/srv/a"}},    # only true is read-only
     {"type": "local", "path": "/srv/a", "label": None, "readonly": False}),
    ({"target": {"type": "s3", "bucket": "photos"}},
     {"type": "s3", "bucket": "photos", "prefix": "", "region": "", "endpoint": "", "label": None,
      "readonly": False}),
    ({"target": {"type": "s3", "bucket": "b", "prefix": "2019/", "region": "eu-west-1", "endpoint": 5}},
     {"type": "s3", "bucket": "b", "prefix": "2019/", "region": "eu-west-1", "endpoint": "", "label": None,
      "readonly": False}),                                                   # a non-string setting is none
])
def test_a_pointer_file_is_read(raw, pointer):
    assert parsed(**raw) == pointer


@pytest.mark.parametrize("data, complaint", [
    (b"not json", "not JSON"),
    (b"[]", '"target" object'),
    (b'{"target": "/srv/a"}', '"target" object'),
    (b'{"kind": "album", "target": {"type": "local", "path": "/srv/a"}}', '"target" object'),
    (b'{"target": {"type": "ftp"}}', "unknown pointer target type 'ftp'"),
    (b'{"target": {}}', "unknown pointer target type None"),
    (b'{"target": {"type": "local", "path": "archive"}}', "absolute"),        # relative to what?
    (b'{"target": {"type": "local", "path": 5}}', "absolute"),
    (b'{"target": {"type": "local", "path": "/srv/a\\u0000b"}}', "NUL"),
    (b'{"target": {"type": "s3", "bucket": ""}}', '"bucket"'),
    (b'{"target": {"type": "s3", "bucket": 5}}', '"bucket"'),
    (b" " * (pointers.MAX_BYTES + 1), "larger than"),                        # refused before parsing
])
def test_a_bad_pointer_file_is_refused_naming_where_it_is(data, complaint):
    with pytest.raises(BadRequest) as refused:
        pointers.parse(data, "trip")
    assert complaint in refused.value.description and refused.value.fields == {"path": "trip"}


@pytest.mark.parametrize("target, roots, allowed", [
    ("/srv/archive", ["/srv/archive"], True),
    ("/srv/archive/2019", ["/srv/archive"], True),
    ("/srv/archive/2019", ["/mnt", "/srv"], True),
    ("/srv/archive2", ["/srv/archive"], False),  # a shared prefix is not inside
    ("/srv", ["/srv/archive"], False),
    ("/etc", [], False),                         # no roots allowed: no local pointers
    ("/anything", ["/"], True),
])
def test_a_local_target_must_be_inside_an_allowed_root(target, roots, allowed):
    if allowed:
        pointers.check_local_target(target, roots, "trip")
    else:
        with pytest.raises(Forbidden) as refused:
            pointers.check_local_target(target, roots, "trip")
        assert refused.value.fields == {"path": "trip", "target": target}
