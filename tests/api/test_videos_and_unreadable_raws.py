"""What lenslet cannot show is listed with a placeholder, never hidden: videos (never decoded, their
files served) and raws without a usable preview; every item says its kind and whether it has a preview."""

import io

import pytest
from helpers import draw, jpeg
from PIL import Image

from lenslet.layout import kind_of, mime_of

VIDEO = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2" + bytes(200)


@pytest.fixture
def clips(tree):
    draw(tree / "a" / "photo.jpg")
    (tree / "a" / "clip.mp4").write_bytes(VIDEO)
    (tree / "a" / "Holiday.MOV").write_bytes(VIDEO)
    # JPEG bytes under a video's name: anything that decoded videos would make a picture of it.
    (tree / "a" / "trap.webm").write_bytes(jpeg((300, 200)))
    (tree / "a" / "bare.cr3").write_bytes(b"\0\0\0\x18ftypcrx \0\0\0\x01crx isom" + bytes(64))
    return tree


def items(client, folder="a"):
    return {item["name"]: item for item in client.get(f"/folders?path={folder}").json["items"]}


def test_videos_and_unreadable_raws_are_listed_with_their_kind_and_no_preview(client, clips):
    found = items(client)
    assert {name: (item["kind"], item["preview"]) for name, item in found.items()} == {
        "photo.jpg": ("image", True), "clip.mp4": ("video", False), "Holiday.MOV": ("video", False),
        "trap.webm": ("video", False), "bare.cr3": ("raw", False)}
    assert (found["trap.webm"]["w"], found["trap.webm"]["type"], "error" in found["trap.webm"]) == \
        (None, "video/webm", False)
    assert "error" in found["bare.cr3"]


def test_a_video_is_never_decoded_its_thumbnail_and_preview_answer_415(client, clips):
    for what in ("thumb", "preview"):
        answer = client.get(f"/{what}?path=a/trap.webm", status=415).json
        assert answer["kind"] == "video" and answer["placeholder"] is True
    client.head("/thumb?path=a/clip.mp4", status=415)
    assert not (clips / "a" / "trap.webm.thumbnail").exists()


def test_the_worker_makes_no_thumbnail_of_a_video_and_reports_none_missing(client, clips, config, storage):
    from helpers import index_tree
    index_tree(config, storage)
    assert not list(clips.rglob("*.webm.thumbnail")) and not list(clips.rglob("*.mp4.thumbnail"))
    assert (clips / "a" / "photo.jpg.thumbnail").exists()
    health = client.get("/health").json
    assert "a/trap.webm" not in str(health) and "a/clip.mp4" not in str(health)


def test_a_videos_file_is_served_with_ranges_and_its_details_say_what_it_is(client, clips):
    answer = client.get("/file?path=a/clip.mp4", headers={"Range": "bytes=4-7"}, status=206)
    assert answer.body == b"ftyp" and answer.content_type == "video/mp4"
    details = client.get("/item?path=a/trap.webm").json
    assert (details["type"], details["w"], "error" in details) == ("video/webm", None, False)


def test_a_video_is_tagged_searched_moved_trashed_and_restored_like_an_image(client, clips):
    client.patch_json("/item?path=a/clip.mp4", {"addTags": ["birthday"]})
    assert [item["path"] for item in client.get("/search?q=birthday").json["items"]] == ["a/clip.mp4"]
    client.post("/folder?path=b", status=201)
    client.post_json("/move", {"src": "a/clip.mp4", "dest": "b"})
    assert items(client, "b")["clip.mp4"]["tags"] == ["birthday"]
    client.post_json("/trash", {"paths": ["b/clip.mp4"]})
    trashed = client.get("/folders?path=_trash_").json["items"][0]["path"]
    client.post_json("/restore", {"paths": [trashed]})
    assert items(client, "b")["clip.mp4"]["kind"] == "video"


def test_a_video_is_counted_but_never_a_cover(client, clips):
    (clips / "v").mkdir()
    (clips / "v" / "a.mp4").write_bytes(VIDEO)
    entry = next(d for d in client.get("/folders").json["dirs"] if d["name"] == "v")
    assert (entry["images"], entry["cover"]) == (1, None)


def test_a_video_uploaded_is_listed_with_a_placeholder_until_the_worker_makes_its_poster(client, clips):
    assert client.post("/file", {"dest": "a"}, upload_files=[("file", "new.mp4", VIDEO)]).json["path"] == "a/new.mp4"
    assert (clips / "a" / "new.mp4").read_bytes() == VIDEO
    entry = next(item for item in client.get("/folders?path=a").json["items"] if item["name"] == "new.mp4")
    assert (entry["kind"], entry["preview"]) == ("video", False)


@pytest.mark.parametrize("name, kind, mime", [
    ("a.mp4", "video", "video/mp4"), ("a.M4V", "video", "video/x-m4v"), ("a.mov", "video", "video/quicktime"),
    ("a.webm", "video", "video/webm"), ("a.mkv", "video", "video/x-matroska"), ("a.cr3", "raw", "image/x-canon-cr3"),
    ("a.NEF", "raw", "image/x-nikon-nef"), ("a.jpg", "image", "image/jpeg"), ("mp4", "image", None),
])
def test_kind_of_a_name(name, kind, mime):
    assert (kind_of(name), mime_of(name)) == (kind, mime)


def test_a_cr3_is_shown_through_its_preview_box_upright(client, tree):
    from helpers import cr3, image_bytes
    (tree / "shot.cr3").write_bytes(cr3(image_bytes((480, 320)), image_bytes((160, 120))))
    [item] = client.get("/folders").json["items"]
    assert (item["kind"], item["preview"], item["w"], item["h"], item["type"]) == \
        ("raw", True, 320, 480, "image/x-canon-cr3")
    thumb = Image.open(io.BytesIO(client.get("/thumb?path=shot.cr3").body))
    assert thumb.size[0] < thumb.size[1]  # turned by CMT1's orientation (6)
    assert client.get("/item?path=shot.cr3").json["exif"]["model"] == "Canon EOS R5"
    assert client.get("/file?path=shot.cr3").content_type == "image/x-canon-cr3"


def test_a_listing_counts_videos_apart_from_images(client, clips):
    page = client.get("/folders?path=a").json
    assert (page["images"], page["videos"]) == (5, 3)
    entry = next(d for d in client.get("/folders").json["dirs"] if d["name"] == "a")
    assert (entry["images"], entry["videos"]) == (5, 3)
    assert [item["type"] for item in page["items"] if item["name"] == "clip.mp4"] == ["video/mp4"]


def test_a_scoped_listing_counts_only_the_videos_its_reader_sees(gallery, tmp_path):
    from test_users import World
    gallery.put("family/clip.mp4", VIDEO)
    gallery.put("family2/a.mp4", VIDEO)
    gallery.put("family2/b.mp4", VIDEO)
    world = World(gallery, tmp_path)
    own = world.get("viewer", "/folders?path=family").json
    assert (own["images"], own["videos"]) == (2, 1)  # family/a.jpg and the clip (sub/b.jpg is below)
    root = world.get("viewer", "/folders").json
    assert [(d["name"], d["videos"]) for d in root["dirs"]] == [("family", 1)] and root["videos"] == 0
    assert world.get("admin", "/folders?path=family2").json["videos"] == 2
    assert world.get("viewer", "/folders?path=family2").status_int == 404
