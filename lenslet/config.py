"""Settings: one frozen object read from LENSLET_* environment variables (a test checks docs/settings.md)."""

import ipaddress
import os
import re
from dataclasses import dataclass, field, fields

from lenslet.errors import ConfigError


def _text(raw):
    return raw.strip()


TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("", "0", "false", "no", "off")


def truthy(value):
    """Whether a flag says yes: True itself, or a word of TRUE_WORDS in any case (a setting, a form field)."""
    return value is True or (isinstance(value, str) and value.strip().lower() in TRUE_WORDS)


def _flag(raw):
    if truthy(raw):
        return True
    if raw.strip().lower() in FALSE_WORDS:
        return False
    raise ValueError("expected true or false")


def _number(kind, lo, hi, what):
    def parse(raw):
        try:
            value = kind(raw.strip())
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:  # also refuses nan
            raise ValueError(f"expected {what} from {lo} to {hi}")
        return value
    return parse


def _whole(lo, hi):
    return _number(int, lo, hi, "a whole number")


def _word_or_whole(word, value, lo, hi):
    """A whole number from lo to hi, or word (in any case), read as value."""
    whole = _whole(lo, hi)

    def parse(raw):
        if raw.strip().lower() == word:
            return value
        try:
            return whole(raw)
        except ValueError:
            raise ValueError(f"expected {word} or a whole number from {lo} to {hi}") from None
    return parse


_processes = _word_or_whole("auto", "auto", 0, 256)


def _seconds(lo, hi):
    return _number(float, lo, hi, "seconds")


def _map_link(raw):
    value = raw.strip()
    if value and not (value.startswith("https://") and "{lat}" in value and "{lon}" in value):
        raise ValueError("expected an https:// address with {lat} and {lon} in it, or nothing")
    return value


OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def _map_tiles(raw):
    value = raw.strip()
    if value.lower() == "none":
        return "none"
    if not (value.startswith("https://") and all(part in value for part in ("{z}", "{x}", "{y}"))):
        raise ValueError("expected an https:// tile address with {z}, {x} and {y} in it, or none")
    return value


def _choice(*choices):
    def parse(raw):
        value = raw.strip().lower()
        if value not in choices:
            raise ValueError("expected " + ", ".join(choices[:-1]) + " or " + choices[-1])
        return value
    return parse


def _folders(raw):
    return tuple(part for part in raw.split(os.pathsep) if part.strip())


def _origins(raw):
    return tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())


def _hosts(raw):
    names = tuple(part.strip().lower().rstrip(".") for part in raw.split(",") if part.strip())
    for name in names:
        if name != "*" and not re.fullmatch(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", name):
            raise ValueError(f"{name!r} is not a host name: give names such as photos.example.org, without "
                             "scheme or port (every port and IP address is answered)")
    return names


def _header(raw):
    name = raw.strip()
    if name and not re.fullmatch(r"[A-Za-z0-9-]+", name):
        raise ValueError("expected a header name such as Remote-User (letters, digits and '-')")
    return name


def _networks(raw):
    networks = tuple(part.strip() for part in raw.split(",") if part.strip())
    for network in networks:
        ipaddress.ip_network(network, strict=False)  # a ValueError names what is wrong
    return networks


DEFAULT_ROOT = "./data"
# seconds the thumbnail processes stay after their last thumbnail: each keeps a big heap, and restarting is cheap
THUMB_IDLE = 30.0
MAX_THUMB_SIZE = 2048  # the longest edge LENSLET_THUMB_SIZE may ask for


def _state_root(raw):
    value = raw.strip()
    if value.startswith("s3://"):
        bucket = value[5:].partition("/")[0]
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ValueError("expected s3://bucket/prefix with a valid bucket name")
    elif value and "://" in value:
        raise ValueError("expected a folder or s3://bucket/prefix")
    return value


def setting(default, help, parse=_text):
    return field(default=default, metadata={"help": help, "parse": parse})


@dataclass(frozen=True)
class Config:
    root: str = setting(DEFAULT_ROOT, "folder tree to serve (local storage); must exist, except the default "
                        "./data, which is created")
    create_root: bool = setting(False, "create LENSLET_ROOT when it is missing instead of refusing to start", _flag)
    readonly: bool = setting(False, "refuse every write and write nothing inside the root", _flag)
    token: str = setting("", "bearer token required for writes; empty means no token")
    token_reads: bool = setting(False, "require the token for reads too (every request but CORS preflights)", _flag)
    users: str = setting("", "path of the users file (JSON: names, roles, folder scopes, token and password "
                         "hashes; written by lenslet user and the page's People); set, every request needs a user's "
                         "session, token or a share link; empty keeps the one LENSLET_TOKEN")
    session_idle_days: float = setting(30.0, "days a session signed in with a password lasts unused (each use starts "
                                       "the count again)", _seconds(0.001, 3650))
    session_max_days: float = setting(90.0, "days a session lasts at most, used or not; then its user signs in "
                                      "again", _seconds(0.001, 3650))
    share_max_days: float = setting(90.0, "longest a share link may last, in days (links last 7 days unless "
                                    "asked otherwise)", _seconds(0.001, 3650))
    public_url: str = setting("", "the gallery's address as people reach it (https://photos.example.org), put "
                              "before the links lenslet share prints; empty prints /s#<key> alone, or --base's")
    cors_origins: tuple = setting((), "origins allowed to call the API from a browser, separated by ','; "
                                  "* allows any; empty sends no CORS headers; the origins named may also "
                                  "write (* lets any page read, never write)", _origins)
    hosts: tuple = setting((), "host names lenslet answers to besides IP addresses, localhost and *.localhost "
                           "(for example the public name nginx passes on), separated by ','; * answers any "
                           "(unsafe: DNS rebinding); other names answer 421", _hosts)
    proxy_user_header: str = setting("", "the header in which a trusted proxy in front of lenslet (Authelia, "
                                     "Authentik or oauth2-proxy through nginx's auth_request) names the person it "
                                     "signed in, such as Remote-User; needs LENSLET_USERS; empty believes none",
                                     _header)
    proxy_addresses: tuple = setting(("127.0.0.0/8", "::1"), "addresses or networks, separated by ',', whose "
                                     "LENSLET_PROXY_USER_HEADER is believed; from anywhere else it is ignored",
                                     _networks)
    proxy_create: str = setting("off", "a name from the proxy that the users file lacks: off refuses it, view adds "
                                "that person with role view and no folders (an admin then gives them folders)",
                                _choice("off", "view"))
    thumb_size: int = setting(256, "long edge of thumbnails in pixels", _whole(16, MAX_THUMB_SIZE))
    thumb_quality: int = setting(70, "WebP quality of thumbnails", _whole(1, 100))
    thumb_size_large: int = setting(512, "long edge in pixels of the second, sharper thumbnails the page uses on "
                                    "high-density and phone screens and for wide tiles (made on demand, kept in the "
                                    "state folder's bounded cache); 0: none",
                                    _word_or_whole("0", 0, 64, MAX_THUMB_SIZE))
    thumb_inline: int = setting(2, "thumbnails one web process makes at once while a client waits; "
                                "0 leaves them all to the worker", _whole(0, 64))
    thumb_wait: float = setting(5.0, "seconds a thumbnail request waits for a free slot or the worker "
                                "before answering 202 (at most 1 under a backlog: more than twice "
                                "LENSLET_THUMB_INLINE asked at once)", _seconds(0, 60))
    thumb_processes: object = setting("auto", "processes the worker runs its index and thumbnail jobs in (lenslet "
                                      "index: makes thumbnails in); auto means one per CPU, 0 does it all in the "
                                      "calling thread", _processes)
    similar_threshold: int = setting(14, "bits (of 64) by which two photos' perceptual hashes may differ for the "
                                     "photos, taken in one folder within two minutes, to be one group of similar "
                                     "photos", _whole(0, 32))
    preview_size: int = setting(2048, "long edge in pixels of the previews the gallery page's viewer shows "
                                "(made on demand, kept in the state folder's bounded cache)", _whole(256, 8192))
    preview_cache: int = setting(1024 ** 3, "bytes of previews kept in the state folder; past it the least recently "
                                 "used are removed (they are made again when asked)", _whole(0, 1024 ** 4))
    thumb_idle: float = setting(THUMB_IDLE, "seconds the job and thumbnail processes stay after their last job "
                                "before they end (started again on the next); 0 keeps them for as long "
                                "as their worker lives", _seconds(0, 86400))
    worker_nice: int = setting(10, "steps of CPU priority (nice) the worker and its job processes run below "
                               "the web processes, so people browsing are answered first while it indexes (an idle "
                               "machine gives it all the same); 0 runs it at theirs", _whole(0, 19))
    map_link: str = setting("", "a map service's address for a photo's GPS position, {lat} and {lon} replaced (for "
                            "example https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=15/{lat}/{lon}); "
                            "empty shows the position without a link", _map_link)
    map_tiles: str = setting(OSM_TILES, "the tile server the page's map draws on, {z}, {x} and {y} replaced "
                             "(OpenStreetMap's standard tiles by default, under their usage policy); none draws the "
                             "photos over a small built-in outline of the world, for a gallery without internet",
                             _map_tiles)
    map_attribution: str = setting("© OpenStreetMap contributors", "the credit the map shows for its tiles")
    ffmpeg: str = setting("ffmpeg", "the ffmpeg command the worker makes videos' posters (a frame, the length) "
                          "with, when it runs; empty, or not installed: videos get a placeholder tile")
    max_pixels: int = setting(100_000_000, "largest image (width x height) lenslet decodes; larger ones "
                              "answer 422", _whole(1, 2_000_000_000))
    max_upload: int = setting(200 * 1024 * 1024, "largest image an upload may send, in bytes; larger ones answer 413",
                              _whole(1, 5 * 1024 ** 3))
    max_video_upload: int = setting(4 * 1024 ** 3, "largest video an upload may send, in bytes (a phone's 4K clip "
                                    "of several minutes); larger ones answer 413", _whole(1, 5 * 1024 ** 3))
    zip_max_files: int = setting(10_000, "most files one ZIP download holds; past it the download answers 413",
                                 _whole(1, 1_000_000))
    zip_max_bytes: int = setting(50 * 1024 ** 3, "most bytes of originals one ZIP download holds; past it the "
                                 "download answers 413", _whole(1, 1024 ** 5))
    accel_redirect: str = setting("", "nginx internal location serving the root (for example /_originals/); "
                                  "when set, GET /file answers X-Accel-Redirect instead of the bytes")
    page_size: int = setting(1000, "items per folder manifest page", _whole(10, 5000))
    recheck: float = setting(10.0, "seconds a web process trusts a folder manifest before comparing every file's size "
                             "and time again (added and removed files are seen at once; while its edits land, up to 6 "
                             "times as long)", _seconds(0, 86400))
    pointer_roots: tuple = setting((), "folders that local pointer targets must lie inside, separated by ':'; "
                                   "empty allows none", _folders)
    pointer_buckets: tuple = setting((), "S3 buckets that pointer targets may name, separated by ':'; empty "
                                     "allows none", _folders)
    cache_dir: str = setting("", "where state, manifests and thumbnails go when LENSLET_READONLY is set; "
                             "empty means $XDG_CACHE_HOME/lenslet or ~/.cache/lenslet")
    state: str = setting("", "state root: a folder, or s3://bucket/prefix, that holds everything lenslet writes "
                         "(sidecars, thumbnails, listings, rollup, health, previews, its .lenslet state) at the "
                         "library's paths, so the library (LENSLET_ROOT or LENSLET_S3_BUCKET) is only read; empty "
                         "keeps lenslet's files beside the images", _state_root)
    s3_bucket: str = setting("", "S3 bucket to serve instead of LENSLET_ROOT; empty means local storage")
    s3_prefix: str = setting("", "key prefix of the tree inside the bucket")
    s3_endpoint: str = setting("", "S3 endpoint URL for S3-compatible stores; empty means AWS")
    s3_region: str = setting("", "S3 region; empty means the AWS default chain")
    s3_stream: bool = setting(False, "send originals from S3 through lenslet (Range passed on) instead of "
                              "redirecting to a presigned URL", _flag)
    xmp: str = setting("read", "XMP of other photo tools (foo.jpg.xmp, foo.xmp, and what images carry inside): off "
                       "ignores it, read shows its keywords, rating, label, title and description, write also writes "
                       "lenslet's edits (tags, star, notes) to the image's XMP sidecar (under LENSLET_STATE too, as "
                       "LENSLET_WORDS=both: the one kind of file lenslet then writes in the library)",
                       _choice("off", "read", "write"))
    words: str = setting("state", "where a person's words (tags, stars, notes) are kept: state, in lenslet's "
                         "sidecars (in LENSLET_STATE's root, or beside the images without one); both, in those and "
                         "also in XMP sidecars beside the photos, for darktable, digiKam and Lightroom (as "
                         "LENSLET_XMP=write; a library under LENSLET_STATE then gets XMP sidecars, and only for "
                         "images somebody described); xmp, only in those XMP sidecars (read whatever LENSLET_XMP "
                         "says; lenslet keeps no sidecar of its own for them, and another program's change to one "
                         "is kept: an edit is made again on it)", _choice("state", "both", "xmp"))
    trash_days: float = setting(30.0, "days an image stays in the trash before the worker deletes it for good "
                                "(with its sidecar and thumbnail); 0 keeps the trash until emptied by hand",
                                _seconds(0, 36500))
    worker_threads: int = setting(2, "job threads in the background worker", _whole(1, 64))
    heartbeat: float = setting(2.0, "seconds between worker heartbeats", _seconds(0.1, 300))
    scan_interval: float = setting(1.0, "seconds between the worker's quick scans when it polls (a stat "
                                   "per folder; changed folders are listed)", _seconds(0.1, 3600))
    s3_scan_interval: float = setting(30.0, "seconds between the worker's scans of a bucket (each LISTs every "
                                      "folder, which S3 bills)", _seconds(0.1, 86400))
    watch: bool = setting(True, "on Linux, learn of changes from inotify instead of the quick scans (polling "
                          "stays for S3, network filesystems and past fs.inotify.max_user_watches)", _flag)
    deep_scan: float = setting(600.0, "seconds between scans that list every folder (finding files "
                               "rewritten in place)", _seconds(1, 86400 * 7))
    job_lease: float = setting(120.0, "seconds a claimed job is held before another worker may run it "
                               "again (its worker is taken for dead)", _seconds(1, 86400))
    access_log: bool = setting(True, "gunicorn's access log on stdout, in the common log format "
                               "(lenslet's packaged gunicorn settings)", _flag)
    metrics: bool = setting(False, "serve Prometheus metrics at GET /metrics (needs the metrics extra: "
                            "prometheus_client)", _flag)
    metrics_token: str = setting("", "bearer token GET /metrics requires (instead of LENSLET_TOKEN); "
                                 "empty means the same access as other reads")

    @property
    def writes_xmp(self):
        """Whether edits are written to XMP sidecars beside the photos (LENSLET_XMP=write, or LENSLET_WORDS)."""
        return self.xmp == "write" or self.words != "state"

    @classmethod
    def from_env(cls, environ=None):
        """Build the settings from the environment, failing on the first bad value."""
        environ = os.environ if environ is None else environ
        values = {}
        for spec in fields(cls):
            name = env_name(spec.name)
            if name not in environ:
                continue
            raw = environ[name]
            try:
                values[spec.name] = spec.metadata["parse"](raw)
            except ValueError as ex:
                raise ConfigError(f"{name}={raw!r} is not valid: {ex}", setting=name) from None
        return cls(**values)


def env_name(attr):
    return "LENSLET_" + attr.upper()


def describe():
    """Yield (variable, default as written in docs/settings.md, help) for every setting."""
    for spec in fields(Config):
        yield env_name(spec.name), _shown(spec.default), spec.metadata["help"]


def _shown(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple) and value:
        return ",".join(value)
    return "empty" if value in ((), "") else str(value)
