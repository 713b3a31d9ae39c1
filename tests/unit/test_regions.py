"""People in XMP: MWG and Microsoft face regions and person keywords read, bounded, and placed as shown."""

import pytest
from PIL import Image

from lenslet.formats import regions, xmp
from lenslet.images.pillow import UPRIGHT

NAMESPACES = ('xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
              'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#" '
              'xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" '
              'xmlns:MP="http://ns.microsoft.com/photo/1.2/" '
              'xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" '
              'xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#" '
              'xmlns:digiKam="http://www.digikam.org/ns/1.0/" '
              'xmlns:lr="http://ns.adobe.com/lightroom/1.0/"')


def packet(*properties):
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="" {NAMESPACES}>' + "".join(properties)
            + "</rdf:Description></rdf:RDF></x:xmpmeta>").encode()


def mwg_face(name, x, y, w, h, kind="Face"):
    """A region as exiftool writes it: elements, the area's centre."""
    return (f'<rdf:li rdf:parseType="Resource"><mwg-rs:Area rdf:parseType="Resource"><stArea:x>{x}</stArea:x>'
            f'<stArea:y>{y}</stArea:y><stArea:w>{w}</stArea:w><stArea:h>{h}</stArea:h>'
            f'<stArea:unit>normalized</stArea:unit></mwg-rs:Area><mwg-rs:Name>{name}</mwg-rs:Name>'
            f'<mwg-rs:Type>{kind}</mwg-rs:Type></rdf:li>')


def mwg(*faces, dims=(400, 300)):
    return ('<mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:AppliedToDimensions stDim:w="%d" stDim:h="%d" '
            'stDim:unit="pixel"/><mwg-rs:RegionList><rdf:Bag>%s</rdf:Bag></mwg-rs:RegionList></mwg-rs:Regions>'
            % (*dims, "".join(faces)))


def microsoft(*regions_):
    return ('<MP:RegionInfo rdf:parseType="Resource"><MPRI:Regions><rdf:Bag>' + "".join(
        f'<rdf:li MPReg:PersonDisplayName="{name}" MPReg:Rectangle="{rectangle}"/>' for name, rectangle in regions_)
        + "</rdf:Bag></MPRI:Regions></MP:RegionInfo>")


def test_mwg_areas_are_centred_and_microsoft_rectangles_start_top_left():
    found = xmp.parse(packet(mwg(mwg_face("Ann", 0.5, 0.5, 0.2, 0.4)), microsoft(("Bob", "0.1, 0.2, 0.3, 0.4"))))
    assert found.people == (("Ann", [0.4, 0.3, 0.2, 0.4], [400, 300]), ("Bob", [0.1, 0.2, 0.3, 0.4], None))
    assert found.problems == ()


def test_one_person_once_from_both_forms_and_keywords_without_a_box():
    found = xmp.parse(packet(
        "<digiKam:TagsList><rdf:Seq><rdf:li>People/Family/Ann</rdf:li><rdf:li>Places/Ann</rdf:li></rdf:Seq>"
        "</digiKam:TagsList>", "<lr:hierarchicalSubject><rdf:Bag><rdf:li>People|Cleo</rdf:li></rdf:Bag>"
        "</lr:hierarchicalSubject>", mwg(mwg_face("ann", 0.5, 0.5, 0.2, 0.2)),
        microsoft(("Ann", "0.4, 0.4, 0.2, 0.2"))))
    assert [(name, box) for name, box, _ in found.people] == [("ann", [0.4, 0.4, 0.2, 0.2]), ("Cleo", None)]


def test_a_region_of_another_kind_or_without_a_name_is_no_person():
    found = xmp.parse(packet(mwg(mwg_face("Rex", 0.5, 0.5, 0.1, 0.1, kind="Pet"), mwg_face("", 0.5, 0.5, 0.1, 0.1))))
    assert found.people == () and found.problems == ()


@pytest.mark.parametrize("area, rectangle", [((0.5, 0.5, 0, 0.2), "0.1, 0.1, 0, 0.2"),
                                             ((0.95, 0.5, 0.3, 0.2), "0.9, 0.1, 0.3, 0.2"),
                                             ((-0.5, 0.5, 0.1, 0.1), "-0.5, 0.1, 0.1, 0.1"),
                                             ((0.5, 0.5, -0.2, 0.2), "0.1, 0.1, 0.2, -0.2")])
def test_an_area_outside_the_photo_or_without_size_is_dropped_the_name_stays(area, rectangle):
    found = xmp.parse(packet(mwg(mwg_face("Ann", *area)), microsoft(("Bob", rectangle))))
    assert found.people == (("Ann", None, None), ("Bob", None, None))
    assert len(found.problems) == 2 and all("outside the photo" in problem for problem in found.problems)


@pytest.mark.parametrize("area", [("x", 0.5, 0.1, 0.1), ("nan", 0.5, 0.1, 0.1), ("inf", 0.5, 0.1, 0.1)])
def test_an_area_lenslet_cannot_read_is_named_and_the_rest_stands(area):
    found = xmp.parse(packet(mwg(mwg_face("Ann", *area), mwg_face("Bob", 0.5, 0.5, 0.2, 0.2)),
                             microsoft(("Cleo", "1, 2"))))
    assert [name for name, _, _ in found.people] == ["Ann", "Bob", "Cleo"]
    assert found.people[1][1] == [0.4, 0.4, 0.2, 0.2]
    assert found.problems == ("the face region of Ann has an area lenslet cannot read",
                              "the face region of Cleo has a rectangle lenslet cannot read")


def test_ten_thousand_regions_keep_the_first_hundred_and_say_so():
    found = xmp.parse(packet(mwg(*(mwg_face(f"P{n}", 0.5, 0.5, 0.1, 0.1) for n in range(10_000)))))
    assert len(found.people) == regions.MAX_PEOPLE and found.people[0][0] == "P0"
    assert found.problems[-1] == f"more than {regions.MAX_PEOPLE} people: the rest are ignored"


@pytest.mark.parametrize("raw, clean", [("  Ann\u0007 \u200b Lee\n", "Ann Lee"), ("<b>Ann</b>", "<b>Ann</b>"),
                                        ("x" * 10_000, "x" * regions.MAX_NAME), ("\u0001\u0002", None)])
def test_names_lose_control_characters_and_are_capped(raw, clean):
    assert regions.clean_name(raw) == clean


def test_markup_in_a_name_is_kept_as_text():
    found = xmp.parse(packet(microsoft(("&lt;script&gt;x", "0.1, 0.1, 0.1, 0.1"))))
    assert found.people[0][0] == "<script>x"


def test_people_survive_a_manifest_and_a_forged_reading_is_refused():
    found = xmp.parse(packet(mwg(mwg_face("Ann", 0.5, 0.5, 0.2, 0.2))))
    assert xmp.from_dict(found.to_dict()) == found
    assert "people" not in xmp.Metadata().to_dict()  # photos without people stay small
    for forged in ([["Ann", [1, 2], None]], [["\u0007", None, None]], "Ann", [["Ann", None, [1, 2], 4]]):
        assert xmp.from_dict(dict(found.to_dict(), people=forged)) is None


# Where a face is on screen: the stored box [0.1, 0.2, 0.3, 0.1] under each EXIF orientation.
ON_SCREEN = {1: [0.1, 0.2, 0.3, 0.1], 2: [0.6, 0.2, 0.3, 0.1], 3: [0.6, 0.7, 0.3, 0.1], 4: [0.1, 0.7, 0.3, 0.1],
             5: [0.2, 0.1, 0.1, 0.3], 6: [0.7, 0.1, 0.1, 0.3], 7: [0.7, 0.6, 0.1, 0.3], 8: [0.2, 0.6, 0.1, 0.3]}


@pytest.mark.parametrize("orientation", sorted(ON_SCREEN))
def test_a_box_turns_with_each_orientation_as_pillow_turns_the_pixels(orientation):
    assert regions.turned_box([0.1, 0.2, 0.3, 0.1], orientation) == ON_SCREEN[orientation]
    stored = Image.new("L", (100, 50))
    stored.paste(255, (10, 10, 40, 15))  # the box, in pixels
    shown = stored.transpose(UPRIGHT[orientation]) if orientation in UPRIGHT else stored
    left, top, right, bottom = shown.getbbox()
    assert [left / shown.width, top / shown.height, (right - left) / shown.width, (bottom - top) / shown.height] == \
        pytest.approx(ON_SCREEN[orientation])


def test_a_turn_adds_to_the_camera_and_an_upright_region_takes_only_the_turn():
    person = ("Ann", [0.1, 0.2, 0.3, 0.1], [300, 400])
    assert regions.on_screen([person], 6, 1, (400, 300)) == [{"name": "Ann", "box": ON_SCREEN[6]}]
    assert regions.on_screen([person], 6, 3, (400, 300)) == [{"name": "Ann", "box": ON_SCREEN[8]}]
    # applied to the upright picture's size: the tool drew it on the picture as shown
    assert regions.on_screen([person], 6, 1, (300, 400)) == [{"name": "Ann", "box": ON_SCREEN[1]}]
    assert regions.on_screen([("Bob", None, None)], 6, 3, (300, 400)) == [{"name": "Bob"}]


def test_many_unreadable_regions_name_only_the_first_few():
    found = xmp.parse(packet(mwg(*(mwg_face(f"P{n}", "x", 0.5, 0.1, 0.1) for n in range(50)))))
    assert len(found.people) == 50 and len(found.problems) == regions.MAX_PROBLEMS
