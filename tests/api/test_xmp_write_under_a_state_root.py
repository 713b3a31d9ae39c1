"""LENSLET_XMP=write under a state root (LENSLET_STATE): edits work, written as LENSLET_WORDS=both writes them
(lenslet's sidecar in the state root, the XMP sidecar beside the photo); file operations are still refused."""

import json

import pytest
import webtest
from helpers import draw, index_tree
from openapi_check import spec_checked

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.storage import open_storage


def as_it_is(root):
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else None for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("settings", [{"xmp": "write"}, {"xmp": "write", "words": "both"}])
def test_tags_stars_and_notes_are_written_and_only_the_xmp_sidecar_lands_beside_the_photo(tmp_path, settings):
    library = tmp_path / "library"
    draw(library / "trips" / "a.jpg")
    draw(library / "trips" / "b.jpg")
    config = Config(root=str(library), state=str(tmp_path / "state"), **settings)
    storage = open_storage(config)
    client = webtest.TestApp(spec_checked(create_app(config, storage)))
    index_tree(config, storage)
    before = as_it_is(library)
    item = client.patch_json("/item?path=trips/a.jpg", {"addTags": ["sea"], "star": 4, "notes": "dawn"}).json
    assert (item["tags"], item["star"], item["notes"]) == (["sea"], 4, "dawn")
    assert set(as_it_is(library)) - set(before) == {"trips/a.jpg.xmp"}
    assert b"sea" in (library / "trips" / "a.jpg.xmp").read_bytes()
    assert json.loads((tmp_path / "state" / "trips" / "a.jpg.json").read_text())["tags"] == ["sea"]
    client.post_json("/trash", {"paths": ["trips/b.jpg"]}, status=403)
    assert {path: data for path, data in as_it_is(library).items() if path != "trips/a.jpg.xmp"} == before
