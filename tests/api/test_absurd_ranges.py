"""A Range header of absurd numbers (thousands of digits) is read as the numbers it names, as any other
range: a start past the end is 416, an end or a suffix past the end is the whole file. Never a 500."""

import pytest
from helpers import draw

HUGE = "9" * 5000  # past Python's limit on the digits int() converts


@pytest.fixture
def photo(client, tree):
    draw(tree / "a.jpg")
    return (tree / "a.jpg").read_bytes()


def get(client, header):
    return client.get("/file?path=a.jpg", headers={"Range": header}, expect_errors=True)


@pytest.mark.parametrize("header", [f"bytes={HUGE}-", f"bytes={HUGE}-{HUGE}", f"bytes={HUGE}-{HUGE}9"])
def test_a_start_of_thousands_of_digits_is_past_the_end(client, photo, header):
    answer = get(client, header)
    assert answer.status_int == 416 and answer.json["title"] == "Range not satisfiable"
    assert answer.headers["Content-Range"] == f"bytes */{len(photo)}"


@pytest.mark.parametrize("header", [f"bytes=0-{HUGE}", f"bytes=-{HUGE}", f"bytes={'0' * 5000}-{HUGE}"])
def test_an_end_or_a_suffix_of_thousands_of_digits_is_the_whole_file(client, photo, header):
    answer = get(client, header)
    assert answer.status_int == 206 and answer.body == photo
    assert answer.headers["Content-Range"] == f"bytes 0-{len(photo) - 1}/{len(photo)}"


def test_leading_zeros_do_not_make_a_number_big(client, photo):
    answer = get(client, f"bytes={'0' * 5000}2-{'0' * 5000}5")
    assert answer.status_int == 206 and answer.body == photo[2:6]


@pytest.mark.parametrize("header", [f"bytes={HUGE}-1", "bytes=" + "1-" * 3000, "bytes=\u0663-"])
def test_a_malformed_range_is_ignored(client, photo, header):
    answer = get(client, header)
    assert answer.status_int == 200 and answer.body == photo
