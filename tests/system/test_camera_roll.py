"""A phone's camera roll through gunicorn with two web processes, on disk and on S3: photos, videos of every container
(half each way) and a live photo's HEIC and MOV, sent by rclone over WebDAV and by POST /file (as the page uploads
what was shared to it); each lands as sent, the pair lists as one live photo, the worker makes each video's poster,
and a video past its limit (413) or a fake one (415) leaves nothing."""

import io
import json
import subprocess
import urllib.request

import pytest
from helpers import CLIPS, clip, heic, jpeg, wait_until
from PIL import Image
from test_dav_clients import dav, names_in, rclone_server

LIVE = {"front": "IMG_0100.HEIC", "members": ["IMG_0100.HEIC", "IMG_0100.MOV"], "kind": "live"}



# Every container lenslet lists crosses a real client once: half sent by rclone, half posted (each container's upload
# and poster on disk and S3: tests/api/test_videos_uploaded.py).
SENT, POSTED = sorted(CLIPS)[0::2], sorted(CLIPS)[1::2]


def camera_roll(folder, containers):
    """Three photos, a live photo and a video of each container."""
    folder.mkdir()
    for n in range(3):
        (folder / f"IMG_{n:04d}.jpg").write_bytes(jpeg(size=(120, 90), color=(200, 40 * n, 100)))
    (folder / "IMG_0100.HEIC").write_bytes(heic())
    (folder / "IMG_0100.MOV").write_bytes(clip(".mov"))
    for extension in containers:
        (folder / f"VID_{extension[1:]}{extension}").write_bytes(clip(extension))
    return folder


def api(server, token, path):
    request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return answer.status, answer.read()


def listed(server, token, folder):
    return {item["name"]: item for item in json.loads(api(server, token, f"/folders?path={folder}")[1])["items"]}


def posters_made(server, token, folder, names):
    """Wait until the worker has made every video's poster; answer their sizes."""
    def made():
        try:
            return [Image.open(io.BytesIO(api(server, token, f"/thumb?path={folder}/{name}")[1])).size
                    for name in names]
        except urllib.error.HTTPError:  # 415 until the poster is there
            return None
    return wait_until(made, timeout=60, every=0.5)


def videos(roll):
    return sorted(path.name for path in roll.iterdir() if path.suffix.lower() in CLIPS)


@pytest.fixture(scope="module", params=["local", "s3"])
def phone(request, tmp_path_factory):
    """gunicorn for rclone (test_dav_clients.py) and a script's token, photos held to 60 KB and videos to 120 KB;
    both tests use it, in folders of their own."""
    server = rclone_server(request, tmp_path_factory.mktemp("phone"),
                           {"LENSLET_MAX_UPLOAD": "60000", "LENSLET_MAX_VIDEO_UPLOAD": "120000"})
    server.token = server.directory.add("script", "admin", [""])
    server.post = lambda folder, path: post(server, folder, path)
    urllib.request.urlopen(urllib.request.Request(
        server.url + "/folder", data=b'{"path": "Inbox"}', method="POST",
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"}), timeout=10)
    yield server
    server.stop_soon()


def test_rclone_sends_a_camera_roll_of_photos_videos_and_a_live_photo(phone, tmp_path):
    roll = camera_roll(tmp_path / "roll", SENT)
    copied = phone.rclone("copy", str(roll), "lenslet:phone/roll", "-v")
    assert copied.returncode == 0, copied.stderr
    # rclone's last PUT may be answered while its listing entry waits in the batch another PUT's thread is writing
    # (issue 85's note): the folder lists it a moment later.
    phone.wait_until(lambda: names_in(phone, "phone/roll") == sorted(path.name for path in roll.iterdir()))
    for path in roll.iterdir():
        assert dav(phone, "GET", f"phone/roll/{path.name}")[1] == path.read_bytes(), path.name
    again = phone.rclone("copy", str(roll), "lenslet:phone/roll", "-v")
    assert again.returncode == 0 and "Copied" not in again.stderr, again.stderr
    items = listed(phone, phone.token, "phone/roll")
    assert items["IMG_0100.HEIC"]["stack"] == LIVE and items["IMG_0100.MOV"]["stack"] == LIVE
    assert posters_made(phone, phone.token, "phone/roll", videos(roll)) == [(64, 48)] * len(videos(roll))


def post(server, folder, path):
    """POST /file of one file as the page's upload sends it (a form: dest, then file); (status, title)."""
    done = subprocess.run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", "-H",
                           f"Authorization: Bearer {server.token}", "-F", f"dest=/{folder}", "-F", f"file=@{path}",
                           f"{server.url}/file"],
                          capture_output=True, timeout=60)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), json.loads(body or b"{}").get("title")


def test_a_camera_roll_posted_lands_and_videos_past_their_limit_or_fake_leave_nothing(phone, tmp_path):
    roll = camera_roll(tmp_path / "roll", POSTED)
    for path in sorted(roll.iterdir()):
        assert phone.post("Inbox", path) == (201, None), path.name
    items = listed(phone, phone.token, "Inbox")
    assert sorted(items) == sorted(path.name for path in roll.iterdir())
    assert items["IMG_0100.HEIC"]["stack"] == LIVE and items["IMG_0100.MOV"]["stack"] == LIVE
    assert posters_made(phone, phone.token, "Inbox", videos(roll)) == [(64, 48)] * len(videos(roll))

    (tmp_path / "long.mp4").write_bytes(clip(".mp4") + bytes(120_000))        # past the video limit
    (tmp_path / "huge.mp4").write_bytes(clip(".mp4") + bytes(500_000))        # past any limit: refused unread
    (tmp_path / "big.jpg").write_bytes(jpeg(size=(20, 20)) + bytes(80_000))   # a photo past the photo limit
    (tmp_path / "fake.mp4").write_bytes(b"#EXTM3U\nhttp://example.org/a.ts\n")
    (tmp_path / "holiday.jpg").write_bytes(clip(".mp4"))                      # a video with a photo's extension
    (tmp_path / "IMG_0200.mov").write_bytes(jpeg())                           # a photo with a video's
    refused = ("long.mp4", "huge.mp4", "big.jpg", "fake.mp4", "holiday.jpg", "IMG_0200.mov")
    assert [phone.post("Inbox", tmp_path / name) for name in refused] == [
        (413, "Too large"), (413, "Too large"), (413, "Too large")] + [(415, "Not an image")] * 3
    assert sorted(listed(phone, phone.token, "Inbox")) == sorted(items)
