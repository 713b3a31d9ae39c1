"""XMP and IPTC inside images: made by exiftool and Pillow, read from the head of the file; garbage is harmless."""

import json
import random
import subprocess
import zlib

import pytest
from helpers import EXIFTOOL, needs_exiftool
from PIL import Image, PngImagePlugin

from lenslet.formats import embedded, xmp
from lenslet.storage import HEAD_BYTES

TAGGING = ["-XMP-dc:Subject+=beach", "-XMP-dc:Subject+=Strand", "-XMP-xmp:Rating=4", "-XMP-xmp:Label=Red",
           "-XMP-lr:HierarchicalSubject+=Places|Iceland", "-XMP-dc:Title=Hi", "-XMP-dc:Description-de=Hallo"]


def packet(*subjects, rating=None, extra=""):
    items = "".join(f"<rdf:li>{subject}</rdf:li>" for subject in subjects)
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:xmpNote="http://ns.adobe.com/xmp/note/"'
            + (f' xmp:Rating="{rating}"' if rating is not None else "") + f"{extra}>"
            + (f"<dc:subject><rdf:Bag>{items}</rdf:Bag></dc:subject>" if subjects else "")
            + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def segment(code, payload):
    return bytes((0xFF, code)) + (len(payload) + 2).to_bytes(2, "big") + payload


def jpeg(*segments):
    return b"\xff\xd8" + b"".join(segments) + b"\xff\xda\x00\x02" + b"\x55" * 100 + b"\xff\xd9"


def iptc(*keywords, charset=None):
    records = b""
    if charset is not None:
        records += b"\x1c\x01\x5a" + len(charset).to_bytes(2, "big") + charset
    for keyword in keywords:
        records += b"\x1c\x02\x19" + len(keyword).to_bytes(2, "big") + keyword
    other = b"8BIM\x03\xed\x03abc" + (3).to_bytes(4, "big") + b"xyz\0"  # a named, odd-sized resource first
    resource = b"8BIM\x04\x04\x00\x00" + len(records).to_bytes(4, "big") + records + b"\0" * (len(records) & 1)
    return segment(0xED, embedded.PHOTOSHOP_APP13 + other + resource)


def png_chunk(kind, data):
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def png(*chunks):
    return embedded.PNG_SIGNATURE + png_chunk(b"IHDR", bytes(13)) + b"".join(chunks) + png_chunk(b"IEND", b"")


def png_xmp(data, compressed=False):
    return png_chunk(b"iTXt", b"XML:com.adobe.xmp\0" + bytes((int(compressed), 0)) + b"\0\0"
                     + (zlib.compress(data) if compressed else data))


def reader(data, calls):
    def read_at(offset, size):
        calls.append((offset, size))
        return data[offset:offset + size]
    return read_at


# ---------------------------------------------------------------------------------------------
# Made by exiftool


@pytest.fixture(scope="module")
def made_by_exiftool(tmp_path_factory):
    """Images Pillow drew, tagged by exiftool in one run: {name: path}."""
    if EXIFTOOL is None:
        pytest.skip("exiftool (Debian's libimage-exiftool-perl) is missing")
    folder = tmp_path_factory.mktemp("embedded")
    picture = Image.new("RGB", (64, 48), "teal")
    names = ["tagged.jpg", "tagged.png", "tagged.webp", "utf8.jpg", "latin.jpg", "rejected.jpg", "extended.jpg"]
    for name in names:
        picture.save(folder / name)
    # exiftool never compresses XMP in a PNG; Pillow does when asked
    info = PngImagePlugin.PngInfo()
    info.add_itxt("XML:com.adobe.xmp", packet("squeezed", rating=2).decode(), zip=True)
    picture.save(folder / "compressed.png", pnginfo=info)
    names.append("compressed.png")
    many = [f"-XMP-dc:Subject+=keyword{number:04d}_{'x' * 40}" for number in range(2000)]
    commands = [
        [*TAGGING, "tagged.jpg", "tagged.png", "tagged.webp"],
        ["-IPTC:Keywords+=sea", "-IPTC:Keywords+=beach", "tagged.jpg"],
        ["-charset", "iptc=UTF8", "-IPTC:CodedCharacterSet=UTF8", "-IPTC:Keywords+=Schöne", "-IPTC:Keywords+=Café",
         "utf8.jpg"],
        ["-charset", "iptc=Latin", "-IPTC:Keywords+=Schöne", "-IPTC:Keywords+=Café", "latin.jpg"],
        ["-XMP-xmp:Rating=-1", "rejected.jpg"],
        [*many, "-XMP-xmp:Rating=2", "extended.jpg"],  # too much for one segment: exiftool writes extended XMP
    ]
    arguments = []
    for command in commands:
        arguments += ["-overwrite_original", "-q", *command, "-execute"]
    (folder / "arguments.txt").write_text("\n".join(arguments) + "\n")
    subprocess.run([EXIFTOOL, "-@", "arguments.txt"], cwd=folder, check=True, capture_output=True, timeout=120)
    return {name: folder / name for name in names}


def test_exiftool_jpeg_xmp_and_iptc(made_by_exiftool):
    found = embedded.read(made_by_exiftool["tagged.jpg"].read_bytes())
    assert found.tags == ["beach", "Strand", "Iceland", "sea"]
    assert found.keywords[0] == xmp.Keyword("beach", ("dc:subject", "IPTC:Keywords"))
    assert found.keywords[3] == xmp.Keyword("sea", ("IPTC:Keywords",))
    assert (found.paths, found.rating, found.star, found.label, found.title, found.description, found.problems) == \
        (("Places|Iceland",), 4, 4, "Red", "Hi", "Hallo", ())


@pytest.mark.parametrize("name", ["tagged.png", "tagged.webp"])
def test_exiftool_png_and_webp_xmp(made_by_exiftool, name):
    found = embedded.read(made_by_exiftool[name].read_bytes())
    assert (found.tags, found.rating, found.label, found.problems) == (["beach", "Strand", "Iceland"], 4, "Red", ())


def test_a_compressed_png_itxt(made_by_exiftool):
    data = made_by_exiftool["compressed.png"].read_bytes()
    assert b"XML:com.adobe.xmp\0\x01" in data  # compressed
    found = embedded.read(data)
    assert (found.tags, found.rating) == (["squeezed"], 2)
    done = subprocess.run([EXIFTOOL, "-j", "-XMP-dc:Subject", str(made_by_exiftool["compressed.png"])],
                          capture_output=True, check=True, timeout=60)
    assert json.loads(done.stdout)[0]["Subject"] == "squeezed"  # as exiftool reads it


@pytest.mark.parametrize("name, raw", [("utf8.jpg", "Schöne".encode()), ("latin.jpg", "Schöne".encode("latin-1"))])
def test_iptc_keywords_in_their_character_set(made_by_exiftool, name, raw):
    data = made_by_exiftool[name].read_bytes()
    assert raw in data
    assert embedded.extract(data).iptc_keywords == ("Schöne", "Café")


def test_a_rejected_jpeg(made_by_exiftool):
    found = embedded.read(made_by_exiftool["rejected.jpg"].read_bytes())
    assert (found.rating, found.star, found.rejected) == (-1, None, True)


def test_extended_xmp_is_put_together(made_by_exiftool):
    data = made_by_exiftool["extended.jpg"].read_bytes()
    found = embedded.read(data)
    assert len(found.tags) == 500 and found.tags[0].startswith("keyword0000_")  # as many as an image holds
    assert found.rating == 2 and found.problems == ("more than 500 keywords: the rest are ignored",)
    assert len(embedded.extract(data).extended) > 65536


def test_extended_xmp_past_the_head(made_by_exiftool):
    data = made_by_exiftool["extended.jpg"].read_bytes()
    cut = embedded.read(data[:70_000])
    assert (cut.tags, cut.rating) == ([], 2)  # the main packet alone
    assert any("incomplete" in problem for problem in cut.problems)
    calls = []
    whole = embedded.read(data[:70_000], reader(data, calls))
    assert len(whole.tags) == 500 and 0 < len(calls) <= embedded.MAX_READS


@needs_exiftool
def test_exiftool_reads_what_lenslet_reads(made_by_exiftool):
    done = subprocess.run([EXIFTOOL, "-j", "-XMP-dc:Subject", "-IPTC:Keywords", "-XMP-xmp:Rating",
                           *(str(made_by_exiftool[name]) for name in ("tagged.jpg", "tagged.png", "tagged.webp"))],
                          capture_output=True, check=True, timeout=60)
    for reading in json.loads(done.stdout):
        found = embedded.read(open(reading["SourceFile"], "rb").read())
        keywords = reading.get("Keywords", [])
        keywords = keywords if isinstance(keywords, list) else [keywords]
        assert set(reading["Subject"]) | set(keywords) <= set(found.tags)
        assert reading["Rating"] == found.rating


# ---------------------------------------------------------------------------------------------
# Where the metadata lies past the head


def test_webp_xmp_after_the_picture_needs_read_at(tmp_path):
    path = tmp_path / "noise.webp"
    Image.effect_noise((900, 700), 64).convert("RGB").save(path, xmp=packet("late", rating=3), quality=95)
    data = path.read_bytes()
    assert len(data) > 64 * 1024 and data.rfind(b"XMP ") > 64 * 1024
    head = data[:64 * 1024]
    alone = embedded.read(head)
    assert alone.tags == [] and "past the 65536 bytes read" in alone.problems[0]
    calls = []
    found = embedded.read(head, reader(data, calls))
    assert (found.tags, found.rating, found.problems) == (["late"], 3, ())
    assert len(calls) <= 2


def test_a_webp_without_xmp_reads_nothing_past_the_head(tmp_path):
    path = tmp_path / "plain.webp"
    Image.effect_noise((900, 700), 64).convert("RGB").save(path, quality=95)
    data = path.read_bytes()
    calls = []
    assert embedded.read(data[:1024], reader(data, calls)) == xmp.Metadata()
    assert calls == []


def test_reads_past_the_head_are_bounded():
    # A chain of large segments before the picture: lenslet stops after a few reads.
    data = jpeg(*(segment(0xE2, b"\0" * 65000) for _ in range(200)), segment(0xE1, embedded.XMP_APP1 + packet("x")))
    calls = []
    found = embedded.read(data[:HEAD_BYTES], reader(data, calls))
    assert found.tags == [] and "past what lenslet reads" in found.problems[-1]
    assert len(calls) <= embedded.MAX_READS and sum(size for _, size in calls) <= embedded.MAX_BEYOND_HEAD


# ---------------------------------------------------------------------------------------------
# Made by hand: every form, and garbage


def test_hand_made_jpeg_with_everything():
    data = jpeg(segment(0xE0, b"JFIF\0" + bytes(9)), segment(0xE1, b"Exif\0\0" + bytes(20)),
                segment(0xE1, embedded.XMP_APP1 + packet("from xmp", rating=5)),
                iptc("Straße".encode(), "plain".encode(), charset=b"\x1b%G"))
    found = embedded.read(data)
    assert (found.tags, found.rating) == (["from xmp", "Straße", "plain"], 5)


@pytest.mark.parametrize("charset, raw, keyword", [
    (b"\x1b%G", "Zürich".encode(), "Zürich"),
    (None, "Zürich".encode("latin-1"), "Zürich"),
    (None, "Zürich".encode(), "ZÃ¼rich"),  # UTF-8 bytes without 1:90 are Latin-1, as IPTC says
    (b"\x1b(B", "Zürich".encode("latin-1"), "Zürich"),
])
def test_iptc_character_sets(charset, raw, keyword):
    assert embedded.extract(jpeg(iptc(raw, charset=charset))).iptc_keywords == (keyword,)


def test_extended_xmp_only_when_the_main_packet_names_it():
    whole = packet("far", rating=1)
    guid = b"0123456789ABCDEF0123456789ABCDEF"
    chunks = [segment(0xE1, embedded.EXTENDED_APP1 + guid + len(whole).to_bytes(4, "big") + at.to_bytes(4, "big")
                      + whole[at:at + 100]) for at in range(0, len(whole), 100)]
    named = packet("near", extra=f' xmpNote:HasExtendedXMP="{guid.decode()}"')
    random.Random(1).shuffle(chunks)  # chunks may come in any order
    assert embedded.read(jpeg(segment(0xE1, embedded.XMP_APP1 + named), *chunks)).tags == ["near", "far"]
    unnamed = embedded.read(jpeg(segment(0xE1, embedded.XMP_APP1 + packet("near")), *chunks))
    assert unnamed.tags == ["near"] and "does not name" in unnamed.problems[0]
    missing = embedded.read(jpeg(segment(0xE1, embedded.XMP_APP1 + named), *chunks[1:]))
    assert missing.tags == ["near"] and "incomplete" in missing.problems[0]


def test_png_xmp_plain_and_compressed_and_other_itxt():
    other = png_chunk(b"iTXt", b"Comment\0\0\0\0\0hello")
    assert embedded.read(png(other, png_xmp(packet("p")))).tags == ["p"]
    assert embedded.read(png(png_xmp(packet("z"), compressed=True))).tags == ["z"]


def test_a_zlib_bomb_in_png_is_refused():
    bomb = png(png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\x01\0\0\0" + zlib.compress(b" " * (64 * 1024 * 1024), 9)))
    assert len(bomb) < 100_000
    found = embedded.read(bomb)
    assert found.tags == [] and "larger than 4 MB" in found.problems[0]


@pytest.mark.parametrize("data", [
    b"", b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xe1\x00", b"\xff\xd8\xff\xe1\x00\x01",
    b"\xff\xd8\xff\xe1\xff\xff" + embedded.XMP_APP1, jpeg(segment(0xE1, embedded.XMP_APP1 + b"<not xml")),
    jpeg(segment(0xE1, embedded.EXTENDED_APP1 + b"short")),
    jpeg(segment(0xE1, embedded.EXTENDED_APP1 + b"G" * 32 + (2 ** 31).to_bytes(4, "big") + bytes(4))),
    jpeg(segment(0xED, embedded.PHOTOSHOP_APP13 + b"8BIM\x04\x04\x00\x00\xff\xff\xff\xff\x1c\x02")),
    jpeg(segment(0xED, embedded.PHOTOSHOP_APP13 + b"8BIM\x04\x04\x00\x00\x00\x00\x00\x09\x1c\x02\x19\x80\x08")),
    jpeg(segment(0xED, embedded.PHOTOSHOP_APP13 + b"junkjunkjunkjunk")),
    embedded.PNG_SIGNATURE + b"\xff\xff\xff\xffiTXt",
    png(png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\x01\0\0\0not zlib")),
    png(png_chunk(b"iTXt", b"XML:com.adobe.xmp")),
    b"RIFF\xff\xff\xff\xffWEBPVP8X\x0a\x00\x00\x00\x04" + bytes(9) + b"XMP \xff\xff\xff\x7f",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"GIF89a" + bytes(100),
])
def test_garbage_gives_problems_not_exceptions(data):
    found = embedded.read(data)
    assert isinstance(found, xmp.Metadata) and found.tags == []


def test_random_damage_to_real_images_never_raises(made_by_exiftool):
    chance = random.Random(22)
    for name in ("tagged.jpg", "tagged.png", "tagged.webp", "compressed.png", "extended.jpg"):
        data = made_by_exiftool[name].read_bytes()
        for _ in range(60):
            damaged = bytearray(data[:chance.randrange(len(data) + 1)] if chance.random() < 0.3 else data)
            for _ in range(chance.randint(1, 12)):
                if damaged:
                    damaged[chance.randrange(min(len(damaged), 4096))] = chance.randrange(256)  # mostly headers
            assert isinstance(embedded.read(bytes(damaged), reader(bytes(damaged), [])), xmp.Metadata)
