"""Make the screenshot of the Change password dialog for docs/users-and-sharing.md.

    python docs/screenshot_password.py      # writes docs/password-dialog.png

The same demo tree as docs/screenshots.py (real photographs), served by gunicorn on loopback with a users
file, shown in headless Chromium (Debian's chromium and chromium-driver): mum signs in and opens the dialog.
"""

import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE]

from screenshots import PROJECT, build_tree, chromium, save_shot  # noqa: E402

sys.path[:0] = [PROJECT, os.path.join(PROJECT, "tests")]

from helpers import Gunicorn  # noqa: E402

from lenslet.people.users import Directory  # noqa: E402


def until(driver, script, timeout=60):
    deadline = time.monotonic() + timeout
    while not driver.execute_script(script):
        if time.monotonic() > deadline:
            raise SystemExit(f"the page never got to: {script}")
        time.sleep(0.3)


def shoot(driver, url, out):
    driver.get(url + "#path=Summer+2024")
    until(driver, "return document.getElementById('token-dialog').open")
    driver.execute_script("document.getElementById('sign-in-name').value = 'mum';"
                          "document.getElementById('sign-in-password').value = 'the first password';"
                          "document.getElementById('token-ok').click()")
    until(driver, "const drawn = [...document.querySelectorAll('.tile.image img')].map(i => i.naturalWidth);"
                  " return drawn.length > 0 && drawn.every(Boolean)")
    driver.execute_script("document.getElementById('password-button').click();"
                          "for (const id of ['password-current', 'password-new', 'password-again'])"
                          " document.getElementById(id).value = 'a password';"
                          "document.activeElement.blur()")
    time.sleep(0.5)
    save_shot(driver, out)


def main():
    with tempfile.TemporaryDirectory(prefix="lenslet-shots-") as scratch:
        root = os.path.join(scratch, "photos")
        build_tree(root)
        users = Directory(os.path.join(scratch, "users.json"))
        users.add("mum", "admin", [""], password="the first password")
        server = Gunicorn(root, env={"LENSLET_USERS": users.path})
        try:
            server.wait_until(lambda: server.get("/static/favicon.svg")[0] == 200, timeout=30)
            driver = chromium(scratch, height=800)
            try:
                shoot(driver, server.url + "/", os.path.join(HERE, "password-dialog.png"))
            finally:
                driver.quit()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
