"""The search index a web process keeps beside the rollup: used by the next process, refused when old or torn."""

from array import array

import orjson
import pytest
import webtest
from helpers import draw, index_tree, rollup_bytes

from lenslet.app import create_app
from lenslet.layout import ROLLUP
from lenslet.search import rollup


def found(client, q):
    return [item["path"] for item in client.get("/search", params={"q": q}).json["items"]]


def test_a_fresh_web_process_searches_with_the_index_the_last_one_kept(tree, config, storage):
    for n in range(30):
        draw(tree / f"trip-{n % 3}" / f"beach-{n}.jpg")
    index_tree(config, storage)
    first = found(webtest.TestApp(create_app(config)), "beach-1")
    kept = rollup.load_kept_index(storage, rollup.stat(storage))
    assert kept is not None and len(kept[0])
    kept[0].stream.close()
    assert found(webtest.TestApp(create_app(config)), "beach-1") == first and len(first) == 11


def test_a_kept_index_of_an_older_rollup_or_a_torn_one_is_not_used(tree, config, storage):
    draw(tree / "a" / "beach.jpg")
    index_tree(config, storage)
    kept = tree / ".lenslet" / "search-index.bin"
    older = kept.read_bytes()
    draw(tree / "a" / "beachball.jpg")
    index_tree(config, storage)
    kept.write_bytes(older)
    assert rollup.load_kept_index(storage, rollup.stat(storage)) is None
    assert found(webtest.TestApp(create_app(config)), "beach") == ["a/beach.jpg", "a/beachball.jpg"]
    kept.write_bytes(kept.read_bytes()[:-10])  # the web process kept it again; now torn
    assert found(webtest.TestApp(create_app(config)), "ball") == ["a/beachball.jpg"]


def test_the_worker_keeps_the_search_index_of_each_rollup_it_builds(tree, config, storage):
    draw(tree / "a" / "beach.jpg")
    index_tree(config, storage)
    kept = rollup.load_kept_index(storage, rollup.stat(storage))
    assert kept is not None and len(kept[0]) == 1
    kept[0].stream.close()


def kept_with_offsets(tree, change):
    """Rewrite the kept index with its offsets (its first part) changed, the sizes in its head made to fit."""
    kept = tree / ".lenslet" / "search-index.bin"
    data = kept.read_bytes()
    end = data.index(b"\n")
    head = orjson.loads(data[:end])
    offsets = array(head["offsets"], data[end + 1:end + 1 + head["sizes"][0]])
    changed = change(offsets)
    head["sizes"][0] = len(changed) * changed.itemsize
    kept.write_bytes(orjson.dumps(head) + b"\n" + changed.tobytes() + data[end + 1 + len(offsets) * offsets.itemsize:])


@pytest.mark.parametrize("change", [lambda offsets: offsets[:-1], lambda offsets: offsets[::-1]])
def test_a_kept_index_whose_offsets_are_not_its_items_is_built_again(tree, config, storage, change):
    for name in ("beach", "beachball", "sunset"):
        draw(tree / "a" / f"{name}.jpg")
    index_tree(config, storage)
    kept_with_offsets(tree, change)
    client = webtest.TestApp(create_app(config))
    assert found(client, "beach") == ["a/beach.jpg", "a/beachball.jpg"] and found(client, "sunset") == ["a/sunset.jpg"]


def test_items_are_read_between_their_offsets_blank_lines_and_all(storage, tree):
    items = [{"path": f"a/{n}.jpg", "name": f"{n}.jpg", "tags": ["x" * n]} for n in range(5)]
    data = rollup_bytes(items, 1.0).replace(b",\n", b",\n\n,\n", 2)  # blank lines, and a line of a comma
    (tree / ROLLUP).write_bytes(data)
    loaded, count = rollup.load(storage, rollup.stat(storage), lambda found: sum(1 for _ in found))
    try:
        assert count == len(loaded) == 5 and loaded.offsets.typecode == "I"
        assert [loaded.item(n) for n in range(5)] == items == list(loaded.items(0, 5, chunk=2))
        assert [loaded.path(n) for n in (4, 0)] == ["a/4.jpg", "a/0.jpg"]
    finally:
        loaded.stream.close()
