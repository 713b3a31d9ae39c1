"""Place names offline: known places by name, borders, the sea, the poles and the antimeridian; hostile
positions and hostile EXIF GPS placeless, never a crash; the table's search against a brute force."""

import math
import random

import pytest
from PIL.TiffImagePlugin import IFDRational

from lenslet.formats import exif
from lenslet.places.suggest import named
from lenslet.places.table import (
    SCALE,
    cell_of,
    chord_km,
    label,
    place_of,
    read_table,
    table,
    table_version,
    unit_vector,
    write_table,
)


@pytest.mark.parametrize("latitude, longitude, city, region, country", [
    (48.8530, 2.3499, "Paris", "Île-de-France", "France"),  # Notre-Dame
    (-1.2864, 36.8172, "Nairobi", "Nairobi County", "Kenya"),
    (-15.7998, -47.8645, "Brasília", "Federal District", "Brazil"),
    (-34.6037, -58.3816, "Buenos Aires", "Buenos Aires F.D.", "Argentina"),
    (-41.2865, 174.7762, "Wellington", "Wellington Region", "New Zealand"),
    (45.4236, -75.7009, "Ottawa", "Ontario", "Canada"),
    (60.1699, 24.9384, "Helsinki", "Uusimaa", "Finland"),
    (39.6016, -9.0713, "Nazaré", "Leiria", "Portugal"),  # a coastal town
    (39.6000, -9.1050, "Nazaré", "Leiria", "Portugal"),  # a boat 3 km off its beach
    (78.2232, 15.6267, "Longyearbyen", "Svalbard", "Svalbard and Jan Mayen"),
])
def test_known_places(latitude, longitude, city, region, country):
    assert place_of(latitude, longitude) == {"city": city, "region": region, "country": country,
                                             "countryCode": place_of(latitude, longitude)["countryCode"]}


@pytest.mark.parametrize("latitude, longitude, city", [
    (32.6479, -16.9081, "Funchal"),  # the cathedral, in the parish of Sé
    (32.6500, -16.9000, "Funchal"),  # Santa Luzia, a parish of Funchal
    (38.7107, -9.1365, "Lisbon"),  # Baixa
    (38.6979, -9.2063, "Lisbon"),  # Belém
    (51.4995, -0.1248, "London"),  # Westminster
    (40.4169, -3.7035, "Madrid"),  # Sol
    (56.1503, 10.2043, "Århus"),  # the station
    (48.1497, 11.4614, "Munich"),  # Pasing, nearer Germering's centre than Munich's
    (50.9413, 6.9583, "Köln"),  # the cathedral
    (38.7538, -9.2308, "Amadora"),  # a town beside Lisbon is itself
    (38.6790, -9.1569, "Almada"),  # across the Tagus: its own municipality
    (32.6486, -16.9776, "Câmara de Lobos"),  # a seat beside Funchal
    (40.3057, -3.7329, "Getafe"),  # beyond Madrid's core
])
def test_a_towns_districts_are_named_after_the_town_and_the_towns_beside_it_after_themselves(latitude, longitude,
                                                                                               city):
    assert place_of(latitude, longitude)["city"] == city


@pytest.mark.parametrize("latitude, longitude, region, code", [
    (51.4995, -0.1248, "England", "GB"),  # Westminster
    (40.4169, -3.7035, "Madrid", "ES"),
    (35.6852, 139.7528, "Tokyo", "JP"),
    (-35.3081, 149.1245, "Australian Capital Territory", "AU"),
])
def test_capitals_inside_big_cities_name_their_region_and_country(latitude, longitude, region, code):
    found = place_of(latitude, longitude)
    assert (found["region"], found["countryCode"]) == (region, code)


@pytest.mark.parametrize("latitude, longitude, city, code", [
    (59.3770, 28.1960, "Narva", "EE"),  # the Narva river: Estonia west of it, Russia east
    (59.3710, 28.2120, "Ivangorod", "RU"),
    (52.3470, 14.5500, "Frankfurt (Oder)", "DE"),  # the Oder
    (52.3505, 14.5610, "Słubice", "PL"),
    (51.1556, 14.9870, "Görlitz", "DE"),  # the Neisse
    (51.1500, 15.0060, "Zgorzelec", "PL"),
    (65.8480, 24.1500, "Tornio", "FI"),  # the Torne
    (65.8350, 24.1330, "Haparanda", "SE"),
    (57.7775, 26.0500, "Valga", "EE"),  # one town cut in two by a land border
    (57.7750, 26.0080, "Valka", "LV"),
])
def test_either_side_of_a_border(latitude, longitude, city, code):
    found = place_of(latitude, longitude)
    assert (found["city"], found["countryCode"]) == (city, code)


@pytest.mark.xfail(strict=True, reason="the nearest town's centre can be across a border: Strasbourg's centre is "
                                       "3.5 km from its Rhine bank, Kehl's 1.8 km")
def test_a_bank_nearer_the_other_towns_centre_is_still_its_own_country():
    assert place_of(48.5730, 7.7900)["countryCode"] == "FR"


@pytest.mark.parametrize("latitude, longitude", [
    (39.60, -9.77),  # 60 km off the Portuguese coast
    (35.0, -40.0), (0.0, -140.0), (-30.0, 80.0), (-30.0, -15.0), (0.0, 0.0),
    (90, 0), (90, 123.4), (89.999, -179.9), (-90, 0), (-90, -180), (-89.5, 45),
])
def test_the_open_sea_and_the_poles_are_placeless(latitude, longitude):
    assert place_of(latitude, longitude) is None


@pytest.mark.parametrize("latitude, longitude, city, code", [
    (66.32, 179.95, "Egvekinot", "RU"),  # Chukotka: the town stands at 179.1 degrees west
    (66.3232, -179.1184, "Egvekinot", "RU"),
    (64.7342, 177.5103, "Anadyr", "RU"),
    (-16.43, 180, "Labasa", "FJ"),  # Fiji: the town stands at 179.4 degrees east
    (-16.43, -180, "Labasa", "FJ"),
    (-16.43, -179.95, "Labasa", "FJ"),
    (-18.1416, 178.4419, "Suva", "FJ"),
    (1.9870, -157.4750, "London Village", "KI"),  # Kiritimati, Kiribati's Line Islands
])
def test_near_the_antimeridian(latitude, longitude, city, code):
    found = place_of(latitude, longitude)
    assert (found["city"], found["countryCode"]) == (city, code)


@pytest.mark.parametrize("latitude, longitude", [
    (math.nan, 2.35), (48.85, math.nan), (math.inf, 0), (0, -math.inf), (90.0001, 0), (-91, 0), (0, 180.5),
    (0, -181), (None, None), ("48.85", "2.35"), (b"48", 2), ([48.85], 2.35), (True, 2.35), (48.85, False),
    (10 ** 400, 0), (0, -10 ** 400), (complex(48, 0), 2.35), ({}, 2),
])
def test_hostile_positions_are_placeless(latitude, longitude):
    assert place_of(latitude, longitude) is None


def test_the_table_has_a_version():
    assert table_version().startswith("geonames-cities1000-") and table_version() == table_version()


def _gps(latitude, longitude, north="N", east="E"):
    return {exif.GPS_LATITUDE_REF: north, exif.GPS_LATITUDE: latitude,
            exif.GPS_LONGITUDE_REF: east, exif.GPS_LONGITUDE: longitude}


def test_exif_gps_of_a_real_place():
    found = exif.position(_gps((IFDRational(48, 1), IFDRational(51, 1), IFDRational(1068, 100)),
                               ((2, 1), (21, 1), (0, 1))))
    assert place_of(found["latitude"], found["longitude"])["city"] == "Paris"


@pytest.mark.parametrize("gps", [
    _gps((math.nan, 0, 0), (2, 0, 0)),
    _gps((48, 0, 0), (math.inf, 0, 0)),
    _gps((IFDRational(48, 0), 0, 0), (2, 0, 0)),  # a zero denominator reads as NaN
    _gps(((48, 0), (0, 1), (0, 1)), ((2, 1), (0, 1), (0, 1))),
    _gps((91, 0, 0), (2, 0, 0)),
    _gps((48, 0, 0), (180, 30, 0)),
    _gps((-48, 0, 0), (2, 0, 0)),
    _gps((10 ** 400, 0, 0), (2, 0, 0)),
    _gps(((10 ** 400, 1), 0, 0), (2, 0, 0)),
    _gps((IFDRational(10 ** 400, 1), 0, 0), (2, 0, 0)),
    _gps("48.85", "2.35"),
    _gps(48.85, 2.35),
    _gps((), ()),
    _gps(tuple(range(1_000_000)), (2, 0, 0)),
    _gps(({}, 0, 0), (2, 0, 0)),
    _gps((None, 0, 0), (2, 0, 0)),
    _gps((True, 0, 0), (2, 0, 0)),
    {exif.GPS_LATITUDE: (48, 0, 0)},
    {},
    None, [], "N", 48.85,
])
def test_hostile_exif_gps_is_placeless(gps):
    assert exif.position(gps) == {}


def test_exif_gps_nested_deeper_than_a_pair_is_placeless():
    deep = (1,)
    for _ in range(100_000):
        deep = (deep,)
    assert exif.position(_gps((deep, 0, 0), (2, 0, 0))) == {}


def test_a_million_gps_tags_are_read_as_the_few_that_count():
    tags = dict.fromkeys(range(100, 1_000_100), (1, 2, 3)) | _gps((48, 51, 10.68), (2, 21, 0))
    tags[exif.GPS_ALTITUDE] = (10 ** 400, 1)
    assert exif.position(tags) == {"latitude": 48.852967, "longitude": 2.35}


def _synthetic_table(count, seed):
    """A table of random places, most of them near the poles and the antimeridian where a grid goes wrong."""
    chance = random.Random(seed)
    spots = []
    for _ in range(count):
        latitude = chance.choice([chance.uniform(-90, 90), chance.uniform(80, 90), chance.uniform(-90, -80)])
        longitude = chance.choice([chance.uniform(-180, 180), chance.uniform(175, 180), chance.uniform(-180, -175)])
        spots.append((round(latitude * SCALE) / SCALE, round(longitude * SCALE) / SCALE))
    spots.sort(key=lambda spot: cell_of(*spot, 2.0))
    places = [(f"place {at}", latitude, longitude, at % 2, 200) for at, (latitude, longitude) in enumerate(spots)]
    payload = write_table({"version": "test", "cell": 2.0}, [("AA", "Aland"), ("BB", "")],
                          [(0, "North"), (1, "")], places)
    return read_table(payload), spots, chance


def test_the_grid_search_finds_what_a_brute_force_finds():
    places, spots, chance = _synthetic_table(1500, seed=61)
    vectors = [unit_vector(*spot) for spot in spots]
    for _ in range(400):
        latitude = chance.choice([chance.uniform(-90, 90), chance.uniform(85, 90), chance.uniform(-90, -85)])
        longitude = chance.choice([chance.uniform(-180, 180), chance.uniform(178, 180), chance.uniform(-180, -178)])
        px, py, pz = unit_vector(latitude, longitude)
        km = min(chord_km((x - px) ** 2 + (y - py) ** 2 + (z - pz) ** 2) for x, y, z in vectors)
        index, found_km = places.nearest(latitude, longitude, 5000)
        assert found_km == pytest.approx(km, abs=0.01), (latitude, longitude)
        assert spots[index]  # an index into the table


def test_a_place_answers_as_its_row_says():
    places, spots, _ = _synthetic_table(50, seed=7)
    index, km = places.nearest(*spots[10], 100)
    assert km < 0.01
    assert places.place(index)["city"] == f"place {index}"
    assert places.place(0) == {"city": "place 0", "region": "North", "country": "Aland", "countryCode": "AA"}
    assert places.place(1) == {"city": "place 1", "region": None, "country": None, "countryCode": "BB"}


@pytest.mark.parametrize("damage", [lambda payload: payload[:-1], lambda payload: payload + b"\0",
                                    lambda payload: b"not a table" + payload])
def test_a_damaged_table_is_refused(damage):
    payload = write_table({"version": "test", "cell": 2.0}, [("AA", "Aland")], [(0, "North")],
                          [("one", 1.0, 1.0, 0, 25)])
    with pytest.raises(ValueError):
        read_table(damage(payload))


@pytest.mark.parametrize("place, line", [
    ({"city": "Nazaré", "region": "Leiria", "country": "Portugal", "countryCode": "PT"}, "Nazaré, Leiria, Portugal"),
    ({"city": "Lisbon", "region": "Lisbon", "country": "Portugal", "countryCode": "PT"}, "Lisbon, Portugal"),
    ({"city": "Monaco", "region": None, "country": "Monaco", "countryCode": "MC"}, "Monaco"),
    ({"city": "Sol", "region": "Madrid", "country": None, "countryCode": "ES"}, "Sol, Madrid"),
])
def test_a_place_as_one_line(place, line):
    assert label(place) == line


def test_the_version_read_from_the_files_head_is_the_tables():
    assert table_version() == table().version


@pytest.mark.parametrize("asked, city, code", [
    ("aarhus", "Århus", "DK"), ("arhus", "Århus", "DK"),  # Danish, and the name folded
    ("lisboa", "Lisbon", "PT"),  # Portuguese
    ("münchen", "Munich", "DE"), ("muenchen", "Munich", "DE"),  # German, and as a keyboard without ü types it
    ("cologne", "Köln", "DE"), ("koln", "Köln", "DE"),  # English, and German folded
    ("roma", "Rome", "IT"),  # Italian
    ("praha", "Prague", "CZ"),  # Czech
    ("bruxelles", "Brussels", "BE"),  # French
    ("wien", "Vienna", "AT"),
])
def test_places_are_found_by_the_names_people_use(asked, city, code):
    first = named(asked)[0]
    assert (first["city"], first["countryCode"]) == (city, code)


def test_suggestions_are_ranked_by_population():
    lisbons = named("lisbon")
    assert lisbons[0]["countryCode"] == "PT" and {place["countryCode"] for place in lisbons[1:]} == {"US"}
    assert [place["city"] for place in named("lisb", 3)][:2] == ["Lisbon", "Lisburn"]
    assert named("santa luzia")[0]["region"] == "Minas Gerais"  # 240,000 people, before the smaller ones
    assert named("rome")[0]["countryCode"] == "IT"


def test_a_towns_section_is_not_offered_by_name_where_it_names_its_town():
    assert not any(place["region"] == "Madeira" for place in named("santa luzia", 50))
