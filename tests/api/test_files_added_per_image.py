"""Beside the images (no state root), lenslet adds one file per image nobody described (its thumbnail): the
content hash lives in the listing, not in a sidecar holding only a hash and an empty exif. Measured on a
96-photo tree, as the issue was reported. A tree written by an older lenslet (hash-only sidecars) serves
unchanged."""

import json

from helpers import draw, index_tree

from lenslet.layout import is_image

FOLDERS, EACH = 8, 12  # 96 photos


def photos(tree):
    for folder in range(FOLDERS):
        for n in range(EACH):
            draw(tree / f"day{folder}" / f"{n}.jpg", size=(48, 32), color=(folder * 30, n * 20, 90))


def files_below(tree):
    return {str(path.relative_to(tree)) for path in tree.rglob("*") if path.is_file()}


def test_an_image_nobody_described_adds_one_file_beside_it(tree, client, config, storage):
    photos(tree)
    before = files_below(tree)
    index_tree(config, storage)
    for folder in range(FOLDERS):
        listed = client.get(f"/folders?path=day{folder}").json["items"]
        assert len(listed) == EACH and all(item["hash"].startswith("blake3:") for item in listed)
    added = files_below(tree) - before
    beside = {path for path in added if not path.startswith(".lenslet/")}
    per_image = [path for path in beside if is_image(path.rsplit("/", 1)[-1].rsplit(".", 1)[0])]
    assert len(per_image) == 96 and all(path.endswith(".thumbnail") for path in per_image)  # was 192
    assert beside - set(per_image) == {f"day{n}/_index.json" for n in range(FOLDERS)} | {"_index.json", "_rollup.json",
                                                                                         "_health.json"}
    client.patch_json("/item?path=day3/4.jpg", {"addTags": ["kept"]})
    sidecar = json.loads((tree / "day3" / "4.jpg.json").read_text())
    assert sidecar["tags"] == ["kept"] and sidecar["hash"].startswith("blake3:")  # its words follow it by hash
    assert len([path for path in files_below(tree) if path.endswith(".jpg.json")]) == 1


def test_a_tree_of_hash_only_sidecars_from_an_older_lenslet_serves_unchanged(tree, client, config, storage):
    photos(tree)
    index_tree(config, storage)
    hashes = {item["name"]: item["hash"] for item in client.get("/folders?path=day0").json["items"]}
    old = {name: json.dumps({"v": 1, "tags": [], "notes": "", "star": None, "exif": {}, "hash": digest,
                             "updatedAt": None, "updatedBy": None}).encode() for name, digest in hashes.items()}
    for name, data in old.items():
        (tree / "day0" / f"{name}.json").write_bytes(data)
    index_tree(config, storage)
    listed = {item["name"]: item for item in client.get("/folders?path=day0").json["items"]}
    assert {name: item["hash"] for name, item in listed.items()} == hashes
    assert all(item["hasMeta"] for item in listed.values())
    assert all((tree / "day0" / f"{name}.json").read_bytes() == data for name, data in old.items())
    assert client.get("/item?path=day0/1.jpg").json["hash"] == hashes["1.jpg"]


def test_an_image_nobody_described_keeps_its_hash_when_lenslet_moves_it(tree, client, config, storage):
    # Its hash is in its listing only: a move, a rename and a trash carry it to the new name's entry (albums
    # and re-attachment find a moved image by it), and still no sidecar is made for it.
    photos(tree)
    index_tree(config, storage)
    hashes = {item["name"]: item["hash"] for item in client.get("/folders?path=day0").json["items"]}
    client.post_json("/move", {"src": "day0/1.jpg", "to": "day1/moved.jpg"})
    client.post_json("/move", {"src": "day0/2.jpg", "to": "day0/renamed.jpg"})
    client.post_json("/trash", {"paths": ["day0/3.jpg"]})
    listed = {item["name"]: item.get("hash") for item in client.get("/folders?path=day1").json["items"]}
    assert listed["moved.jpg"] == hashes["1.jpg"]
    listed = {item["name"]: item.get("hash") for item in client.get("/folders?path=day0").json["items"]}
    assert listed["renamed.jpg"] == hashes["2.jpg"]
    trashed = {item["name"]: item.get("hash") for item in client.get("/folders?path=_trash_").json["items"]}
    assert hashes["3.jpg"] in trashed.values()
    assert not (tree / "day1" / "moved.jpg.json").exists() and not (tree / "day0" / "renamed.jpg.json").exists()
