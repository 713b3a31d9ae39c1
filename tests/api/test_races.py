"""Two changes to one image at once, on local disk and S3: no photo and no acknowledged tag is lost.

Each race runs two web apps (as two gunicorn processes would) released together by a
barrier, a bounded number of rounds. Whoever loses answers 404 or 409, never 5xx, and
undoes only its own steps.
"""

import json
import threading

import pytest
from helpers import jpeg, tagged

from lenslet.catalog import Catalog
from lenslet.sidecar import store
from lenslet.storage import s3
from lenslet.tree.tree import Tree

ROUNDS = 5
HASH = "blake3:" + "0" * 64


def rounds(gallery):
    """Rounds of a race: on S3 one, where the two moves' requests interleave dozens of times in every round, counted."""
    return range(1 if gallery.config.s3_bucket else ROUNDS)


def race(*calls):
    """Run calls at once; return what each returned."""
    start = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(number, call):
        start.wait(timeout=30)
        results[number] = call()

    threads = [threading.Thread(target=run, args=(number, call)) for number, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing request never finished"
    return results


def statuses(answers):
    return sorted(answer.status_int for answer in answers)


def tag(client, path, *tags):
    client.patch_json(f"/item?path={path}", {"addTags": list(tags)})


def tags_of(client, path):
    return sorted(client.get(f"/item?path={path}").json["tags"])


def listed(client, folder):
    answer = client.get(f"/folders?path={folder}", status=(200, 404))
    return sorted(item["path"].rpartition("/")[2] for item in answer.json.get("items", ()))


def test_two_images_moved_to_one_name_at_once_lose_neither(gallery):
    one, two = gallery.client, gallery.client
    for number in rounds(gallery):
        top = f"r{number}"
        a, b = jpeg(color=(number * 40, 0, 0)), jpeg(color=(0, 0, number * 40))
        gallery.put(f"{top}/a/x.jpg", a)
        gallery.put(f"{top}/b/x.jpg", b)
        gallery.put(f"{top}/c/other.jpg", jpeg())
        tag(one, f"{top}/a/x.jpg", "from-a")
        tag(one, f"{top}/b/x.jpg", "from-b")
        answers = race(
            lambda top=top: one.post_json("/move", {"src": f"{top}/a/x.jpg", "dest": f"{top}/c"}, status="*"),
            lambda top=top: two.post_json("/move", {"src": f"{top}/b/x.jpg", "dest": f"{top}/c"}, status="*"))
        assert statuses(answers) == [200, 409], [answer.body for answer in answers]
        winner, loser = ("a", "b") if answers[0].status_int == 200 else ("b", "a")
        assert gallery.read(f"{top}/c/x.jpg") == (a if winner == "a" else b)
        assert gallery.read(f"{top}/{loser}/x.jpg") == (a if loser == "a" else b)  # untouched where it was
        assert tags_of(one, f"{top}/c/x.jpg") == [f"from-{winner}"]
        assert tags_of(one, f"{top}/{loser}/x.jpg") == [f"from-{loser}"]
        assert listed(one, f"{top}/c") == ["other.jpg", "x.jpg"]


def test_two_folders_renamed_to_one_name_at_once_lose_nothing(gallery):
    one, two = gallery.client, gallery.client
    for number in rounds(gallery):
        top = f"r{number}"
        gallery.put(f"{top}/a/one.jpg", jpeg(color=(1, 2, 3)))
        gallery.put(f"{top}/b/two.jpg", jpeg(color=(3, 2, 1)))
        answers = race(lambda top=top: one.post_json("/move", {"src": f"{top}/a", "to": f"{top}/c"}, status="*"),
                       lambda top=top: two.post_json("/move", {"src": f"{top}/b", "to": f"{top}/c"}, status="*"))
        assert statuses(answers) == [200, 409], [answer.body for answer in answers]
        loser, kept = ("b", "two.jpg") if answers[0].status_int == 200 else ("a", "one.jpg")
        assert listed(one, f"{top}/c") == ["two.jpg" if kept == "one.jpg" else "one.jpg"]
        assert gallery.exists(f"{top}/{loser}/{kept}")


def test_an_edit_racing_renames_always_lands_on_the_image(gallery):
    editor, mover = gallery.client, gallery.client
    gallery.put("p/x.jpg", jpeg())
    acknowledged = []
    # The edits meet the renames all along, on disk and on S3: counted, every edit ran while a rename ran, and some
    # found the image renamed away (404). Fewer of them on S3, where each step costs many requests.
    edits, renames = (4, 3) if gallery.config.s3_bucket else (24, 16)

    def edit():
        for number in range(edits):
            for name in ("x.jpg", "y.jpg"):
                answer = editor.patch_json(f"/item?path=p/{name}", {"addTags": [f"t{number}"]}, status="*")
                assert answer.status_int in (200, 404), answer.body
                if answer.status_int == 200:
                    acknowledged.append(f"t{number}")
                    break

    def rename():
        for _ in range(renames):
            for old, new in (("x.jpg", "y.jpg"), ("y.jpg", "x.jpg")):
                answer = mover.post_json("/move", {"src": f"p/{old}", "to": f"p/{new}"}, status="*")
                assert answer.status_int in (200, 404), answer.body

    race(edit, rename)
    assert acknowledged
    (name,) = [name for name in ("x.jpg", "y.jpg") if gallery.exists(f"p/{name}")]
    other = "y.jpg" if name == "x.jpg" else "x.jpg"
    assert not gallery.exists(f"p/{other}.json")  # no orphan holding the old name
    assert tags_of(editor, f"p/{name}") == sorted(set(acknowledged))
    assert listed(editor, "p") == [name]
    mover.post_json("/move", {"src": f"p/{name}", "to": f"p/{other}"}, status=200)  # the name is free


def test_two_moves_of_one_image_leave_it_whole_in_one_place(gallery):
    one, two = gallery.client, gallery.client
    pairs = [({"dest": "c"}, {"dest": "d"}), ({"dest": "c"}, "trash"), ({"to": "a/renamed.jpg"}, {"dest": "d"})]
    for folder in ("c", "d"):
        gallery.put(f"{folder}/keep.jpg", jpeg())
    for number, (first, second) in enumerate(pairs):
        src = f"a/x{number}.jpg"
        gallery.put(src, jpeg(color=(number, 9, 9)))
        tag(one, src, "mine")
        one.get(f"/thumb?path={src}", status=200)

        def act(client, how, src=src):
            if how == "trash":
                return client.post_json("/trash", {"paths": [src]}, status="*")
            return client.post_json("/move", dict(how, src=src), status="*")

        answers = race(lambda how=first: act(one, how), lambda how=second: act(two, how))
        assert statuses(answers) in ([200, 404], [200, 409]), [answer.body for answer in answers]
        (won,) = [answer for answer in answers if answer.status_int == 200]
        where = won.json["path"]
        assert tags_of(one, where) == ["mine"]
        assert gallery.exists(where + ".json")
        candidates = [src, f"c/x{number}.jpg", f"d/x{number}.jpg", "a/renamed.jpg", f"_trash_/x{number}.jpg"]
        for path in candidates:
            if path != where:
                assert not gallery.exists(path) and not gallery.exists(path + ".json"), path
        everywhere = [f"{folder}/{name}" for folder in ("a", "c", "d", "_trash_") for name in listed(one, folder)]
        assert [path for path in everywhere if path in candidates] == [where]  # listed once, where it is
        if where == "a/renamed.jpg":
            one.post_json("/move", {"src": where, "to": f"a/x{number}.jpg"}, status=200)


def test_reattachment_never_replaces_a_sidecar_that_is_there(gallery):
    client = gallery.client
    gallery.put("a/x.jpg", jpeg())
    gallery.index()  # the worker records the hash (in the listing: nobody described the image)
    digest = client.get("/folders?path=a").json["items"][0]["hash"]
    stored = {"v": 1, "tags": [], "notes": "", "star": None, "exif": {}, "hash": digest}  # as an older lenslet wrote
    mine = dict(stored, darktable={"history": 3})  # another program's key, no lenslet description
    gallery.put("a/x.jpg.json", json.dumps(mine).encode())
    # An orphan with the same content hash: a copy's sidecar whose image was deleted by hand.
    gallery.put("b/gone.jpg.json", json.dumps(dict(stored, tags=["orphan"])).encode())
    gallery.put("b/other.jpg", jpeg(color=(5, 5, 5)))
    gallery.index()
    assert json.loads(gallery.read("a/x.jpg.json")) == mine
    assert tags_of(client, "a/x.jpg") == []
    assert gallery.exists("b/gone.jpg.json")  # still an orphan, still reported
    assert client.get("/health").json["report"]["orphanSidecars"] == 1


def test_reattachment_never_touches_where_a_trashed_image_came_from(gallery):
    client = gallery.client
    gallery.put("a/x.jpg", jpeg())
    gallery.index()  # its sidecar holds the hash, and nobody described it
    client.post_json("/trash", {"paths": ["a/x.jpg"]}, status=200)
    stored = json.loads(gallery.read("_trash_/x.jpg.json"))
    gallery.put("b/gone.jpg.json", json.dumps(dict(stored, tags=["orphan"], originalPosition="b/gone.jpg")).encode())
    gallery.put("b/other.jpg", jpeg(color=(5, 5, 5)))
    gallery.index()
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}).json["path"] == "a/x.jpg"
    assert tags_of(client, "a/x.jpg") == []


def test_copying_a_described_folder_spreads_no_tags(gallery):
    client = gallery.client
    for number in range(4):
        gallery.put(f"card/{number}.jpg", jpeg(color=(number * 20, 0, 0)))
        tag(client, f"card/{number}.jpg", "beach" if number < 2 else f"n{number}")
    gallery.index()
    for number in range(4):  # re-imported from the card into a new folder
        gallery.put(f"again/{number}.jpg", gallery.read(f"card/{number}.jpg"))
    gallery.index()
    assert sorted(item["path"] for item in client.get("/search?q=beach").json["items"]) == \
        ["card/0.jpg", "card/1.jpg"]
    assert all(item["tags"] == [] for item in client.get("/folders?path=again").json["items"])
    assert client.get("/health").json["report"]["duplicates"] == 4


def test_edits_and_renames_in_two_gunicorn_processes_lose_no_tag(gunicorn, tree):
    """The same race across processes: gunicorn's two web processes and its worker share the locks."""
    import urllib.error

    from helpers import http

    (tree / "p").mkdir()
    (tree / "p" / "x.jpg").write_bytes(jpeg())
    server = gunicorn(env={"LENSLET_THUMB_INLINE": "0"}, args=("--threads", "4"))
    server.wait_until(lambda: server.get("/health")[0] == 200)
    acknowledged = []

    def call(method, path, body):
        try:
            return 200, http(method, server.url + path, body)
        except urllib.error.HTTPError as ex:
            return ex.code, None

    def edit(writer):
        for number in range(12):
            for name in ("x.jpg", "y.jpg"):
                status, _ = call("PATCH", f"/item?path=p/{name}", {"addTags": [f"w{writer}-{number}"]})
                assert status in (200, 404)
                if status == 200:
                    acknowledged.append(f"w{writer}-{number}")
                    break

    def rename():
        for _ in range(8):
            for old, new in (("x.jpg", "y.jpg"), ("y.jpg", "x.jpg")):
                assert call("POST", "/move", {"src": f"p/{old}", "to": f"p/{new}"})[0] in (200, 404)

    race(lambda: edit(1), lambda: edit(2), rename)
    (name,) = [name for name in ("x.jpg", "y.jpg") if (tree / "p" / name).exists()]
    other = "y.jpg" if name == "x.jpg" else "x.jpg"
    assert not (tree / "p" / f"{other}.json").exists()
    stored = json.loads((tree / "p" / f"{name}.json").read_text())
    assert sorted(stored["tags"]) == sorted(set(acknowledged))


@pytest.mark.parametrize("gallery", ["s3"], indirect=True)  # on disk a waiting edit cannot be told from a slow one
def test_an_edit_while_the_worker_records_a_hash_is_never_patched_over_in_the_listing(gallery, monkeypatch):
    client = tagged(gallery, "a.jpg", "first")
    client.get("/folders")  # a listing for the worker to patch
    monkeypatch.setattr(s3, "LEASE_WAIT", 0.0)  # an edit finding the image held answers 503 at once
    record_hash, answers = store.record_hash, []

    def then_an_edit(*args):  # an edit, and a reader listing it, between the worker's sidecar write and its patch
        recorded = record_hash(*args)
        editor = threading.Thread(target=lambda: answers.append(
            client.patch_json("/item?path=a.jpg", {"addTags": ["second"]}, expect_errors=True).status_int))
        editor.start()
        editor.join()
        client.get("/folders")
        return recorded

    monkeypatch.setattr(store, "record_hash", then_an_edit)
    Catalog(Tree(gallery.config, gallery.storage), gallery.config).hashed(gallery.storage, "", {"a.jpg": HASH})
    if answers == [503]:  # refused while the worker held the image: the person sends it again
        client.patch_json("/item?path=a.jpg", {"addTags": ["second"]})
    assert answers in ([200], [503])
    assert client.get("/item?path=a.jpg").json["tags"] == ["first", "second"]
    [item] = client.get("/folders").json["items"]
    assert item["tags"] == ["first", "second"] and item["hash"] == HASH
