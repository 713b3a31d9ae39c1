"""Video poster frames and durations, made by an optional ffmpeg."""

import logging
import re
import subprocess
import threading

from lenslet.errors import Undecodable

log = logging.getLogger("lenslet")
POSTER_EDGE = 1024  # longest side of a poster
POSTER_AT = 1.0  # seconds in: the first frame is often black
MAX_POSTER_BYTES = 8 << 20
TIME_LIMIT = 60  # seconds
HEAD = 600  # three MPEG-TS packets
QUICKTIME_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"}
_DURATION = re.compile(rb"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")

_found = {}
_lock = threading.Lock()


def available(command):
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
    """Return the seconds in ffmpeg's `Duration:` line, or None."""
    found = _DURATION.search(messages)
    if found is None:
        return None
    hours, minutes, seconds = found.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def demuxer_of(head):
    """Return the ffmpeg demuxer a file's first bytes announce, or None."""
    if head[4:8] in QUICKTIME_ATOMS:
        return "mov"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska, WebM
        return "matroska"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    for first, size in ((0, 188), (4, 192)):  # MPEG-TS, or M2TS with a timestamp before each packet
        if all(head[at:at + 1] == b"G" for at in range(first, first + 3 * size, size)):
            return "mpegts"
    return None


def media_type(head):
    """Return a video's media type from its first bytes, or None."""
    demuxer = demuxer_of(head)
    if demuxer == "mov":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if demuxer == "matroska":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    return {"avi": "video/x-msvideo", "mpegts": "video/mp2t"}.get(demuxer)


def poster(command, video):
    """Return (PNG of one frame, seconds) of an open video, or raise Undecodable."""
    video.seek(0)
    demuxer = demuxer_of(video.read(HEAD))
    if demuxer is None:
        raise Undecodable("not a video container lenslet reads (MP4, QuickTime, Matroska, WebM, AVI, MPEG-TS)")
    frame, messages = _frame(command, video, demuxer, POSTER_AT)
    if not frame:  # shorter than POSTER_AT
        frame, messages = _frame(command, video, demuxer, None)
    seconds = duration_in(messages)
    if not frame or seconds is None:  # a still image named like a video
        reason = messages.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no frame"]
        raise Undecodable(f"ffmpeg found no video in it: {reason[0][:200]}")
    return frame, seconds


def _frame(command, video, demuxer, at):
    video.seek(0)
    seek = ["-ss", f"{at:g}"] if at is not None else []
    fit = (f"scale='min({POSTER_EDGE},iw)':'min({POSTER_EDGE},ih)':force_original_aspect_ratio=decrease")
    # /dev/stdin lets ffmpeg seek without a path; one demuxer and no other protocol, so the file cannot open others.
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
