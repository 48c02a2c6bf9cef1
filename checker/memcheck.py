"""Builds a reproducer and runs it under valgrind memcheck; reads what the real library did.

Compiled programs are cached by the hash of their source, so a rerun only runs valgrind.
valgrind writes XML; the reproducer writes `sessref line N` client messages into the same
log, in order with the errors, so each error is attributed to the script line that was
running (and to the script frame of its stack, through `#line`, as a cross-check).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .language.datacache import cache_root
from .repro import Reproducer

INSTALL_HINT = "install gcc, libssl-dev and valgrind (Debian: apt-get install gcc libssl-dev valgrind)"
# The program ends itself after ALARM_S seconds of CPU time (a library looping on corrupted
# lists); a normal run takes about 2 s of CPU under valgrind. The wall-clock limit is only a
# last resort (a blocked program): a loaded machine stretches a run's wall time many times.
RUN_TIMEOUT_S = 600
ALARM_S = 10


class BuildError(Exception):
    """The reproducer does not compile: a bug in the C translation."""


@dataclass(frozen=True)
class MemoryError:
    kind: str  # valgrind's: InvalidRead, InvalidWrite, InvalidFree, ...
    what: str
    line: int | None  # the script line that was running
    freed_block: bool  # the address is inside a freed block
    near_null: bool  # the address is in the first page (a NULL dereference)


@dataclass(frozen=True)
class Leak:
    kind: str  # Leak_DefinitelyLost, Leak_IndirectlyLost, ...
    line: int | None  # the script line that allocated the block
    from_libssl: bool  # allocated inside libssl (objects are; the script's own buffers are not)
    blocks: int


@dataclass
class RunResult:
    exit_code: int | None
    errors: list[MemoryError] = field(default_factory=list)
    leaks: list[Leak] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)  # before the first memory error
    left_path: str = ""
    stopped: bool = False  # the path ended at a crash step
    fatal_signal: str = ""
    timed_out: bool = False
    stderr: str = ""
    log: str = ""

    @property
    def first_error(self) -> MemoryError | None:
        return self.errors[0] if self.errors else None


def toolchain_problem() -> str | None:
    """Why reproducers cannot be built and run here, or None."""
    for tool in ("cc", "valgrind"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed: {INSTALL_HINT}"
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp, "probe.c")
        probe.write_text("#include <openssl/ssl.h>\nint main(void) { return SSL_SESSION_new() == NULL; }\n")
        done = subprocess.run(
            ["cc", str(probe), "-o", str(Path(tmp, "probe")), "-lssl", "-lcrypto"], capture_output=True, text=True
        )
        if done.returncode != 0:
            return f"cannot build against OpenSSL ({done.stderr.strip().splitlines()[-1:]}): {INSTALL_HINT}"
    return None


def cache_dir() -> Path:
    path = cache_root() / "reproducers"
    path.mkdir(parents=True, exist_ok=True)
    return path


def compile_reproducer(source: str, directory: Path | None = None) -> Path:
    """The binary for `source`, built once per distinct source."""
    directory = directory or cache_dir()
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    binary = directory / f"r-{digest}"
    if binary.exists():
        return binary
    c_file = directory / f"r-{digest}.c"
    # written aside and renamed: test workers (pytest -n) may build the same source at once
    c_tmp = directory / f"r-{digest}.{os.getpid()}.c.tmp"
    c_tmp.write_text(source)
    c_tmp.replace(c_file)
    tmp = directory / f"r-{digest}.{os.getpid()}.tmp"
    done = subprocess.run(
        ["cc", "-g", "-O0", "-o", str(tmp), str(c_file), "-lssl", "-lcrypto"], capture_output=True, text=True
    )
    if done.returncode != 0:
        raise BuildError(f"the reproducer does not compile: {done.stderr.strip()[:2000]}")
    tmp.replace(binary)
    return binary


def run_under_valgrind(binary: Path, reproducer: Reproducer, timeout: float = RUN_TIMEOUT_S) -> RunResult:
    with tempfile.TemporaryDirectory() as tmp:
        xml_file = Path(tmp, "memcheck.xml")
        command = [
            "valgrind", "--tool=memcheck", "--xml=yes", f"--xml-file={xml_file}", "--leak-check=full",
            "--show-leak-kinds=definite,indirect", "--num-callers=40", "--error-limit=no", str(binary),
        ]
        try:
            env = dict(os.environ, SESSREF_ALARM=str(ALARM_S))
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
            exit_code: int | None = done.returncode
            stderr = done.stderr
            timed_out = False
        except subprocess.TimeoutExpired as exc:
            exit_code, timed_out = None, True
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        log = xml_file.read_text(errors="replace") if xml_file.exists() else ""
    result = parse_log(log, reproducer)
    result.exit_code, result.stderr = exit_code, stderr
    result.timed_out = result.timed_out or timed_out
    return result


_ADDRESS = re.compile(r"Address (0x[0-9a-fA-F]+)")


def parse_log(log: str, reproducer: Reproducer) -> RunResult:
    """Errors, leaks and the program's own messages from valgrind's XML log."""
    result = RunResult(exit_code=None, log=log)
    if not log.strip():
        return result
    # A killed run leaves the document unclosed.
    text = log if "</valgrindoutput>" in log else log + "\n</valgrindoutput>\n"
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return result
    script_name = Path(reproducer.script_file).name
    line: int | None = None
    for node in root:
        if node.tag == "clientmsg":
            message = (node.findtext("text") or "").strip()
            words = message.split()
            if message.startswith("sessref line "):
                line = int(words[2].rstrip(":"))
            elif message.startswith("sessref mismatch") and not result.errors:
                result.mismatches.append(message)
            elif message.startswith("sessref left") and not result.errors:
                result.left_path = message
            elif message.startswith("sessref stop"):
                result.stopped = True
            elif message.startswith("sessref hung"):
                result.timed_out = True
        elif node.tag == "error":
            kind = node.findtext("kind") or ""
            stacks = node.findall("stack")
            frames = stacks[0].findall("frame") if stacks else []
            where = _script_line(frames, script_name, reproducer) or line
            if kind.startswith("Leak_"):
                libssl = any("libssl" in (f.findtext("obj") or "") for f in frames)
                blocks = int(node.findtext("xwhat/leakedblocks") or "1")
                result.leaks.append(Leak(kind, _script_line(frames, script_name, reproducer), libssl, blocks))
                continue
            auxwhat = " ".join(a.text or "" for a in node.findall("auxwhat"))
            what = node.findtext("what") or node.findtext("xwhat/text") or kind
            address = _ADDRESS.search(auxwhat)
            near_null = address is not None and int(address.group(1), 16) < 4096
            result.errors.append(MemoryError(kind, what, where, "free'd" in auxwhat, near_null))
        elif node.tag == "fatal_signal":
            result.fatal_signal = node.findtext("signame") or "signal"
    return result


def _script_line(frames: list[ET.Element], script_name: str, reproducer: Reproducer) -> int | None:
    """The innermost frame in the script's code: its line in the script."""
    for frame in frames:
        file = frame.findtext("file")
        line = frame.findtext("line")
        if file is None or line is None:
            continue
        if file == script_name:
            return int(line)
        if file.startswith("r-") and file.endswith(".c"):
            mapped = reproducer.line_map.get(int(line))
            if mapped is not None:
                return mapped
    return None
