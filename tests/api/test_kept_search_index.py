"""The search index a web process keeps beside the rollup: used by the next process, refused when old or torn."""


import webtest
from helpers import draw, index_tree

from lenslet.app import create_app
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
