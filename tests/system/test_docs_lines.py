"""The rclone and curl lines of docs/phone-and-desktop.md, run as written against gunicorn with an app password
lenslet made: only the placeholders the page names are filled in (the address, NAME, APP-PASSWORD), rclone with a
config of its own (RCLONE_CONFIG) and a home holding ~/Pictures/2024, so the docs and the program cannot drift."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import PROJECT, clip, jpeg

from lenslet.people.users import Directory

DOC = Path(PROJECT) / "docs" / "phone-and-desktop.md"
pytestmark = pytest.mark.skipif(shutil.which("rclone") is None or shutil.which("curl") is None,
                                reason="needs Debian's rclone and curl (.ci/run installs rclone)")


def doc_lines(command):
    """The lines of the page's shell blocks that run command."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip().startswith(command + " ")]


@pytest.fixture
def mum(tmp_path, tree, gunicorn):
    """A gallery with family/, mum's app password as lenslet makes one, and her home: ~/Pictures/2024 (two photos and
    a video) and IMG_0001.jpg; run(line) runs a line of the docs there, its placeholders filled in."""
    (tree / "family").mkdir()
    directory = Directory(str(tmp_path / "users.json"))
    directory.add("mum", "admin", [""], password="mum's sign-in password")
    password = directory.add_app_password(directory.users()["mum"], "laptop", 1.0)[1]
    server = gunicorn(env={"LENSLET_USERS": directory.path})
    server.wait_until(lambda: server.get("/health")[0] == 200, timeout=30)
    home = tmp_path / "home"
    (home / "Pictures" / "2024").mkdir(parents=True)
    for n, color in enumerate(((200, 30, 30), (30, 200, 30))):
        (home / "Pictures" / "2024" / f"IMG_{n:04d}.jpg").write_bytes(jpeg(color=color))
    (home / "Pictures" / "2024" / "VID_0002.mp4").write_bytes(clip(".mp4"))
    (home / "IMG_0001.jpg").write_bytes(jpeg(color=(30, 30, 200)))
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "RCLONE_CONFIG": str(tmp_path / "rclone.conf")}

    def run(line):
        line = line.replace("https://photos.example.org", server.url).replace("APP-PASSWORD", password)
        line = re.sub(r"\bNAME\b", "mum", line)
        return subprocess.run(["bash", "-c", line], cwd=home, env=env, capture_output=True, text=True, timeout=120)

    return run, home, password


def test_the_docs_rclone_lines_work_as_written(mum, tree, tmp_path):
    run, home, password = mum
    lines = doc_lines("rclone")
    assert [line.split()[1] for line in lines] == ["config", "lsd", "copy"]
    for line in lines:
        done = run(line)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        if line.startswith("rclone lsd"):
            assert " family" in done.stdout
    assert password not in (tmp_path / "rclone.conf").read_text()  # rclone obscured it
    for sent in (home / "Pictures" / "2024").iterdir():
        assert (tree / "family" / "2024" / sent.name).read_bytes() == sent.read_bytes()


def test_the_docs_curl_lines_work_as_written(mum, tree):
    run, home, _ = mum
    lines = doc_lines("curl")
    assert len(lines) == 3
    for line in lines:
        done = run(line)
        assert done.returncode == 0, f"{line}\n{done.stderr}"
        if "PROPFIND" in line:
            assert "<D:href>/dav/family/</D:href>" in done.stdout
    assert (tree / "family" / "IMG_0001.jpg").read_bytes() == (home / "IMG_0001.jpg").read_bytes()
    assert (home / "copy.jpg").read_bytes() == (home / "IMG_0001.jpg").read_bytes()
