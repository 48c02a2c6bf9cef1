"""Symbolic values and guards for the encoding.

Guards (path conditions, the conditions of a value's cases) are BDDs over the script's
boolean choices (`if (*)`, a call's outcome) and over *atoms*: comparisons involving an
unbounded integer (a clock reading, a decoded session's time), each kept as its Z3 term.
BDDs are canonical, so an impossible combination is seen at once, as the constant false,
and forks that cannot happen are never explored.

A value is plain (an int or bool), or a `Sym`:
  * finite: `cases` maps each plain value it can take to the guard under which it takes it
    (the guards are mutually exclusive);
  * unbounded: `term` is a Z3 Int.
"""

from __future__ import annotations

import functools
import itertools
import sys
from typing import Any

import z3


def _import_dd():
    """dd's CUDD binding (`dd.cudd`, C; its pure-Python `dd.autoref` took 3 times as long on
    the handshake workloads). dd imports networkx, when it is installed, for drawing
    graphs, which sessref never does; that import took 0.14-0.24 s of every run's start.
    dd treats networkx as optional, so it is hidden while dd loads (and only if nothing
    imported it before)."""
    hidden = "networkx" not in sys.modules
    if hidden:
        sys.modules["networkx"] = None  # type: ignore[assignment]  # `import networkx` raises ImportError
    try:
        try:
            from dd import cudd as manager
        except ImportError:  # a dd built without CUDD: the same API in pure Python
            from dd import autoref as manager
    finally:
        if hidden:
            del sys.modules["networkx"]
    return manager.BDD, manager.Function


BDD, Function = _import_dd()

from .language import cint  # noqa: E402


@functools.cache
def _quiet(manager: type) -> type:
    """dd's pure-Python manager asserts at collection that no node is referenced, which
    fails when the interpreter tears objects down in arbitrary order; there is nothing to
    check then."""
    return type("QuietManager", (manager,), {"__del__": lambda self: None})


MAX_CASES = 256  # a finite value with more cases becomes an unbounded Int term


class Logic:
    """The BDD manager of one run, with the Z3 meaning of each BDD variable."""

    def __init__(self) -> None:
        self.bdd = BDD()
        if hasattr(self.bdd, "_bdd"):  # pure Python (`dd.autoref`): quiet at collection
            self.bdd._bdd.__class__ = _quiet(type(self.bdd._bdd))
        self.true: Function = self.bdd.true
        self.false: Function = self.bdd.false
        self.meaning: dict[str, z3.BoolRef] = {}  # BDD variable -> Z3 Bool (choice or atom)
        self._atoms: dict[int, Function] = {}
        self._to_z3: dict[int, tuple[Function, z3.BoolRef]] = {}  # node -> (the node, kept alive; Z3)
        self.bounds: dict[int, tuple[int | None, int | None]] = {}  # Int variable id -> its range
        self.intervals: dict[int, tuple] = {}  # `interval`'s memo: term id -> (term, range)
        # How each `If` term over unbounded values was built (`ite`): term id -> (term, guard,
        # then, else). The loop-closure check (`closure.py`) splits such a value back into its
        # cases under the guards it enumerates; the term is kept so that its id is not reused.
        self.structure: dict[int, tuple] = {}

    def variable(self, meaning: z3.BoolRef) -> Function:
        """The BDD variable standing for a Z3 Bool (a choice variable or an atom)."""
        key = meaning.get_id()
        node = self._atoms.get(key)
        if node is None:
            name = f"v{len(self.meaning)}"
            self.bdd.declare(name)
            self.meaning[name] = meaning
            node = self._atoms[key] = self.bdd.var(name)
        return node

    def to_z3(self, u: Function) -> z3.BoolRef:
        """The BDD as a Z3 formula (shared sub-BDDs become shared sub-terms)."""
        if u == self.true:
            return z3.BoolVal(True)
        if u == self.false:
            return z3.BoolVal(False)
        key = int(u)
        cached = self._to_z3.get(key)
        if cached is not None:
            return cached[1]
        var = self.meaning[u.var]
        high, low = self.to_z3(u.high), self.to_z3(u.low)
        result = z3.If(var, high, low)
        if u.negated:
            result = z3.Not(result)
        self._to_z3[key] = (u, result)  # `u` kept alive: CUDD reuses a freed node's address
        return result

    def pick(self, u: Function) -> dict[str, bool]:
        """One assignment (BDD variable -> value) satisfying `u`."""
        return self.bdd.pick(u) or {}


LOGIC = Logic()


def use(logic: Logic) -> None:
    global LOGIC
    LOGIC = logic


def is_false(g: Any) -> bool:
    return g is False or (isinstance(g, Function) and g == LOGIC.false)


def is_true(g: Any) -> bool:
    return g is True or (isinstance(g, Function) and g == LOGIC.true)


def node(g: Any) -> Function:
    if g is True:
        return LOGIC.true
    if g is False:
        return LOGIC.false
    return g


def AND(*gs: Any) -> Function:
    result = LOGIC.true
    for g in gs:
        result = result & node(g)
        if result == LOGIC.false:
            break
    return result


def OR(gs: list) -> Function:
    result = LOGIC.false
    for g in gs:
        result = result | node(g)
    return result


def NOT(g: Any) -> Function:
    return ~node(g)


class Sym:
    """A symbolic value: finite (`cases`) or unbounded (`term`)."""

    __slots__ = ("cases", "_term")

    def __init__(self, cases: dict | None = None, term: z3.ExprRef | None = None):
        self.cases = cases
        self._term = term

    @property
    def values(self) -> frozenset | None:
        return frozenset(self.cases) if self.cases is not None else None

    @property
    def term(self) -> z3.ExprRef:
        """The value as one Z3 term (an `If` chain for a finite value)."""
        if self._term is None:
            assert self.cases is not None
            items = sorted(self.cases.items(), key=lambda kv: repr(kv[0]))
            if all(isinstance(v, bool) for v, _ in items):
                self._term = LOGIC.to_z3(node(self.cases.get(True, False)))
            else:
                result: z3.ExprRef = z3.IntVal(int(items[-1][0]))
                for v, g in reversed(items[:-1]):
                    result = z3.If(LOGIC.to_z3(g), z3.IntVal(int(v)), result)
                self._term = result
        return self._term

    def __bool__(self) -> bool:
        raise TypeError("a symbolic value has no truth value; use World.test")

    def __repr__(self) -> str:
        return f"Sym({sorted(self.cases, key=repr) if self.cases is not None else self._term})"


def boolean(g: Any) -> Any:
    """A guard as a value: plain if constant, else a finite Sym."""
    if is_true(g):
        return True
    if is_false(g):
        return False
    return Sym({True: g, False: ~g})


def atom(t: z3.BoolRef) -> Any:
    """A Z3 condition over unbounded integers as a value."""
    simple = z3.simplify(t)
    if z3.is_true(simple):
        return True
    if z3.is_false(simple):
        return False
    return boolean(LOGIC.variable(simple))


def cases_of(v: Any) -> dict | None:
    if isinstance(v, Sym):
        return v.cases
    return {v: LOGIC.true}


def values_of(v: Any) -> frozenset | None:
    c = cases_of(v)
    return frozenset(c) if c is not None else None


def term(v: Any, as_int: bool = False) -> z3.ExprRef:
    if isinstance(v, Sym):
        t = v.term
        if as_int and z3.is_bool(t):
            return z3.If(t, z3.IntVal(1), z3.IntVal(0))
        return t
    if isinstance(v, bool) and not as_int:
        return z3.BoolVal(v)
    return z3.IntVal(int(v or 0))


def finite(cases: dict, cap: int | None = None) -> Any:
    """Build a value from cases, dropping impossible ones; plain when only one remains."""
    cases = {v: g for v, g in cases.items() if not is_false(g)}
    if len(cases) == 1:
        return next(iter(cases))
    if len(cases) > (cap or MAX_CASES):
        return Sym(None, Sym(cases).term)
    return Sym(cases)


def apply(op, a: Any, b: Any, make) -> Any:
    """`op` on plain values, on the cases of finite values, or via `make` on Z3 terms."""
    if not isinstance(a, Sym) and not isinstance(b, Sym):
        return op(a, b)
    ca, cb = cases_of(a), cases_of(b)
    if ca is not None and cb is not None and len(ca) * len(cb) <= MAX_CASES * 4:
        out: dict[Any, Function] = {}
        for (x, gx), (y, gy) in itertools.product(ca.items(), cb.items()):
            g = gx & gy
            if g != LOGIC.false:
                v = op(x, y)
                out[v] = out[v] | g if v in out else g
        return finite(out)
    t = make(a, b)
    if z3.is_bool(t):
        return atom(t)
    simple = z3.simplify(t)
    return simple.as_long() if z3.is_int_value(simple) else Sym(None, t)


def _ints(f):
    return lambda a, b: f(term(a, True), term(b, True))


def _eq_terms(a: Any, b: Any) -> z3.ExprRef:
    if _is_bool(a) and _is_bool(b):
        return term(a) == term(b)
    return term(a, True) == term(b, True)


def _is_bool(v: Any) -> bool:
    if isinstance(v, Sym):
        return v.cases is not None and all(isinstance(x, bool) for x in v.cases)
    return isinstance(v, bool)


def _decided(op: str, a: Any, b: Any) -> bool | None:
    """A comparison of unbounded integers that their ranges decide (`interval` holds every
    value a term can take), else None. Without it such a comparison becomes an atom that the
    BDDs cannot refute, and the encoding forks on outcomes that cannot happen: a clock
    reading below 0, an expiry past TIME_T_MAX (`cache.expiry` asks both for every session
    it sorts), each fork multiplying the cases of the step."""
    if _is_bool(a) or _is_bool(b):
        return None
    alo, ahi = interval(term(a, True))
    blo, bhi = interval(term(b, True))
    if op == "eq":
        if (ahi is not None and blo is not None and ahi < blo) or (bhi is not None and alo is not None and bhi < alo):
            return False
        return None
    if op in ("gt", "ge"):
        (alo, ahi), (blo, bhi) = (blo, bhi), (alo, ahi)
        op = "lt" if op == "gt" else "le"
    # now a < b (lt) or a <= b (le)
    if ahi is not None and blo is not None and (ahi < blo or (op == "le" and ahi <= blo)):
        return True
    if alo is not None and bhi is not None and (alo >= bhi if op == "lt" else alo > bhi):
        return False
    return None


def _compare(op: str, py, z3op):
    make = _ints(z3op)

    def run(a: Any, b: Any) -> Any:
        if isinstance(a, Sym) and a.cases is None or isinstance(b, Sym) and b.cases is None:
            known = _decided(op, a, b)
            if known is not None:
                return known
        return apply(py, a, b, make)

    return run


def _eq(a: Any, b: Any) -> Any:
    if isinstance(a, Sym) and a.cases is None or isinstance(b, Sym) and b.cases is None:
        known = _decided("eq", a, b)
        if known is not None:
            return known
    return apply(lambda x, y: x == y, a, b, _eq_terms)


OPS = {
    "eq": _eq,
    "lt": _compare("lt", lambda x, y: x < y, lambda x, y: x < y),
    "le": _compare("le", lambda x, y: x <= y, lambda x, y: x <= y),
    "gt": _compare("gt", lambda x, y: x > y, lambda x, y: x > y),
    "ge": _compare("ge", lambda x, y: x >= y, lambda x, y: x >= y),
    "add": lambda a, b: apply(lambda x, y: x + y, a, b, _ints(lambda x, y: x + y)),
    "sub": lambda a, b: apply(lambda x, y: x - y, a, b, _ints(lambda x, y: x - y)),
}
OPS["ne"] = lambda a, b: not_(OPS["eq"](a, b))


def truth(a: Any) -> Any:
    """A value as a condition: C's `!= 0`."""
    if not isinstance(a, Sym):
        return bool(a)
    if a.cases is not None:
        return finite({True: OR([g for v, g in a.cases.items() if v]), False: OR([g for v, g in a.cases.items() if not v])})
    return atom(a.term != 0)


def not_(a: Any) -> Any:
    c = truth(a)
    if not isinstance(c, Sym):
        return not c
    return Sym({True: node(c.cases.get(False, False)), False: node(c.cases.get(True, False))})


def guard_of(c: Any) -> Any:
    """The guard under which condition `c` holds: True, False or a BDD."""
    c = truth(c)
    if isinstance(c, Sym):
        return node(c.cases.get(True, False))
    return c


def ite(c: Any, a: Any, b: Any, cap: int | None = None) -> Any:
    g = guard_of(c)
    if is_true(g):
        return a
    if is_false(g):
        return b
    if not isinstance(a, Sym) and not isinstance(b, Sym) and a == b and type(a) is type(b):
        return a
    ca, cb = cases_of(a), cases_of(b)
    if ca is not None and cb is not None:
        out: dict[Any, Function] = {}
        ite3 = LOGIC.bdd.ite
        for v, gv in ca.items():
            other = cb.get(v)
            out[v] = gv if other is not None and other == gv else ite3(g, gv, node(other) if other is not None else LOGIC.false)
        for v, gv in cb.items():
            if v not in ca:
                out[v] = ite3(g, LOGIC.false, gv)
        return finite(out, cap)
    if _is_bool(a) and _is_bool(b):
        return atom(z3.If(LOGIC.to_z3(g), term(a), term(b)))
    result = z3.If(LOGIC.to_z3(g), term(a, True), term(b, True))
    LOGIC.structure[result.get_id()] = (result, g, a, b)
    return Sym(None, result)


def select(cases: list[tuple[Any, Any]], cap: int | None = None) -> Any:
    """The value that is `v_i` where guard `g_i` holds (guards exclusive and exhaustive)."""
    if any(cases_of(v) is None for _, v in cases):
        result = cases[-1][1]
        for g, v in reversed(cases[:-1]):
            result = ite(boolean(g), v, result, cap)
        return result
    out: dict[Any, Function] = {}
    for g, v in cases:
        g = node(g)
        for value, gv in cases_of(v).items():
            part = g & gv
            out[value] = out[value] | part if value in out else part
    return finite(out, cap)


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Sym) or isinstance(b, Sym):
        return a is b
    return a == b and isinstance(a, bool) == isinstance(b, bool)


# ---- C integer arithmetic (`language/cint.py`) on symbolic values ---------------------------
# Finite values apply cint's own functions to each case. Unbounded Int terms always hold a
# value in range of their expression's C type (the executor converts on every write), so:
#   * + - and unary - add at most one modulus: `If(r > max, r - 2^N, ...)`, linear and
#     cheap, where the solver would otherwise face `mod`;
#   * ~ is `-x - 1`, in range for a signed type, one correction for an unsigned one;
#   * * / % & | ^ << >> go through bit-vectors of the type's width and back
#     (`BV2Int(..., is_signed)`), which is C's exact meaning (bvsdiv truncates toward zero,
#     bvsrem takes the dividend's sign, bvashr shifts in sign bits). They are rare in
#     scripts, so their cost does not burden the common case;
#   * conversions are free when the source type's range is inside the target's, one or two
#     corrections when the widths are close, else `mod`; a value of unknown origin (a call's
#     result) is first checked against the range the encoding knows for it (`interval`).


def bound(var: z3.ExprRef, lo: int | None, hi: int | None) -> None:
    """Record the range of a fresh Int variable (a choice's bounds, an SSA definition's)."""
    if lo is not None or hi is not None:
        LOGIC.bounds[var.get_id()] = (lo, hi)


def interval(t: z3.ExprRef) -> tuple[int | None, int | None]:
    """A range that contains every value of Int term `t` (None: unbounded on that side)."""
    key = t.get_id()
    known = LOGIC.intervals.get(key)
    if known is None:  # the term is kept with its range: a freed term's id may be reused
        known = LOGIC.intervals[key] = (t, _interval(t))
    return known[1]


def _interval(t: z3.ExprRef) -> tuple[int | None, int | None]:
    if z3.is_int_value(t):
        return t.as_long(), t.as_long()
    if z3.is_const(t):
        return LOGIC.bounds.get(t.get_id(), (None, None))  # the variable lives in the backend
    if z3.is_add(t) or z3.is_sub(t):
        parts = [interval(c) for c in t.children()]
        lo, hi = parts[0]
        for plo, phi in parts[1:]:
            if z3.is_add(t):
                lo = None if lo is None or plo is None else lo + plo
                hi = None if hi is None or phi is None else hi + phi
            else:
                lo = None if lo is None or phi is None else lo - phi
                hi = None if hi is None or plo is None else hi - plo
        return lo, hi
    if z3.is_app_of(t, z3.Z3_OP_ITE):
        (alo, ahi), (blo, bhi) = interval(t.arg(1)), interval(t.arg(2))
        return (None if alo is None or blo is None else min(alo, blo),
                None if ahi is None or bhi is None else max(ahi, bhi))
    return None, None


def _wrap_term(x: z3.ArithRef, lo: int | None, hi: int | None, t: cint.IntType) -> z3.ArithRef:
    """`x`, known to lie in [lo, hi], converted to `t` (`cint.convert`)."""
    if t is cint.BOOL:
        if lo is not None and hi is not None and 0 <= lo and hi <= 1:
            return x
        return z3.If(x != 0, z3.IntVal(1), z3.IntVal(0))
    if lo is not None and hi is not None:
        if t.min <= lo and hi <= t.max:
            return x
        kmin, kmax = (lo - t.min) // t.modulus, (hi - t.min) // t.modulus
        if kmax - kmin <= 2:
            result = x - kmax * t.modulus if kmax else x
            for k in range(kmax - 1, kmin - 1, -1):
                result = z3.If(x < t.min + (k + 1) * t.modulus, x - k * t.modulus if k else x, result)
            return result
    wrapped = (x - t.min) % t.modulus + t.min
    return z3.If(z3.And(x >= t.min, x <= t.max), x, wrapped)


def convert(v: Any, src: cint.IntType | None, dst: cint.IntType) -> Any:
    """`v`, a value of type `src` (None: of unknown range), converted to `dst`. Returns `v`
    itself when nothing changes, so that merges see the cell unchanged."""
    if not isinstance(v, Sym):
        return cint.convert(v, dst)
    if v.cases is not None:
        if all(cint.convert(x, dst) == x and not isinstance(x, bool) for x in v.cases):
            return v
        out: dict[Any, Function] = {}
        for x, g in v.cases.items():
            y = cint.convert(x, dst)
            out[y] = out[y] | g if y in out else g
        return finite(out)
    x = term(v, True)
    lo, hi = (src.min, src.max) if src is not None else interval(x)
    if src is not None:
        ilo, ihi = interval(x)
        lo, hi = max(lo, ilo) if ilo is not None else lo, min(hi, ihi) if ihi is not None else hi
    r = _wrap_term(x, lo, hi, dst)
    return v if r is x else _int_value(r)


def _int_value(r: z3.ArithRef) -> Any:
    simple = z3.simplify(r)
    return simple.as_long() if z3.is_int_value(simple) else Sym(None, r)


def _bits(x: z3.ArithRef, t: cint.IntType) -> z3.BitVecRef:
    return z3.Int2BV(x, t.bits)


def _z3_binary(op: str, t: cint.IntType, x: z3.ArithRef, y: z3.ArithRef) -> tuple[z3.ArithRef, z3.BoolRef | None]:
    """The Z3 meaning of `cint.binary(op, t, x, y)` and the condition under which it is
    defined (None: always)."""
    if op in ("add", "sub"):
        r = x + y if op == "add" else x - y
        lo, hi = (2 * t.min, 2 * t.max) if op == "add" else (t.min - t.max, t.max - t.min)
        return _wrap_term(r, lo, hi, t), None
    linear = _with_constant(op, t, x, y)
    if linear is not None:
        return linear, None
    ok: z3.BoolRef | None = None
    if op in ("div", "rem"):
        ok = y != 0
        if t.signed:
            ok = z3.And(ok, z3.Not(z3.And(x == t.min, y == -1)))
    elif op in ("shl", "shr"):
        ok = z3.And(y >= 0, y < t.bits)
    a = _bits(x, t)
    # A shift amount outside [0, bits) is undefined (`ok`); inside it, its low bits are it.
    b = _bits(y, t)
    if op == "mul":
        r = a * b
    elif op == "div":
        r = a / b if t.signed else z3.UDiv(a, b)
    elif op == "rem":
        r = z3.SRem(a, b) if t.signed else z3.URem(a, b)
    elif op == "bitand":
        r = a & b
    elif op == "bitor":
        r = a | b
    elif op == "bitxor":
        r = a ^ b
    elif op == "shl":
        r = a << b
    elif op == "shr":
        r = a >> b if t.signed else z3.LShR(a, b)
    else:
        raise ValueError(op)
    return z3.BV2Int(r, is_signed=t.signed), ok


def _power_of_two(n: int) -> int | None:
    return n.bit_length() - 1 if n > 0 and n & (n - 1) == 0 else None


def _with_constant(op: str, t: cint.IntType, x: z3.ArithRef, y: z3.ArithRef) -> z3.ArithRef | None:
    """The common cases with one constant operand (`flags & MASK`, `n >> 3`, `n / 10`, `x | 0`)
    in linear integer arithmetic, which Z3 decides far better than the bridge between
    integers and bit-vectors. None: no such case; the caller uses bit-vectors."""
    if z3.is_int_value(x) and not z3.is_int_value(y) and op in ("mul", "bitand", "bitor", "bitxor"):
        x, y = y, x  # commutative: the constant second
    if not z3.is_int_value(y):
        return None
    c = y.as_long()
    signed_c = c - t.modulus if not t.signed and c >= 1 << (t.bits - 1) else c  # the bits, signed
    ones = -1 if t.signed else t.max  # every bit set, in `t`
    if op == "mul":
        lo, hi = sorted((t.min * c, t.max * c))
        return _wrap_term(x * c, lo, hi, t)
    if op in ("div", "rem") and c != 0 and not (t.signed and c == -1):
        d = abs(c)
        q = z3.If(x >= 0, x / d, -((-x) / d))  # `/` of Ints by a positive constant floors
        q = q if c > 0 else -q
        return q if op == "div" else x - c * q
    if op in ("shl", "shr") and 0 <= c < t.bits:
        if op == "shr":
            return x / (1 << c)  # floor division: sign bits shift in, as gcc does
        return _wrap_term(x * (1 << c), t.min << c, t.max << c, t)
    if op == "bitand":
        if signed_c == 0:
            return z3.IntVal(0)
        if signed_c == -1:
            return x
        low = _power_of_two(signed_c + 1)
        if low is not None:  # a mask of the low bits
            return x % (1 << low)
        high = _power_of_two(-signed_c)
        if high is not None:  # the low bits cleared
            return x - x % (1 << high)
    if op == "bitor":
        if signed_c == 0:
            return x
        if signed_c == -1:
            return z3.IntVal(ones)
        low = _power_of_two(signed_c + 1)
        if low is not None:  # the low bits set
            return x - x % (1 << low) + (1 << low) - 1
    if op == "bitxor":
        if signed_c == 0:
            return x
        if signed_c == -1:  # ~x
            return _wrap_term(-x - 1, -t.max - 1, -t.min - 1, t)
    return None


def arith(op: str, t: cint.IntType, a: Any, b: Any, unknown) -> Any:
    """`a op b` in type `t` (operands converted as `cint.binary` expects; `b` is None for
    the unary "neg" and "bitnot"). Where C gives no value, the result is `unknown()`: a
    fresh value of type `t`."""
    unary = b is None

    def py(x: Any, y: Any) -> int | None:
        return cint.unary(op, t, x) if unary else cint.binary(op, t, x, y)

    if not isinstance(a, Sym) and not isinstance(b, Sym):
        r = py(a, b)
        return unknown() if r is None else r
    ca, cb = cases_of(a), (cases_of(b) if not unary else {0: LOGIC.true})
    if ca is not None and cb is not None and len(ca) * len(cb) <= MAX_CASES * 4:
        out: dict[Any, Function] = {}
        undefined = LOGIC.false
        for (x, gx), (y, gy) in itertools.product(ca.items(), cb.items()):
            g = gx & gy
            if g == LOGIC.false:
                continue
            v = py(x, y)
            if v is None:
                undefined = undefined | g
            else:
                out[v] = out[v] | g if v in out else g
        if undefined == LOGIC.false:
            return finite(out)
        if not out:
            return unknown()
        return ite(boolean(undefined), unknown(), finite(out))
    x = term(a, True)
    if unary:
        if op == "neg":
            r = _wrap_term(-x, -t.max, -t.min, t)
        else:
            r = _wrap_term(-x - 1, -t.max - 1, -t.min - 1, t)
        return _int_value(r)
    r, ok = _z3_binary(op, t, x, term(b, True))
    if ok is not None:
        ok = z3.simplify(ok)
        if z3.is_false(ok):
            return unknown()
        if not z3.is_true(ok):
            r = z3.If(ok, r, term(unknown(), True))
    return _int_value(r)
