"""People other photo tools name in XMP: MWG and Microsoft face regions, person keywords; boxes as shown."""

import math
import re
import unicodedata

from lenslet.errors import BadRequest
from lenslet.formats.sidecars import MIRROR_QUARTERS, then, undone
from lenslet.text import fold

MAX_PEOPLE = 100  # per photo; the rest are named in the photo's error
MAX_NAME = 100    # characters of a person's name
MAX_PROBLEMS = 10  # regions named in a photo's error

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
MWG_RS = "http://www.metadataworkinggroup.com/schemas/regions/"
ST_AREA = "http://ns.adobe.com/xmp/sType/Area#"
ST_DIM = "http://ns.adobe.com/xap/1.0/sType/Dimensions#"
MP = "http://ns.microsoft.com/photo/1.2/"
MPRI = "http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
MPREG = "http://ns.microsoft.com/photo/1.2/t/Region#"
RDF_DESCRIPTION, RDF_LI = f"{{{RDF}}}Description", f"{{{RDF}}}li"
MWG_REGIONS, MP_REGION_INFO = f"{{{MWG_RS}}}Regions", f"{{{MP}}}RegionInfo"
# The root of person keywords: digiKam's People/Name, Lightroom's People|Name.
PEOPLE_ROOT = "people"

_SPACES = re.compile(r"\s+")


def clean_name(text):
    """A person's name as shown: control and format characters out, spaces collapsed, capped; None when empty."""
    if not isinstance(text, str):
        return None
    text = "".join(" " if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") else char for char in text)
    return _SPACES.sub(" ", text).strip()[:MAX_NAME].strip() or None


def name_key(name):
    return fold(name)


def _field(element, namespace, local):
    """A struct field's text, written as an attribute or an element, on the struct or its rdf:Description."""
    name = f"{{{namespace}}}{local}"
    for holder in (element, element.find(RDF_DESCRIPTION)):
        if holder is None:
            continue
        if name in holder.attrib:
            return holder.attrib[name]
        found = holder.find(name)
        if found is not None:
            return found
    return None


def _text(value):
    return value if isinstance(value, str) or value is None else (value.text or "")


def _items(element, namespace, local):
    """The rdf:li of an array-valued struct field."""
    found = _field(element, namespace, local)
    if found is None or isinstance(found, str):
        return []
    return [li for array in found for li in array if li.tag == RDF_LI]


def _number(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


def _inside(box):
    """A top-left box kept inside the photo, rounded; None when it has no area or lies outside."""
    x, y, w, h = box
    if w <= 0 or h <= 0 or x < -0.01 or y < -0.01 or x + w > 1.01 or y + h > 1.01:
        return None
    x, y = max(x, 0.0), max(y, 0.0)
    return [round(x, 4), round(y, 4), round(min(w, 1 - x), 4), round(min(h, 1 - y), 4)]


def applied_to(regions):
    """The [w, h] an mwg-rs:Regions struct's areas are fractions of, or None."""
    dims = _field(regions, MWG_RS, "AppliedToDimensions")
    try:
        return [int(_number(_text(_field(dims, ST_DIM, side)))) for side in ("w", "h")] if dims is not None \
            and not isinstance(dims, str) else None
    except (TypeError, ValueError):
        return None


def _mwg(regions, problems):
    """(name, box, applied-to dimensions) of each named face of an mwg-rs:Regions struct."""
    dims, found = applied_to(regions), []
    for region in _items(regions, MWG_RS, "RegionList"):
        kind, name = _text(_field(region, MWG_RS, "Type")), clean_name(_text(_field(region, MWG_RS, "Name")))
        if name is None or (kind or "Face").strip() != "Face":
            continue
        area, box = _field(region, MWG_RS, "Area"), None
        if area is not None and not isinstance(area, str):
            try:
                unit = (_text(_field(area, ST_AREA, "unit")) or "normalized").strip()
                x, y, w, h = (_number(_text(_field(area, ST_AREA, side))) for side in ("x", "y", "w", "h"))
                if unit != "normalized":
                    raise ValueError(unit)
                box = _inside([x - w / 2, y - h / 2, w, h])  # MWG gives the centre
                if box is None:
                    problems.append(f"the face region of {name} lies outside the photo or has no size")
            except (TypeError, ValueError):
                problems.append(f"the face region of {name} has an area lenslet cannot read")
        found.append((name, box, dims if box else None))
    return found


def _microsoft(info, problems):
    """(name, box, None) of each named region of an MP:RegionInfo struct."""
    found = []
    for region in _items(info, MPRI, "Regions"):
        name, box = clean_name(_text(_field(region, MPREG, "PersonDisplayName"))), None
        rectangle = _text(_field(region, MPREG, "Rectangle"))
        if name is None:
            continue
        if rectangle is not None:
            try:
                box = _inside([_number(part) for part in rectangle.split(",", 4)[:5]])
                if box is None:
                    problems.append(f"the face region of {name} lies outside the photo or has no size")
            except (TypeError, ValueError):
                problems.append(f"the face region of {name} has a rectangle lenslet cannot read")
        found.append((name, box, None))
    return found


def people_in(descriptions, keyword_paths):
    """Return (people, problems) an XMP packet names: (name, box or None, dimensions or None) each, one per name.
    A box is [x, y, w, h] from the top-left of the stored pixels, in fractions of its sides.
    keyword_paths: (path, separator) pairs of its hierarchical keywords."""
    problems, found = [], []
    for description in descriptions:
        for regions in description.iter(MWG_REGIONS):
            found += _mwg(regions, problems)
        for info in description.iter(MP_REGION_INFO):
            found += _microsoft(info, problems)
    for path, separator in keyword_paths:
        parts = [part.strip() for part in path.split(separator)]
        if len(parts) > 1 and parts[0].casefold() == PEOPLE_ROOT:
            name = clean_name(parts[-1])
            found += [(name, None, None)] if name else []
    people = united([], found)
    more = [f"more than {MAX_PEOPLE} people: the rest are ignored"] if len(people) > MAX_PEOPLE else []
    return tuple(people[:MAX_PEOPLE]), problems[:MAX_PROBLEMS] + more


def person_key(path, separator):
    """The name key of a person keyword ("People/Ann"), else None."""
    parts = [part.strip() for part in path.split(separator)]
    name = clean_name(parts[-1]) if len(parts) > 1 and parts[0].casefold() == PEOPLE_ROOT else None
    return name and name_key(name)


def region_arrays(descriptions):
    """(array, {rdf:li: its name key}) of each face region array of an XMP packet, MWG's first."""
    found = []
    for container, holder, local, namespace, name in ((MWG_REGIONS, MWG_RS, "RegionList", MWG_RS, "Name"), (
            MP_REGION_INFO, MPRI, "Regions", MPREG, "PersonDisplayName")):
        for element in (element for description in descriptions for element in description.iter(container)):
            field = _field(element, holder, local)
            arrays = () if field is None or isinstance(field, str) else field
            found += [(array, {li: name_key(clean_name(_text(_field(li, namespace, name))) or "") for li in array
                               if li.tag == RDF_LI}) for array in arrays]
    return found


def united(people, more):
    """People with more added, one per name: the first spelling, the first box found."""
    result, where = list(people), {name_key(person[0]): index for index, person in enumerate(people)}
    for person in more:
        key = name_key(person[0])
        if key not in where:
            where[key] = len(result)
            result.append(tuple(person))
        elif result[where[key]][1] is None and person[1] is not None:
            result[where[key]] = (result[where[key]][0], *person[1:])
    return result


def turned_box(box, orientation):
    """Return a top-left box of stored pixels where it is once an EXIF orientation (1-8) is applied."""
    mirror, quarters = MIRROR_QUARTERS[orientation]
    x, y, w, h = box
    if mirror:
        x = 1 - x - w
    for _ in range(quarters):  # a quarter turn clockwise
        x, y, w, h = 1 - y - h, x, h, w
    return [round(value, 4) for value in (x, y, w, h)]


def on_screen(people, camera, turn, size):
    """Return people as the API shows them, {"name", "box"?}, boxes where the faces are on screen.
    camera: the EXIF orientation; turn: a person's turn over it; size: (w, h) with the camera's orientation applied.
    A region whose applied-to dimensions are already the upright picture's only turns with the person's turn."""
    shown = []
    camera, turn = camera if camera in MIRROR_QUARTERS else 1, turn if turn in MIRROR_QUARTERS else 1
    for name, box, dims in people:
        person = {"name": name}
        if box is not None:
            upright = dims is not None and MIRROR_QUARTERS[camera][1] % 2 == 1 and size[0] != size[1] \
                and list(dims) == list(size)
            person["box"] = turned_box(box, turn if upright else then(camera, turn))
        shown.append(person)
    return shown


# People a person names in lenslet: kept in the sidecar as [[name, box or null]], boxes of the stored pixels

def check_edit(body):
    """Validate PATCH's addPeople ([{"name", "box"?}], box as shown) and removePeople ([names]); return them."""
    ops = {}
    adding, removing = body.get("addPeople"), body.get("removePeople")
    if adding is not None:
        if not isinstance(adding, list) or len(adding) > MAX_PEOPLE or \
                not all(isinstance(person, dict) and set(person) <= {"name", "box"} for person in adding):
            raise BadRequest(f'addPeople is a list of at most {MAX_PEOPLE} {{"name", "box"}}', field="addPeople")
        ops["addPeople"] = [(_checked_name(person.get("name"), "addPeople"), _checked_box(person.get("box")))
                            for person in adding]
    if removing is not None:
        if not isinstance(removing, list) or len(removing) > MAX_PEOPLE:
            raise BadRequest(f"removePeople is a list of at most {MAX_PEOPLE} names", field="removePeople")
        ops["removePeople"] = [_checked_name(name, "removePeople") for name in removing]
    return ops


def _checked_name(name, field):
    if not isinstance(name, str) or clean_name(name) != name.strip() or not name.strip() or len(name) > MAX_NAME:
        raise BadRequest(f"a person's name is text of 1 to {MAX_NAME} characters without control characters",
                         field=field)
    return name.strip()


def _checked_box(box):
    if box is not None and not _is_box(box):
        raise BadRequest("a box is [x, y, width, height] inside the picture as shown, in fractions of its sides",
                         field="addPeople")
    return box and [float(value) for value in box]


def _is_box(box):
    return isinstance(box, list) and len(box) == 4 and all(type(value) in (int, float) for value in box) and \
        min(box) >= 0 and box[2] > 0 and box[3] > 0 and box[0] + box[2] <= 1.001 and box[1] + box[3] <= 1.001


def read_box(text):
    """Return the box a URL names, "x,y,w,h" inside the picture as shown in fractions of its sides; else BadRequest."""
    try:
        box = [float(part) for part in (text or "").split(",")]
    except ValueError:
        box = None
    if not _is_box(box):  # NaN and infinity too: no comparison holds for them
        raise BadRequest("box is x,y,w,h inside the picture as shown, in fractions of its sides", param="box")
    return [round(value, 4) for value in box]


def own_people(sidecar):
    """The people a sidecar keeps, as people_in gives them; a forged entry is none."""
    people = sidecar.get("people") if isinstance(sidecar, dict) else None
    return tuple((person[0], person[1], None) for person in people if isinstance(person, list) and len(person) == 2
                 and isinstance(person[0], str) and clean_name(person[0]) == person[0]
                 and (person[1] is None or _is_box(person[1]))) if isinstance(people, list) else ()


def edited(sidecar, ops, orientation):
    """Return a sidecar with PATCH's people operations made; orientation: how the picture is shown."""
    gone = {name_key(name) for name in ops.get("removePeople", ())} | \
        {name_key(name) for name, _ in ops.get("addPeople", ())}  # a name given again takes its new box
    kept = [[name, box] for name, box, _ in own_people(sidecar) if name_key(name) not in gone]
    added = [[name, turned_box(box, undone(orientation)) if box else None] for name, box in ops.get("addPeople", ())]
    people = [list(person[:2]) for person in united([], kept + added)][:MAX_PEOPLE]
    result = {key: value for key, value in sidecar.items() if key != "people"}
    return dict(result, people=people) if people else result
