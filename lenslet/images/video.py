"""Videos' posters and durations, made by ffmpeg when it is installed (optional, found at run time).

lenslet never decodes a video itself. With ffmpeg (LENSLET_FFMPEG, found once per process by
running it) the worker asks it for one frame and the length; the frame becomes the video's
`.thumbnail` like any image's, recording the length beside what it was made from. Without
ffmpeg a video has no thumbnail: the page draws a placeholder tile with a play badge.
"""

import logging
import re
import subprocess
import threading

from lenslet.errors import Undecodable

log = logging.getLogger("lenslet")
POSTER_EDGE = 1024  # the frame ffmpeg hands over is at most this long a side: a thumbnail needs far less
POSTER_AT = 1.0  # seconds into the video: the first frame is often black (a fade in)
MAX_POSTER_BYTES = 8 << 20  # a PNG of POSTER_EDGE x POSTER_EDGE is at most about 4 MB
TIME_LIMIT = 60  # seconds ffmpeg may take for one poster (a huge or broken file)
_DURATION = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")

_found = {}  # command -> whether it runs, for this process
_lock = threading.Lock()


def available(command):
    """Whether the ffmpeg command runs here; asked once per process and command (empty: never)."""
    if not command:
        return False
    with _lock:
        if command not in _found:
            try:
                _found[command] = subprocess.run([command, "-version"], capture_output=True, timeout=10,
                                                 stdin=subprocess.DEVNULL).returncode == 0
            except (OSError, subprocess.SubprocessError):
                _found[command] = False
            if not _found[command]:
                log.info("no ffmpeg (%r): videos are shown with a placeholder tile (docs/operations.md)", command)
        return _found[command]


def duration_in(messages):
    """The length in seconds ffmpeg states of its input (`Duration: 00:01:02.50`), or None (a still image
    has none, and a stream of unknown length says N/A)."""
    found = _DURATION.search(messages)
    if found is None:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def poster(command, video):
    """(PNG bytes of one frame, the length in seconds) of a video open as a file (video: a real file object,
    read from its start; ffmpeg seeks in it). Undecodable when ffmpeg finds no video in it."""
    frame, messages = _frame(command, video, POSTER_AT)
    if not frame:  # shorter than POSTER_AT: its first frame, then
        frame, messages = _frame(command, video, None)
    seconds = duration_in(messages)
    if not frame or seconds is None:  # no length: a still image under a video's name is no video
        reason = messages.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame"]
        raise Undecodable(f"ffmpeg found no video in it: {reason[0][:200]}")
    return frame, seconds


def _frame(command, video, at):
    video.seek(0)
    seek = ["-ss", f"{at:g}"] if at is not None else []
    fit = (f"scale='min({POSTER_EDGE},iw)':'min({POSTER_EDGE},ih)':force_original_aspect_ratio=decrease")
    # The open file is ffmpeg's standard input, read through /dev/stdin so that ffmpeg may seek in it
    # (an MP4's index is often at its end); no path of the tree is ever handed over.
    arguments = [command, "-hide_banner", "-nostdin", "-loglevel", "info", *seek, "-i", "/dev/stdin",
                 "-map", "0:v:0", "-frames:v", "1", "-vf", fit, "-f", "image2pipe", "-c:v", "png", "pipe:1"]
    try:
        done = subprocess.run(arguments, stdin=video, capture_output=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        raise Undecodable(f"ffmpeg took more than {TIME_LIMIT} s for one frame") from None
    except OSError as ex:
        raise Undecodable(f"ffmpeg cannot be run: {ex.strerror}") from None
    frame = done.stdout if done.returncode == 0 and len(done.stdout) <= MAX_POSTER_BYTES else b""
    return frame, done.stderr
