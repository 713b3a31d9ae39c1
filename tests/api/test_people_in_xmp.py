"""People named in lenslet, written to the XMP sidecar (LENSLET_XMP=write) as MWG regions and person keywords."""

import json
import subprocess

from helpers import EXIFTOOL, at_once, draw, image_bytes, needs_exiftool
from PIL import Image
from test_people import ON_SCREEN, by_name, exiftool, item

from lenslet.formats import regions, xmp

BOB = ("-XMP-mwg-rs:RegionInfo={AppliedToDimensions={W=100,H=50,Unit=pixel},RegionList=[{Area={X=0.5,Y=0.5,"
       "W=0.2,H=0.2,Unit=normalized},Name=Bob,Type=Face}]}", "-XMP-digiKam:TagsList=People/Bob",
       "-XMP-digiKam:TagsList=Places/Oslo", "-XMP-xmp:Label=Red")
READ = ("-RegionName", "-RegionAreaX", "-RegionAreaY", "-RegionAreaW", "-RegionAreaH", "-RegionAppliedToDimensionsW",
        "-RegionAppliedToDimensionsH", "-TagsList", "-HierarchicalSubject", "-Label")


def read_back(path):
    """What exiftool reads from an XMP sidecar, each value a list."""
    out = subprocess.run([EXIFTOOL, "-j", "-n", *READ, str(path)], check=True, capture_output=True, timeout=60)
    return {name: value if isinstance(value, list) else [value]
            for name, value in json.loads(out.stdout)[0].items() if name != "SourceFile"}


def faces(read):
    """name -> the centred area exiftool reads."""
    return {name: [round(read[f"RegionArea{side}"][n], 4) for side in "XYWH"]
            for n, name in enumerate(read.get("RegionName", []))}


@needs_exiftool
def test_a_face_named_in_lenslet_is_read_back_by_exiftool_where_it_is_and_another_tools_kept(client_with, tree):
    photo = draw(tree / "o6.jpg", size=(100, 50))  # stored 100 x 50, shown 50 x 100
    exiftool("-EXIF:Orientation#=6", str(photo))
    exiftool("-o", "%d%f.%e.xmp", *BOB, str(photo))
    xmp = tree / "o6.jpg.xmp"
    bob = xmp.read_bytes()
    bob = bob[bob.index(b"<mwg-rs:Regions"):bob.index(b"</rdf:li>", bob.index(b"Bob</mwg-rs:Name>")) + 9]
    client = client_with(xmp="write")
    # [0.1, 0.2, 0.3, 0.1] of the stored pixels, shown under orientation 6: MWG's centre is (0.25, 0.25)
    client.patch_json("/item?path=o6.jpg", {"addPeople": [{"name": "Ann", "box": ON_SCREEN[6]}, {"name": "Dan"}]})
    read = read_back(xmp)
    assert faces(read) == {"Bob": [0.5, 0.5, 0.2, 0.2], "Ann": [0.25, 0.25, 0.3, 0.1]}
    assert read["RegionAppliedToDimensionsW"] == [100] and read["RegionAppliedToDimensionsH"] == [50]
    assert read["TagsList"] == ["People/Bob", "Places/Oslo", "People/Ann", "People/Dan"]
    assert read["HierarchicalSubject"] == ["People|Ann", "People|Dan"] and read["Label"] == ["Red"]
    assert bob in xmp.read_bytes()  # another tool's region kept byte for byte
    body = item(client, "o6.jpg")
    assert by_name(body["people"]) == {"Ann": ON_SCREEN[6], "Dan": None, "Bob": [0.4, 0.4, 0.2, 0.2]}
    assert "Ann" not in body["tags"] and "Oslo" in body["tags"]  # a person keyword names a person, not a tag

    client.post_json("/item/rotate?path=o6.jpg", {"turn": 90})  # shown as orientation 3 now
    client.patch_json("/item?path=o6.jpg", {"addPeople": [{"name": "Cleo", "box": ON_SCREEN[3]}]})
    assert faces(read_back(xmp))["Cleo"] == [0.25, 0.25, 0.3, 0.1]
    assert by_name(item(client, "o6.jpg")["people"])["Cleo"] == ON_SCREEN[3]

    client.patch_json("/item?path=o6.jpg", {"removePeople": ["ann", "Dan"]})
    read = read_back(xmp)
    assert set(faces(read)) == {"Bob", "Cleo"} and bob in xmp.read_bytes()
    assert read["TagsList"] == ["People/Bob", "Places/Oslo", "People/Cleo"]
    assert read["HierarchicalSubject"] == ["People|Cleo"]
    client.patch_json("/item?path=o6.jpg", {"removePeople": ["Bob"]})  # the XMP sidecar lenslet writes: it goes
    read = read_back(xmp)
    assert set(faces(read)) == {"Cleo"} and read["TagsList"] == ["Places/Oslo", "People/Cleo"]
    assert [person["name"] for person in item(client, "o6.jpg")["people"]] == ["Cleo"]


@needs_exiftool
def test_people_start_an_xmp_sidecar_and_odd_names_come_back_as_given(client_with, tree):
    draw(tree / "a.jpg", size=(80, 60))
    client = client_with(xmp="write")
    names = ['Ann "<&> Lee', "AC/DC|Live"]  # a name holding a keyword's separator is written as a region only
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": names[0], "box": [0, 0, 1, 1]},
                                                         {"name": names[1], "box": [0.5, 0.5, 0.5, 0.5]}]})
    read = read_back(tree / "a.jpg.xmp")
    assert faces(read) == {names[0]: [0.5, 0.5, 1, 1], names[1]: [0.75, 0.75, 0.5, 0.5]}
    assert read["RegionAppliedToDimensionsW"] == [80] and read["RegionAppliedToDimensionsH"] == [60]
    assert read["TagsList"] == ['People/Ann "<&> Lee'] and read["HierarchicalSubject"] == ['People|Ann "<&> Lee']
    assert [person["name"] for person in item(client, "a.jpg")["people"]] == names
    client.patch_json("/item?path=a.jpg", {"removePeople": names})
    assert "RegionName" not in (read := read_back(tree / "a.jpg.xmp")) and "TagsList" not in read
    assert "people" not in item(client, "a.jpg")


def test_people_written_on_either_storage_and_a_tag_of_the_same_name_is_another_thing(gallery):
    gallery.put("a.jpg", image_bytes(size=(100, 50)))
    gallery.put("a.jpg.xmp", b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
                b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" '
                b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:subject><rdf:Bag><rdf:li>Ann</rdf:li></rdf:Bag>'
                b'</dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>')
    client = gallery.with_settings(xmp="write")
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Ann", "box": [0.1, 0.2, 0.3, 0.1]}]})
    said = xmp.parse(gallery.read("a.jpg.xmp"))
    assert said.people == (("Ann", [0.1, 0.2, 0.3, 0.1], [100, 50]),) and said.tags == ["Ann"]
    client.patch_json("/item?path=a.jpg", {"removeTags": ["Ann"]})  # the tag goes, the person stays
    said = xmp.parse(gallery.read("a.jpg.xmp"))
    assert said.tags == [] and [person[0] for person in said.people] == ["Ann"]
    assert "People/Ann" in gallery.read("a.jpg.xmp").decode()
    client.patch_json("/item?path=a.jpg", {"removePeople": ["Ann"]})  # the last face goes, the regions' size stays
    client.patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Bob", "box": [0.5, 0.5, 0.5, 0.5]}]})
    assert xmp.parse(gallery.read("a.jpg.xmp")).people == (("Bob", [0.5, 0.5, 0.5, 0.5], [100, 50]),)
    assert gallery.read("a.jpg.xmp").count(b"<mwg-rs:Regions") == 1  # one struct, as XMP allows


def test_two_processes_naming_one_photo_at_once_write_every_name(client_with, tree):
    draw(tree / "a.jpg")
    writers = [client_with(xmp="write"), client_with(xmp="write")]  # two web processes on the tree

    def naming(n):
        for round_ in range(3):
            writers[n % 2].patch_json("/item?path=a.jpg", {"addPeople": [
                {"name": f"P{n}-{round_}", "box": [0.2 * n, 0.1, 0.1, 0.1]}]})

    at_once(naming, 4)
    said = xmp.parse((tree / "a.jpg.xmp").read_bytes())
    names = sorted(f"P{n}-{r}" for n in range(4) for r in range(3))
    assert sorted(person[0] for person in said.people if person[1]) == names
    assert sorted(path for path in said.paths if path.startswith("People/")) == [f"People/{name}" for name in names]


def test_a_face_joins_another_tools_regions_drawn_on_the_upright_picture_in_their_terms(client_with, tree):
    exif = Image.Exif()
    exif[0x0112] = 6  # stored 100 x 50, shown 50 x 100
    Image.new("RGB", (100, 50)).save(tree / "a.jpg", exif=exif)
    (tree / "a.jpg.xmp").write_bytes(
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
        b'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#"><mwg-rs:Regions rdf:parseType="Resource">'
        b'<mwg-rs:AppliedToDimensions stDim:w="50" stDim:h="100" stDim:unit="pixel"/><mwg-rs:RegionList><rdf:Bag>'
        b'</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>')
    client_with(xmp="write").patch_json("/item?path=a.jpg", {"addPeople": [{"name": "Ann", "box": ON_SCREEN[6]}]})
    said = xmp.parse((tree / "a.jpg.xmp").read_bytes())
    assert said.people == (("Ann", ON_SCREEN[6], [50, 100]),)  # where the face is on the picture as shown
    assert regions.on_screen(said.people, 6, 1, (50, 100)) == [{"name": "Ann", "box": ON_SCREEN[6]}]
