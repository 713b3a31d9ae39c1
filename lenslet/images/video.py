"""Videos' posters and durations, made by ffmpeg when it is installed (optional, found at run time).

lenslet never decodes a video itself. With ffmpeg (LENSLET_FFMPEG, found once per process by
running it) the worker asks it for one frame and the length; the frame becomes the video's
`.thumbnail` like any image's, recording the length beside what it was made from. Without
ffmpeg a video has no thumbnail: the page draws a placeholder tile with a play badge.
ffmpeg reads only the video's own bytes, as the one container its first bytes announce.
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
HEAD = 600  # bytes read to tell a container: three MPEG-TS packets
QUICKTIME_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}  # what an MP4 or a QuickTime file opens with
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


def demuxer_of(head):
    """The ffmpeg demuxer of the video container a file's first bytes announce (those of layout.VIDEOS), or None."""
    if head[4:8] in QUICKTIME_ATOMS:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska, WebM
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    for first, size in ((0, 188), (4, 192)):  # MPEG-TS packets, or M2TS ones (a timestamp before each)
        if all(head[at:at + 1] == b"G" for at in range(first, first + 3 * size, size)):
            return "mpegts"
    return None


def poster(command, video):
    """(PNG bytes of one frame, the length in seconds) of a video open as a file (video: a real file object,
    read from its start; ffmpeg seeks in it). Undecodable when it is no video container lenslet knows (never
    handed to ffmpeg: a playlist or a concat script would have it open other files) or ffmpeg finds no video in it."""
    video.seek(0)
    demuxer = demuxer_of(video.read(HEAD))
    if demuxer is None:
        raise Undecodable("not a video container lenslet reads (MP4, QuickTime, Matroska, WebM, AVI, MPEG-TS)")
    frame, messages = _frame(command, video, demuxer, POSTER_AT)
    if not frame:  # shorter than POSTER_AT: its first frame, then
        frame, messages = _frame(command, video, demuxer, None)
    seconds = duration_in(messages)
    if not frame or seconds is None:  # no length: a still image under a video's name is no video
        reason = messages.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame"]
        raise Undecodable(f"ffmpeg found no video in it: {reason[0][:200]}")
    return frame, seconds


def _frame(command, video, demuxer, at):
    video.seek(0)
    seek = ["-ss", f"{at:g}"] if at is not None else []
    fit = (f"scale='min({POSTER_EDGE},iw)':'min({POSTER_EDGE},ih)':force_original_aspect_ratio=decrease")
    # The open file is ffmpeg's standard input, read through /dev/stdin so that ffmpeg may seek in it
    # (an MP4's index is often at its end; a pipe cannot seek); no path of the tree is ever handed over.
    # The demuxer is forced and the only one allowed, and no protocol but the file one /dev/stdin needs:
    # nothing inside the file (a playlist's entries, a concat list, a URL) makes ffmpeg open another.
    arguments = [command, "-hide_banner", "-nostdin", "-loglevel", "info", "-protocol_whitelist", "file",
                 "-format_whitelist", demuxer, "-f", demuxer, *seek, "-i", "file:/dev/stdin",
                 "-map", "0:v:0", "-frames:v", "1", "-vf", fit, "-f", "image2pipe", "-c:v", "png", "pipe:1"]
    try:
        done = subprocess.run(arguments, stdin=video, capture_output=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        raise Undecodable(f"ffmpeg took more than {TIME_LIMIT} s for one frame") from None
    except OSError as ex:
        raise Undecodable(f"ffmpeg cannot be run: {ex.strerror}") from None
    frame = done.stdout if done.returncode == 0 and len(done.stdout) <= MAX_POSTER_BYTES else b""
    return frame, done.stderr
