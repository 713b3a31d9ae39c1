import re
from pathlib import Path

import pytest
from helpers import PROJECT

from lenslet.config import Config, describe
from lenslet.errors import ConfigError

SETTINGS_PAGE = Path(PROJECT) / "docs" / "settings.md"


def test_defaults_need_no_environment():
    config = Config.from_env({})
    assert config.root == "./data"
    assert (config.thumb_size, config.thumb_quality, config.readonly) == (256, 70, False)


@pytest.mark.parametrize("env, attr, value", [
    ({"LENSLET_THUMB_SIZE": "320"}, "thumb_size", 320),
    ({"LENSLET_READONLY": "yes"}, "readonly", True),
    ({"LENSLET_READONLY": "0"}, "readonly", False),
    ({"LENSLET_S3_BUCKET": " photos "}, "s3_bucket", "photos"),
    ({"LENSLET_HEARTBEAT": "0.5"}, "heartbeat", 0.5),
])
def test_values_are_parsed(env, attr, value):
    assert getattr(Config.from_env(env), attr) == value


@pytest.mark.parametrize("env", [
    {"LENSLET_THUMB_SIZE": "big"},
    {"LENSLET_THUMB_SIZE": "0"},
    {"LENSLET_THUMB_QUALITY": "101"},
    {"LENSLET_READONLY": "maybe"},
    {"LENSLET_PAGE_SIZE": "100000"},
])
def test_bad_values_fail_naming_the_variable(env):
    (name,) = env
    with pytest.raises(ConfigError, match=name):
        Config.from_env(env)


def test_settings_page_documents_every_setting():
    rows = re.finditer(r"^\| `(LENSLET_\w+)` \| ([^|]*?) \|", SETTINGS_PAGE.read_text(), re.M)
    table = {row.group(1): row.group(2).strip("`") for row in rows}
    for name, default, _ in describe():
        assert name in table, f"docs/settings.md's table misses {name}"
        assert table[name] == str(default), f"docs/settings.md: {name} defaults to {table[name]!r}, code {default!r}"


def test_lenslet_settings_command_hides_the_token(capsys, monkeypatch):
    from lenslet.cli import main
    monkeypatch.setenv("LENSLET_TOKEN", "hunter2")
    monkeypatch.setenv("LENSLET_POINTER_ROOTS", "/srv/a:/srv/b")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "hunter2" not in out and "LENSLET_TOKEN=(set)" in out and "LENSLET_POINTER_ROOTS=/srv/a,/srv/b" in out
    monkeypatch.setenv("LENSLET_THUMB_SIZE", "huge")
    assert main(["settings"]) == 2
    assert "LENSLET_THUMB_SIZE" in capsys.readouterr().err


def test_a_missing_root_is_refused_unless_default_or_asked_for(tmp_path, monkeypatch):
    from lenslet.storage import open_storage
    with pytest.raises(ConfigError, match="LENSLET_ROOT .* does not exist.*LENSLET_CREATE_ROOT"):
        open_storage(Config(root=str(tmp_path / "photso")))
    assert not (tmp_path / "photso").exists()
    open_storage(Config(root=str(tmp_path / "new"), create_root=True))
    assert (tmp_path / "new").is_dir()
    monkeypatch.chdir(tmp_path)
    open_storage(Config.from_env({}))  # README's first command: ./data is made
    assert (tmp_path / "data").is_dir()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        open_storage(Config(root=str(tmp_path / "file"), create_root=True))
