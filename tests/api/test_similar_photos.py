"""Similar photos: each image's perceptual hash and sharpness reach its listing entry as its thumbnail is made (or
checked, for a library indexed before); GET /similar answers a moment's near-copies as groups a person may see,
with the one to keep; forged hashes are no hashes, a folder of 10,000 identical photos one group, listed in part."""

import io
import random
import time

import orjson
import pytest
import webtest
from helpers import index_tree, rollup_bytes, scene, upload
from openapi_check import spec_checked
from PIL import ImageEnhance

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.formats import query, similar
from lenslet.layout import ROLLUP, SEARCH_COLUMNS
from lenslet.people.users import Directory
from lenslet.resources.operations import MAX_SIMILAR
from lenslet.search import rollup
from lenslet.search.searcher import Searcher


def jpeg_of(img, quality=90):
    data = io.BytesIO()
    img.save(data, "JPEG", quality=quality)
    return data.getvalue()


BURST = {  # one moment: the photo, a smaller copy, a darker one saved at a low quality
    "party/a.jpg": jpeg_of(scene(1)),
    "party/b.jpg": jpeg_of(scene(1).resize((240, 160))),
    "party/c.jpg": jpeg_of(ImageEnhance.Brightness(scene(1)).enhance(0.85), quality=40),
}
OTHERS = {"party/d.jpg": jpeg_of(scene(2)), "home/e.jpg": jpeg_of(scene(1))}  # another scene; another folder


def paths(answer):
    return [[item["path"] for item in group["items"]] for group in answer["groups"]]


def listed(client, folder):
    return {item["name"]: item for item in client.get(f"/folders?path={folder}").json["items"]}


def test_a_burst_is_one_group_with_sizes_sharpness_and_the_one_to_keep(gallery):
    for path, data in {**BURST, **OTHERS}.items():
        gallery.put(path, data)
    gallery.index()
    client = gallery.client
    entry = listed(client, "party")["a.jpg"]
    assert len(entry["phash"]) == 16 and entry["sharpness"] > 0
    answer = client.get("/similar").json
    assert paths(answer) == [list(BURST)] and answer["total"] == 1 and answer["threshold"] == 14
    group = answer["groups"][0]
    assert group["count"] == 3 and group["keep"] == "party/a.jpg"  # the largest
    assert [(item["w"], item["star"]) for item in group["items"]] == [(480, None), (240, None), (480, None)]
    assert all(item["size"] > 0 and item["sharpness"] > 0 for item in group["items"])
    assert paths(client.get("/similar?path=party").json) == [list(BURST)]
    assert client.get("/similar?path=home").json["groups"] == []


@pytest.fixture
def burst(tree, config, storage):
    for path, data in {**BURST, **OTHERS}.items():
        (tree / path).parent.mkdir(parents=True, exist_ok=True)
        (tree / path).write_bytes(data)
    index_tree(config, storage)
    return tree


def test_a_library_indexed_before_gets_its_looks_as_its_thumbnails_are_checked(client, burst, config, storage):
    page = burst / "party" / "_index.json"
    data = orjson.loads(page.read_bytes())
    for item in data["items"]:
        del item["phash"], item["sharpness"]
    page.write_bytes(orjson.dumps(data))
    assert "phash" not in listed(client, "party")["a.jpg"]
    index_tree(config, storage)
    assert all(len(entry["phash"]) == 16 for entry in listed(client, "party").values())
    assert paths(client.get("/similar").json) == [list(BURST)]


@pytest.mark.parametrize("forged", [123, "ZZ", "0" * 15, ["0" * 16], None, {"a": 1}, "f" * 1_000_000, 2 ** 64 - 1,
                                    1e308], ids=lambda forged: type(forged).__name__ + str(forged)[:16])
def test_hashes_forged_in_a_listing_are_ignored_then_made_again(client, burst, config, storage, forged):
    page = burst / "party" / "_index.json"
    data = page.read_bytes()
    for name in ("a.jpg", "b.jpg"):
        real = listed(client, "party")[name]["phash"]
        data = data.replace(orjson.dumps(real), orjson.dumps(forged))
    page.write_bytes(data.replace(b'"sharpness":', b'"sharpness":"sharp","was":', 1))
    (burst / ROLLUP).unlink()
    index_tree(config, storage)  # the rollup holds the forged entries, the worker makes them again
    assert all(len(entry["phash"]) == 16 for entry in listed(client, "party").values())
    assert paths(client.get("/similar").json) == [list(BURST)]


def rolled_up(tree, storage, items):
    """Write a rollup of these items and keep its index, as the worker does: the next request answers from it."""
    (tree / ROLLUP).write_bytes(rollup_bytes(items, time.time()))
    Searcher(storage).build(rollup.stat(storage))


def test_forged_hashes_in_the_rollup_are_never_a_500(client, tree, storage):
    good = {"phash": "00ff00ff00ff00ff", "mtime": 1.0, "w": 10, "h": 10, "size": 1}
    items = [{**good, "path": "f/0.jpg", "name": "0.jpg"}, {**good, "path": "f/1.jpg", "name": "1.jpg"}]
    items += [{**good, "path": f"f/{n}.jpg", "name": f"{n}.jpg", "phash": forged, "sharpness": sharp}
              for n, (forged, sharp) in enumerate([(7, 1), ("00FF00FF00FF00FF", None), ("0" * 17, "x"),
                                                   (["x"], -1), ("00ff00ff00ff00ff", 1e308), ("f" * 1_000_000, 1),
                                                   (2 ** 64 - 1, 1)], 2)]
    rolled_up(tree, storage, items)
    group, = client.get("/similar").json["groups"]
    assert [(item["path"], item["sharpness"]) for item in group["items"]] == [
        ("f/0.jpg", 0.0), ("f/1.jpg", 0.0), ("f/6.jpg", 0.0)]  # a forged sharpness is none


@pytest.mark.parametrize("odd", [False, True])  # every photo's line read as bytes; some lines parsed
def test_photos_read_from_their_bytes_or_parsed_are_grouped_alike(client, tree, storage, odd):
    look = {"phash": "00ff00ff00ff00ff", "mtime": 1.0, "w": 10, "h": 10, "size": 1}
    names = ["a.jpg", "ünï.jpg", *(['say "hi".jpg', "back\\slash.jpg"] if odd else [])]
    items = [{"path": f"{folder}/{name}", "name": name, **look} for folder in ("f", "_trash_/f") for name in names]
    items += [{"name": "z.jpg", **look, "path": "g/z.jpg"} if odd else {"path": "g/z.jpg", "name": "z.jpg", **look},
              {"path": "g/1.jpg", "name": "1.jpg", **look, "people": [{"name": "A", "phash": "f" * 16}] if odd else []}]
    rolled_up(tree, storage, sorted(items, key=lambda item: item["path"]))
    assert paths(client.get("/similar").json) == [sorted(f"f/{name}" for name in names), ["g/1.jpg", "g/z.jpg"]]


def test_groups_from_the_kept_columns_are_the_groups_the_rollup_makes(tree, storage):
    rng = random.Random(82)
    folders = ["a", "a/b", "a/b c", "a.b", "ü/é", 'say "hi"', "", "_trash_/a"]
    looks = [f"{rng.getrandbits(64):016x}" for _ in range(4)] + ["ZZ", None]
    items = {}
    for n in range(3000):
        path = f"{rng.choice(folders)}/{n % 97}{rng.choice(['', 'ß', chr(92)])}.jpg".lstrip("/")
        look = rng.choice(looks)
        look = look if look is None or len(look) != 16 else f"{int(look, 16) ^ 1 << rng.randrange(64):016x}"
        items[path] = {"path": path, "name": path.rpartition("/")[2], "phash": look, "mtime": rng.randrange(3000)}
        if n % 3 == 0:
            items[path]["taken"] = f"1970-01-01T00:{rng.randrange(60):02d}:00"
    rolled_up(tree, storage, sorted(items.values(), key=lambda item: item["path"]))
    by_folder = {}  # as the groups were read from the rollup itself
    for item in orjson.loads((tree / ROLLUP).read_bytes())["items"]:
        look = similar.look_of(item)
        if look is not None and not item["path"].startswith("_trash_/"):
            for column, value in zip(by_folder.setdefault(item["path"].rpartition("/")[0], ([], [], [])),
                                     (query.taken_at(item), look[0], item["path"]), strict=True):
                column.append(value)
    expected = similar.groups(by_folder, 14)
    assert len(expected) > 50 and max(map(len, expected)) > similar.NEIGHBOURS
    (tree / SEARCH_COLUMNS).unlink()
    for searcher in (Searcher(storage), Searcher(storage)):  # the first makes the columns, the second reads them
        snapshot, groups = searcher.similar(14)
        assert [[path for path, _ in group] for group in groups] == expected
        assert all(snapshot.path(item_id) == path for group in groups for path, item_id in group)


def test_a_folder_of_10000_identical_photos_is_one_group_listed_in_part(client, tree, storage):
    items = [{"path": f"burst/{n:05d}.jpg", "name": f"{n:05d}.jpg", "phash": "0123456789abcdef", "sharpness": 9.0,
              "mtime": 1.0, "w": 10, "h": 10, "size": 100} for n in range(10_000)]
    rolled_up(tree, storage, items)
    group, = client.get("/similar").json["groups"]
    assert group["count"] == 10_000 and len(group["items"]) == MAX_SIMILAR
    assert group["keep"] == "burst/00000.jpg"


def test_uploads_of_a_burst_carry_their_looks_at_once(client, burst):
    for name, data in {"f.jpg": BURST["party/a.jpg"], "g.jpg": BURST["party/b.jpg"]}.items():
        upload(client, "home", name, data)
    entries = listed(client, "home")
    assert entries["f.jpg"]["phash"] == listed(client, "party")["a.jpg"]["phash"]
    assert len(entries["g.jpg"]["phash"]) == 16


@pytest.fixture
def people(burst, tmp_path):
    directory = Directory(str(tmp_path / "users.json"))
    tokens = {"ann": directory.add("ann", "edit", ["party"]), "bob": directory.add("bob", "edit", ["home"]),
              "root": directory.add("root", "admin", [""])}
    client = webtest.TestApp(spec_checked(create_app(Config(root=str(burst), users=directory.path))))
    return client, {who: {"Authorization": f"Bearer {token}"} for who, token in tokens.items()}


def test_a_scoped_person_sees_only_groups_of_photos_she_may_see(people, burst, config, storage):
    client, as_ = people
    (burst / "party" / "link.jpg").symlink_to(burst / "home" / "e.jpg")  # a link out of her folder: not hers
    index_tree(config, storage)
    assert paths(client.get("/similar", headers=as_["root"]).json)[0] == [*BURST, "party/link.jpg"]
    assert paths(client.get("/similar", headers=as_["ann"]).json) == [list(BURST)]
    assert client.get("/similar", headers=as_["bob"]).json["total"] == 0
    client.get("/similar?path=party", headers=as_["bob"], status=404)  # as if it were missing
    client.get("/similar", status=401)


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "path=../x", "limit=x"])
def test_bad_parameters_are_refused(client, query):
    client.get(f"/similar?{query}", status=400)


def test_a_foreign_host_is_refused(client):
    client.get("/similar", headers={"Host": "evil.example"}, status=421)
