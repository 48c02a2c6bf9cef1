"""The project's own files say true things: the README's quickstart is what `.ci/run` runs,
the README and the JSON schema hold no placeholder, pyproject.toml has one version (the
package's) and the metadata a package index shows, and the README names both test commands."""

from __future__ import annotations

import re

import pytest
from sessref import __version__

from support import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+
README = (ROOT / "README.md").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _quickstart() -> list[str]:
    section = README[README.index("## Quickstart") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the quickstart has a sh block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quickstart_is_two_commands_that_ci_runs() -> None:
    commands = _quickstart()
    assert len(commands) == 2, commands
    install_and_run, install_and_test = commands
    assert install_and_run.startswith("pip install . && sessref check specs/")
    assert "pip install '.[test]'" in install_and_test and install_and_test.endswith("python3 -m pytest -q")
    ci = (ROOT / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci, f".ci/run does not run the README's quickstart command: {command}"
    example = install_and_run.split("sessref check ", 1)[1]
    assert (ROOT / example).is_file(), example


def test_readme_names_the_fast_and_the_full_test_commands() -> None:
    assert 'python3 -m pytest -m "not slow"' in README
    assert "python3 -m pytest  " in README or "python3 -m pytest\n" in README or "python3 -m pytest -q" in README
    assert "--bless" in README


def test_no_placeholders() -> None:
    schema = (ROOT / "checker" / "report.schema.json").read_text()
    for where, text in (("README.md", README), ("checker/report.schema.json", schema),
                        (".pre-commit-hooks.yaml", (ROOT / ".pre-commit-hooks.yaml").read_text())):
        for placeholder in ("OWNER/", ".invalid", "example.org/sessref", "<this repository", "TODO", "XXX"):
            assert placeholder not in text, f"{where} holds the placeholder {placeholder!r}"


def test_one_version_and_package_metadata() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "sessref.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert project["license"] and (ROOT / "LICENSE").is_file()
    assert any(c.startswith("License :: ") for c in project["classifiers"])
    assert any(c.startswith("Programming Language :: Python :: 3") for c in project["classifiers"])


def test_the_test_extra_holds_what_the_tests_import() -> None:
    extra = " ".join(PYPROJECT["project"]["optional-dependencies"]["test"]).lower()
    for package in ("pytest", "hypothesis", "jsonschema", "pyyaml", "ruff"):
        assert package in extra, f"the [test] extra lacks {package}"
