"""Bad input is refused or bounded: upload bombs, form bodies, unfinished uploads, moves without a
destination, refused restores, names that differ only by Unicode normalization (chunked bodies and
uploads cut short, under gunicorn: tests/system/test_chunked_bodies.py)."""

import json
import struct
import threading
import unicodedata
import zlib

import orjson
import pytest
import webtest
from helpers import BOUNDARY, FORM_TYPE, form, jpeg, listed_names, on_disk_alone, upload
from openapi_check import spec_checked

from lenslet.app import create_app


def png_bomb(width, height, cut=False):
    """A PNG of width x height black pixels, a few KB on disk: written row by row, never whole in memory.

    cut: the file stops half way, in its pixel data.
    """
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer, row = zlib.compressobj(9), bytes(1 + 3 * width)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return data[:len(data) // 2] if cut else data


# -- upload bombs ----------------------------------------------------------------

@on_disk_alone  # in a bucket: test_an_upload_named_like_an_nfd_file_meets_that_file
def test_an_upload_bomb_is_stored_with_its_thumbnail(gallery):
    bomb = png_bomb(6000, 5000)  # 30 megapixels, a few KB
    for client in (gallery.client, gallery.with_settings(thumb_inline=0)):  # no inline decode at all: still made
        answer = upload(client, "/", "bomb.png", bomb, conflict="rename")
        assert gallery.read(answer["path"]) == bomb
        item = next(i for i in client.get("/folders").json["items"] if i["name"] == answer["name"])
        assert item["hasThumb"] and item["hash"].startswith("blake3:")
        assert gallery.with_settings(thumb_inline=0, thumb_wait=0).get(f"/thumb?path={answer['path']}",
                                                                        status=200).body[:4] == b"RIFF"


def test_three_upload_bombs_at_once_are_all_answered_and_stored(gallery):
    app = spec_checked(create_app(gallery.config, gallery.storage))
    bomb, answers = png_bomb(6000, 5000), {}

    def send(n):
        answers[n] = webtest.TestApp(app).post("/file", {"dest": "/"}, expect_errors=True,
                                               upload_files=[("file", f"bomb{n}.png", bomb)])

    threads = [threading.Thread(target=send, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_int for answer in answers.values()) == [201, 201, 201]
    assert listed_names(gallery.client)[0] == ["bomb0.png", "bomb1.png", "bomb2.png"]
    assert all(gallery.read(f"bomb{n}.png") == bomb for n in range(3))


def test_a_big_upload_that_cannot_be_decoded_is_not_kept(gallery):
    client = gallery.client
    answer = upload(client, "/", "cut.png", png_bomb(6000, 5000, cut=True), status=422)
    assert answer["title"] == "Cannot decode image"
    upload(client, "/", "small.png", png_bomb(60, 50, cut=True), status=422)  # decoded in the web process
    assert listed_names(client) == ([], [])
    assert not gallery.exists("cut.png") and not gallery.exists("small.png")


@on_disk_alone  # in a bucket: test_an_upload_named_like_an_nfd_file_meets_that_file
def test_a_thumbnail_too_big_to_make_inline_is_left_to_the_worker(gallery):
    gallery.put("big.png", png_bomb(6000, 5000))
    gallery.put("small.jpg", jpeg())
    client = gallery.with_settings(thumb_wait=0)
    client.get("/thumb?path=small.jpg", status=200)  # small: made at once
    answer = client.get("/thumb?path=big.png", status=202)
    assert answer.json["poll"] == "/thumb?path=big.png"
    gallery.index()
    assert client.get("/thumb?path=big.png", status=200).body[:4] == b"RIFF"


# -- form bodies -----------------------------------------------------------------

@on_disk_alone  # in a bucket: test_an_upload_named_like_an_nfd_file_meets_that_file
def test_form_bodies_have_the_size_cap_of_json_bodies(gallery):
    gallery.put("a/x.jpg", jpeg())
    gallery.put("a/keep.jpg", jpeg())  # (on S3 a folder goes with its last file)
    gallery.put("b/y.jpg", jpeg())
    client = gallery.client
    padding = "p" * (300 * 1024)
    answer = client.post("/move", f"src=a/x.jpg&dest=b&pad={padding}", status=413,
                         content_type="application/x-www-form-urlencoded")
    assert answer.json["limit"] == 256 * 1024
    client.request("/move", method="POST", body=form(("src", "a/x.jpg"), ("dest", "b"), ("pad", padding)),
                   status=413, content_type=FORM_TYPE)
    client.post("/move", json.dumps({"src": "a/x.jpg", "dest": "b", "pad": padding}), status=413,
                content_type="application/json")
    assert gallery.exists("a/x.jpg") and not gallery.exists("b/x.jpg")
    # Within the cap, each kind is obeyed.
    client.post("/move", "src=a/x.jpg&dest=b", content_type="application/x-www-form-urlencoded", status=200)
    client.request("/move", method="POST", body=form(("src", "b/x.jpg"), ("dest", "a")), content_type=FORM_TYPE,
                   status=200)
    assert gallery.exists("a/x.jpg") and not gallery.exists("b/x.jpg")


# -- unfinished multipart bodies ---------------------------------------------------

@pytest.mark.parametrize("order", ["dest first", "file first"])
def test_a_multipart_upload_without_its_closing_boundary_stores_nothing(gallery, order):
    parts = [("dest", "/"), ("file", "open.jpg", jpeg())]
    body = form(*(parts if order == "dest first" else parts[::-1]), close=False)
    client = gallery.client
    answer = client.request("/file", method="POST", body=body, content_type=FORM_TYPE, status=400)
    assert "multipart" in answer.json["description"]
    assert listed_names(client) == ([], []) and not gallery.exists("open.jpg")
    # The same form, closed, is taken.
    client.request("/file", method="POST", body=body + f"--{BOUNDARY}--\r\n".encode(), content_type=FORM_TYPE,
                   status=201)
    assert listed_names(client)[0] == ["open.jpg"]


def test_a_multipart_move_without_its_closing_boundary_is_refused(gallery):
    gallery.put("a/x.jpg", jpeg())
    gallery.client.request("/move", method="POST", body=form(("src", "a/x.jpg"), ("dest", ""), close=False),
                           content_type=FORM_TYPE, status=400)
    assert gallery.exists("a/x.jpg") and not gallery.exists("x.jpg")


# -- /move needs a destination -------------------------------------------------------

def test_a_move_without_a_destination_is_refused(gallery):
    gallery.put("a/x.jpg", jpeg())
    gallery.put("a/y.jpg", jpeg())
    client = gallery.client
    for body in ({"src": "a/x.jpg"}, {"src": "a/x.jpg", "dest": None}, {"src": ["a/x.jpg", "a/y.jpg"]},
                 {"paths": ["a/x.jpg"], "to": None}):
        assert "dest" in client.post_json("/move", body, status=400).json["description"]
    client.post("/move", "src=a/x.jpg", content_type="application/x-www-form-urlencoded", status=400)
    assert listed_names(client, "a")[0] == ["x.jpg", "y.jpg"] and listed_names(client)[0] == []
    # An empty destination, given, is the root.
    assert client.post_json("/move", {"src": "a/x.jpg", "dest": ""}).json["path"] == "x.jpg"
    assert client.post("/move", "src=a/y.jpg&dest=", content_type="application/x-www-form-urlencoded",
                       status=200).json["path"] == "y.jpg"
    assert listed_names(client)[0] == ["x.jpg", "y.jpg"]


# -- a refused restore leaves nothing ---------------------------------------------------

def edit_sidecar(gallery, path, **fields):
    sidecar = orjson.loads(gallery.read(path + ".json"))
    gallery.put(path + ".json", orjson.dumps(dict(sidecar, **fields)))


def test_a_refused_restore_leaves_no_folder_behind(gallery):
    gallery.put("a/x.jpg", jpeg())
    client = gallery.client
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    edit_sidecar(gallery, "_trash_/x.jpg", originalPosition="made/on/the/way/x.txt")
    client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, status=400)
    assert "made" not in listed_names(client)[1] and not gallery.exists("made")
    edit_sidecar(gallery, "_trash_/x.jpg", originalPosition="made/on/the/way/x.jpg")  # the same, valid
    assert client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}).json["path"] == "made/on/the/way/x.jpg"


def test_a_restore_refused_at_a_pointer_folder_leaves_nothing_in_it(tmp_path, client_with, tree):
    archive = tmp_path / "archive"
    archive.mkdir()
    (tree / "arch").mkdir()
    (tree / "arch" / ".lenslet.folder.json").write_text(json.dumps(
        {"version": 1, "kind": "pointer", "target": {"type": "local", "path": str(archive)}}))
    (tree / "a").mkdir()
    (tree / "a" / "x.jpg").write_bytes(jpeg())
    client = client_with(pointer_roots=(str(tmp_path),))
    client.post_json("/trash", {"paths": ["a/x.jpg"]})
    sidecar = tree / "_trash_" / "x.jpg.json"
    sidecar.write_bytes(orjson.dumps(dict(orjson.loads(sidecar.read_bytes()), originalPosition="arch/new/x.jpg")))
    client.post_json("/restore", {"paths": ["_trash_/x.jpg"]}, status=400)
    assert sorted(p.name for p in (tree / "arch").iterdir()) == [".lenslet.folder.json"]
    assert list(archive.iterdir()) == []


# -- Unicode names --------------------------------------------------------------------

NFC, NFD = unicodedata.normalize("NFC", "café.jpg"), unicodedata.normalize("NFD", "café.jpg")


def test_an_upload_named_like_an_nfd_file_meets_that_file(gallery):
    assert NFC != NFD
    gallery.put(NFD, jpeg())
    client = gallery.client
    assert upload(client, "/", NFC, jpeg(color=(0, 0, 255)), status=409)["path"] == NFD
    assert upload(client, "/", NFD, jpeg(color=(0, 0, 255)), status=409)["path"] == NFD
    assert upload(client, "/", NFC, jpeg(), conflict="rename")["name"] == unicodedata.normalize("NFC", "café (1).jpg")
    blue = jpeg(color=(0, 0, 255))
    assert upload(client, "/", NFC, blue, conflict="replace")["path"] == NFD  # that very file, no twin
    assert gallery.read(NFD) == blue
    listed = listed_names(client)[0]
    assert sorted(unicodedata.normalize("NFC", name) for name in listed) == sorted(
        [unicodedata.normalize("NFC", "café (1).jpg"), NFC]) and NFD in listed


def test_a_move_or_restore_onto_an_nfd_name_meets_that_file(gallery):
    gallery.put(NFD, jpeg())
    gallery.put(f"a/{NFC}", jpeg(color=(0, 0, 255)))
    client = gallery.client
    client.post_json("/move", {"src": f"a/{NFC}", "dest": ""}, status=409)
    client.post_json("/move", {"src": f"a/{NFC}", "to": NFC}, status=409)
    assert client.post_json("/move", {"src": f"a/{NFC}", "dest": "", "conflict": "rename"}).json["path"] == \
        unicodedata.normalize("NFC", "café (1).jpg")
    # A trashed image whose old place was taken, meanwhile, by an NFD look-alike.
    gallery.put(f"b/{NFC}", jpeg(color=(0, 255, 0)))
    client.post_json("/trash", {"paths": [f"b/{NFC}"]})
    gallery.put(f"b/{NFD}", jpeg())
    client.post_json("/restore", {"paths": [f"_trash_/{NFC}"]}, status=409)
    assert listed_names(client, "b")[0] == [NFD]


@pytest.mark.parametrize("name, spelled", [
    ("photo.jpg", ["photo.jpg"]),
    (NFC, [NFC, NFD]),
    (NFD, [NFD, NFC]),
])
def test_a_name_is_looked_for_in_each_of_its_spellings(name, spelled):
    from lenslet.files.names import spellings
    assert spellings(name) == spelled
