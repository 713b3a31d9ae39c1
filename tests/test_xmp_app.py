"""XMP wired into the gallery: the setting, GET /item, listings and search, files moving with their XMP."""

import shutil
import subprocess
from pathlib import Path

import pytest

from lenslet.config import Config
from lenslet.errors import ConfigError

SHARED = Path(__file__).resolve().parents[2] / "shared" / "xmp"  # real sidecars, kept beside the project
EXIFTOOL = shutil.which("exiftool")

needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/xmp (real sidecars) is not beside the project")
needs_exiftool = pytest.mark.skipif(EXIFTOOL is None, reason="exiftool (Debian's libimage-exiftool-perl) is missing")


def shared(name):
    return (SHARED / name).read_bytes()


# ---------------------------------------------------------------------------------------------
# The setting


@pytest.mark.parametrize("raw, value", [("off", "off"), (" Read ", "read"), ("WRITE", "write")])
def test_the_xmp_setting_is_parsed(raw, value):
    assert Config.from_env({"LENSLET_XMP": raw}).xmp == value
    assert Config.from_env({}).xmp == "read"


@pytest.mark.parametrize("raw", ["on", "", "readwrite"])
def test_a_bad_xmp_setting_stops_lenslet_naming_it(raw):
    with pytest.raises(ConfigError, match="LENSLET_XMP"):
        Config.from_env({"LENSLET_XMP": raw})


def test_lenslet_settings_lists_xmp(capsys, monkeypatch):
    from lenslet.cli import main
    monkeypatch.setenv("LENSLET_XMP", "off")
    assert main(["settings"]) == 0
    assert "LENSLET_XMP=off" in capsys.readouterr().out
    monkeypatch.setenv("LENSLET_XMP", "sometimes")
    assert main(["settings"]) == 2
    assert "LENSLET_XMP" in capsys.readouterr().err
