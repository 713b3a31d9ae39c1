"""A living tree on both backends: the reliability cases that apply to a bucket, run on local disk and S3.

Other programs write objects straight into the bucket (`gallery.put`); the user is promised the same
as on disk (tests/test_living.py): no 5xx, no acknowledged tag lost, nothing changed on refusal.
Cases about symlinks, FIFOs, inodes, a full disk or names a bucket cannot hold stay in test_living.py.
"""

import orjson
import pytest
from helpers import jpeg


def ok(answer):
    """No 5xx: lenslet answered on purpose."""
    assert answer.status_int < 500, answer.body
    return answer


def backups(gallery, name):
    """The bytes of every `name.bad-<time>` backup next to a sidecar, by key."""
    if gallery.config.s3_bucket:
        listed = gallery.s3.list_objects_v2(Bucket=gallery.config.s3_bucket, Prefix=f"photos/{name}.bad-")
        return [gallery.read(entry["Key"][len("photos/"):]) for entry in listed.get("Contents", [])]
    return [path.read_bytes() for path in gallery.root.glob(f"{name}.bad-*")]


# -- sidecars lenslet cannot parse -------------------------------------------------------

UNREADABLE = {"bom": b'\xef\xbb\xbf{"tags": ["keep"]}', "latin1": b'{"tags": ["caf\xe9"]}',
              "nan": b'{"tags": ["keep"], "star": NaN}', "deep": b"[" * 1100 + b"]" * 1100}


# Each on disk, one in a bucket: the others differ only in bytes that the same code parses from either storage.
@pytest.mark.parametrize("gallery, raw", [*(("local", raw) for raw in UNREADABLE.values()), ("s3", UNREADABLE["bom"])],
                         ids=[*(f"local-{name}" for name in UNREADABLE), "s3-bom"], indirect=["gallery"])
def test_an_unreadable_sidecar_is_never_merged_into(gallery, raw):
    gallery.put("a.jpg", jpeg())
    gallery.put("a.jpg.json", raw)
    client = gallery.client
    body = ok(client.get("/item?path=a.jpg")).json
    assert body["unreadable"] is True and "overwrite" in body["error"]
    answer = client.patch_json("/item?path=a.jpg", {"addTags": ["new"]}, expect_errors=True)
    assert answer.status_int == 409 and "overwrite=true" in answer.json["description"]
    assert client.put_json("/item?path=a.jpg", {"tags": ["new"]}, expect_errors=True).status_int == 409
    gallery.index()  # the hash is recorded elsewhere, never into this object
    assert gallery.read("a.jpg.json") == raw
    client.put_json("/item?path=a.jpg&overwrite=true", {"tags": ["new"]})
    assert client.get("/item?path=a.jpg").json["tags"] == ["new"]
    assert backups(gallery, "a.jpg.json") == [raw]


def test_a_whole_number_float_star_is_kept(gallery):
    gallery.put("a.jpg", jpeg())
    gallery.put("a.jpg.json", b'{"tags": ["t"], "star": 4.0}')
    gallery.index()
    assert gallery.client.get("/item?path=a.jpg").json["star"] == 4
    assert orjson.loads(gallery.read("a.jpg.json"))["star"] in (4, 4.0)


# -- growth caps -------------------------------------------------------------------------------

def test_the_tag_cap_is_the_same_on_patch_and_put(gallery):
    gallery.put("a.jpg", jpeg())
    client = gallery.client
    client.put_json("/item?path=a.jpg", {"tags": [f"t{n}" for n in range(500)]})
    before = gallery.read("a.jpg.json")
    assert client.patch_json("/item?path=a.jpg", {"addTags": ["one more"]}, expect_errors=True).status_int == 400
    stale = {"tags": ["one more"], "updatedAt": "2000-01-01T00:00:00Z"}  # merged with the stored tags
    assert client.put_json("/item?path=a.jpg", stale, expect_errors=True).status_int == 400
    assert gallery.read("a.jpg.json") == before
    body = client.get("/item?path=a.jpg").json
    assert ok(client.put_json("/item?path=a.jpg", dict(body, notes="still saved"))).json["notes"] == "still saved"


def test_unknown_keys_cannot_grow_a_sidecar_without_bound(gallery):
    gallery.put("a.jpg", jpeg())
    client = gallery.client
    answers = [client.put_json("/item?path=a.jpg", {f"k{n}-{m}": "x" * 2000 for m in range(20)},
                               expect_errors=True).status_int for n in range(20)]
    assert 200 in answers and set(answers) <= {200, 400, 413}
    assert len(gallery.read("a.jpg.json")) <= 512 * 1024


def test_a_sidecar_past_the_size_cap_answers_413_and_changes_nothing(gallery):
    gallery.put("a.jpg", jpeg())
    client = gallery.client
    # One body is capped below the sidecar's cap: unknown keys kept from earlier PUTs make it grow.
    client.put_json("/item?path=a.jpg", {"k0": "x" * 200_000})
    client.put_json("/item?path=a.jpg", {"k1": "x" * 200_000})
    before = gallery.read("a.jpg.json")
    answer = client.put_json("/item?path=a.jpg", {"k2": "x" * 200_000}, expect_errors=True)
    assert answer.status_int == 413 and answer.json["title"]
    assert gallery.read("a.jpg.json") == before
    assert ok(client.patch_json("/item?path=a.jpg", {"addTags": ["still"]})).json["tags"] == ["still"]


# -- foreign derived files ------------------------------------------------------------------------

def test_foreign_derived_files_are_worked_around_and_rebuilt(gallery):
    gallery.put("a.jpg", jpeg())
    gallery.put("sub/b.jpg", jpeg())
    gallery.put("_health.json", b"[1,2,3]")
    gallery.put("sub/_index.json", b'{"v": 1, "items": [1, "x", {"name": 7}]')
    gallery.put("_rollup.json", b'{"v": 1, "count": 2, "items":[\n1,\n"x"\n]}\n')
    client = gallery.client
    assert ok(client.get("/health")).json["report"] is None
    assert [item["name"] for item in ok(client.get("/folders?path=sub")).json["items"]] == ["b.jpg"]
    ok(client.get("/search?q=a"))
    runner = gallery.index()
    runner.health()
    assert isinstance(orjson.loads(gallery.read("_health.json")), dict)
    assert [item["name"] for item in orjson.loads(gallery.read("sub/_index.json"))["items"]] == ["b.jpg"]
    assert isinstance(ok(client.get("/health")).json["report"], dict)
    client = gallery.client  # a web process started now (a running one looks again within a second)
    assert [item["name"] for item in ok(client.get("/search?q=b")).json["items"]] == ["b.jpg"]
    assert [item["name"] for item in ok(client.get("/folders?path=sub")).json["items"]] == ["b.jpg"]


# -- a folder copied by another program ------------------------------------------------------------

def test_a_folder_copied_by_another_program_lists_its_new_paths(gallery):
    gallery.put("a/x.jpg", jpeg())
    client = gallery.client
    client.patch_json("/item?path=a/x.jpg", {"addTags": ["kept"]})
    ok(client.get("/folders?path=a"))
    gallery.index()
    assert gallery.exists("a/_index.json")
    # Another program "renames" a/ to b/ the only way a bucket can: copy every object, manifest included.
    for name in ("x.jpg", "x.jpg.json", "_index.json"):
        gallery.put(f"b/{name}", gallery.read(f"a/{name}"))
    items = ok(client.get("/folders?path=b")).json["items"]
    assert [item["path"] for item in items] == ["b/x.jpg"]
    assert items[0]["tags"] == ["kept"]
    assert client.get("/item?path=b/x.jpg").json["tags"] == ["kept"]
    gallery.index()
    found = gallery.client.get("/search", {"q": "kept"}).json["items"]
    assert sorted(item["path"] for item in found) == ["a/x.jpg", "b/x.jpg"]


# -- hostile pointer files ----------------------------------------------------------------------------

@pytest.mark.parametrize("pointer", [
    orjson.dumps({"version": 1, "kind": "pointer", "target": {"type": "local", "path": "/tmp/a\x00b"}}),
    b'{"version": 1, "kind": "pointer", "target": {"type": "local", "path": "/x"}, "pad": "' + b"x" * 1_000_000 + b'"}',
], ids=["nul", "oversized"])
def test_a_hostile_pointer_answers_4xx_and_scans_go_on(gallery, pointer):
    gallery.put("p/.lenslet.folder.json", pointer)
    gallery.put("q/a.jpg", jpeg())
    client = gallery.client
    assert client.get("/folders?path=p", expect_errors=True).status_int in (400, 403, 502)
    assert ok(client.get("/folders")).status_int == 200
    gallery.index()
    assert gallery.exists("q/a.jpg.thumbnail")


# -- names ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("length", [251, 255])
def test_an_image_with_a_long_name_can_be_tagged(gallery, length):
    name = "é" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".jpg"
    assert len(name.encode()) == length
    gallery.put(name, jpeg())
    client = gallery.client
    ok(client.patch_json(f"/item?path={name}", {"addTags": ["long"]}))
    assert client.get("/item", {"path": name}).json["tags"] == ["long"]
    [item] = client.get("/folders").json["items"]
    assert item["name"] == name and item["tags"] == ["long"] and item["hasMeta"]


# -- search folds Unicode ---------------------------------------------------------------------------

# Each on disk; in a bucket the two that name a decomposed key: İ folds by the same code from either storage.
@pytest.mark.parametrize("gallery, query, found", [
    *(("local", *case) for case in [("café", "cafe\u0301.jpg"), ("cafe", "cafe\u0301.jpg"),
                                    ("istanbul", "İstanbul.jpg"), ("holidays", "İstanbul.jpg")]),
    ("s3", "café", "cafe\u0301.jpg"), ("s3", "cafe", "cafe\u0301.jpg")], indirect=["gallery"])
def test_search_folds_unicode(gallery, query, found):
    gallery.put("cafe\u0301.jpg", jpeg())
    gallery.put("Holidays/İstanbul.jpg", jpeg())
    gallery.index()
    names = [item["name"] for item in ok(gallery.client.get("/search", {"q": query})).json["items"]]
    assert names == [found]
