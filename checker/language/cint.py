"""C integer arithmetic on the declared types: the one definition both interpreters use.

The concrete interpreter calls these functions on Python ints; the Z3 encoding
(`symvalues.py`) applies them to each case of a finite value and encodes the same meaning
for unbounded terms (tests/test_cint.py holds both equal, and equal to gcc).

The target is gcc on x86_64 Linux (LP64): char is signed, int 32 bits, long and long long
64 bits, size_t unsigned long; a decimal literal too large for long long is gcc's
`__int128` (C17 6.4.4.1p6: an extended integer type). Implementation-defined and
undefined behaviour:
  * conversion of an out-of-range value to a signed type wraps modulo 2^N (gcc's
    implementation-defined choice, "Integers implementation" in the gcc manual);
  * signed overflow in + - * (and unary -, and `<<`) is undefined in C (C17 6.5p5); here it
    wraps modulo 2^N, as gcc does with `-fwrapv` and as x86_64 does without optimisation.
    A script relying on it is wrong anyway; wrapping keeps every path's value defined;
  * `x / 0`, `x % 0`, `MIN / -1`, `MIN % -1` (undefined, C17 6.5.5p5-6; a trap on x86_64)
    and shifts by a negative amount or by at least the width (undefined, C17 6.5.7p3) give
    *no* value here (`None`): the interpreters make the result an unknown value of its type,
    so every outcome is explored — never a crash, never a silent safe;
  * `>>` of a negative value shifts in sign bits (gcc's implementation-defined choice).

Every value of an expression of integer type is kept in its type's range as a
mathematical integer: conversion (`convert`) establishes that on assignment,
initialisation, argument passing and return, and each operator returns a value in range.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .datacache import cached


@dataclass(frozen=True)
class IntType:
    name: str
    bits: int
    signed: bool
    rank: int  # integer conversion rank (C17 6.3.1.1)

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def modulus(self) -> int:
        return 1 << self.bits

    def __str__(self) -> str:
        return self.name


BOOL = IntType("_Bool", 1, False, 0)
CHAR = IntType("char", 8, True, 1)
SCHAR = IntType("signed char", 8, True, 1)
UCHAR = IntType("unsigned char", 8, False, 1)
SHORT = IntType("short", 16, True, 2)
USHORT = IntType("unsigned short", 16, False, 2)
INT = IntType("int", 32, True, 3)
UINT = IntType("unsigned int", 32, False, 3)
LONG = IntType("long", 64, True, 4)
ULONG = IntType("unsigned long", 64, False, 4)
LLONG = IntType("long long", 64, True, 5)
ULLONG = IntType("unsigned long long", 64, False, 5)
INT128 = IntType("__int128", 128, True, 6)  # only as the type of a too-large decimal literal
UINT128 = IntType("unsigned __int128", 128, False, 6)

# Each integer type the language accepts, by the name a declaration gives it; typedefs as
# glibc defines them on x86_64 (<stdint.h>, <sys/types.h>, <stddef.h>, <time.h>).
TYPES: dict[str, IntType] = {
    t.name: t for t in (BOOL, CHAR, SCHAR, UCHAR, SHORT, USHORT, INT, UINT, LONG, ULONG, LLONG, ULLONG)
}
TYPES.update({
    "bool": BOOL,
    "size_t": ULONG, "ssize_t": LONG, "time_t": LONG, "off_t": LONG, "ptrdiff_t": LONG,
    "int8_t": SCHAR, "uint8_t": UCHAR, "int16_t": SHORT, "uint16_t": USHORT,
    "int32_t": INT, "uint32_t": UINT, "int64_t": LONG, "uint64_t": ULONG,
})

# The OpenSSL macros scripts use are int constants, but for SSL_OP_NO_TICKET, which is
# `SSL_OP_BIT(14)`, `((uint64_t)1 << (uint64_t)14)` (include/openssl/ssl.h.in, 3.0).
def _constants() -> tuple[dict[str, int], dict[str, str]]:
    """The headers' integer constants, with their types (`constants.toml`)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    data = tomllib.loads(Path(__file__).with_name("constants.toml").read_text(encoding="utf-8"))["constants"]
    return {n: v for n, (v, _) in data.items()}, {n: t for n, (_, t) in data.items()}


# Parsing the 2,800 constants took 0.03 s of every run's start: kept between runs.
CONSTANT_VALUES, _CONSTANT_TYPES = cached(
    "constants", [Path(__file__).with_name("constants.toml"), Path(__file__)], _constants)

_UNSIGNED_OF = {t.rank: t for t in (UCHAR, USHORT, UINT, ULONG, ULLONG, UINT128)}


def canonical(words: list[str]) -> str:
    """The name of a type written as specifier words in any order: `long unsigned int`,
    `signed`, `short int` -> `unsigned long`, `int`, `short`. Unknown words are kept."""
    ws = [w for w in words if w != "int"] if len(words) > 1 else list(words)
    signed = "signed" in ws
    unsigned = "unsigned" in ws
    rest = [w for w in ws if w not in ("signed", "unsigned")]
    if rest == ["char"]:
        return "unsigned char" if unsigned else "signed char" if signed else "char"
    size = " ".join(rest) if rest else "int"
    if size in ("short", "long", "long long", "int"):
        return ("unsigned " + size) if unsigned else size
    return " ".join(words)


def int_type(base: str) -> IntType | None:
    """The integer type a declared base type names, or None (pointers, objects, void)."""
    return TYPES.get(base)


def constant_type(name: str) -> IntType:
    """The type of a library macro's value."""
    return TYPES[_CONSTANT_TYPES.get(name, "int")]


def promote(t: IntType) -> IntType:
    """The integer promotions (C17 6.3.1.1p2): below int becomes int (every such value fits)."""
    return INT if t.rank < INT.rank else t


def common(a: IntType, b: IntType) -> IntType:
    """The usual arithmetic conversions (C17 6.3.1.8p1) on two integer types."""
    a, b = promote(a), promote(b)
    if a == b:
        return a
    if a.signed == b.signed:
        return a if a.rank > b.rank else b
    s, u = (a, b) if a.signed else (b, a)
    if u.rank >= s.rank:
        return u
    if s.bits > u.bits:  # the signed type holds every value of the unsigned one
        return s
    return _UNSIGNED_OF[s.rank]


def convert(v: int, t: IntType) -> int:
    """A value converted to `t` (C17 6.3.1.2-3): to _Bool, 0 or 1; to unsigned, modulo
    2^N; to signed, modulo 2^N into range (gcc's implementation-defined choice)."""
    v = int(v)
    if t is BOOL:
        return int(v != 0)
    if t.min <= v <= t.max:
        return v
    return (v - t.min) % t.modulus + t.min


def literal_type(value: int, suffix: str = "", decimal: bool = True) -> IntType | None:
    """The type of an integer constant (C17 6.4.4.1p5): the first of its list that holds the
    value; None when none does (the parser refuses it)."""
    s = suffix.lower()
    unsigned = "u" in s
    longs = s.count("l")
    if longs == 0:
        candidates = [INT, LONG, LLONG] if decimal else [INT, UINT, LONG, ULONG, LLONG, ULLONG]
    elif longs == 1:
        candidates = [LONG, LLONG] if decimal else [LONG, ULONG, LLONG, ULLONG]
    else:
        candidates = [LLONG] if decimal else [LLONG, ULLONG]
    if unsigned:
        candidates = [_UNSIGNED_OF[t.rank] for t in candidates if t.signed]
    for t in candidates:
        if t.min <= value <= t.max:
            return t
    if decimal and not unsigned and value <= INT128.max:
        return INT128  # gcc: "integer constant is so large that it is unsigned", typed __int128
    return None


def type_of_literal(value: int, name: str = "") -> IntType:
    """The type of an integer literal: the one the parser gave it, else by its value alone
    (as an unsuffixed decimal; a literal built by a front end)."""
    return TYPES.get(name) or literal_type(value) or ULLONG


# ---- operators -------------------------------------------------------------------------
# Binary operators by the name the executor uses. For all but the shifts, both operands
# are already converted to `t`, the common type; for the shifts, `t` is the promoted type
# of the left operand and the right one is its own (promoted) value. None: undefined.

# C's binary operators by the name the interpreters give them.
OPERATORS = {
    "==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge",
    "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "rem",
    "|": "bitor", "&": "bitand", "^": "bitxor", "<<": "shl", ">>": "shr",
}
ARITHMETIC = ("add", "sub", "mul", "div", "rem", "bitand", "bitor", "bitxor", "shl", "shr")
COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge")


def _trunc_div(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


def defined(op: str, t: IntType, a: int, b: int) -> bool:
    """Whether `a op b` in type `t` has a value (see the module's notes)."""
    if op in ("div", "rem"):
        return b != 0 and not (t.signed and a == t.min and b == -1)
    if op in ("shl", "shr"):
        return 0 <= b < t.bits
    return True


def binary(op: str, t: IntType, a: int, b: int) -> int | None:
    a, b = int(a), int(b)
    if not defined(op, t, a, b):
        return None
    if op == "add":
        r = a + b
    elif op == "sub":
        r = a - b
    elif op == "mul":
        r = a * b
    elif op == "div":
        r = _trunc_div(a, b)
    elif op == "rem":
        r = a - b * _trunc_div(a, b)
    elif op == "bitand":
        r = a & b  # Python's ints behave as infinite two's complement: C's bits
    elif op == "bitor":
        r = a | b
    elif op == "bitxor":
        r = a ^ b
    elif op == "shl":
        r = a << b
    elif op == "shr":
        r = a >> b  # arithmetic on negative values, as gcc
    else:
        raise ValueError(op)
    return convert(r, t)


def compare(op: str, a: int, b: int) -> bool:
    """A comparison of two values already converted to their common type."""
    a, b = int(a), int(b)
    return {"eq": a == b, "ne": a != b, "lt": a < b, "le": a <= b, "gt": a > b, "ge": a >= b}[op]


def unary(op: str, t: IntType, a: int) -> int:
    """`-a` (neg) or `~a` (bitnot) of a value already promoted to `t`."""
    a = int(a)
    return convert(-a if op == "neg" else ~a, t)


def result_type(op: str, left: IntType, right: IntType) -> IntType:
    """The type of `left op right`: int for comparisons, the promoted left type for shifts,
    else the common type."""
    if op in COMPARISONS:
        return INT
    if op in ("shl", "shr"):
        return promote(left)
    return common(left, right)
