"""People in the gallery page, on a desktop and a phone: the names on the viewer's details, a face's box drawn over
the photo on asking, a photo named whole (names suggested), and the Faces view, whose person opens their timeline."""

import json

import pytest
from helpers import draw

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
BOB = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
       '<rdf:Description rdf:about="" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" '
       'xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"><mwg-rs:Regions rdf:parseType="Resource"><mwg-rs:RegionList>'
       '<rdf:Bag><rdf:li><rdf:Description mwg-rs:Name="Bob" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.5" '
       'stArea:y="0.5" stArea:w="0.2" stArea:h="0.4" stArea:unit="normalized"/></rdf:Description></rdf:li></rdf:Bag>'
       '</mwg-rs:RegionList></mwg-rs:Regions></rdf:Description></rdf:RDF></x:xmpmeta>')


def rect(page, css):
    return page.script("const e = document.querySelector(arguments[0]);"
                       " return e && e.offsetParent ? e.getBoundingClientRect().toJSON() : null", css)


def face_where_it_is(page):
    """Show the faces; answer whether Bob's box stands at [0.4, 0.3, 0.2, 0.4] of the photo as shown."""
    if page.find("#view-faces").get_attribute("aria-pressed") != "true":
        page.find("#view-faces").click()
    face, image = rect(page, ".faces .face"), rect(page, "#view-image")
    return face is not None and all(abs(a - b) <= 1.5 for a, b in zip(
        (face["left"], face["top"], face["width"], face["height"]),
        (image["left"] + 0.4 * image["width"], image["top"] + 0.3 * image["height"], 0.2 * image["width"],
         0.4 * image["height"]), strict=True))


def chips(page):
    return page.script("return [...document.querySelectorAll('#view-people .tag')].map(t => t.firstChild.textContent)")


def test_people_on_the_viewers_details_and_the_faces_view_at_desktop_and_phone_width(fresh_page, tree, tmp_path):
    draw(tree / "family" / "a.jpg", size=(400, 200), color=(40, 120, 200))
    draw(tree / "family" / "b.jpg", size=(400, 200), color=(200, 120, 40))
    (tree / "family" / "a.jpg.xmp").write_text(BOB)
    page = fresh_page()
    # the worker's rollup names Bob, and both web processes have read it
    page.until_every_process(lambda: json.loads(page.server.get("/people")[1])["total"] == 1)
    page.open("#path=family&view=family/a.jpg")
    page.until(lambda: page.viewer_name() == "a.jpg" and chips(page) == ["Bob"]
               and page.script("return document.getElementById('view-image').naturalWidth") > 0)
    assert rect(page, ".faces .face") is None  # drawn only on asking
    page.until(lambda: face_where_it_is(page))
    page.screenshot(tmp_path, "people-viewer.png")

    page.find("#view-person").click()  # the names known are suggested
    page.until(lambda: page.script("return [...document.querySelectorAll('#person-suggestions option')]"
                                   ".map(o => o.value)") == ["Bob"])
    page.find("#view-person").send_keys("Ann Lee", page.Keys.ENTER)
    page.until(lambda: chips(page) == ["Ann Lee", "Bob"])
    assert [person["name"] for person in page.item("family/a.jpg")["people"]] == ["Ann Lee", "Bob"]
    page.labelled("Remove person Ann Lee").click()
    page.until(lambda: chips(page) == ["Bob"] and len(page.item("family/a.jpg")["people"]) == 1)

    page.keys(page.Keys.ESCAPE)
    page.until(lambda: page.viewer_name() is None)
    page.find("#faces-button").click()
    page.until(lambda: page.driver.find_elements(page.by.CSS_SELECTOR, '[aria-label="Bob: 1 photo"]'))
    page.labelled("Bob: 1 photo").click()
    page.until(lambda: "person=Bob" in page.script("return location.hash")
               and "timeline=" in page.script("return location.hash"))
    page.until(lambda: page.script("return [...document.querySelectorAll('.tile.image')].length") == 1)

    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        page.open("#path=family&view=family/a.jpg")
        page.until(lambda: page.viewer_name() == "a.jpg" and
                   page.script("return document.getElementById('view-image').naturalWidth") > 0)
        page.find("#view-details").click()
        page.until(lambda: chips(page) == ["Bob"] and rect(page, "#view-people") is not None)
        page.until(lambda: face_where_it_is(page))
        page.screenshot(tmp_path, "people-phone.png")
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
