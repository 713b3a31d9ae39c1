from pathlib import Path

import helpers

PROJECT = Path(helpers.PROJECT)


def test_ci_runs_exactly_the_readme_test_command():
    ci = (PROJECT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (PROJECT / "README.md").read_text()


def test_the_changelog_says_what_this_version_changed_and_the_readme_links_it():
    from lenslet import __version__
    assert f"\n## {__version__}\n" in (PROJECT / "CHANGELOG.md").read_text()
    assert "(CHANGELOG.md)" in (PROJECT / "README.md").read_text()
