"""The library experiments of `tests/library/`: each C program prints `fact = value`
lines about the installed OpenSSL 3.0, and the values must be the ones recorded in its
`.expected` file (the model's `[verified 3.0.19: tests/library/...]` claims rest on them).

The programs need gcc and libssl-dev; without them these tests skip (in CI a missing
toolchain is a failure)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

LIBRARY = Path(__file__).parent / "library"
PROGRAMS = sorted(p.stem for p in LIBRARY.glob("*.c"))


@pytest.fixture(scope="module")
def compiler() -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None or not Path("/usr/include/openssl/ssl.h").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("the library experiments must run in CI: install gcc and libssl-dev")
        pytest.skip("install gcc and libssl-dev to run the library experiments")
    return cc


def _facts(text: str) -> dict[str, str]:
    facts = {}
    for line in text.splitlines():
        name, _, value = line.partition(" = ")
        facts[name.strip()] = value.strip()
    return facts


@pytest.mark.parametrize("program", PROGRAMS)
def test_library_behaves_as_recorded(program: str, compiler: str, tmp_path: Path) -> None:
    binary = tmp_path / program
    subprocess.run([compiler, "-O0", "-o", str(binary), str(LIBRARY / f"{program}.c"), "-lssl", "-lcrypto"],
                   check=True, capture_output=True, text=True)
    run = subprocess.run([str(binary)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    expected = _facts((LIBRARY / f"{program}.expected").read_text())
    assert _facts(run.stdout) == expected
