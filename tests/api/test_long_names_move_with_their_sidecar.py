"""An image whose name is near the 255-byte limit keeps its tags and thumbnail through a move: its
sidecar and thumbnail are named by layout's rule (a shortened name), and the move follows that rule."""

from helpers import draw

from lenslet.layout import sidecar_of, thumb_of


def test_a_long_named_image_moves_with_its_sidecar_and_thumbnail(tree, client):
    name = "x" * 250 + ".jpg"  # 254 bytes: its sidecar's and thumbnail's names are shortened
    draw(tree / "a" / name)
    (tree / "b").mkdir()
    client.put_json(f"/item?path=a/{name}", {"tags": ["kept"]})
    client.get(f"/thumb?path=a/{name}", status=200)
    assert sidecar_of(f"a/{name}") != f"a/{name}.json" and (tree / sidecar_of(f"a/{name}")).exists()
    client.post_json("/move", {"src": f"a/{name}", "dest": "b"})
    assert client.get(f"/item?path=b/{name}").json["tags"] == ["kept"]
    assert (tree / thumb_of(f"b/{name}")).exists()
    assert [p.name for p in (tree / "a").iterdir() if p.name.startswith("x")] == []  # nothing left behind
