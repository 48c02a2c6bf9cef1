"""`ruff check` passes on the whole repository (its configuration is in pyproject.toml).
ruff is in the `[test]` extra; without it this test skips, except in CI (`CI=true`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from support import ROOT


def _ruff() -> list[str] | None:
    try:
        import ruff  # noqa: F401  (the package ships the binary; `python -m ruff` runs it)
    except ImportError:
        found = shutil.which("ruff")
        return [found] if found else None
    return [sys.executable, "-m", "ruff"]


def test_ruff_check_passes() -> None:
    ruff = _ruff()
    if ruff is None:
        problem = "ruff is not installed: pip install '.[test]' (or pip install ruff)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the lint must run in CI: {problem}")
        pytest.skip(problem)
    done = subprocess.run([*ruff, "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
