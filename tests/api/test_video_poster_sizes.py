"""A video's poster in the larger sizes the page asks for on a dense screen (GET /thumb?size=large, GET /preview):
made by the worker from the frame its poster is made of (a web process never runs ffmpeg), the poster answered
meanwhile, never a 415 for a video that has a poster."""

import io
import subprocess

import pytest
from api.test_video_posters import FFMPEG, needs_ffmpeg
from helpers import index_tree, run_jobs
from PIL import Image


@pytest.fixture
def portrait_clip(tree):
    (tree / "a").mkdir()
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=360x640:rate=10:duration=2",
                    "-c:v", "libvpx", "-pix_fmt", "yuv420p", str(tree / "a" / "clip.webm")], check=True, timeout=60)
    return tree


@needs_ffmpeg
def test_a_videos_poster_comes_in_the_large_size_and_as_a_preview(client, config, storage, portrait_clip):
    index_tree(config, storage)
    size = lambda answer: Image.open(io.BytesIO(answer.body)).size  # noqa: E731
    assert size(client.get("/thumb?path=a/clip.webm")) == (144, 256)
    meanwhile = client.get("/thumb?path=a/clip.webm&size=large")
    assert size(meanwhile) == (144, 256) and meanwhile.headers["Cache-Control"] == "no-cache"
    client.get("/preview?path=a/clip.webm", status=202)
    run_jobs(config, storage)
    assert size(client.get("/thumb?path=a/clip.webm&size=large")) == (288, 512)
    assert size(client.get("/preview?path=a/clip.webm")) == (360, 640)  # the frame's own size: never enlarged
