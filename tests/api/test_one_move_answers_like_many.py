"""POST /move answers one shape whether it moves one image or many: the page counts `paths`."""

from helpers import draw


def test_a_move_of_one_names_its_paths_as_a_move_of_many(tree, client):
    for name in ("x.jpg", "y.jpg", "z.jpg"):
        draw(tree / "a" / name)
    (tree / "b").mkdir()
    one = client.post_json("/move", {"src": ["a/x.jpg"], "dest": "b"}).json
    assert one == {"ok": True, "path": "b/x.jpg", "paths": ["b/x.jpg"]}
    alone = client.post_json("/move", {"src": "a/y.jpg", "dest": "b"}).json
    assert alone == {"ok": True, "path": "b/y.jpg", "paths": ["b/y.jpg"]}
    renamed = client.post_json("/move", {"src": "a/z.jpg", "to": "b/w.jpg"}).json
    assert renamed == {"ok": True, "path": "b/w.jpg", "paths": ["b/w.jpg"]}
    many = client.post_json("/move", {"src": ["b/x.jpg", "b/y.jpg"], "dest": "a"}).json
    assert many == {"ok": True, "path": "a/x.jpg", "paths": ["a/x.jpg", "a/y.jpg"]}
