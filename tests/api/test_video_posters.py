"""A video's poster and length, made by the worker with ffmpeg when it is installed (LENSLET_FFMPEG); without
it, no thumbnail: the page draws a placeholder. Test videos are made by ffmpeg itself, two seconds of 64x48."""

import dataclasses
import io
import shutil
import subprocess

import pytest
from helpers import draw, index_tree
from PIL import Image

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")


def make_video(path, seconds=2, codec="libvpx"):
    """A test pattern of seconds at 64x48 (VP8 in WebM by default)."""
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc=size=64x48:rate=10:duration={seconds}",
                    "-c:v", codec, "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


@pytest.fixture
def videos(tree):
    (tree / "a").mkdir()
    make_video(tree / "a" / "clip.webm")
    make_video(tree / "a" / "short.mp4", seconds=0.5, codec="mpeg4")
    (tree / "a" / "broken.mp4").write_bytes(b"\0\0\0\x18ftypisom" + bytes(100))
    draw(tree / "a" / "photo.jpg")
    return tree


def items(client, folder="a"):
    return {item["name"]: item for item in client.get(f"/folders?path={folder}").json["items"]}


@needs_ffmpeg
def test_the_worker_makes_a_videos_poster_and_records_its_length(client, config, storage, videos):
    runner = index_tree(config, storage)
    listed = items(client)
    assert {name: item["preview"] for name, item in listed.items()} == {
        "clip.webm": True, "short.mp4": True, "broken.mp4": False, "photo.jpg": True}
    poster = Image.open(io.BytesIO(client.get("/thumb?path=a/clip.webm").body))
    assert poster.format == "WEBP" and poster.size == (64, 48)
    assert client.get("/item?path=a/clip.webm").json["duration"] == pytest.approx(2.0, abs=0.15)
    assert client.get("/item?path=a/short.mp4").json["duration"] == pytest.approx(0.5, abs=0.15)  # its first frame
    assert client.get("/item?path=a/broken.mp4").json["duration"] is None
    assert "ffmpeg found no video" in runner.errors["a/broken.mp4"]
    client.get("/thumb?path=a/broken.mp4", status=415)


@needs_ffmpeg
def test_a_jpeg_under_a_videos_name_gets_no_poster(client, config, storage, tree):
    (tree / "trap.webm").write_bytes(_jpeg())  # no video container: never handed to ffmpeg
    runner = index_tree(config, storage)
    assert "not a video container" in runner.errors["trap.webm"]
    assert not (tree / "trap.webm.thumbnail").exists()


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(out, "JPEG")
    return out.getvalue()


@needs_ffmpeg
def test_without_ffmpeg_a_video_has_no_thumbnail_and_answers_415_placeholder(client_with, config, storage, videos):
    # The same tree, served with LENSLET_FFMPEG empty (as where ffmpeg is not installed).
    config = dataclasses.replace(config, ffmpeg="")
    index_tree(config, storage)
    assert not list(videos.rglob("*.webm.thumbnail")) and not list(videos.rglob("*.mp4.thumbnail"))
    client = client_with(ffmpeg="")
    answer = client.get("/thumb?path=a/clip.webm", status=415).json
    assert answer["placeholder"] is True and items(client)["clip.webm"]["preview"] is False
    assert client.get("/item?path=a/clip.webm").json["duration"] is None


def test_a_missing_ffmpeg_is_found_missing_once(tmp_path):
    from lenslet.images import video
    assert video.available("") is False
    assert video.available(str(tmp_path / "no-such-ffmpeg")) is False


@pytest.mark.parametrize("messages, seconds", [
    (b"  Duration: 00:00:02.00, start: 0.000000, bitrate: 13 kb/s", 2.0),
    (b"  Duration: 01:02:03.50, start", 3723.5),
    (b"  Duration: N/A, start: 0.000000, bitrate: N/A", None),
    (b"", None),
])
def test_the_length_ffmpeg_states(messages, seconds):
    from lenslet.images.video import duration_in
    assert duration_in(messages) == seconds


@needs_ffmpeg
def test_a_videos_original_streams_with_ranges(client, videos):
    whole = (videos / "a" / "clip.webm").read_bytes()
    answer = client.get("/file?path=a/clip.webm", headers={"Range": "bytes=100-"}, status=206)
    assert answer.body == whole[100:] and answer.content_type == "video/webm"
    assert answer.headers["Content-Range"] == f"bytes 100-{len(whole) - 1}/{len(whole)}"
    assert answer.headers["Accept-Ranges"] == "bytes"
