from pathlib import Path

import helpers

PROJECT = Path(helpers.PROJECT)


def test_ci_runs_exactly_the_readme_test_command():
    ci = (PROJECT / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci in (PROJECT / "README.md").read_text()
