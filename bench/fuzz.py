"""Fuzzing `sessref check` with mutated specs: no traceback, no internal error, no exit code
outside 0-4 and no run longer than the time budget it was given, on any mutant.

Each mutant is a spec from `specs/` or a script of the conformance generator (or, one in
five, a C file from `tests/cfiles/`) with
one to three edits (a line deleted, duplicated or swapped with its neighbour, a token or
another file's line inserted, a number changed, an `if` turned into a `while`, a region cut
out, a name replaced, two files spliced, a line nested deep, other line endings), checked
with a random choice of options.
Mutants are seeded: the same seed gives the same mutants, and a failure is reported with the
seed and index that replay it. Each check runs in a forked child of this process (the
imports are paid once), with its own memory limit; a child still running after the budget
plus a grace period is killed and counted as a hang. The budget is wall-clock time, so a
run over it is run again (twice at most, a second and ten seconds later), and counts only
when every run is over it, and then only if it used more CPU than the budget (a run
starved by a busy machine overshoots in wall-clock time with little CPU; a hang blocked
without CPU is still a hang: killed every time).

    python bench/fuzz.py                          # 2,000 mutants, seed 0
    python bench/fuzz.py -n 10000 --seed 1        # the long run
    python bench/fuzz.py --replay 1:4711          # one mutant: its text, options and outcome
    python bench/fuzz.py -n 500 --save DIR        # keep each failing mutant in DIR

`tests/test_fuzz.py` runs a few hundred of the same mutants in the suite.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import select
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
C_FILES = ROOT / "tests" / "cfiles"  # C input: the C front end is fuzzed too
C_SHARE = 0.2  # of the mutants, made from a C file

# The solver budget each mutant is checked with (`--timeout`), and how much longer than it
# a run may take before it counts as a hang: process start, imports and the report's text.
BUDGET_S = 4.0
GRACE_S = 3.0
MEMORY_LIMIT = 3 << 30  # address space of each child, bytes

# Tokens and fragments inserted at random places: punctuation, literals at the edges of C's
# types, keywords, annotations and preprocessor lines, calls with odd arguments.
TOKENS = (
    "{", "}", "(", ")", ";", ",", "*", "&", "&&", "||", "!", "=", "==", "-", "+", "<<", ">>", "|", "^", "~", "%", "/",
    "?", ":", "[", "]", "->", ".", "'", '"', "/*", "*/", "//", "\\", "#", "\t", "\n", "\r", "\f", "\x00", "\u00e9",
    "0", "1", "-1", "2147483647", "2147483648", "4294967296", "9223372036854775807", "9223372036854775808",
    "18446744073709551615", "0x7fffffffffffffff", "1e9", "1.5", "'a'", '"x"', "NULL", "TRUE",
    "if", "else", "while", "for", "return", "break", "continue", "int", "long", "unsigned", "char", "void",
    "SSL_SESSION", "SSL", "SSL_CTX", "static", "const", "struct", "sizeof", "goto", "switch", "case", "default:",
    "*", "(*)", "if (*)", "while (*)", "assume(*);", "return;", "return 0;", "return 1;",
    "//~ safe", "//~ double-free", "//~ leak", "//~ nonsense", "//~", "#include <openssl/ssl.h>", '#include "x.c"',
    "#define X 1", "#if 0", "#endif",
    "SSL_SESSION_free(s);", "SSL_SESSION_free(NULL);", "SSL_SESSION *s = SSL_SESSION_new();",
    "SSL_SESSION *t = SSL_get1_session(ssl);", "SSL_free(ssl);", "SSL_CTX_free(ctx);", "SSL_SESSION_up_ref(s);",
    "SSL_CTX *ctx = SSL_CTX_new(TLS_method());", "SSL *ssl = SSL_new(ctx);", "SSL_connect(ssl);", "SSL_accept(ssl);",
    "SSL_set_session(ssl, s);", "SSL_CTX_add_session(ctx, s);", "SSL_CTX_remove_session(ctx, s);",
    "SSL_CTX_flush_sessions(ctx, 0);", "SSL_SESSION_set_time(s, -1);", "SSL_SESSION_set_timeout(s, 0);",
    "SSL_CTX_sess_set_cache_size(ctx, 0);", "SSL_CTX_sess_set_cache_size(ctx, 1);", "SSL_shutdown(ssl);",
    "f(&s);", "int f(SSL_SESSION **p) { return 0; }", "SSL_SESSION *g(void) { return g(); }",
    "while (*) { SSL_SESSION *u = SSL_SESSION_new(); }", "for (int k = 0; k < 100000; k++) {", "x", "s", "ssl", "ctx",
)
NUMBER = re.compile(r"(?<![\w.])\d+(?![\w.])")
NEW_NUMBERS = ("0", "1", "2", "3", "-1", "7", "100", "65536", "2147483647", "2147483648", "4294967295",
               "9223372036854775807", "18446744073709551615", "99999999999999999999999")

# The options each mutant is checked with: one entry is picked, plus `--timeout`.
OPTION_SETS = (
    (), (), (), ("--no-fixes",), ("--allocation-failures",), ("--allocation-failures", "--unroll", "0", "--no-fixes"),
    ("--unroll", "0"), ("--unroll", "1"), ("--unroll", "8"), ("--format", "json"), ("--format", "sarif"),
    ("--format", "github"), ("--full-trace",), ("--expect",), ("--expect", "--format", "json"),
    ("--deny", "warnings"), ("--allocation-failures", "--full-trace"),
    ("--html", "{out}/p.html", "--svg", "{out}/p.svg"), ("--svg", "{out}/p.svg", "--full-trace", "--no-fixes"),
)
REPRO_SHARE = 0.1  # of the scripts' mutants, given to `sessref repro` instead of `check`
REPRO_OPTIONS = (
    (), ("--finding", "1"), ("--finding", "2"), ("--finding", "leak"), ("--allocation-failures",), ("--unroll", "0"),
    ("--path", "5=true"), ("--path", "6=false,7=true"), ("--path", "start=-1"), ("--path", "n=99999999999999999999"),
)


GENERATED = 60  # scripts of the conformance generator (seed 0) added to the seeds


def spec_sources(root: Path = SPECS, c_root: Path | None = C_FILES, generated: int = GENERATED) -> list[tuple[str, str]]:
    """Every spec's and C file's name and text, and `generated` scripts of the conformance
    generator (the seed corpus), in a fixed order so that a seed means the same mutants."""
    from sessref.generate import generate_scripts

    files = sorted(root.rglob("*.sess"))
    if c_root is not None and c_root.is_dir():
        files += sorted(c_root.glob("*.c"))
    corpus = [(str(f.relative_to(ROOT)) if f.is_relative_to(ROOT) else str(f), f.read_text(encoding="utf-8"))
              for f in files]
    return corpus + [(f"generated/{name}.sess", text) for name, text in generate_scripts(0, generated)]


def _same_language(corpus: list[tuple[str, str]], name: str) -> list[tuple[str, str]]:
    suffix = Path(name).suffix
    return [entry for entry in corpus if Path(entry[0]).suffix == suffix] or corpus


def _lines(text: str) -> list[str]:
    return text.split("\n")


IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")


def mutate(text: str, rng: random.Random, corpus: list[tuple[str, str]]) -> tuple[str, str]:
    """One edit of `text`: the edited text and a description of the edit. `corpus` holds
    the texts other lines come from (the same language's)."""
    lines = _lines(text)
    n = len(lines)
    i = rng.randrange(n)
    kind = rng.choice(("delete", "duplicate", "swap", "token", "token", "snippet", "number", "number", "while",
                       "cut", "char", "rename", "splice", "nest", "crlf"))
    if kind == "delete":
        del lines[i]
        return "\n".join(lines), f"delete line {i + 1}"
    if kind == "duplicate":
        lines.insert(i, lines[i])
        return "\n".join(lines), f"duplicate line {i + 1}"
    if kind == "swap" and n > 1:
        j = min(i + 1, n - 1) if i < n - 1 else i - 1
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), f"swap lines {i + 1} and {j + 1}"
    if kind == "snippet":
        _, other = rng.choice(corpus)
        other_lines = _lines(other)
        k = rng.randrange(len(other_lines))
        chunk = other_lines[k : k + rng.choice((1, 1, 2, 4))]
        lines[i:i] = chunk
        return "\n".join(lines), f"insert {len(chunk)} line(s) of another spec before line {i + 1}"
    if kind == "number":
        spots = [m for m in NUMBER.finditer(text)]
        if spots:
            m = rng.choice(spots)
            new = rng.choice(NEW_NUMBERS)
            return text[: m.start()] + new + text[m.end():], f"number {m.group()} -> {new} at offset {m.start()}"
    if kind == "while":
        spots = [m for m in re.finditer(r"\bif\b", text)]
        if spots:
            m = rng.choice(spots)
            return text[: m.start()] + "while" + text[m.end():], f"if -> while at offset {m.start()}"
    if kind == "rename":
        names = list(IDENTIFIER.finditer(text))
        if names:
            m = rng.choice(names)
            _, other = rng.choice(corpus)
            pool = [w for w in IDENTIFIER.findall(other)] or ["x"]
            new = rng.choice(pool)
            return text[: m.start()] + new + text[m.end():], f"rename {m.group()!r} -> {new!r} at offset {m.start()}"
    if kind == "splice":
        _, other = rng.choice(corpus)
        other_lines = _lines(other)
        k = rng.randrange(len(other_lines))
        return "\n".join(lines[:i] + other_lines[k:]), f"lines 1..{i} then another file's from line {k + 1}"
    if kind == "nest":
        depth = rng.choice((2, 10, 60, 250))
        opener = rng.choice(("{", "if (*) {", "while (*) {", "for (int q = 0; q < 2; q++) {"))
        lines[i] = opener * depth + lines[i] + "}" * depth
        return "\n".join(lines), f"line {i + 1} inside {depth} x {opener!r}"
    if kind == "crlf":
        return text.replace("\n", rng.choice(("\r\n", "\r", "\n\n", "\n\t"))), "line endings changed"
    if kind == "cut" and len(text) > 2:
        a = rng.randrange(len(text))
        b = min(len(text), a + rng.randrange(1, 80))
        return text[:a] + text[b:], f"cut characters {a}..{b}"
    if kind == "char" and text:
        a = rng.randrange(len(text))
        token = rng.choice(TOKENS)
        return text[:a] + token + text[a:], f"insert {token!r} at offset {a}"
    token = rng.choice(TOKENS)
    words = lines[i].split(" ")
    j = rng.randrange(len(words) + 1)
    words.insert(j, token)
    lines[i] = " ".join(words)
    return "\n".join(lines), f"insert {token!r} in line {i + 1}"


@dataclass(frozen=True)
class Mutant:
    seed: int
    index: int
    origin: str
    text: str
    edits: tuple[str, ...]
    options: tuple[str, ...]
    command: str = "check"


def mutant(seed: int, index: int, corpus: list[tuple[str, str]]) -> Mutant:
    """The `index`-th mutant of `seed`: independent of the others, so any one replays alone."""
    rng = random.Random(f"{seed}:{index}")
    c_files = [entry for entry in corpus if entry[0].endswith(".c")]
    scripts = [entry for entry in corpus if not entry[0].endswith(".c")] or corpus
    origin, text = rng.choice(c_files if c_files and rng.random() < C_SHARE else scripts)
    same = _same_language(corpus, origin)
    edits = []
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        text, edit = mutate(text, rng, same)
        edits.append(edit)
    options = rng.choice(OPTION_SETS)
    if not origin.endswith(".c") and rng.random() < REPRO_SHARE:
        return Mutant(seed, index, origin, text, tuple(edits), (*rng.choice(REPRO_OPTIONS), "-o", "-"), "repro")
    if origin.endswith(".c") and rng.random() < 0.3:
        functions = re.findall(r"^\w[\w\s\*]*?\b(\w+)\s*\(", text, re.M) or ["main"]
        options = (*options, *rng.choice((("--function", rng.choice(functions)), ("-D", "OPENSSL_NO_TLS1_3"),
                                          ("-U", "HAVE_SSL_GET1_SESSION"), ("-D", "X=1"))))
    return Mutant(seed, index, origin, text, tuple(edits), options)


# A line of the script echoed in a report (`12 | ...`, `   | ^^^`), where a spec's own words
# ("was an internal error") may appear; and what sessref says of an internal error.
_ECHO = re.compile(r"^\s*\d*\s*[|=] ")
_INTERNAL = re.compile(r"^internal error: |: internal error: |\"kind\": \"internal\"|sessref internal error", re.M)


@dataclass
class Outcome:
    code: int | None  # the exit code; -N killed by signal N; None: killed as a hang
    seconds: float  # wall-clock time
    output: str
    retries: int = 0  # how many runs before this one were over the budget
    cpu: float | None = None  # the child's CPU time (user + system); None: not measured

    def slow(self, budget: float) -> bool:
        return self.code is None or self.seconds > budget + GRACE_S

    def starved(self, budget: float) -> bool:
        """Over the budget in wall-clock time while using less CPU than the budget: the
        machine was busy (sessref's budget is wall-clock time, a starved run overshoots it)."""
        return self.slow(budget) and self.cpu is not None and self.cpu < budget

    def problem(self, budget: float) -> str | None:
        """Why this run fails the fuzz test, or None."""
        if self.code is None:
            cpu = f", {self.cpu:.1f} s of CPU" if self.cpu is not None else ""
            return f"hang: still running after {self.seconds:.1f} s{cpu} (budget {budget} s)"
        if self.code < 0:
            return f"killed by signal {-self.code} (memory limit?)"
        if self.code not in (0, 1, 2, 3):
            return f"exit code {self.code}" + (" (internal error)" if self.code == 4 else "")
        said = "\n".join(line for line in self.output.splitlines() if not _ECHO.match(line))
        if "Traceback (most recent call last)" in said:
            return "a traceback in the output"
        if _INTERNAL.search(said):
            return "`internal error` in the output"
        if self.seconds > budget + GRACE_S and not self.starved(budget):
            return f"took {self.seconds:.1f} s, over the budget of {budget} s"
        return None


def run_check(path: str, options: tuple[str, ...], budget: float = BUDGET_S, command: str = "check") -> Outcome:
    """`sessref COMMAND PATH OPTIONS --timeout BUDGET` in a forked child; output captured."""
    from sessref import cli  # imported once, in the parent, before any fork

    out = tempfile.TemporaryFile()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        try:
            resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            code = cli.main([command, path, *options, "--timeout", str(budget)])
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001 (a traceback is what we look for)
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
            code = 99
        os._exit(code if isinstance(code, int) else 98)
    code: int | None = None
    limit = budget + GRACE_S + 5.0  # killed later than it fails, to see how long it would take
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
        if time.monotonic() - start > limit:
            os.kill(pid, signal.SIGKILL)
            _, _, usage = os.wait4(pid, 0)
            break
        select.select([], [], [], 0.01)
    seconds = time.monotonic() - start
    out.seek(0)
    text = out.read().decode("utf-8", "replace")
    out.close()
    return Outcome(code, seconds, text, cpu=usage.ru_utime + usage.ru_stime)


def warm_up() -> None:
    """Build the parser once in the parent, so that each child does not."""
    from sessref.language.parser import parse

    parse("SSL_SESSION *s = SSL_SESSION_new();\nSSL_SESSION_free(s);\n", "warm-up.sess")


def check_mutant(m: Mutant, workdir: Path, budget: float = BUDGET_S) -> tuple[Outcome, str | None]:
    path = workdir / f"m{m.index}{Path(m.origin).suffix}"
    path.write_text(m.text, encoding="utf-8", errors="surrogatepass")
    options = tuple(o.replace("{out}", str(workdir)) for o in m.options)  # pictures go beside the mutant
    outcome = run_check(str(path), options, budget, m.command)
    for retry, pause in ((1, 1.0), (2, 10.0)):
        if not ((outcome.problem(budget) or outcome.starved(budget)) and outcome.slow(budget)):
            break
        # The machine may have been busy (the budget is wall-clock time): a run over it is
        # run again, a moment later, and then once more.
        time.sleep(pause)
        again = run_check(str(path), options, budget, m.command)
        outcome = Outcome(again.code, again.seconds, again.output, retries=retry, cpu=again.cpu)
    path.unlink()
    for picture in workdir.glob("p*.*"):
        picture.unlink()
    return outcome, outcome.problem(budget)


def describe(m: Mutant) -> str:
    return (f"mutant {m.seed}:{m.index} of {m.origin} ({'; '.join(m.edits)}), `{m.command}` with "
            f"{' '.join(m.options) or 'no options'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=2000, help="mutants to check (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0, help="index of the first mutant")
    parser.add_argument("--budget", type=float, default=BUDGET_S, help="--timeout given to each check, seconds")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="check one mutant and show it")
    parser.add_argument("--save", metavar="DIR", help="write each failing mutant there")
    parser.add_argument("--progress", type=int, default=250, help="print a line every N mutants")
    parser.add_argument("--options", help="check every mutant with these options (one string), not a random choice")
    args = parser.parse_args()
    corpus = spec_sources()
    warm_up()
    with tempfile.TemporaryDirectory(prefix="sessref-fuzz-") as tmp:
        workdir = Path(tmp)
        if args.replay:
            seed, index = map(int, args.replay.split(":"))
            m = mutant(seed, index, corpus)
            print(describe(m))
            print("-" * 72 + "\n" + m.text + "\n" + "-" * 72)
            outcome, problem = check_mutant(m, workdir, args.budget)
            print(outcome.output)
            print(f"exit {outcome.code} in {outcome.seconds:.2f} s: {problem or 'ok'}")
            return 1 if problem else 0
        codes: dict[object, int] = {}
        retried = starved = 0
        failures: list[tuple[Mutant, Outcome, str]] = []
        slowest = (0.0, "")
        total = 0.0
        started = time.monotonic()
        forced = tuple(args.options.split()) if args.options is not None else None
        for index in range(args.start, args.start + args.n):
            m = mutant(args.seed, index, corpus)
            if forced is not None:
                m = Mutant(m.seed, m.index, m.origin, m.text, m.edits, forced)
            outcome, problem = check_mutant(m, workdir, args.budget)
            codes[outcome.code] = codes.get(outcome.code, 0) + 1
            retried += bool(outcome.retries) and not problem
            starved += outcome.starved(args.budget)
            total += outcome.seconds
            if outcome.seconds > slowest[0]:
                slowest = (outcome.seconds, f"{m.seed}:{m.index}")
            if problem:
                failures.append((m, outcome, problem))
                tail = "\n    ".join(outcome.output.strip().splitlines()[-3:])
                print(f"FAIL {describe(m)}: {problem}\n    {tail}", flush=True)
                if args.save:
                    Path(args.save).mkdir(parents=True, exist_ok=True)
                    (Path(args.save) / f"fuzz_{m.seed}_{m.index}{Path(m.origin).suffix}").write_text(m.text, encoding="utf-8")
            done = index - args.start + 1
            if args.progress and done % args.progress == 0:
                print(f"... {done} mutants, {len(failures)} failing, {time.monotonic() - started:.0f} s", flush=True)
    checked = args.n
    by_code = ", ".join(f"{k if k is not None else 'killed'}: {v}" for k, v in sorted(codes.items(), key=str))
    print(f"\n{checked} mutants (seed {args.seed}, from {args.start}), budget {args.budget} s each")
    print(f"exit codes: {by_code}")
    print(f"failures: {len(failures)} (tracebacks, internal errors, bad exit codes, hangs)")
    print(f"mutants over the budget once, then within it (a busy machine): {retried}; over it in wall-clock "
          f"time every time but with less CPU than the budget (starved, not counted): {starved}")
    print(f"time: {total:.0f} s in checks, mean {total / max(checked, 1):.2f} s, slowest {slowest[0]:.2f} s "
          f"(mutant {slowest[1]})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
