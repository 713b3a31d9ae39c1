"""People edited in the gallery page, at desktop and phone width: a face drawn over the photo and named, removed by
its box's x; the People view with face covers, a person renamed, merged into another, their photos on the timeline."""

import json

import pytest
from helpers import draw, gps_photo

pytestmark = pytest.mark.system

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


def image_rect(page):
    return page.script("return document.getElementById('view-image').getBoundingClientRect().toJSON()")


def drag_mouse(page, start, end):
    """Drag the mouse over the viewer's photo from start to end, (x, y) in fractions of the picture."""
    from selenium.webdriver.common.action_chains import ActionChains
    image = page.find("#view-image")
    box = image_rect(page)
    offset = [round((start[0] - 0.5) * box["width"]), round((start[1] - 0.5) * box["height"])]  # from its centre
    ActionChains(page.driver).move_to_element_with_offset(image, *offset).click_and_hold().move_by_offset(
        round((end[0] - start[0]) * box["width"]), round((end[1] - start[1]) * box["height"])).release().perform()


def drag_finger(page, start, end):
    """Drag a finger over the viewer's photo, as a phone's touch screen sends it."""
    box = image_rect(page)
    points = [(box["left"] + x * box["width"], box["top"] + y * box["height"]) for x, y in (start, end)]
    for kind, point in (("touchStart", points[0]), ("touchMove", points[1]), ("touchEnd", None)):
        touches = [{"x": point[0], "y": point[1]}] if point else []
        page.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": touches})


def people(page, path):
    return page.item(path).get("people", [])


def near(box, expected):
    return box is not None and all(abs(a - b) <= 0.02 for a, b in zip(box, expected, strict=True))


def draw_and_name(page, path, drag, name):
    page.open(f"#path=family&view={path}")
    # The photo shown and its details drawn (the preview may come first): "Draw a face" is offered then.
    page.until(lambda: page.script("return document.getElementById('view-image').naturalWidth > 0"
                                   " && !document.getElementById('view-draw-face').hidden"))
    if not page.find("#view-draw-face").is_displayed():
        page.find("#view-details").click()  # a phone shows the details on asking
    page.find("#view-draw-face").click()
    drag(page, (0.25, 0.25), (0.5, 0.75))
    page.until(lambda: page.script("return document.activeElement.id") == "view-person")
    page.find("#view-person").send_keys(name, page.Keys.ENTER)
    page.until(lambda: [person["name"] for person in people(page, path)] == [name])
    assert near(people(page, path)[0]["box"], [0.25, 0.25, 0.25, 0.5])


def test_a_face_drawn_named_and_removed_at_desktop_and_phone_width(fresh_page, tree):
    draw(tree / "family" / "a.jpg", size=(400, 200), color=(40, 120, 200))
    draw(tree / "family" / "b.jpg", size=(400, 200), color=(200, 120, 40))
    page = fresh_page()
    draw_and_name(page, "family/a.jpg", drag_mouse, "Ann")
    # The box is drawn at once and named when the server has answered: the x is waited for by its name.
    page.until(lambda: page.script("return document.querySelectorAll('.faces .face').length") == 1 and
               page.driver.find_elements(page.by.CSS_SELECTOR, '[aria-label="Remove the face of Ann"]'))
    page.labelled("Remove the face of Ann").click()
    page.until(lambda: people(page, "family/a.jpg") == [])

    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True})
    try:
        draw_and_name(page, "family/b.jpg", drag_finger, "Bob")
    finally:
        page.driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert json.loads((tree / "family" / "b.jpg.json").read_text())["people"][0][0] == "Bob"


def listed(page):
    return page.script("return [...document.querySelectorAll('#faces-list .person > button')]"
                       ".map(b => b.getAttribute('aria-label'))")


def answer(page, text):
    """Type text in the page's question (Dialogs.ask) and confirm it."""
    page.until(lambda: page.script("return document.getElementById('ask-dialog').open"))
    field = page.find("#ask-input")
    field.clear()
    field.send_keys(text, page.Keys.ENTER)


def person_menu(page, name, action):
    page.labelled(f"More for {name}").click()
    page.find(f'#faces-list li:has([aria-label="More for {name}"]) details[open]').find_element(
        page.by.XPATH, f'.//button[text()="{action}"]').click()


def test_the_people_view_shows_faces_renames_merges_and_opens_a_timeline_and_a_map(fresh_page, tree, tmp_path):
    (tree / "family").mkdir(parents=True)
    (tree / "family" / "a.jpg").write_bytes(gps_photo(38.72, -9.14, size=(400, 200)))
    draw(tree / "family" / "b.jpg", size=(400, 200), color=(200, 120, 40))
    page = fresh_page()
    page.patch("family/a.jpg", {"addPeople": [{"name": "Bob", "box": [0.5, 0, 0.5, 1]}]})
    page.patch("family/b.jpg", {"addPeople": [{"name": "Ann"}]})
    # the worker's rollup holds both, and both web processes have read it
    page.until_every_process(lambda: json.loads(page.server.get("/people")[1])["total"] == 2)
    page.open("#path=family")
    page.find("#faces-button").click()
    page.until(lambda: listed(page) == ["Ann: 1 photo", "Bob: 1 photo"])
    page.until(lambda: page.script("return [...document.querySelectorAll('#faces-list img.cover')]"
                                   ".every(img => img.naturalWidth > 0)"))  # Bob's face, Ann's photo

    person_menu(page, "Bob", "Rename")
    answer(page, "Robert")
    page.until(lambda: listed(page) == ["Ann: 1 photo", "Robert: 1 photo"])
    # the rename finds a person's photos through search, which reads the edits made elsewhere within a second
    page.until(lambda: "Robert" in page.server.get("/people")[1].decode())
    person_menu(page, "Robert", "Merge into\u2026")
    answer(page, "Ann")
    page.until(lambda: listed(page) == ["Ann: 2 photos"])
    assert people(page, "family/a.jpg") == [{"name": "Ann", "box": [0.5, 0.0, 0.5, 1.0]}]

    page.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    try:
        page.screenshot(tmp_path, "people-view-phone.png")
        # her photos are found through search, which each web process reads again a moment after the merge
        page.until_every_process(
            lambda: json.loads(page.server.get("/timeline/months?person=Ann")[1])["total"] == 2)
        page.labelled("Ann: 2 photos").click()  # her photos on the timeline
        page.until(lambda: "person=Ann" in page.script("return location.hash")
                   and page.script("return document.querySelectorAll('.tile.image').length") == 2)
        assert page.script("return document.getElementById('filter-person').value") == "Ann"  # the filter shown
    finally:
        page.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    page.find("#faces-button").click()
    page.until(lambda: listed(page) == ["Ann: 2 photos"])
    person_menu(page, "Ann", "On the map")
    page.until(lambda: "map=" in page.script("return location.hash")
               and page.script("return document.querySelectorAll('.map-photo, .map-cluster').length") == 1)
