"""The thumbnail settings: how many processes make them, how long idle ones stay."""

import os

import pytest

from lenslet.config import Config
from lenslet.errors import ConfigError
from lenslet.images.pool import process_count, shared


@pytest.mark.parametrize("raw, parsed", [("auto", "auto"), (" AUTO ", "auto"), ("0", 0), ("3", 3)])
def test_processes_setting(raw, parsed):
    assert Config.from_env({"LENSLET_THUMB_PROCESSES": raw}).thumb_processes == parsed


@pytest.mark.parametrize("raw", ["many", "-1", "257", ""])
def test_bad_processes_setting_names_the_variable(raw):
    with pytest.raises(ConfigError, match="LENSLET_THUMB_PROCESSES"):
        Config.from_env({"LENSLET_THUMB_PROCESSES": raw})


def test_auto_is_one_process_per_usable_cpu():
    assert process_count("auto") == len(os.sched_getaffinity(0)) and process_count(0) == 0
    assert shared(Config(thumb_processes=3)).processes == 3


def test_thumb_idle_setting():
    assert Config.from_env({}).thumb_idle == 30.0
    assert Config.from_env({"LENSLET_THUMB_IDLE": "0"}).thumb_idle == 0
    assert shared(Config(thumb_idle=5.0)).idle == 5.0
