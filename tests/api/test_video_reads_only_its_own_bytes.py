"""ffmpeg reads only a video's own bytes, as the one container they announce: a file named like a video
that is an HLS playlist or a concat script naming another file gets the placeholder, never that file's
frame or length, and a line in the health report. Test videos are made by ffmpeg itself."""

import io
import json
import shutil
import subprocess

import pytest
import webtest
from helpers import index_tree
from openapi_check import spec_checked
from PIL import Image

from lenslet.app import create_app
from lenslet.config import Config
from lenslet.people.users import Directory
from lenslet.storage import open_storage

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed")
MAGENTA = (255, 0, 255)


def make_video(path, source="testsrc=size=64x48:rate=10:duration=2", codec="mpeg4"):
    """A clip made by ffmpeg (an MP4's index lands at its end, as ffmpeg writes it by default)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", source, "-c:v", codec, "-pix_fmt", "yuv420p",
                    str(path)], check=True, timeout=60)
    return path


def playlist(entry):
    return f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3,\n{entry}\n#EXT-X-ENDLIST\n"


@pytest.fixture
def planted(tree):
    """private/secret.mp4: three magenta seconds; public/ holds real videos and files that name the secret."""
    secret = make_video(tree / "private" / "secret.mp4", "color=c=0xff00ff:size=64x48:rate=10:duration=3")
    public = tree / "public"
    make_video(public / "real.mp4")
    make_video(public / "real.mov")
    make_video(public / "real.webm", codec="libvpx")
    (public / "clip.mp4").write_text(playlist(f"file:{secret}"))
    # Relative to /dev/stdin, where ffmpeg reads the video from.
    (public / "relative.mov").write_text(playlist(f"..{secret}"))
    (public / "list.mkv").write_text(f"ffconcat version 1.0\nfile {secret}\n")
    return tree


PLANTED = ["public/clip.mp4", "public/relative.mov", "public/list.mkv"]
REAL = ["public/real.mp4", "public/real.mov", "public/real.webm"]


@needs_ffmpeg
def test_a_planted_playlist_gets_the_placeholder_and_a_line_in_the_health_report(client, config, storage, planted):
    index_tree(config, storage)
    report = json.loads((planted / "_health.json").read_text())
    for path in PLANTED:
        answer = client.get(f"/thumb?path={path}", status=415).json
        assert (answer["kind"], answer["placeholder"]) == ("video", True)
        assert client.get(f"/item?path={path}").json["duration"] is None
        assert "not a video container" in report["files"]["errors"][path]
    for path in REAL:
        poster = Image.open(io.BytesIO(client.get(f"/thumb?path={path}").body))
        assert poster.size == (64, 48) and poster.convert("RGB").getpixel((32, 24)) != MAGENTA
        assert client.get(f"/item?path={path}").json["duration"] == pytest.approx(2.0, abs=0.15)
        assert path not in report["files"]["errors"]


@needs_ffmpeg
def test_on_disk_and_s3_a_playlist_reads_no_file_of_the_server(gallery, tmp_path):
    secret = make_video(tmp_path / "elsewhere" / "secret.mp4", "color=c=0xff00ff:size=64x48:rate=10:duration=3")
    gallery.put("public/clip.mp4", playlist(f"file:{secret}").encode())
    gallery.put("public/real.mp4", make_video(tmp_path / "real.mp4").read_bytes())
    runner = gallery.index()
    client = gallery.client
    assert client.get("/thumb?path=public/clip.mp4", status=415).json["placeholder"] is True
    assert client.get("/item?path=public/clip.mp4").json["duration"] is None
    assert "not a video container" in runner.errors["public/clip.mp4"]
    assert client.get("/item?path=public/real.mp4").json["duration"] == pytest.approx(2.0, abs=0.15)


@needs_ffmpeg
def test_a_user_of_the_public_folder_sees_nothing_of_the_private_video(tree, tmp_path, planted):
    directory = Directory(str(tmp_path / "users.json"))
    kid = {"Authorization": f"Bearer {directory.add('kid', 'view', ['public'])}"}
    config = Config(root=str(tree), users=directory.path)
    index_tree(config, open_storage(config))
    client = webtest.TestApp(spec_checked(create_app(config)))
    client.get("/thumb?path=private/secret.mp4", headers=kid, status=404)
    client.get("/thumb?path=public/clip.mp4", headers=kid, status=415)
    assert client.get("/item?path=public/clip.mp4", headers=kid).json["duration"] is None
    assert client.get("/item?path=public/real.mp4", headers=kid).json["duration"] == pytest.approx(2.0, abs=0.15)


@pytest.mark.parametrize("head, demuxer", [
    (b"\0\0\0\x1cftypisom" + bytes(600), "mov"),
    (b"\0\0\0\x08wide\0\0\0\x10mdat" + bytes(600), "mov"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81" + bytes(600), "matroska"),
    (b"RIFF\x04\x37\0\0AVI LIST" + bytes(600), "avi"),
    ((b"G" + bytes(187)) * 4, "mpegts"),
    ((b"\0\0\0\0G" + bytes(187)) * 4, "mpegts"),
    (playlist("file:/srv/private/secret.mp4").encode(), None),
    (b"ffconcat version 1.0\nfile secret.mp4\n", None),
    (b"\xff\xd8\xff\xe0\0\x10JFIF" + bytes(600), None),
    (b"G" + bytes(600), None),
    (b"", None),
])
def test_a_container_is_told_by_its_first_bytes(head, demuxer):
    from lenslet.images.video import demuxer_of
    assert demuxer_of(head) == demuxer
