"""Seeded random operation scripts for the conformance suite, which compiles each path of a
script to C and runs it against the real OpenSSL under valgrind.

`generate_script(seed)` composes the modelled session calls over a small pool of variables
(one context, one or two connections, two or three sessions, a borrowed pointer) into a
script of 5 to 25 statements with at most three nondeterministic points. About half the
scripts are written carefully: every reference is released exactly once and nothing is
used that may have died. The others make one or two mistakes on purpose: a borrowed
pointer freed, a session used after its last holder let go, an owned reference
overwritten, a cached session's key changed, a cleanup that frees too much or too little.

About 30% of the scripts register a remove callback on the context right after creating
it (`SSL_CTX_sess_set_remove_cb(ctx, on_remove)`), which the library calls with a borrowed
session at every removal: `SSL_CTX_remove_session` of a session with an id, eviction when
the cache is full, `SSL_CTX_flush_sessions` and the last reference to the context. Its body
only reads what it is lent, or keeps the session in a global (`evicted`, which the script
frees at its very end), or, in a script with mistakes only, frees what it is lent. It never
calls anything that removes sessions (the checker does not model that).

While writing, the generator follows every path with a small abstract model of who holds
which reference (`_State`). It is conservative where OpenSSL depends on the clock or the
cache size: a cached session may leave the cache at any moment, so a careful script never
relies on the cache's reference, and any session that may have left it may be the one the
callback keeps, so a careful script never relies on that reference either. The verdict is
the checker's, not this model's.

About 40% of the scripts drive handshakes instead (`_HandshakeGenerator`), chosen by a
random number of their own so that the other scripts stay what they were. A client context
connects, reads (a TLS 1.3 ticket replaces the session), saves its session and offers it to
a second connection, with `SSL_session_reused` branches; a server context accepts two or
three connections in sequence. Both may register `new_session_cb` (keeping the session in a
global `stored`, freed at the very end, or only reading it) and a server `get_session_cb`
(returning `stored`, with `*copy` left at 1 or after an up-ref with `*copy = 0`). They
sometimes pin the protocol version and make at most three handshake or I/O calls. The
mistakes: a callback that keeps nothing after returning 1, frees what it is given, or hands
over a reference it does not own; a borrowed session pointer read after `SSL_read` or
`SSL_free`; a borrowed session freed; a session offered without checking it is resumable; a
saved session replaced without freeing it; a cleanup with a free too many or too few. No
callback calls anything that would make the library call back into the script.

The same seed gives the same text: all randomness comes from `random.Random(seed)` (and
the choice of kind from a second generator seeded from `seed`).
"""

from __future__ import annotations

import copy
import random
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Protocol

from .language.catalogue import CATALOGUE


def _catalogued(*names: str) -> tuple[str, ...]:
    """Calls the generator writes by name: each must be modelled and marked `generator` in
    the catalogue (a forgotten entry fails at import)."""
    for name in names:
        e = CATALOGUE.get(name)
        if e is None or not e.modelled or not e.generator:
            raise ValueError(f"the generator writes `{name}`, which the catalogue does not mark as a modelled "
                             "call it generates")
    return names

MAX_STATEMENTS = 25
MAX_FORKS = 3  # `if`, `while` and `d2i_SSL_SESSION` (which may fail) each count as one
UNROLL = 4  # the checker's default: a careful loop body is safe for this many iterations
CAREFUL_SHARE = 0.5
MISTAKE_CHANCE = 0.4  # per step of a script with mistakes still to make, at mid-script
COMPOUND_CHANCE = 0.35  # per top-level step, while forks remain
CANDIDATES = 30  # random operations tried per step
SAFE_CHOICES = 3  # safe operations compared per step (the one with more rope is likelier)
CALLBACK_SHARE = 0.3  # scripts that register a remove callback
HANDSHAKE_SHARE = 0.4  # scripts with handshakes (written by `_HandshakeGenerator`)
MAX_HANDSHAKES = 3  # handshake and I/O calls in one script: each multiplies the paths

# ---- the abstract model ---------------------------------------------------------------------

CTX, SSL, SESSION = "ctx", "ssl", "session"
ALIVE, MAYBE, DEAD = "alive", "maybe", "dead"

# What the remove callback does with the session it is lent.
READS, KEEPS, FREES = "reads", "keeps", "frees"

# What an operation may do wrong on a path; a careful script does none of it.
NULL_DEREF = "null-dereference"
USE_AFTER_FREE = "use-after-free"
MAYBE_FREED = "maybe-freed"  # used a session that only a cache may still hold
DOUBLE_FREE = "double-free"
BORROWED_FREE = "borrowed-free"
LENT_FREE = "lent-free"  # the remove callback frees the session it is lent (a borrowed free too)
LEAK = "leak"
CORRUPTION = "cache-corruption"
UNDEFINED = "undefined"  # C undefined behaviour the model does not see: never written
ENDS_PATH = frozenset({NULL_DEREF, USE_AFTER_FREE, DOUBLE_FREE, CORRUPTION})
PLAIN_MISTAKES = frozenset({LEAK, NULL_DEREF})  # made only when nothing more interesting is near
# How much a script with mistakes prefers each kind: interleavings over plain crashes.
MISTAKE_WEIGHTS = {
    LENT_FREE: 6.0,  # the callback's own mistake: a script that has one should show it
    USE_AFTER_FREE: 3.0,
    DOUBLE_FREE: 3.0,
    BORROWED_FREE: 3.0,
    MAYBE_FREED: 2.0,
    CORRUPTION: 2.0,
    LEAK: 0.5,
    NULL_DEREF: 0.2,
}


@dataclass
class _Obj:
    kind: str
    script: int = 1  # references the script owns
    held: int = 0  # references library holders own: SSL slots (a session), SSLs (a context)
    cached: bool = False  # a session that may be in the cache; that reference is never counted
    kept: bool = False  # a session the callback's `evicted` may hold; never counted either
    dead: bool = False
    slot: int | None = None  # an SSL's session
    ctx: int | None = None  # an SSL's context
    keyed: bool = False  # a session with a non-empty id
    hostname: bool = False  # a session whose hostname is set

    def status(self) -> str:
        if self.dead:
            return DEAD
        refs = self.script + self.held
        if refs > 0:
            return ALIVE
        return MAYBE if refs == 0 and (self.cached or self.kept) else DEAD

    def key(self) -> tuple:
        return (
            self.kind, self.script, self.held, self.cached, self.kept, self.dead, self.slot, self.ctx, self.keyed,
            self.hostname,
        )


@dataclass
class _State:
    """One path: the objects, what each variable points at and how many references it owns."""

    objects: list[_Obj]
    vars: dict[str, tuple[int | None, int]]  # name -> (object, or None for NULL; references owned)
    host: int | None = None  # the session `host` points into, while printing it is defined
    issues: set[str] = field(default_factory=set)
    callback: str | None = None  # the context's remove callback: READS, KEEPS or FREES

    def copy(self) -> _State:
        return _State([copy.copy(o) for o in self.objects], dict(self.vars), self.host, set(self.issues), self.callback)

    def key(self) -> tuple:
        return (tuple(o.key() for o in self.objects), tuple(sorted(self.vars.items())), self.host, self.callback)

    def ptr(self, name: str) -> int | None:
        return self.vars[name][0]

    def owns(self, name: str) -> int:
        return self.vars[name][1]

    def ended(self) -> bool:
        return bool(self.issues & ENDS_PATH)


def _new(st: _State, kind: str, **fields: object) -> int:
    st.objects.append(_Obj(kind, **fields))  # type: ignore[arg-type]
    return len(st.objects) - 1


def _assign(st: _State, name: str, o: int | None, owns: int) -> None:
    if st.owns(name) > 0:
        st.issues.add(LEAK)  # the reference the variable owned can no longer be released
    st.vars[name] = (o, owns)


def _touch(st: _State, o: int) -> None:
    status = st.objects[o].status()
    if status == DEAD:
        st.issues.add(USE_AFTER_FREE)
    elif status == MAYBE:
        st.issues.add(MAYBE_FREED)


def _use(st: _State, name: str, null_ok: bool = False) -> int | None:
    """The object a call reads through `name`; NULL crashes unless the call checks for it."""
    o = st.ptr(name)
    if o is None:
        if not null_ok:
            st.issues.add(NULL_DEREF)
        return None
    _touch(st, o)
    return o


def _release(st: _State, o: int, by_script: bool) -> None:
    obj = st.objects[o]
    status = obj.status()
    if status == DEAD:
        st.issues.add(DOUBLE_FREE)
        return
    if status == MAYBE:
        st.issues.add(MAYBE_FREED)
    if by_script:
        if obj.script <= 0:
            st.issues.add(BORROWED_FREE)
        obj.script -= 1
    else:
        obj.held -= 1
    _settle(st, o)


def _settle(st: _State, o: int) -> None:
    """Destroy `o` if no reference is left, with the cascades: an SSL drops its slot and
    both context references, a context empties its cache."""
    obj = st.objects[o]
    if obj.dead or obj.status() != DEAD:
        return
    obj.dead = True
    if obj.kind == SSL:
        if obj.slot is not None:
            _release(st, obj.slot, by_script=False)
            obj.slot = None
        ctx: int = obj.ctx  # type: ignore[assignment]
        _release(st, ctx, by_script=False)  # `ssl->session_ctx`
        if st.callback is not None and st.objects[ctx].dead:
            # The second `SSL_CTX_free` in `SSL_free` reads the context the first one destroyed;
            # with a remove callback the checker keeps that context alive until its callbacks
            # have run, after the step, and does not see it (found by `sessref conform`).
            st.issues.add(UNDEFINED)
        _release(st, ctx, by_script=False)  # `ssl->ctx`
    elif obj.kind == CTX:
        _empty_cache(st)


def _empty_cache(st: _State) -> None:
    flushed = [o for o, obj in enumerate(st.objects) if obj.kind == SESSION and obj.cached]
    if any(st.objects[o].dead for o in flushed):
        st.issues.add(USE_AFTER_FREE)
    _callbacks(st, flushed)
    for o in flushed:
        st.objects[o].cached = False
        _settle(st, o)


def _callbacks(st: _State, removed: list[int]) -> None:
    """The library calls the remove callback once for each of `removed`, lending it the
    session, in an order the model does not know; the cache drops its reference after it."""
    if not removed:
        return
    if st.callback == KEEPS:
        # Each call frees the session kept before and keeps its own: one of `removed` stays.
        for o, obj in enumerate(st.objects):
            if obj.kept and o not in removed:
                obj.kept = False
                _settle(st, o)
        for o in removed:
            st.objects[o].kept = True
    elif st.callback == FREES:
        for o in removed:
            st.issues |= {BORROWED_FREE, LENT_FREE}
            _release(st, o, by_script=True)
            if st.objects[o].cached and st.objects[o].dead:
                st.issues.add(DOUBLE_FREE)  # the cache's reference goes next


def _may_remove(st: _State, removed: list[int]) -> None:
    """Some of `removed` may leave the cache now (evicted, expired), each through the callback."""
    if not removed:
        return
    if st.callback == KEEPS:
        for o in removed:
            st.objects[o].kept = True  # and the one kept before may be freed: it stays a maybe
    elif st.callback == FREES:
        st.issues.add(MAYBE_FREED)  # a session the cache may free twice


def _cache_read(st: _State) -> None:
    """The cache reads some of its sessions: one destroyed behind its back is a problem."""
    if any(o.kind == SESSION and o.cached and o.dead for o in st.objects):
        st.issues.add(MAYBE_FREED)


# ---- effects: what each operation does to one path, given the variables' real names ---------


def _ctx_new(st: _State, target: str) -> None:
    _assign(st, target, _new(st, CTX), 1)


def _session_new(st: _State, target: str) -> None:
    _assign(st, target, _new(st, SESSION), 1)


def _session_dup(st: _State, target: str, source: str) -> None:
    src = _use(st, source)
    if src is not None:
        s = st.objects[src]
        _assign(st, target, _new(st, SESSION, keyed=s.keyed, hostname=s.hostname), 1)


def _up_ref(st: _State, name: str) -> None:
    o = _use(st, name)
    if o is not None:
        st.objects[o].script += 1
        st.vars[name] = (o, st.owns(name) + 1)


def _free(st: _State, name: str) -> None:
    o = st.ptr(name)
    if o is None:
        return
    if st.owns(name) == 0:
        st.issues.add(BORROWED_FREE)  # whoever owns that reference will release it too
        if st.objects[o].kind == CTX and st.callback is not None:
            st.issues.add(UNDEFINED)  # it would leave an `SSL_free` to destroy the context (`_settle`)
    else:
        st.vars[name] = (o, st.owns(name) - 1)
    _release(st, o, by_script=True)


def _free_and_forget(st: _State, name: str) -> None:
    _free(st, name)
    _assign(st, name, None, 0)


def _set_null(st: _State, name: str) -> None:
    _assign(st, name, None, 0)


def _alias(st: _State, target: str, source: str) -> None:
    _assign(st, target, st.ptr(source), 0)


def _read(st: _State, name: str) -> None:
    _use(st, name)


def _read_null_ok(st: _State, name: str) -> None:
    _use(st, name, null_ok=True)


def _retime(st: _State, name: str) -> None:
    o = _use(st, name, null_ok=True)
    if o is not None and st.objects[o].cached:
        _cache_read(st)  # a cached session moves to its new place in the expiry order


def _set_id(keyed: bool) -> Callable[[_State, str], None]:
    def run(st: _State, name: str) -> None:
        o = _use(st, name)
        if o is not None:
            if st.objects[o].cached:
                st.issues.add(CORRUPTION)
            st.objects[o].keyed = keyed

    return run


def _set_hostname(st: _State, name: str) -> None:
    o = _use(st, name)
    if o is not None:
        st.objects[o].hostname = True
        if st.host == o:
            st.host = None  # the old string is freed: `host` dangles where the model cannot see it


def _get_hostname(st: _State, name: str) -> None:
    o = _use(st, name)
    if o is not None:
        st.host = o if st.objects[o].hostname else None  # NULL without a hostname


def _print_host(st: _State) -> None:
    if st.host is None:
        st.issues.add(UNDEFINED)
    else:
        _touch(st, st.host)


def _d2i_new(st: _State, target: str) -> list[_State]:
    failed = st.copy()
    _assign(failed, target, None, 0)
    _assign(st, target, _new(st, SESSION, keyed=True), 1)
    return [st, failed]


def _d2i_into(st: _State, name: str) -> list[_State]:
    """`d2i_SSL_SESSION(&name, ...)`: a new session when `name` is NULL, else decoded in place."""
    o = st.ptr(name)
    if o is None:
        failed = st.copy()
        st.vars[name] = (_new(st, SESSION, keyed=True), 1)
        return [st, failed]
    _touch(st, o)
    obj = st.objects[o]
    if obj.cached:
        st.issues.add(CORRUPTION)
    obj.hostname = False  # whatever the input holds
    if st.host == o:
        st.host = None
    failed = st.copy()
    obj.keyed = True
    return [st, failed]


def _ssl_new(st: _State, target: str, ctx: str) -> None:
    c = _use(st, ctx)
    if c is not None:
        st.objects[c].held += 2  # `ssl->ctx` and `ssl->session_ctx`
        _assign(st, target, _new(st, SSL, ctx=c), 1)


def _fill_slot(st: _State, ssl: int, s: int | None) -> None:
    if s is not None:
        st.objects[s].held += 1
    old = st.objects[ssl].slot
    if old is not None:
        _release(st, old, by_script=False)
    st.objects[ssl].slot = s


def _set_session(st: _State, ssl: str, name: str) -> None:
    c = _use(st, ssl)
    s = _use(st, name, null_ok=True)
    if c is not None:
        _fill_slot(st, c, s)


def _clear_slot(st: _State, ssl: str) -> None:
    c = _use(st, ssl)
    if c is not None:
        _fill_slot(st, c, None)


def _copy_session_id(st: _State, to: str, source: str) -> None:
    t, f = _use(st, to), _use(st, source)
    if t is not None and f is not None:
        s = st.objects[f].slot
        if s is not None:
            _touch(st, s)
        _fill_slot(st, t, s)


def _get1_session(st: _State, target: str, ssl: str) -> None:
    c = _use(st, ssl)
    if c is None:
        return
    s = st.objects[c].slot
    if s is None:
        _assign(st, target, None, 0)
        return
    _touch(st, s)
    st.objects[s].script += 1
    _assign(st, target, s, 1)


def _get0_session(st: _State, target: str, ssl: str) -> None:
    c = _use(st, ssl)
    if c is not None:
        _assign(st, target, st.objects[c].slot, 0)


def _cached(st: _State) -> list[int]:
    return [o for o, obj in enumerate(st.objects) if obj.kind == SESSION and obj.cached and not obj.dead]


def _add_session(st: _State, ctx: str, name: str) -> None:
    _use(st, ctx)
    s = _use(st, name)
    if s is not None:
        _cache_read(st)
        _may_remove(st, [o for o in _cached(st) if o != s])  # a full cache evicts
        st.objects[s].cached = True


def _remove_session(st: _State, ctx: str, name: str) -> None:
    s = _use(st, name, null_ok=True)
    if s is None or not st.objects[s].keyed:
        return  # NULL or an empty id: nothing happens
    _use(st, ctx)
    _cache_read(st)
    _callbacks(st, [s])  # cached or not
    st.objects[s].cached = False
    _settle(st, s)


def _flush_all(st: _State, ctx: str) -> None:
    _use(st, ctx)
    _empty_cache(st)


def _flush_expired(st: _State, ctx: str) -> None:
    _use(st, ctx)
    _cache_read(st)
    _may_remove(st, _cached(st))


def _register(kind: str) -> Callable[[_State], None]:
    def run(st: _State) -> None:
        st.callback = kind

    return run


def _nothing(st: _State) -> None:
    pass


_HOLDER_CHANGES = (_clear_slot, _set_session, _copy_session_id, _add_session, _flush_all)


# ---- the script as a tree of nodes, each able to replay itself on a set of paths ---------------

Env = dict[str, str]  # a function's parameter names -> the caller's variables


class _Node(Protocol):
    forks: int  # nondeterministic points: `if`, `while`, a `d2i_SSL_SESSION` that may fail

    def lines(self) -> list[str]: ...

    def statements(self) -> int: ...

    def apply(self, states: list[_State], env: Env) -> list[_State]: ...


@dataclass
class _Op:
    """A simple statement (or two that belong together, such as a free and `= NULL`)."""

    text: tuple[str, ...]
    effect: Callable[..., list[_State] | None]
    names: tuple[str, ...] = ()
    forks: int = 0
    target: str | None = None  # a variable only assigned, not read

    def dull(self, states: list[_State], env: Env) -> bool:
        """It reads a variable that is NULL on every path: most likely a no-op."""
        read = [env.get(n, n) for n in self.names if n != self.target]
        return any(all(s.ptr(n) is None for s in states) for n in read)

    @property
    def expects_change(self) -> bool:
        """An assignment or a change of holders: pointless when no path changes."""
        return self.target is not None or self.effect in _HOLDER_CHANGES

    @property
    def setting(self) -> bool:
        """A cache setting or `sleep`: nothing happens to any reference."""
        return self.effect in (_nothing, _read) and set(self.names) <= {"ctx"}

    def lines(self) -> list[str]:
        return list(self.text)

    def statements(self) -> int:
        return len(self.text)

    def apply(self, states: list[_State], env: Env) -> list[_State]:
        out: list[_State] = []
        for s in states:
            st = s.copy()
            result = self.effect(st, *(env.get(n, n) for n in self.names))
            out += result if result is not None else [st]
        return out


def _apply_all(nodes: list, states: list[_State], env: Env) -> list[_State]:
    """Run `nodes` in order on each path; a path stops at the first problem that ends it."""
    ended: list[_State] = []
    for node in nodes:
        states = node.apply(states, env)
        ended += [s for s in states if s.ended()]
        states = [s for s in states if not s.ended()]
    return states + ended


def _block_lines(nodes: list) -> list[str]:
    return ["    " + line for node in nodes for line in node.lines()]


@dataclass
class _If:
    condition: str  # "*" or a variable compared with NULL
    then: list
    orelse: list | None = None

    def lines(self) -> list[str]:
        test = "*" if self.condition == "*" else f"{self.condition} != NULL"
        out = [f"if ({test}) {{", *_block_lines(self.then)]
        if self.orelse:
            out += ["} else {", *_block_lines(self.orelse)]
        return out + ["}"]

    def statements(self) -> int:
        return 1 + sum(n.statements() for n in self.then + (self.orelse or []))

    forks = 1

    def apply(self, states: list[_State], env: Env) -> list[_State]:
        if self.condition == "*":
            taken, skipped = states, states
        else:
            name = env.get(self.condition, self.condition)
            taken = [s for s in states if s.ptr(name) is not None]
            skipped = [s for s in states if s.ptr(name) is None]
        return _apply_all(self.then, taken, env) + (_apply_all(self.orelse, skipped, env) if self.orelse else skipped)


@dataclass
class _While:
    body: list

    def lines(self) -> list[str]:
        return ["while (*) {", *_block_lines(self.body), "}"]

    def statements(self) -> int:
        return 1 + sum(n.statements() for n in self.body)

    forks = 1

    def apply(self, states: list[_State], env: Env) -> list[_State]:
        out, current = list(states), states
        for _ in range(UNROLL):
            current = _apply_all(self.body, current, env)
            out += current
            current = [s for s in current if not s.ended()]
        return out


@dataclass
class _Function:
    params: tuple[tuple[str, str], ...]  # (C type, name)
    body: list
    name: str = "f"

    def lines(self) -> list[str]:
        params = ", ".join(f"{ctype} *{name}" for ctype, name in self.params)
        return [f"static void {self.name}({params}) {{", *_block_lines(self.body), "}"]

    def statements(self) -> int:
        return sum(n.statements() for n in self.body)


@dataclass
class _Call:
    function: _Function
    args: tuple[str, ...]

    def lines(self) -> list[str]:
        return [f"{self.function.name}({', '.join(self.args)});"]

    def apply(self, states: list[_State], env: Env) -> list[_State]:
        inner = {name: env.get(arg, arg) for (_, name), arg in zip(self.function.params, self.args)}
        return _apply_all(self.function.body, states, inner)


@dataclass
class _Chain:
    """Operations that go together: an idiom, or a set-up and the mistake that trips over it."""

    ops: list
    target = None
    expects_change = False
    setting = False

    def dull(self, states: list[_State], env: Env) -> bool:
        return False

    def lines(self) -> list[str]:
        return [line for op in self.ops for line in op.lines()]

    def statements(self) -> int:
        return sum(op.statements() for op in self.ops)

    @property
    def forks(self) -> int:
        return sum(op.forks for op in self.ops)

    def apply(self, states: list[_State], env: Env) -> list[_State]:
        return _apply_all(self.ops, states, env)


Choice = tuple  # (node, the paths after it, the issues on them)


def _worst(issues: set[str]) -> str:
    return max(sorted(issues), key=lambda i: MISTAKE_WEIGHTS.get(i, 0.0))


def _issues(states: list[_State]) -> set[str]:
    return set().union(*(s.issues for s in states)) if states else set()


def _commit(states: list[_State]) -> list[_State]:
    """The paths that go on, without their recorded issues, one per distinct state."""
    unique: dict[tuple, _State] = {}
    for s in states:
        if not s.ended():
            clean = s.copy()
            clean.issues = set()
            unique.setdefault(clean.key(), clean)
    return list(unique.values())


def _hazards(states: list[_State]) -> float:
    """How much rope a path gives: pointers that own nothing (borrowed, or stale after a
    free) and sessions that may be cached. Safe steps prefer more of it, so that careful
    scripts are subtle and mistakes can be interesting."""
    total = 0
    for s in states:
        total += sum(1 for o, owns in s.vars.values() if o is not None and owns == 0)
        total += sum(1 for o in s.objects if o.cached and not o.dead)
    return total / len(states) if states else 0.0


def _consistent(states: list[_State], names: tuple[str, ...]) -> bool:
    """Every variable owns the same number of references on every path where it is not NULL,
    so that one cleanup is right for all paths."""
    return all(len({s.owns(n) for s in states if s.ptr(n) is not None}) <= 1 for n in names)


# ---- operations used by several makers ---------------------------------------------------------


def _set_session_op(ssl: str, s: str) -> _Op:
    return _Op((f"SSL_set_session({ssl}, {s});",), _set_session, (ssl, s))


def _session_free_op(s: str) -> _Op:
    return _Op((f"SSL_SESSION_free({s});",), _free, (s,))


def _get1_op(s: str, ssl: str) -> _Op:
    return _Op((f"{s} = SSL_get1_session({ssl});",), _get1_session, (s, ssl), target=s)


def _ssl_new_op(ssl: str) -> _Op:
    return _Op((f"{ssl} = SSL_new(ctx);",), _ssl_new, (ssl, "ctx"), target=ssl)


def _ssl_free_op(ssl: str) -> _Op:
    return _Op((f"SSL_free({ssl});",), _free, (ssl,))


def _add_op(s: str) -> _Op:
    return _Op((f"SSL_CTX_add_session(ctx, {s});",), _add_session, ("ctx", s))


# ---- the generator -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """The variables operations may name: the script's, or a function's parameters."""

    sessions: tuple[str, ...]
    ssls: tuple[str, ...]
    body: bool  # the script body (not a function): may assign variables, use the context
    nested: bool = False  # inside `if` or `while`: no `d2i_SSL_SESSION`, no function call


_FREE_CALL = {SESSION: "SSL_SESSION_free", SSL: "SSL_free", CTX: "SSL_CTX_free"}
_IDS = (("a", 1), ("b", 1), ("ab", 2), ("", 0))
_HOSTS = ("example.com", "example.org")
_METHODS = ("TLS_method", "TLS_client_method", "TLS_server_method")
_CACHE_MODES = (
    "SSL_SESS_CACHE_SERVER",
    "SSL_SESS_CACHE_BOTH",
    "SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE",
    "SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_UPDATE_TIME",
    "SSL_SESS_CACHE_OFF",
)
_STRING = re.compile(r'"(\\.|[^"\\])*"')
# What a reading callback reads. (`SSL_CTX_sess_number(c)` is left out: inside a flush or a
# multiple eviction the model answers with the count after the whole call, the library with
# the count at that callback.)
_CALLBACK_READS = ("SSL_SESSION_get_time(sess)", "SSL_SESSION_get_timeout(sess)", "SSL_SESSION_is_resumable(sess)")
_CALLBACK = "on_remove"


class _Generator:
    """Writes one script: declarations, a body of random steps, the cleanup."""

    def __init__(self, seed: int):
        rng = self.rng = random.Random(seed)
        self.seed = seed
        self.careful = rng.random() < CAREFUL_SHARE
        self.mistakes_left = 0 if self.careful else rng.choice((1, 1, 2))
        self.mistakes_made = 0
        self.previous: list[str] = []  # the last simple statement written, not to be repeated
        self.forks_left = rng.choices(range(MAX_FORKS + 1), weights=(1, 2, 2, 1))[0]
        self.ssls = ("ssl",) if rng.random() < 0.55 else ("ssl1", "ssl2")
        self.owned_sessions = ("s1", "s2") if rng.random() < 0.5 else ("s1", "s2", "s3")
        self.sessions = self.owned_sessions + ("borrowed",)
        self.uses_host = rng.random() < 0.3
        self.uses_d2i = rng.random() < 0.4
        if self.uses_d2i:
            self.forks_left = max(self.forks_left, 1)
        self.plans_function = rng.random() < 0.3
        self.callback: str | None = None  # what the remove callback does, if there is one
        if rng.random() < CALLBACK_SHARE:
            self.callback = rng.choice((READS, KEEPS) if self.careful else (READS, KEEPS, FREES))
        self.callback_read = rng.choice(_CALLBACK_READS) if self.callback == READS else ""
        self.lent_freed = False  # a step made the callback that frees what it is lent run
        self.function: _Function | None = None
        self.calls = 0
        self.d2i_written = False
        self.prelude: list[tuple[str, _Op, bool]] = []  # (variable, declaration, dropped when unused)
        self.body: list = []
        self.scope = _Scope(self.sessions, self.ssls, body=True)
        self.nested = _Scope(self.sessions, self.ssls, body=True, nested=True)

    # -- the whole script ------------------------------------------------------------------------
    def script(self) -> str:
        states = self._declare()
        states = self._write_body(states)
        cleanup = self._cleanup(states)
        out = [f"// generated by sessref.generate, seed {self.seed}"]
        out += self._callback_lines()
        out += [line for _, op, _ in self._kept_prelude(self.body + cleanup) for line in op.lines()]
        if self.function is not None:
            out += self.function.lines()
        out += [line for node in self.body + cleanup for line in node.lines()]
        return "\n".join(out) + "\n"

    def _owners(self) -> tuple[str, ...]:
        return ("ctx",) + self.ssls + self.sessions

    def _kind(self, name: str) -> str:
        return CTX if name == "ctx" else SSL if name in self.ssls else SESSION

    def _callback_lines(self) -> list[str]:
        """The remove callback, and the global it writes, ahead of everything else."""
        if self.callback is None:
            return []
        body = {
            READS: (f"seen = {self.callback_read};",),
            KEEPS: ("SSL_SESSION_free(evicted);", "SSL_SESSION_up_ref(sess);", "evicted = sess;"),
            FREES: ("SSL_SESSION_free(sess);",),
        }[self.callback]
        kept = {READS: ["long seen = 0;"], KEEPS: ["SSL_SESSION *evicted = NULL;"], FREES: []}[self.callback]
        return [*kept, f"void {_CALLBACK}(SSL_CTX *c, SSL_SESSION *sess) {{", *("    " + line for line in body), "}"]

    def _callback_statements(self) -> int:
        """The callback's statements and its global; the `SSL_SESSION_free(evicted)` at the
        end is counted with the cleanup."""
        return sum(1 for line in self._callback_lines() if line.endswith(";"))

    # -- declarations ------------------------------------------------------------------------------
    def _declare(self) -> list[_State]:
        rng = self.rng
        method = rng.choice(_METHODS)
        self._declaration("ctx", f"SSL_CTX *ctx = SSL_CTX_new({method}());", _ctx_new, ("ctx",))
        if self.callback is not None:
            self._declaration("ctx", f"SSL_CTX_sess_set_remove_cb(ctx, {_CALLBACK});", _register(self.callback), ())
        for i, ssl in enumerate(self.ssls):
            if i == 0 or rng.random() < 0.6:
                self._declaration(ssl, f"SSL *{ssl} = SSL_new(ctx);", _ssl_new, (ssl, "ctx"))
            else:
                self._declaration(ssl, f"SSL *{ssl} = NULL;", _nothing, (), removable=True)
        for i, s in enumerate(self.owned_sessions):
            if i == 0 or rng.random() < 0.5:
                self._declaration(s, f"SSL_SESSION *{s} = SSL_SESSION_new();", _session_new, (s,))
            else:
                self._declaration(s, f"SSL_SESSION *{s} = NULL;", _nothing, (), removable=True)
        self._declaration("borrowed", "SSL_SESSION *borrowed = NULL;", _nothing, (), removable=True)
        if self.uses_host:
            self._declaration("host", "const char *host = NULL;", _nothing, (), removable=True)
        if self.uses_d2i:
            self._declaration("der", "const unsigned char *der;", _nothing, (), removable=True)
            self._declaration("len", "long len;", _nothing, (), removable=True)
        empty = _State([], {name: (None, 0) for name in self._owners()})
        return _commit(_apply_all([op for _, op, _ in self.prelude], [empty], {}))

    def _declaration(self, name: str, text: str, effect: Callable, names: tuple[str, ...], removable: bool = False) -> None:
        self.prelude.append((name, _Op((text,), effect, names), removable))

    def _kept_prelude(self, rest: list) -> list[tuple[str, _Op, bool]]:
        """The declarations, without the `= NULL` (or input) ones of variables nothing else names."""
        lines = [line for node in rest for line in node.lines()]
        if self.function is not None:
            lines += self.function.lines()
        text = _STRING.sub('""', "\n".join(lines))
        return [d for d in self.prelude if not d[2] or re.search(rf"\b{d[0]}\b", text)]

    # -- the body ------------------------------------------------------------------------------------
    def _write_body(self, states: list[_State]) -> list[_State]:
        target = self.rng.randint(3, 12)
        too_long = 0
        for step in range(target):
            progress = step / target
            node, after = self._top_step(states, progress)
            if node is None:
                continue
            # A step that ends every path leaves the cleanup of the paths before it.
            if self._statements(self.body + [node], after or states) > MAX_STATEMENTS:
                if self.calls == 0:
                    self.function = None  # defined for a first call that did not fit
                too_long += 1
                if too_long == 3:
                    break
                continue
            self._accept(node)
            if not after:  # a mistake ended every path: the rest would never run
                break
            states = after
        return states

    def _top_step(self, states: list[_State], progress: float) -> tuple[_Node | None, list[_State]]:
        rng = self.rng
        if self.plans_function and self.function is None and rng.random() < 0.3:
            return self._define_function(states)
        reserved = 1 if self.uses_d2i and not self.d2i_written else 0  # for the decoding
        if self.forks_left > reserved and rng.random() < COMPOUND_CHANCE:
            kind = rng.choices(("if", "if-null", "while"), weights=(3, 2 + 3 * self._maybe_null(states), 1))[0]
            node, after = {"if": self._if_nondet, "if-null": self._if_not_null, "while": self._while}[kind](states)
            if node is not None:
                return node, after
        return self._simple_step(states, self.scope, {}, progress)

    def _accept(self, node: _Node) -> None:
        self.body.append(node)
        self.forks_left -= node.forks
        lines = node.lines()
        if any("d2i_SSL_SESSION" in line for line in lines):
            self.d2i_written = True
        if self.function is not None and lines[0].startswith(f"{self.function.name}("):
            self.calls += 1

    def _statements(self, nodes: list, states: list[_State]) -> int:
        prelude = sum(op.statements() for _, op, _ in self._kept_prelude(nodes))
        body = sum(n.statements() for n in nodes)
        function = self.function.statements() if self.function is not None else 0
        return prelude + body + function + self._callback_statements() + self._cleanup_size(states)

    def _cleanup_size(self, states: list[_State]) -> int:
        frees = sum(max((s.owns(n) for s in states), default=0) for n in self._owners())
        kept = 1 if self.callback == KEEPS else 0
        return frees + kept + (1 if not self.careful and self.mistakes_made == 0 else 0)

    def _maybe_null(self, states: list[_State]) -> bool:
        return any(self._null_somewhere(states, n) for n in self.sessions + self.ssls)

    @staticmethod
    def _null_somewhere(states: list[_State], name: str) -> bool:
        nulls = {s.ptr(name) is None for s in states}
        return nulls == {True, False}

    # -- choosing one operation ------------------------------------------------------------------
    def _simple_step(self, states: list[_State], scope: _Scope, env: Env, progress: float) -> tuple[_Node | None, list[_State]]:
        # Mistakes come late rather than early: one that crashes ends the path there.
        mistake = self.mistakes_left > 0 and self.rng.random() < MISTAKE_CHANCE * (0.5 + progress)
        choice = self._choose_mistake(states, scope, env, progress) if mistake else None
        choice = choice or self._choose_safe(states, scope, env)
        if choice is None:
            return None, states
        node, after, issues = choice
        self.previous = node.lines()
        if issues:
            self.mistakes_left -= 1
            self.mistakes_made += 1
            self.lent_freed = self.lent_freed or LENT_FREE in issues
        return node, _commit(after)

    def _candidates(self, states: list[_State], scope: _Scope, env: Env, tries: int) -> Iterator[Choice]:
        """Random operations with what they do on every path (never C undefined behaviour
        the model does not see, and seldom a no-op on a NULL pointer)."""
        for _ in range(tries):
            op = self._random_op(scope)
            if op is None or (op.dull(states, env) and self.rng.random() < 0.9):
                continue
            if op.lines() == self.previous:
                continue
            after = op.apply(states, env)
            if op.expects_change and [s.key() for s in after] == [s.key() for s in states]:
                continue
            issues = _issues(after)
            if UNDEFINED not in issues:
                yield op, after, issues

    def _choose_safe(self, states: list[_State], scope: _Scope, env: Env) -> Choice | None:
        """A safe operation (for a careful script, one that keeps the cleanup the same on every
        path); of a few, the one giving more rope is likelier."""
        found: list[Choice] = []
        for op, after, issues in self._candidates(states, scope, env, CANDIDATES):
            if not issues and (not self.careful or _consistent(after, self._owners())):
                found.append((op, after, issues))
                if len(found) == SAFE_CHOICES:
                    break
        if not found:
            return None
        return self.rng.choices(found, weights=[1.0 + _hazards(after) for _, after, _ in found])[0]

    def _choose_mistake(self, states: list[_State], scope: _Scope, env: Env, progress: float) -> Choice | None:
        """An operation that goes wrong on some path. Interesting kinds first, if need be after
        a safe step that sets them up; a leak or a NULL pointer only when nothing else is near.
        A script whose callback frees what it is lent first tries to make that callback run."""
        if self.callback == FREES and not self.lent_freed:
            choice = self._pick_mistake(states, scope, env, progress, PLAIN_MISTAKES, LENT_FREE)
            choice = choice or self._set_up_mistake(states, scope, env, progress, LENT_FREE)
            if choice is not None:
                return choice
        choice = self._pick_mistake(states, scope, env, progress, PLAIN_MISTAKES)
        if choice is None and self.rng.random() < 0.8:
            choice = self._set_up_mistake(states, scope, env, progress)
        return choice or self._pick_mistake(states, scope, env, progress, frozenset())

    def _pick_mistake(
        self,
        states: list[_State],
        scope: _Scope,
        env: Env,
        progress: float,
        unwanted: frozenset[str],
        wanted: str | None = None,
    ) -> Choice | None:
        """First a kind of mistake by its weight, then one of that kind (with the `wanted`
        issue, if given); one that ends every path early is a last resort."""
        by_kind: dict[str, list[Choice]] = {}
        early_end: list[Choice] = []
        for op, after, issues in self._candidates(states, scope, env, 2 * CANDIDATES):
            if not issues or _worst(issues) in unwanted or (wanted is not None and wanted not in issues):
                continue
            if all(s.ended() for s in after) and progress < 0.4:
                early_end.append((op, after, issues))
            else:
                by_kind.setdefault(_worst(issues), []).append((op, after, issues))
        if not by_kind:
            return early_end[0] if early_end else None
        kinds = sorted(by_kind)
        kind = self.rng.choices(kinds, weights=[MISTAKE_WEIGHTS[k] for k in kinds])[0]
        return self.rng.choice(by_kind[kind])

    def _set_up_mistake(
        self, states: list[_State], scope: _Scope, env: Env, progress: float, wanted: str | None = None
    ) -> Choice | None:
        """A safe step that leaves more rope (a pointer owning nothing, a cached session),
        then a mistake that trips over it, as one step."""
        for _ in range(4):
            setup = self._choose_safe(states, scope, env)
            if setup is None:
                return None
            op, after, _ = setup
            if _hazards(after) <= _hazards(states):
                continue
            trip = self._pick_mistake(_commit(after), scope, env, progress, PLAIN_MISTAKES, wanted)
            if trip is not None:
                return _Chain([op, trip[0]]), trip[1], trip[2]
        return None

    def _random_op(self, scope: _Scope) -> _Op | None:
        makers = self._makers(scope)
        maker = self.rng.choices([m for _, m in makers], weights=[w for w, _ in makers])[0]
        return maker(scope)

    def _makers(self, scope: _Scope) -> list[tuple[float, Callable[[_Scope], _Op | None]]]:
        makers = [
            (3.0, self._make_set_session),
            (3.0, self._make_session_free),
            (1.0, self._make_read),
            (1.0, self._make_retime),
            (1.0, self._make_session_up_ref),
            (1.0, self._make_set_id),
            (0.4, self._make_ssl_misc),
        ]
        if self.uses_host:
            makers.append((3.0, self._make_hostname))
        if not scope.body:
            return makers
        removals = 2.0 if self.callback is not None else 1.0  # calls that may run the remove callback
        makers += [
            (2.0, self._make_idiom),
            (2.0, self._make_get1_session),
            (2.0, self._make_get0_session),
            (2.0 * removals, self._make_add_session),
            (1.0 * removals, self._make_remove_session),
            (1.0 * removals, self._make_flush),
            (1.5, self._make_ssl_free),
            (1.0, self._make_ssl_new),
            (0.8, self._make_ctx_free),
            (0.3, self._make_ctx_up_ref),
            (1.0, self._make_dup),
            (1.0, self._make_session_new),
            (1.5, self._make_copy_session_id),
            (0.8 * removals, self._make_cache_setting),
            (0.6, self._make_sleep),
            (0.6, self._make_alias),
            (0.3, self._make_set_null),
        ]
        if scope.nested:
            return makers
        if self.uses_d2i and self.forks_left > 0:
            makers.append((3.0 if self.d2i_written else 6.0, self._make_d2i))
        if self.function is not None and self.calls < 2:
            makers.append((1.5, self._make_call))
        return makers

    def _pick(self, names: tuple[str, ...]) -> str:
        return self.rng.choice(names)

    def _session(self, scope: _Scope) -> str:
        return self._pick(scope.sessions)

    # -- the operations --------------------------------------------------------------------------
    def _make_set_session(self, scope: _Scope) -> _Op | None:
        if not scope.ssls:
            return None
        ssl = self._pick(scope.ssls)
        if self.rng.random() < 0.15:
            return _Op((f"SSL_set_session({ssl}, NULL);",), _clear_slot, (ssl,))
        return _set_session_op(ssl, self._session(scope))

    def _make_session_free(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        if scope.body and self.rng.random() < (0.6 if self.careful else 0.3):
            return _Op((f"SSL_SESSION_free({s});", f"{s} = NULL;"), _free_and_forget, (s,))
        return _session_free_op(s)

    def _make_read(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        call = self.rng.choice(("SSL_SESSION_get_time", "SSL_SESSION_get_timeout", "SSL_SESSION_is_resumable", "i2d"))
        if call == "SSL_SESSION_is_resumable":
            return _Op((f"{call}({s});",), _read, (s,))
        text = f"i2d_SSL_SESSION({s}, NULL);" if call == "i2d" else f"{call}({s});"
        return _Op((text,), _read_null_ok, (s,))

    def _make_retime(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        if self.rng.random() < 0.5:
            when = self.rng.choice(("time(NULL)", "time(NULL) - 100", "time(NULL) + 100"))
            return _Op((f"SSL_SESSION_set_time({s}, {when});",), _retime, (s,))
        timeout = self.rng.choice((0, 10, 300, 3600))
        return _Op((f"SSL_SESSION_set_timeout({s}, {timeout});",), _retime, (s,))

    def _make_session_up_ref(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        return _Op((f"SSL_SESSION_up_ref({s});",), _up_ref, (s,))

    def _make_set_id(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        sid, length = self.rng.choices(_IDS, weights=(3, 3, 2, 1))[0]
        return _Op((f'SSL_SESSION_set1_id({s}, "{sid}", {length});',), _set_id(length > 0), (s,))

    def _make_ssl_misc(self, scope: _Scope) -> _Op | None:
        if not scope.ssls:
            return None
        ssl = self._pick(scope.ssls)
        if scope.body and self.rng.random() < 0.4:
            return _Op((f"SSL_up_ref({ssl});",), _up_ref, (ssl,))
        return _Op((f"SSL_clear({ssl});",), _read, (ssl,))

    def _make_hostname(self, scope: _Scope) -> _Op | _Chain:
        """Set a hostname, take a pointer into the session with `get0`, read it later
        (only where the hostname is set on every path: reading NULL would crash)."""
        s = self._session(scope)
        set_name = _Op((f'SSL_SESSION_set1_hostname({s}, "{self.rng.choice(_HOSTS)}");',), _set_hostname, (s,))
        if not scope.body:
            return set_name
        get = _Op((f"host = SSL_SESSION_get0_hostname({s});",), _get_hostname, (s,))
        text = self.rng.choice(('printf("%s\\n", host);', "(void)strlen(host);"))
        read = _Op((text,), _print_host)
        kind = self.rng.choice(("set", "set and get", "set, get and read", "get", "read", "read"))
        return {
            "set": set_name,
            "set and get": _Chain([set_name, get]),
            "set, get and read": _Chain([set_name, get, read]),
            "get": get,
            "read": read,
        }[kind]

    def _make_idiom(self, scope: _Scope) -> _Chain:
        """Common ownership moves, several calls at once: a new connection that offers the
        saved session and saves the one it ends with; handing a reference to a slot; letting
        the cache keep a session."""
        ssl, s = self._pick(scope.ssls), self._pick(self.owned_sessions)
        kind = self.rng.choice(("reconnect", "hand over", "cache"))
        if kind == "reconnect":
            return _Chain([_ssl_new_op(ssl), _set_session_op(ssl, s), _session_free_op(s), _get1_op(s, ssl), _ssl_free_op(ssl)])
        if kind == "hand over":
            return _Chain([_set_session_op(ssl, s), _session_free_op(s)])
        return _Chain([_add_op(s), _session_free_op(s)])

    def _make_get1_session(self, scope: _Scope) -> _Op:
        ssl = self._pick(scope.ssls)
        s = self._pick(self.owned_sessions)
        return _get1_op(s, ssl)

    def _make_get0_session(self, scope: _Scope) -> _Op:
        ssl = self._pick(scope.ssls)
        s = "borrowed" if self.rng.random() < 0.8 else self._session(scope)
        call = "SSL_get_session" if self.rng.random() < 0.7 else "SSL_get0_session"
        return _Op((f"{s} = {call}({ssl});",), _get0_session, (s, ssl), target=s)

    def _make_add_session(self, scope: _Scope) -> _Op:
        return _add_op(self._session(scope))

    def _make_remove_session(self, scope: _Scope) -> _Op:
        s = self._session(scope)
        return _Op((f"SSL_CTX_remove_session(ctx, {s});",), _remove_session, ("ctx", s))

    def _make_flush(self, scope: _Scope) -> _Op:
        if self.rng.random() < 0.5:
            return _Op(("SSL_CTX_flush_sessions(ctx, 0);",), _flush_all, ("ctx",))
        k = self.rng.choice((0, 10, 400))
        when = "time(NULL)" if k == 0 else f"time(NULL) + {k}"
        return _Op((f"SSL_CTX_flush_sessions(ctx, {when});",), _flush_expired, ("ctx",))

    def _make_ssl_free(self, scope: _Scope) -> _Op:
        ssl = self._pick(scope.ssls)
        if self.rng.random() < 0.5:
            return _Op((f"SSL_free({ssl});", f"{ssl} = NULL;"), _free_and_forget, (ssl,))
        return _ssl_free_op(ssl)

    def _make_ssl_new(self, scope: _Scope) -> _Op:
        ssl = self._pick(scope.ssls)
        return _ssl_new_op(ssl)

    def _make_ctx_free(self, scope: _Scope) -> _Op:
        return _Op(("SSL_CTX_free(ctx);",), _free, ("ctx",))

    def _make_ctx_up_ref(self, scope: _Scope) -> _Op:
        return _Op(("SSL_CTX_up_ref(ctx);",), _up_ref, ("ctx",))

    def _make_dup(self, scope: _Scope) -> _Op:
        target, source = self._pick(self.owned_sessions), self._session(scope)
        return _Op((f"{target} = SSL_SESSION_dup({source});",), _session_dup, (target, source), target=target)

    def _make_session_new(self, scope: _Scope) -> _Op:
        s = self._pick(self.owned_sessions)
        return _Op((f"{s} = SSL_SESSION_new();",), _session_new, (s,), target=s)

    def _make_copy_session_id(self, scope: _Scope) -> _Op:
        if len(scope.ssls) < 2 and self.rng.random() < 0.8:
            return None
        to, source = self.rng.sample(scope.ssls, 2) if len(scope.ssls) == 2 else scope.ssls * 2
        return _Op((f"SSL_copy_session_id({to}, {source});",), _copy_session_id, (to, source))

    def _make_cache_setting(self, scope: _Scope) -> _Op:
        if self.rng.random() < 0.6:
            text = f"SSL_CTX_sess_set_cache_size(ctx, {self.rng.randint(1, 3)});"
        else:
            text = f"SSL_CTX_set_session_cache_mode(ctx, {self.rng.choice(_CACHE_MODES)});"
        return _Op((text,), _read, ("ctx",))

    def _make_sleep(self, scope: _Scope) -> _Op:
        return _Op((f"sleep({self.rng.choice((1, 5, 400))});",), _nothing)

    def _make_alias(self, scope: _Scope) -> _Op:
        source = self._pick(self.owned_sessions)
        return _Op((f"borrowed = {source};",), _alias, ("borrowed", source), target="borrowed")

    def _make_set_null(self, scope: _Scope) -> _Op:
        s = self._pick(self.sessions + self.ssls)
        return _Op((f"{s} = NULL;",), _set_null, (s,), target=s)

    def _make_d2i(self, scope: _Scope) -> _Op:
        s = self._pick(self.owned_sessions)
        reset = ("p = der;",) if self.d2i_written else ("const unsigned char *p = der;",)
        if self.rng.random() < 0.5:
            return _Op(reset + (f"{s} = d2i_SSL_SESSION(NULL, &p, len);",), _d2i_new, (s,), forks=1, target=s)
        return _Op(reset + (f"d2i_SSL_SESSION(&{s}, &p, len);",), _d2i_into, (s,), forks=1, target=s)

    def _make_call(self, scope: _Scope) -> _Op:
        assert self.function is not None
        return self._call_op(_Call(self.function, self._arguments(self.function)))

    def _call_op(self, call: _Call) -> _Op:
        """A call, as an operation whose effect replays the function's body."""

        def effect(st: _State, *args: str) -> list[_State]:
            return call.apply([st], {})

        return _Op(tuple(call.lines()), effect, call.args)

    # -- compound statements -----------------------------------------------------------------------
    def _block(self, states: list[_State], scope: _Scope, env: Env, size: int) -> tuple[list, list[_State]]:
        nodes: list = []
        for _ in range(size):
            op, after = self._simple_step(states, scope, env, progress=0.5)
            if op is None:
                continue
            nodes.append(op)
            states = after
            if not states:
                break
        return nodes, states

    def _attempts(self, count: int = 4) -> Iterator[int]:
        """Tries at a compound statement; a discarded try's mistakes do not count."""
        saved = (self.mistakes_left, self.mistakes_made, self.lent_freed)
        for attempt in range(count):
            self.mistakes_left, self.mistakes_made, self.lent_freed = saved
            yield attempt
        self.mistakes_left, self.mistakes_made, self.lent_freed = saved

    def _if_nondet(self, states: list[_State]) -> tuple[_If | None, list[_State]]:
        for _ in self._attempts():
            then, after_then = self._block(states, self.nested, {}, self.rng.randint(1, 3))
            orelse, after_else = (
                self._block(states, self.nested, {}, self.rng.randint(1, 2)) if self.rng.random() < 0.5 else ([], states)
            )
            after = after_then + after_else
            if then and self._joins(after):
                return _If("*", then, orelse or None), _commit(after)
        return None, states

    def _if_not_null(self, states: list[_State]) -> tuple[_If | None, list[_State]]:
        names = [n for n in self.sessions + self.ssls if any(s.ptr(n) is not None for s in states)]
        if not names:
            return None, states
        weights = [4 if self._null_somewhere(states, n) else 1 for n in names]
        name = self.rng.choices(names, weights=weights)[0]
        taken = [s for s in states if s.ptr(name) is not None]
        skipped = [s for s in states if s.ptr(name) is None]
        for _ in self._attempts():
            then, after_then = self._block(taken, self.nested, {}, self.rng.randint(1, 3))
            orelse: list = []
            after_else = skipped
            if skipped and self.rng.random() < 0.4:
                orelse, after_else = self._block(skipped, self.nested, {}, 1)
            after = after_then + after_else
            if then and self._joins(after):
                return _If(name, then, orelse or None), _commit(after)
        return None, states

    def _while(self, states: list[_State]) -> tuple[_While | None, list[_State]]:
        for attempt in self._attempts(6):
            body, _ = self._block(states, self.nested, {}, self.rng.randint(1, 3))
            if not body or (all(op.setting for op in body) and attempt < 5):
                continue
            loop = _While(body)
            after = loop.apply(states, {})
            issues = _issues(after)
            if UNDEFINED in issues or not _commit(after):
                continue
            if self.careful and (issues or not self._joins(after)):
                continue  # safe on the first iteration only
            return loop, _commit(after)
        return None, states

    def _joins(self, after: list[_State]) -> bool:
        """Some path goes on after the statement, and in a careful script the paths agree
        on what each variable owns."""
        return bool(after) and (not self.careful or _consistent(after, self._owners()))

    # -- the function ------------------------------------------------------------------------------
    def _define_function(self, states: list[_State]) -> tuple[_Op | None, list[_State]]:
        """`static void f([SSL *c,] SSL_SESSION *x)`, written for its first call, whose
        arguments are alive on every path."""
        sessions, ssls = self._alive(states, self.sessions), self._alive(states, self.ssls)
        if not sessions:
            return None, states
        with_ssl = bool(ssls) and self.rng.random() < 0.5
        params = ((("SSL", "c"),) if with_ssl else ()) + (("SSL_SESSION", "x"),)
        args = ((self._pick(ssls),) if with_ssl else ()) + (self._pick(sessions),)
        scope = _Scope(("x",), ("c",) if with_ssl else (), body=False)
        env = {name: arg for (_, name), arg in zip(params, args)}
        body, after = self._block(states, scope, env, self.rng.randint(1, 3))
        if not body:
            return None, states
        self.function = _Function(params, body)
        return self._call_op(_Call(self.function, args)), after

    @staticmethod
    def _alive(states: list[_State], names: tuple[str, ...]) -> tuple[str, ...]:
        def alive(s: _State, n: str) -> bool:
            o = s.ptr(n)
            return o is not None and s.objects[o].status() == ALIVE

        return tuple(n for n in names if all(alive(s, n) for s in states))

    def _arguments(self, function: _Function) -> tuple[str, ...]:
        return tuple(self._pick(self.ssls if ctype == "SSL" else self.sessions) for ctype, _ in function.params)

    # -- cleanup -----------------------------------------------------------------------------------
    def _cleanup(self, states: list[_State]) -> list[_Op]:
        """Release what the script owns, in a random order (sessions before or after their
        connections, the context anywhere). With mistakes to make, frees too often or too
        rarely where paths disagree, or once too often or too rarely on purpose."""
        names = list(self._owners())
        self.rng.shuffle(names)
        if self.rng.random() < 0.6:
            names.remove("ctx")
            names.append("ctx")
        ops: list[_Op] = []
        for name in names:
            owned = {s.owns(name) for s in states if s.ptr(name) is not None}
            if not owned:
                continue
            times = max(owned) if self.careful or self.rng.random() < 0.5 else min(owned)
            ops += [self._free_op(name)] * times
        if not self.careful and self.mistakes_made == 0:
            ops = self._cleanup_mistake(ops, states)
        if self.callback is not None and UNDEFINED in _issues(_apply_all(ops, states, {})):
            # A context freed once too often before the last `SSL_free` (see `_settle`): the
            # context's frees go after the connections' instead.
            ops = [op for op in ops if op.names != ("ctx",)] + [op for op in ops if op.names == ("ctx",)]
        if self.callback == KEEPS:
            # Last: the context's end (whichever free it comes with) runs the callback.
            ops.append(_Op(("SSL_SESSION_free(evicted);",), _nothing))
        return ops

    def _free_op(self, name: str) -> _Op:
        return _Op((f"{_FREE_CALL[self._kind(name)]}({name});",), _free, (name,))

    def _cleanup_mistake(self, ops: list[_Op], states: list[_State]) -> list[_Op]:
        """For a script whose body made no mistake: one free too many, or one too few."""
        candidates = [n for n in self._owners() if any(s.ptr(n) is not None for s in states)]
        if candidates and (not ops or self.rng.random() < 0.6):
            extra = self._free_op(self.rng.choice(candidates))
            at = self.rng.randint(0, len(ops))
            return ops[:at] + [extra] + ops[at:]
        if ops:
            ops = list(ops)
            ops.pop(self.rng.randrange(len(ops)))
        return ops


# ---- scripts with handshakes -------------------------------------------------------------------
# A handshake's outcome is the peer's choice (version, resumption, tickets, alerts), so these
# scripts are written from idioms whose safety does not depend on it, rather than followed
# with `_State`: a pointer read across a handshake call is one the script owns, a session is
# offered for resumption only if `SSL_SESSION_is_resumable` says so (an alert or an unclean
# `SSL_free` marks it stale), `new_session_cb` keeps what it returns 1 for in a global (freed
# at the end) and `get_session_cb` hands over a reference it took. A script with mistakes
# breaks one or two of these, each where the checker can see it on some path.

# The catalogue's handshake and I/O calls the generator writes (all but `SSL_shutdown`, which
# closes), in the reproducer's order.
HANDSHAKE_CALLS = tuple(sorted((n for n, e in CATALOGUE.items() if e.io and e.generator and n != "SSL_shutdown"),
                               key=lambda n: CATALOGUE[n].tls_code))

# What `new_session_cb` does: keeps the session in `stored` (frees the one before) and returns
# 1, only reads it and returns 0; mistakes: returns 1 keeping it nowhere, frees it and returns 0.
NEW_STORES, NEW_READS, NEW_KEEPS_NOTHING, NEW_FREES = "stores", "reads", "keeps nothing", "frees"
# What `get_session_cb` does with `stored`: returns it with `*copy` left at 1, up-refs it and
# sets `*copy = 0`; mistake: sets `*copy = 0` without the up-ref.
GET_COPIES, GET_HANDS_OVER, GET_STEALS = "copies", "hands over", "steals"

# The mistakes a script with mistakes picks from.
M_NEW_KEEPS_NOTHING = "new_session_cb returns 1 and keeps nothing"
M_NEW_FREES = "new_session_cb frees what it is given"
M_GET_STEALS = "get_session_cb hands over a reference it does not own"
M_BORROWED_ACROSS_READ = "a borrowed session pointer read after SSL_read"
M_BORROWED_AFTER_FREE = "a borrowed session pointer read after SSL_free"
M_SAVED_BORROWED = "the saved session is borrowed (SSL_get_session), freed at the end"
M_UNGUARDED_RESUME = "a session offered for resumption without checking it is resumable"
M_REUSED_LEAK = "the saved session replaced without freeing it"
M_GET1_LEAK = "an SSL_get1_session reference never freed"
M_CLEANUP_EXTRA = "the saved session freed twice"
M_CLEANUP_MISSING = "a free left out of the cleanup"

_READ_CALLS = _catalogued("SSL_SESSION_get_time", "SSL_SESSION_get_timeout", "SSL_SESSION_is_resumable")
_NEW_CB = "on_new"
_GET_CB = "on_get"
_NAME_CB = "on_name"


def _handshakes(seed: int) -> bool:
    """Whether the script for `seed` has handshakes: drawn apart from the script's own random
    numbers, so that the other scripts are the same as before handshakes were added."""
    return random.Random(f"handshakes {seed}").random() < HANDSHAKE_SHARE


def _statement_count(lines: list[str]) -> int:
    stripped = [line.strip() for line in lines]
    return sum(1 for line in stripped if line.endswith(";") or line.startswith(("if (", "while (")))


class _HandshakeGenerator:
    """Writes one script with handshakes: a client that saves its session and resumes it, or
    a server accepting connections in sequence with session callbacks."""

    def __init__(self, seed: int):
        rng = self.rng = random.Random(seed)
        self.seed = seed
        self.careful = rng.random() < CAREFUL_SHARE
        self.server = rng.random() < 0.45
        self.lines: list[str] = []
        # The connection settings (`_settings`) draw from a generator of their own, so that
        # the rest of each script is what it was before they were added.
        self.extra = random.Random(f"settings:{seed}")

    def script(self) -> str:
        for _ in range(20):
            self.lines = []
            self.handshake_calls = 0
            self.mistakes: set[str] = set()
            self._server_script() if self.server else self._client_script()
            if 5 <= _statement_count(self.lines) <= MAX_STATEMENTS and 0 < self.handshake_calls <= MAX_HANDSHAKES:
                break
        else:  # pragma: no cover - the parts are sized to fit
            raise AssertionError(f"seed {self.seed}: no script with handshakes fits")
        return "\n".join([f"// generated by sessref.generate, seed {self.seed}", *self.lines]) + "\n"

    # -- pieces -----------------------------------------------------------------------------------
    def _choose_mistakes(self, possible: list[str]) -> None:
        if self.careful or not possible:
            return
        count = 2 if len(possible) > 1 and self.rng.random() < 0.25 else 1
        self.mistakes = set(self.rng.sample(possible, count))

    def _pin(self) -> str:
        """A version bound, or none: "tls12", "tls13" or ""."""
        return self.rng.choices(("tls12", "tls13", ""), weights=(35, 25, 40))[0]

    def _pin_lines(self, pin: str) -> list[str]:
        return {
            "tls12": ["SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);"],
            "tls13": ["SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);"],
            "": [],
        }[pin]

    def _new_cb_lines(self, kind: str, stored_declared: bool) -> list[str]:
        body = {
            NEW_STORES: ["SSL_SESSION_free(stored);", "stored = sess;", "return 1;"],
            NEW_READS: [f"seen = {self.rng.choice(_READ_CALLS)}(sess);", "return 0;"],
            NEW_KEEPS_NOTHING: [f"seen = {self.rng.choice(_READ_CALLS)}(sess);", "return 1;"],
            NEW_FREES: ["SSL_SESSION_free(sess);", "return 0;"],
        }[kind]
        globals_ = []
        if kind == NEW_STORES and not stored_declared:
            globals_.append("SSL_SESSION *stored = NULL;")
        if kind in (NEW_READS, NEW_KEEPS_NOTHING):
            globals_.append("long seen = 0;")
        return [*globals_, f"int {_NEW_CB}(SSL *ssl, SSL_SESSION *sess) {{", *("    " + b for b in body), "}"]

    def _get_cb_lines(self, kind: str) -> list[str]:
        body = {
            GET_COPIES: ["return stored;"],
            GET_HANDS_OVER: ["if (stored != NULL) {", "    SSL_SESSION_up_ref(stored);", "}", "*copy = 0;", "return stored;"],
            GET_STEALS: ["*copy = 0;", "return stored;"],
        }[kind]
        head = f"SSL_SESSION *{_GET_CB}(SSL *ssl, const unsigned char *id, int len, int *copy) {{"
        return [head, *("    " + b for b in body), "}"]

    def _handshake(self, ssl: str, call: str) -> list[str]:
        """`SSL_connect`/`SSL_accept`, or the state set and `SSL_do_handshake`."""
        self.handshake_calls += 1
        if self.rng.random() < 0.2:
            state = "SSL_set_connect_state" if call == "SSL_connect" else "SSL_set_accept_state"
            return [f"{state}({ssl});", f"SSL_do_handshake({ssl});"]
        return [f"{call}({ssl});"]

    def _io(self, ssl: str, tickets: bool) -> list[str]:
        """`SSL_read` (mostly: a TLS 1.3 client takes its tickets there), `SSL_peek` or `SSL_write`."""
        self.handshake_calls += 1
        if tickets:
            call = self.rng.choices(("SSL_read", "SSL_peek"), weights=(4, 1))[0]
        else:
            call = self.rng.choices(("SSL_read", "SSL_peek", "SSL_write"), weights=(3, 1, 2))[0]
        return [f"{call}({ssl}, NULL, 1);" if call == "SSL_write" else f"{call}({ssl}, NULL, 0);"]

    # -- connection settings (drawn from `self.extra`) -----------------------------------------------
    def _context_settings(self, server: bool) -> list[str]:
        """A session id context (servers), peer verification, and a servername callback
        (servers: accepting the client's name stores it in a new session)."""
        extra, out = self.extra, []
        if server and extra.random() < 0.4:
            out.append('SSL_CTX_set_session_id_context(ctx, "srv", 3);')
        if extra.random() < 0.15:
            out.append("SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);")
        if server and extra.random() < 0.2:
            result = extra.choice(("SSL_TLSEXT_ERR_OK", "SSL_TLSEXT_ERR_OK", "SSL_TLSEXT_ERR_NOACK"))
            out += [f"int {_NAME_CB}(SSL *s, int *al, void *arg) {{", f"    return {result};", "}",
                    f"SSL_CTX_set_tlsext_servername_callback(ctx, {_NAME_CB});"]
        return out

    def _server_name(self, ssl: str) -> list[str]:
        """A client's server name (SNI): its new sessions get it as their hostname when the
        server acknowledges it."""
        if self.extra.random() >= 0.2:
            return []
        return [f'SSL_set_tlsext_host_name({ssl}, "{self.extra.choice(_HOSTS)}");']

    def _ssl_settings(self, ssl: str, pin: str) -> list[str]:
        """Options and version bounds of one connection (copied from the context at SSL_new,
        changed here for this `SSL` only)."""
        extra = self.extra
        if extra.random() >= 0.25:
            return []
        choices = [f"SSL_set_options({ssl}, SSL_OP_NO_TICKET);", f"SSL_clear_options({ssl}, SSL_OP_NO_TICKET);"]
        if pin != "tls13":
            choices.append(f"SSL_set_max_proto_version({ssl}, TLS1_2_VERSION);")
        if pin != "tls12":
            choices.append(f"SSL_set_min_proto_version({ssl}, TLS1_3_VERSION);")
        return [extra.choice(choices)]

    def _dup_after(self, ssl: str) -> list[str]:
        """`SSL_dup` after the handshake call: the same `SSL` with one more reference once a
        handshake started, a new one when it never did; freed at once either way."""
        if self.extra.random() >= 0.15:
            return []
        return ["SSL *twin = SSL_dup(ssl);", "SSL_free(twin);"]

    def _close(self, ssl: str, shutdown: bool) -> list[str]:
        return ([f"SSL_shutdown({ssl});"] if shutdown else []) + [f"SSL_free({ssl});"]

    def _read(self, s: str) -> str:
        return f"{self.rng.choice(_READ_CALLS)}({s});"

    # -- a client ---------------------------------------------------------------------------------
    def _client_script(self) -> None:
        rng = self.rng
        pin = self._pin()
        new_cb = rng.random() < 0.55
        resume = rng.random() < 0.7
        read = rng.random() < 0.6
        if resume and read and rng.random() < 0.3:
            resume = False  # three handshake calls multiply the paths: fewer of them
        possible = [M_SAVED_BORROWED, M_CLEANUP_EXTRA, M_CLEANUP_MISSING]
        if pin != "tls12":
            possible.append(M_BORROWED_ACROSS_READ)
        if new_cb:
            possible += [M_NEW_KEEPS_NOTHING, M_NEW_FREES]
        if resume:
            possible += [M_UNGUARDED_RESUME, M_REUSED_LEAK]
        else:
            possible.append(M_BORROWED_AFTER_FREE)  # a saved session would keep it alive
        self._choose_mistakes(possible)
        m = self.mistakes
        # What makes each mistake show on some path: the callback runs on a TLS 1.2 handshake
        # or a TLS 1.3 ticket (read), a session is marked stale only once it has an id.
        if m & {M_NEW_KEEPS_NOTHING, M_NEW_FREES, M_UNGUARDED_RESUME} and pin == "tls13":
            read = True
        read = read or M_BORROWED_ACROSS_READ in m
        new_kind = _new_cb_kind(rng, m, careful_kinds=(NEW_STORES, NEW_STORES, NEW_READS)) if new_cb else None
        out = self.lines
        if new_kind is not None:
            out += self._new_cb_lines(new_kind, False)
        out.append("SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());")
        out += self._pin_lines(pin)
        if new_cb or rng.random() < 0.4:
            mode = "SSL_SESS_CACHE_CLIENT"
            if rng.random() < 0.2:
                mode += " | SSL_SESS_CACHE_NO_INTERNAL_STORE"
            out.append(f"SSL_CTX_set_session_cache_mode(ctx, {mode});")
        if new_cb:
            out.append(f"SSL_CTX_sess_set_new_cb(ctx, {_NEW_CB});")
        out += self._context_settings(server=False)
        out.append("SSL *ssl = SSL_new(ctx);")
        out += self._ssl_settings("ssl", pin)
        out += self._server_name("ssl")
        out += self._handshake("ssl", "SSL_connect")
        out += self._dup_after("ssl")
        # The saved session: owned (get1), or borrowed by mistake; before or after the read.
        saved = resume or bool(m & {M_SAVED_BORROWED, M_CLEANUP_EXTRA}) or rng.random() < 0.5
        saved = saved and M_BORROWED_AFTER_FREE not in m
        get = "SSL_get_session" if M_SAVED_BORROWED in m else "SSL_get1_session"
        save_line = f"SSL_SESSION *saved = {get}(ssl);"
        save_early = saved and read and M_BORROWED_ACROSS_READ not in m and rng.random() < 0.3
        if save_early:
            out.append(save_line)
        peek_lines: list[str] = []
        if M_BORROWED_ACROSS_READ in m:
            out.append("SSL_SESSION *peek = SSL_get_session(ssl);")
            out += self._io("ssl", tickets=True)
            out.append(self._read("peek"))
            read = False
        elif M_BORROWED_AFTER_FREE in m or rng.random() < 0.3:
            peek_lines = ["SSL_SESSION *peek = SSL_get_session(ssl);"]
            if M_BORROWED_AFTER_FREE not in m:
                peek_lines.append(self._read("peek"))
        if read:
            if peek_lines and rng.random() < 0.5:
                out += peek_lines  # read before the I/O: nothing changes in between
                peek_lines = []
            out += self._io("ssl", tickets=pin != "tls12")  # TLS 1.2: no ticket to wait for
        out += peek_lines
        if saved and not save_early:
            out.append(save_line)
        out += self._close("ssl", shutdown=rng.random() < 0.6)
        if M_BORROWED_AFTER_FREE in m:
            out.append(self._read("peek"))
        if resume and self.handshake_calls < MAX_HANDSHAKES:
            out.append("SSL *ssl2 = SSL_new(ctx);")
            if M_UNGUARDED_RESUME in m:
                out.append("SSL_set_session(ssl2, saved);")
            else:
                out += ["if (SSL_SESSION_is_resumable(saved)) {", "    SSL_set_session(ssl2, saved);", "}"]
            out += self._server_name("ssl2")
            out += self._handshake("ssl2", "SSL_connect")
            if M_REUSED_LEAK in m or rng.random() < 0.6:
                replace = ["    saved = SSL_get1_session(ssl2);"]
                if M_REUSED_LEAK not in m:
                    replace.insert(0, "    SSL_SESSION_free(saved);")
                if rng.random() < 0.5:
                    out += ["if (SSL_session_reused(ssl2)) {", '    printf("resumed\\n");', "} else {", *replace, "}"]
                else:
                    out += ["if (!SSL_session_reused(ssl2)) {", *replace, "}"]
            out += self._close("ssl2", shutdown=rng.random() < 0.6)
        self._cleanup(saved=bool(saved), stored=new_kind == NEW_STORES)

    def _cleanup(self, saved: bool, stored: bool, extra: tuple[str, ...] = ()) -> None:
        rng, m = self.rng, self.mistakes
        frees = [f"SSL_SESSION_free({s});" for s in extra]
        if saved:
            frees.append("SSL_SESSION_free(saved);")
        rng.shuffle(frees)
        frees.insert(rng.randint(0, len(frees)), "SSL_CTX_free(ctx);")
        if M_CLEANUP_EXTRA in m:
            twice = "SSL_SESSION_free(saved);" if saved else "SSL_CTX_free(ctx);"
            frees.insert(rng.randint(frees.index(twice) + 1, len(frees)), twice)
        if M_CLEANUP_MISSING in m:
            frees.pop(rng.randrange(len(frees)))
        if stored:
            frees.append("SSL_SESSION_free(stored);")  # last: no callback runs after it
        self.lines += frees

    # -- a server ---------------------------------------------------------------------------------
    def _server_script(self) -> None:
        rng = self.rng
        pin = self._pin()
        get_cb = rng.random() < 0.5
        new_cb = get_cb or rng.random() < 0.6
        no_ticket = get_cb or rng.random() < 0.4
        no_internal = rng.random() < (0.6 if get_cb else 0.2)
        tickets = None if no_ticket or rng.random() < 0.7 else rng.choice((0, 1, 2))
        # Three connections take the solver long where a TLS 1.3 handshake may find one of many
        # sessions (stateful tickets fill the cache): only with TLS 1.2, or TLS 1.3 tickets.
        few_lookups = pin == "tls12" or (pin == "tls13" and not no_ticket)
        count = rng.choice((2, 3)) if few_lookups else 2
        possible = [M_BORROWED_AFTER_FREE, M_SAVED_BORROWED, M_GET1_LEAK, M_CLEANUP_EXTRA, M_CLEANUP_MISSING]
        # The new callback runs where a session gets an id: with SSL_OP_NO_TICKET, or TLS 1.3 tickets.
        new_runs = no_ticket or (pin != "tls12" and tickets != 0)
        if new_cb and new_runs and not get_cb:
            possible += [M_NEW_KEEPS_NOTHING, M_NEW_FREES]
        if get_cb:
            possible.append(M_GET_STEALS)
        self._choose_mistakes(possible)
        m = self.mistakes
        new_kind = _new_cb_kind(rng, m, careful_kinds=(NEW_STORES,) if get_cb else (NEW_STORES, NEW_STORES, NEW_READS)) if new_cb else None
        out = self.lines
        if get_cb:
            out.append("SSL_SESSION *stored = NULL;")
        if new_kind is not None:
            out += self._new_cb_lines(new_kind, stored_declared=get_cb)
        if get_cb:
            out += self._get_cb_lines(GET_STEALS if M_GET_STEALS in m else rng.choice((GET_COPIES, GET_HANDS_OVER)))
        out.append("SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());")
        out += self._pin_lines(pin)
        if no_ticket:
            out.append("SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);")
        if tickets is not None:
            out.append(f"SSL_CTX_set_num_tickets(ctx, {tickets});")
        if no_internal:
            out.append("SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);")
        if new_cb:
            out.append(f"SSL_CTX_sess_set_new_cb(ctx, {_NEW_CB});")
        if get_cb:
            out.append(f"SSL_CTX_sess_set_get_cb(ctx, {_GET_CB});")
        out += self._context_settings(server=True)
        names = ("a", "b", "c")[:count]
        switched = self.extra.choice(names) if self.extra.random() < 0.2 else None
        own_context = self.extra.choice(names[1:]) if self.extra.random() < 0.2 else None
        matcher = self.extra.choice(names) if self.extra.random() < 0.15 else None
        # Which connection saves its session, which one is looked at through a borrowed pointer.
        wants_saved = bool(m & {M_SAVED_BORROWED, M_GET1_LEAK, M_CLEANUP_EXTRA}) or rng.random() < 0.4
        saver = rng.choice(names[:-1]) if wants_saved else None
        peeker = rng.choice(names) if M_BORROWED_AFTER_FREE in m or rng.random() < 0.3 else None
        if M_BORROWED_AFTER_FREE in m and peeker == saver:
            peeker = names[-1]  # a saved session would keep it alive
        reader = rng.choice(names[:-1]) if count == 2 and pin and rng.random() < 0.3 else None
        reused = names[-1] if rng.random() < 0.4 else None
        for name in names:
            out.append(f"SSL *{name} = SSL_new(ctx);")
            if name == switched:
                # The connection's `ctx` becomes another context, which it keeps alive; its
                # sessions still go to `ctx`'s cache (its `session_ctx`).
                out += ["SSL_CTX *vhost = SSL_CTX_new(TLS_server_method());", f"SSL_set_SSL_CTX({name}, vhost);",
                        "SSL_CTX_free(vhost);"]
            if name == own_context:
                out.append(f'SSL_set_session_id_context({name}, "other", 5);')
            out += self._ssl_settings(name, pin)
            out += self._handshake(name, "SSL_accept")
            if name == matcher:
                out.append(f'long match_{name} = SSL_has_matching_session_id({name}, "id", 2);')
            if name == reader:
                out += self._io(name, tickets=False)
            if name == reused:
                out += [f"if (SSL_session_reused({name})) {{", '    printf("resumed\\n");', "}"]
            if name == saver:
                get = "SSL_get_session" if M_SAVED_BORROWED in m else "SSL_get1_session"
                out.append(f"SSL_SESSION *saved = {get}({name});")
            if name == peeker:
                out.append(f"SSL_SESSION *peek = SSL_get_session({name});")
                if M_BORROWED_AFTER_FREE not in m:
                    out.append(self._read("peek"))
            out += self._close(name, shutdown=rng.random() < 0.6)
            if name == peeker and M_BORROWED_AFTER_FREE in m:
                out.append(self._read("peek"))
        if saver is not None:
            out.append(self._read("saved"))
        self._cleanup(saved=saver is not None and M_GET1_LEAK not in m, stored=new_kind == NEW_STORES)


def generate_script(seed: int) -> str:
    """One operation script, the same text for the same seed."""
    if _handshakes(seed):
        return _HandshakeGenerator(seed).script()
    return _Generator(seed).script()


def is_careful(seed: int) -> bool:
    """Whether the script for `seed` is written carefully (it makes no mistake on purpose)."""
    if _handshakes(seed):
        return _HandshakeGenerator(seed).careful
    return _Generator(seed).careful


def generate_scripts(seed: int, count: int) -> list[tuple[str, str]]:
    """`count` scripts named `gen_0000`, ..., each from its own seed derived from `seed`
    (named in its first line, so `generate_script` rebuilds any one of them)."""
    rng = random.Random(seed)
    seeds = [rng.getrandbits(31) for _ in range(count)]
    return [(f"gen_{i:04d}", generate_script(s)) for i, s in enumerate(seeds)]


def _new_cb_kind(rng: random.Random, mistakes: set, careful_kinds: tuple) -> str:
    """What the new-session callback does: the mistake chosen, if any, else a careful kind."""
    if M_NEW_KEEPS_NOTHING in mistakes:
        return NEW_KEEPS_NOTHING
    if M_NEW_FREES in mistakes:
        return NEW_FREES
    return careful_kinds[0] if len(careful_kinds) == 1 else rng.choice(careful_kinds)
