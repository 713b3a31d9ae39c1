"""Another program's JSON at lenslet's sidecar name (a Google Takeout export's `photo 3.jpg.json`) is input:
indexing never writes it, its description shows as the photo's notes, and a person's edit keeps every key it had."""

import json

from helpers import draw, index_tree

TAKEOUT = {"title": "photo 3.jpg", "description": "Grandma at the lake",
           "photoTakenTime": {"timestamp": "1400000000", "formatted": "May 13, 2014"},
           "geoData": {"latitude": 46.2, "longitude": 6.1, "altitude": 0.0}}


def test_indexing_leaves_a_takeout_file_as_it_is_and_an_edit_keeps_its_keys(tree, config, storage, client):
    draw(tree / "takeout" / "photo 3.jpg")
    sidecar = tree / "takeout" / "photo 3.jpg.json"
    sidecar.write_text(json.dumps(TAKEOUT, indent=2))
    before = sidecar.read_bytes()
    index_tree(config, storage)
    assert sidecar.read_bytes() == before
    assert client.get("/item?path=takeout/photo 3.jpg").json["notes"] == "Grandma at the lake"
    client.patch_json("/item?path=takeout/photo 3.jpg", {"addTags": ["gran"]})
    edited = json.loads(sidecar.read_text())
    assert {key: edited[key] for key in TAKEOUT} == TAKEOUT and edited["tags"] == ["gran"]
