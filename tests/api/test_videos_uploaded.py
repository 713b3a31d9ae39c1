"""A phone's videos uploaded (POST and PUT /file, WebDAV's PUT): every container lenslet lists, told from its first
bytes, stored as it streams in under a limit of its own (LENSLET_MAX_VIDEO_UPLOAD), listed, found by search, its
poster made by the worker; a live photo's picture and video sent one after the other make one stack."""

import base64
import io

import pytest
from helpers import CLIPS, clip, heic, jpeg, listed_names, upload
from PIL import Image

from lenslet.images import pillow


def items(client, folder=""):
    return {item["name"]: item for item in client.get(f"/folders?path={folder}").json["items"]}



# Every container on disk, one in a bucket: each is read by the same code from either storage.
@pytest.mark.parametrize("gallery, extension", [*(("local", name) for name in sorted(CLIPS)), ("s3", ".mp4")],
                         indirect=["gallery"])
def test_each_listed_video_is_uploaded_listed_and_gets_its_poster(gallery, extension):
    client, video = gallery.client, clip(extension)
    assert upload(client, "/", "clip" + extension, video) == {"ok": True, "path": "clip" + extension,
                                                              "name": "clip" + extension}
    assert gallery.read("clip" + extension) == video
    listed = items(client)["clip" + extension]
    assert listed["kind"] == "video" and listed["hash"] == pillow.content_hash(video)
    assert [hit["path"] for hit in client.get("/search?q=clip").json["items"]] == ["clip" + extension]
    gallery.run_jobs()
    assert Image.open(io.BytesIO(client.get(f"/thumb?path=clip{extension}").body)).size == (64, 48)


def test_a_video_sent_without_a_name_takes_its_containers_extension(client):
    assert upload(client, "/", "clip", clip(".mov"))["name"] == "clip.mov"
    assert client.put("/file?path=video", clip(".webm"), status=201).json["name"] == "video.webm"


@pytest.mark.parametrize("name, data, kind", [
    ("holiday.jpg", lambda: clip(".mp4"), "video/mp4"),    # a video with a photo's extension
    ("IMG_0001.mov", jpeg, "image/jpeg"),                  # a photo with a video's
    ("IMG_0002.mp4", heic, "image/heic"),
])
def test_a_video_named_as_a_photo_or_a_photo_as_a_video_is_415_and_nothing_is_kept(gallery, name, data, kind):
    client = gallery.client
    refused = upload(client, "/", name, data(), status=415)
    assert refused["type"] == kind and "its own extension" in refused["description"]
    client.put(f"/file?path={name}", data(), status=415)
    assert not gallery.exists(name) and listed_names(client) == ([], [])


@pytest.mark.parametrize("data", [b"not a video at all, only text", b"\0" * 4096, b"RIFF\0\0\0\0WAVEfmt "])
def test_a_fake_video_is_415_and_nothing_is_kept(client, tree, data):
    answer = upload(client, "/", "clip.mp4", data, status=415)
    assert "nor a video" in answer["description"]
    assert list(tree.iterdir()) == []


def test_a_video_has_a_limit_of_its_own_and_past_it_is_413_with_nothing_left(gallery):
    video, photo = clip(".mp4"), jpeg(size=(300, 200))
    client = gallery.with_settings(max_upload=len(video) - 1, max_video_upload=len(video))
    assert upload(client, "/", "fits.mp4", video)["path"] == "fits.mp4"  # larger than a photo may be
    big = upload(client, "/", "big.mp4", video + b"\0", status=413)
    assert big["limit"] == len(video) and "LENSLET_MAX_VIDEO_UPLOAD" in big["description"]
    client.put("/file?path=big.mp4", video + b"\0", status=413)
    client = gallery.with_settings(max_upload=len(photo) - 1, max_video_upload=10 * len(photo))
    assert "LENSLET_MAX_UPLOAD" in upload(client, "/", "big.jpg", photo, status=413)["description"]
    assert not gallery.exists("big.mp4") and not gallery.exists("big.jpg")
    assert listed_names(client) == (["fits.mp4"], [])


def test_a_body_announced_past_every_limit_is_413_before_it_is_read(client_with, tree):
    client = client_with(max_upload=1000, max_video_upload=5000)
    answer = client.put("/file?path=big.mp4", clip(".mp4"), headers={"Content-Length": "5001"}, status=413,
                        expect_errors=True)
    assert answer.json["limit"] == 5000 and not (tree / "big.mp4").exists()


@pytest.mark.parametrize("first", ["IMG_0007.HEIC", "IMG_0007.MOV"])
def test_a_live_photos_picture_and_video_sent_one_after_the_other_are_one_live_photo(gallery, first):
    client, sent = gallery.client, {"IMG_0007.HEIC": heic(), "IMG_0007.MOV": clip(".mov")}
    client.post_json("/folder", {"path": "roll"})
    for name in sorted(sent, key=lambda name: name != first):
        upload(client, "/roll", name, sent[name])
    listed = items(client, "roll")
    stack = {"front": "IMG_0007.HEIC", "members": ["IMG_0007.HEIC", "IMG_0007.MOV"], "kind": "live"}
    assert listed["IMG_0007.HEIC"]["stack"] == stack and listed["IMG_0007.MOV"]["stack"] == stack
    gallery.run_jobs()
    assert client.get("/thumb?path=roll/IMG_0007.MOV").status_int == 200


def test_webdav_put_takes_a_video_and_a_second_put_of_it_changes_nothing(client_with, tree):
    client = client_with(token="secret")
    headers = {"Authorization": "Basic " + base64.b64encode(b"any:secret").decode()}
    video = clip(".mp4")
    assert client.request("/dav/clip.mp4", method="PUT", body=video, headers=headers).status_int == 201
    assert client.request("/dav/clip.mp4", method="PUT", body=video, headers=headers).status_int == 204
    assert (tree / "clip.mp4").read_bytes() == video
    refused = client.request("/dav/clip.mp4", method="PUT", body=jpeg(), headers=headers, expect_errors=True)
    assert refused.status_int == 415 and (tree / "clip.mp4").read_bytes() == video
