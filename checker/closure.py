"""Loops proved for every iteration count: the states at a loop head, up to what the rest
of the script can observe, and whether one more iteration adds any.

The encoding unrolls a `while (*)` loop (`execute.Executor._loop`). At each loop head it
asks `LoopClosure.head`, which enumerates the concrete states the symbolic state at that
head stands for and puts each in a *canonical form*. Let H_i be the canonical states after
i iterations and U_k = H_0 u ... u H_k. When H_{k+1} is inside U_k, every later head is too
(the body maps U_k into U_{k+1} = U_k, by induction), so the body runs from no state it has
not run from already, and every later exit leaves from a state an earlier exit left from:
every finding of any path with more iterations is also the finding of a path with at most k
iterations (same rule, same script location, the dedup key of the report), and the shortest
path to each finding is among them. The loop is then proved for all iterations and its
unrolling stops there; the paths that would run more are dropped from the encoding.

Soundness rests on two directions of approximation:
  * a canonical form may distinguish states that behave the same (the check then fails to
    close the loop: the verdict stays bounded, which is safe);
  * it must never identify states that can behave differently. Every simplification below
    says why the states it identifies behave the same from the loop head on.
The states of U_k must be real (under-approximated): an enumerated state whose guard involves
integer atoms is used only after Z3 has shown it exists for every value of the integers its
cells hold (`_realisable`). The states of H_{k+1} may be over-approximated (a guard that is
feasible as a BDD but not in Z3 only adds a state to check).

What is identified (each a bijection of the values nothing can tell apart):
  * Objects are renamed in order of discovery from the variables in scope, then by their
    own fields. Dead objects are dropped: those pointed at by nothing kept and cached
    nowhere that are destroyed, or alive but lost (their leak already reported). The model
    reaches an object only through a pointer or a cache link to it (`cache.members` reads
    `cached`); the other walks over all objects are the end of the script's leak check,
    which skips destroyed and lost objects (`refs.check_end`), and a message's list of
    holders (`refs._library_holders_text`), which changes no finding.
  * Sites (an allocation's step, a destruction's) become their script locations: findings
    are reported and deduplicated by location, and sites are only ever reported, never
    compared (`refs.check_end`, `refs._blame_killer`, `handshake.callback_site`).
  * Handshake session ids (`handshake._fresh_id`) are renamed in order of appearance, and
    the counter that makes them is dropped: ids are only compared for equality with each
    other and with 0 (`cache.same_key`, `cache.has_empty_id`), the counter is above every id
    made so far, so fresh ids stay fresh; a decoded id is an input ranging over every
    positive number either way.
  * The cache's link order (`lseq`) becomes each cached session's rank in its context: it is
    only compared between members of one cache (`cache.members`); an uncached session's
    number is rewritten before it is linked again (`cache._link`).
  * A context's count of completed handshakes (`goodc`/`goods`) is dropped when the
    automatic flush it counts towards can do nothing: the context's mode has no automatic
    flush for that side (`handshake._update_cache`) and no later call can set the mode, or
    the internal store is off, the cache is empty and the script never adds to it
    (`SSL_CTX_add_session`): a flush of an empty cache does nothing (`cache.flush`).
  * An unbounded integer held by a cell (a clock reading, a decoded time, a length) is its
    Z3 term with each variable renamed in order of appearance and labelled with its range:
    the set of states a variable stands for is every value in its range, once Z3 has shown
    (for U_k) that the path allows each of them.
  * Temporaries are dropped: variables out of scope (a declaration writes its variable
    before any read), expression temporaries (`tmp`), function results (`result`), the
    callback queue and its bookkeeping when the queue is empty (`pq`, `cbsite`, `cbfreed`:
    rewritten by `cache._queue` and `cache.begin_queued` before any read), the result of the last
    handshake or I/O call (`hsret`: each such call sets it first, `api._handshake_call`).
Anything else the check does not recognise makes the state incomparable (never equal to
another): the loop stays bounded, never wrongly closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Hashable

import z3

from . import budget, symvalues
from .model import handshake
from .model.objects import ALIVE, CACHE_CLIENT, CACHE_NO_AUTO_CLEAR, CACHE_NO_INTERNAL_STORE, CACHE_SERVER, CTX, SESSION
from .model.values import interior_generation, interior_owner
from .symvalues import Sym

# Concrete states enumerated at one loop head; beyond it the loop stays bounded (and says so).
MAX_STATES = 20_000
# Z3's time for showing that a state of U_k exists for every value of its integers.
REALISE_MS = 2_000

_HANDSHAKE_IDS = handshake._HANDSHAKE_IDS
# Fields of an object that hold another object (0: none).
_REF_FIELDS = ("slot", "ctx", "sctx", "cached", "origin")
_DEAD = "dead"
# Cells that are temporaries at a loop head (see the module's comment).
_DROPPED_HEADS = ("tmp", "result", "cbsite", "cbfreed", "pq", "idseq", "lseq", "hsret")
_GLOBALS = (("clock",), ("pq_n",), ("cbkind",), ("cbarg",))


@dataclass(frozen=True)
class HeadScope:
    """What the executor knows at a loop head: the variable cells in scope (and whether each
    holds an object pointer), the frames on the stack, facts of the whole program."""

    live: tuple[tuple[Hashable, bool], ...]
    frames: frozenset
    mode_may_change: bool  # a call that may run later sets a context's cache mode
    adds_sessions: bool  # the script calls `SSL_CTX_add_session` somewhere


@dataclass
class _Entry:
    guard: Any  # BDD
    variables: tuple  # the Z3 variables of the state's cells
    realisable: bool | None = None


@dataclass
class LoopRecord:
    """One loop instance (a loop statement in one dynamic context)."""

    line: int
    seen: dict = field(default_factory=dict)  # canonical form -> [_Entry]
    closed_after: int | None = None
    reason: str = ""  # why it did not close, when it did not
    heads: int = 0
    gave_up: bool = False
    history: list = field(default_factory=list)  # (head, new states, why) of each head that added some
    bounded: bool = False  # its last unrolled iteration could still be followed by another
    labels: dict = field(default_factory=dict)  # canonical form -> its parts, for the reason


class _TooMany(Exception):
    pass


class LoopClosure:
    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.loops: dict[Hashable, LoopRecord] = {}
        self._opaque = 0
        self._terms: dict[int, tuple] = {}  # `_Walk.term_options`' memo: term id -> (term, cases)

    # ---- the check at one head -----------------------------------------------------------
    def head(self, state: Any, key: Hashable, index: int, scope: HeadScope, line: int) -> bool:
        """Whether the states at this head (after `index` iterations) add nothing to those
        after fewer: then the loop is proved for all iterations and the caller stops it."""
        rec = self.loops.setdefault(key, LoopRecord(line))
        rec.heads = index
        if rec.gave_up:
            return False
        try:
            states = self._states(state, scope)
        except _TooMany:
            rec.gave_up = True
            rec.reason = f"more than {MAX_STATES} distinct states at its head"
            return False
        if index > 0:
            new = [s for s in states if not self._covered(rec, s)]
            if not new:
                rec.closed_after = index
                rec.reason = ""
                return True
            rec.reason = self._why(rec, new, index)
            rec.history.append((index, len(new), rec.reason))
        for canon, guard, variables, parts in states:
            rec.seen.setdefault(canon, []).append(_Entry(guard, variables))
            rec.labels.setdefault(canon, parts)
        return False

    def _covered(self, rec: LoopRecord, state: tuple) -> bool:
        canon = state[0]
        for entry in rec.seen.get(canon, ()):
            if entry.realisable is None:
                entry.realisable = self._realisable(entry)
            if entry.realisable:
                return True
        return False

    # ---- enumeration -----------------------------------------------------------------------
    def _states(self, state: Any, scope: HeadScope) -> list[tuple]:
        """(canonical form, guard, Z3 variables, labelled parts) of every concrete state."""
        b = self.backend
        cells = state.cells
        objects = b.registry.info
        live = dict(scope.live)
        per_object: dict[int, list] = {}
        unknown: list = []
        for cell in cells:
            head = cell[0]
            if head == "var" or head == "obj" or head in _DROPPED_HEADS or cell in _GLOBALS:
                continue
            if head == "hs" and len(cell) == 3 and cell[2] in objects:
                per_object.setdefault(cell[2], []).append(cell)
            elif len(cell) == 2 and isinstance(head, str) and _is_id(cell[1]) and cell[1] in objects:
                per_object.setdefault(cell[1], []).append(cell)
            else:
                unknown.append(cell)
        pq = cells.get(("pq_n",), 0)
        if unknown or isinstance(pq, Sym) or pq != 0:
            # A cell the check does not know, or a loop inside a callback with the queue in
            # use: incomparable.
            self._opaque += 1
            return [(("opaque", self._opaque), state.pc, (), ())]
        roots = sorted(live, key=repr)
        items = [("cell", c, "object" if live[c] else "value") for c in roots]
        items += [("cell", c, "object" if c == ("cbarg",) else "value") for c in _GLOBALS]
        rest = sorted(o for o in objects)
        out: list[tuple] = []
        ctx = _Walk(self, state, per_object, scope)
        ctx.explore(state.pc, {}, {}, list(reversed(items)), rest, 0, out)
        return out

    # ---- U_k's states are real -------------------------------------------------------------
    def _realisable(self, entry: _Entry) -> bool:
        """The state exists for every value of its variables (within their ranges): the
        guard holds for some choices whatever those values are. Plain when the guard is
        over `*` choices only and the variables are inputs constrained by their range alone."""
        b = self.backend
        logic = b.logic
        support = logic.bdd.support(entry.guard)
        atoms = [logic.meaning[v] for v in support if not _is_variable(logic.meaning[v])]
        if not atoms and all(_is_input(b, v) for v in entry.variables):
            return True
        inner = [logic.to_z3(entry.guard)]
        seen: set[int] = set()
        todo = list(entry.variables)
        for t in inner:
            todo += _constants(t)
        defs = []
        variables = []
        while todo:
            budget.check()
            v = todo.pop()
            if v.get_id() in seen:
                continue
            seen.add(v.get_id())
            variables.append(v)
            lo, hi = symvalues.LOGIC.bounds.get(v.get_id(), (None, None)) if z3.is_int(v) else (None, None)
            if lo is not None:
                defs.append(v >= lo)
            if hi is not None:
                defs.append(v <= hi)
            ssa = b.ssa.get(v.get_id())
            if ssa is not None:
                definition = ssa[1].term
                defs.append(v == definition)
                todo += _constants(definition)
        outer_ids = {v.get_id() for v in entry.variables}
        outer = [v for v in variables if v.get_id() in outer_ids]
        rest = [v for v in variables if v.get_id() not in outer_ids]
        budget.check()
        outer_bounds, own = [], []
        for d in defs:
            (outer_bounds if _mentions_only(d, outer_ids) else own).append(d)
        body = z3.And(*inner, *own)
        exists = z3.Exists(rest, body) if rest else body
        claim = z3.ForAll(outer, z3.Implies(z3.And(*outer_bounds), exists)) if outer else exists
        solver = z3.Solver()
        solver.set("timeout", budget.remaining_ms(REALISE_MS))
        solver.add(z3.Not(claim))
        return solver.check() == z3.unsat

    # ---- why a loop stays bounded --------------------------------------------------------------
    def _why(self, rec: LoopRecord, new: list, index: int) -> str:
        """Why the states after `index` iterations are not all among the earlier ones: more
        objects than ever before, else what differs from the most similar earlier state."""
        seen = [parts for parts in rec.labels.values() if not (parts and parts[0] == "opaque")]
        most: dict[str, int] = {}
        for parts in seen:
            for kind, n in _kinds(parts).items():
                most[kind] = max(most.get(kind, 0), n)
        for canon, *_ in new:
            for kind, n in _kinds(canon).items():
                if n > most.get(kind, 0):
                    return f"objects pile up ({n} {kind} objects after {index} iterations)"
        canon = new[0][0]
        if canon and canon[0] == "opaque":
            return "its state holds a value the check cannot compare"
        mine = dict(canon)
        differ: list | None = None
        for other in seen:
            theirs = dict(other)
            diff = [k for k in mine if mine.get(k) != theirs.get(k)] + [k for k in theirs if k not in mine]
            if differ is None or len(diff) < len(differ):
                differ = diff
        if not differ:
            return (f"a state after {index} iterations equals an earlier one only for some values of "
                    "its integers (the path constrains them)")
        return f"its states still change after {index} iterations ({', '.join(_describe(d) for d in differ[:2])})"

    def _labelled(self, canon: tuple) -> tuple:
        return canon


def _describe(label: Any) -> str:
    """A part of a canonical state, in words: "`n`", "a session's `cached`"."""
    if isinstance(label, tuple) and label and label[0] == "var":
        return f"`{label[1]}`"
    if isinstance(label, tuple) and len(label) == 3 and label[0] == "object":
        kind, field_name = label[1][0], label[2]
        name = field_name if isinstance(field_name, str) else "/".join(map(str, field_name))
        return f"{kind} #{label[1][1] + 1}'s `{name}`"
    return str(label)


def _kinds(parts: tuple) -> dict[str, int]:
    counts: dict[str, int] = {}
    if parts and parts[0] == "opaque":  # a state the check cannot compare has no parts
        return counts
    for label, _ in parts:
        if isinstance(label, tuple) and len(label) == 3 and label[0] == "object" and label[2] == "st":
            counts[label[1][0]] = counts.get(label[1][0], 0) + 1
    return counts


class _Walk:
    """The depth-first enumeration of one head's concrete states, and their canonical forms."""

    def __init__(self, closure: LoopClosure, state: Any, per_object: dict, scope: HeadScope) -> None:
        self.closure = closure
        self.b = closure.backend
        self.cells = state.cells
        self.per_object = per_object
        self.scope = scope
        self.objects = self.b.registry.info
        self.logic = self.b.logic
        self.count = 0

    # -- the values a cell can hold, as (guard, leaf) ----------------------------------------
    def options(self, v: Any) -> list[tuple[Any, Any]]:
        if not isinstance(v, Sym):
            return [(self.logic.true, v)]
        if v.cases is not None:
            return [(symvalues.node(g), x) for x, g in v.cases.items()]
        return self.term_options(v.term)

    def term_options(self, t: Any) -> list[tuple[Any, Any]]:
        """An unbounded value's cases: SSA variables and `If`s the encoding built are split
        by their guards, down to leaves that are terms of their own. Memoised, and the cases
        with the same leaf are taken together (their guards are exclusive)."""
        memo = self.closure._terms
        known = memo.get(t.get_id())
        if known is not None:
            return known[1]
        ssa = self.b.ssa.get(t.get_id())
        built = symvalues.LOGIC.structure.get(t.get_id())
        if ssa is not None:
            out = self.options(ssa[1])
        elif built is not None:
            _, g, a, c = built
            g = symvalues.node(g)
            out = [(g & ga, x) for ga, x in self.options(a)]
            out += [(~g & gc, x) for gc, x in self.options(c)]
        elif z3.is_int_value(t):
            out = [(self.logic.true, t.as_long())]
        else:
            out = [(self.logic.true, t)]
        merged: dict = {}
        for g, x in out:
            if g == self.logic.false:
                continue
            k = ("term", x.get_id()) if isinstance(x, z3.ExprRef) else (type(x).__name__, x)
            merged[k] = (merged[k][0] | g, x) if k in merged else (g, x)
        result = list(merged.values())
        memo[t.get_id()] = (t, result)
        return result

    def explore(self, guard: Any, values: dict, objs: dict, queue: list, rest: list, r: int, out: list) -> None:
        false = self.logic.false
        budget.check()  # each branch of the walk: enumerating a loop head's states can take seconds
        while True:
            if queue:
                item = queue.pop()
            elif r < len(rest):
                o = rest[r]
                r += 1
                if o in objs:
                    continue
                item = ("object", o, False)
            else:
                self.count += 1
                if self.count > MAX_STATES:
                    raise _TooMany
                out.append(self.finish(guard, values, objs))
                return
            if item[0] == "cell":
                cell, kind = item[1], item[2]
                if cell in values:
                    continue
                opts = [(guard & g, x) for g, x in self.options(self.cells.get(cell, 0))]
                opts = [(g, x) for g, x in opts if g != false]
                if not opts:
                    return
                for i, (g, x) in enumerate(opts):
                    if i == len(opts) - 1:
                        values[cell] = x
                        guard = g
                        self._discover(x, kind, objs, queue)
                    else:
                        v2, o2, q2 = dict(values), dict(objs), list(queue)
                        v2[cell] = x
                        self._discover(x, kind, o2, q2)
                        self.explore(g, v2, o2, q2, rest, r, out)
                continue
            _, o, detailed = item
            if o in objs:
                if objs[o] == _DEAD and detailed:
                    objs[o] = ("incomparable",)  # referenced after it was taken for dead
                continue
            stored = self.cells.get(("obj", o), 0)
            cases = stored.cases if isinstance(stored, Sym) else {stored: self.logic.true}
            opts: list[tuple[Any, Any]] = []
            dead = false
            for code, g in cases.items():
                g = guard & g
                if g == false:
                    continue
                fields = dict(self.b.decode(code))
                if not detailed and (fields.get("st", 0) != ALIVE or fields.get("lost")) and not fields.get("cached", 0):
                    dead = dead | g
                else:
                    opts.append((g, code))
            if dead != false:
                opts.append((dead, _DEAD))
            if not opts:
                return
            for i, (g, code) in enumerate(opts):
                if i == len(opts) - 1:
                    guard = g
                    self._take(o, code, objs, queue)
                else:
                    v2, o2, q2 = dict(values), dict(objs), list(queue)
                    self._take(o, code, o2, q2)
                    self.explore(g, v2, o2, q2, rest, r, out)

    def _take(self, o: int, code: Any, objs: dict, queue: list) -> None:
        objs[o] = code
        if code == _DEAD:
            return
        fields = dict(self.b.decode(code))
        for cell in sorted(self.per_object.get(o, ()), key=repr, reverse=True):
            queue.append(("cell", cell, "object" if cell[:2] == ("hs", "got") else "value"))
        for name in _REF_FIELDS:
            ref = fields.get(name, 0)
            if _is_id(ref) and ref in self.objects and ref not in objs:
                queue.append(("object", ref, True))

    def _discover(self, x: Any, kind: str, objs: dict, queue: list) -> None:
        target = 0
        if kind == "object" and _is_id(x) and x in self.objects:
            target = x
        elif _is_id(x, negative=True) and interior_owner(x) in self.objects:
            target = interior_owner(x)
        if target and (target not in objs or objs[target] == _DEAD):
            queue.append(("object", target, True))

    # -- the canonical form of one concrete state ----------------------------------------------
    def finish(self, guard: Any, values: dict, objs: dict) -> tuple:
        b = self.b
        if any(code == ("incomparable",) for code in objs.values()):
            self.closure._opaque += 1
            return (("opaque", self.closure._opaque), guard, (), ())
        kept = {o: dict(b.decode(code)) for o, code in objs.items() if code != _DEAD}
        for o, fields in kept.items():
            for cell in self.per_object.get(o, ()):
                fields[("hs", cell[1]) if cell[0] == "hs" else cell[0]] = values[cell]
        names: dict[int, int] = {}
        order: list[int] = []

        def walk_from(o: int) -> None:
            """Name `o`, then every object reachable from it, breadth first."""
            if o not in kept or o in names:
                return
            i = len(order)
            names[o] = i
            order.append(o)
            while i < len(order):
                fields = kept[order[i]]
                for f in (*_REF_FIELDS, ("hs", "got")):
                    ref = fields.get(f, 0)
                    if _is_id(ref) and ref in kept and ref not in names:
                        names[ref] = len(order)
                        order.append(ref)
                i += 1

        holds_object = dict(self.scope.live)
        holds_object[("cbarg",)] = True
        live = sorted((c for c, _ in self.scope.live), key=repr)
        for cell in live + [("cbarg",)]:
            v = values.get(cell, 0)
            if holds_object[cell] and _is_id(v):
                walk_from(v)
            elif _is_id(v, negative=True):
                walk_from(interior_owner(v))
        rest = [o for o in kept if o not in names]
        rest.sort(key=lambda o: self._signature(o, kept[o]))
        for o in rest:
            walk_from(o)
        ids: dict[int, int] = {}
        variables: dict[int, tuple[str, Any]] = {}

        def leaf(v: Any) -> Any:
            if isinstance(v, bool):
                return ("b", v)
            if isinstance(v, int):
                if v >= _HANDSHAKE_IDS:
                    return ("id", ids.setdefault(v, len(ids)))
                return v
            if isinstance(v, z3.ExprRef):
                return ("term", self._term(v, variables))
            return ("?", repr(v))

        def ref(v: Any) -> Any:
            """A cell that holds an object pointer (0: NULL)."""
            if _is_id(v) and v in names:
                return ("#", names[v])
            if _is_id(v):
                return ("gone",)  # a pointer to an object no path of this state has
            return scalar(v)

        def scalar(v: Any) -> Any:
            """A cell that holds no object pointer: an integer, or a pointer that is no
            object (a `get0` pointer into a session carries the session)."""
            if _is_id(v, negative=True) and interior_owner(v) in names:
                return ("interior", names[interior_owner(v)], interior_generation(v))
            return leaf(v)

        parts: list[tuple] = []
        for cell in live:
            v = values.get(cell, 0)
            parts.append((("var", cell[2], cell[3]), ref(v) if holds_object[cell] else scalar(v)))
        for cell in _GLOBALS:
            v = values.get(cell, 0)
            parts.append(((cell[0],), ref(v) if cell == ("cbarg",) else scalar(v)))
        ranks = self._ranks(kept)
        for o in order:
            fields = kept[o]
            kind = self.objects[o].kind
            for f in sorted(fields, key=repr):
                v = fields[f]
                label = ("object", (kind, names[o]), f)
                if f in _REF_FIELDS or f == ("hs", "got"):
                    parts.append((label, ref(v)))
                elif f in ("site", "death"):
                    parts.append((label, self._site(v)))
                elif f == "killer":
                    parts.append((label, self._killer(v)))
                elif f == "lseq":
                    parts.append((label, ranks.get(o, 0)))
                elif f in ("goodc", "goods") and kind == CTX and not self._counter_observable(fields, f):
                    continue
                else:
                    parts.append((label, scalar(v)))
        canon = tuple(parts)
        return (canon, guard, tuple(v for _, v in sorted(variables.values(), key=lambda nv: nv[0])), canon)

    def _signature(self, o: int, fields: dict) -> str:
        """An order for objects no variable reaches that does not depend on their numbers."""
        local = []
        for f in sorted(fields, key=repr):
            v = fields[f]
            if f in _REF_FIELDS or f == ("hs", "got") or f == "lseq":
                v = bool(v)
            elif f in ("site", "death"):
                v = self._site(v)
            elif f == "killer":
                v = self._killer(v)
            elif isinstance(v, int) and v >= _HANDSHAKE_IDS:
                v = "id"
            elif isinstance(v, z3.ExprRef):
                v = "term"
            local.append((f, v))
        return repr((self.objects[o].kind, local))

    def _ranks(self, kept: dict) -> dict[int, int]:
        by_ctx: dict[int, list] = {}
        for o, fields in kept.items():
            if self.objects[o].kind == SESSION and fields.get("cached"):
                by_ctx.setdefault(fields["cached"], []).append((fields.get("lseq", 0), o))
        ranks = {}
        for members in by_ctx.values():
            for rank, (_, o) in enumerate(sorted(members)):
                ranks[o] = rank + 1
        return ranks

    def _counter_observable(self, fields: dict, counter: str) -> bool:
        """Whether a context's count of completed handshakes (`goodc` for its clients, `goods`
        for its servers) can still matter (the module's comment): only through the automatic
        flush at every 255th handshake (`handshake._update_cache`)."""
        mode = fields.get("mode", 0)
        if not isinstance(mode, int) or isinstance(mode, bool):
            return True
        if self.scope.mode_may_change:
            return True
        side = CACHE_CLIENT if counter == "goodc" else CACHE_SERVER
        if mode & CACHE_NO_AUTO_CLEAR or not mode & side:
            return False
        if mode & CACHE_NO_INTERNAL_STORE and not self.scope.adds_sessions and not fields.get("ncached", 0):
            return False
        return True

    def _site(self, v: Any) -> Any:
        if not _is_id(v):
            return v
        span = self.b.sites.by_id[v].span
        return ("at", span.start, span.end)

    def _killer(self, v: Any) -> Any:
        if not _is_id(v):
            return v
        key = self.b.interned_key(v)
        if isinstance(key, tuple) and key and key[0] == "var":
            frame = key[1]
            if frame == "main" or frame in self.scope.frames:
                return ("var", key)
        # A holder of a frame that has returned, or an expression of a past step: no later
        # release can come through it (frame keys and sites never recur), so all are alike.
        return ("gone",)

    def _term(self, t: z3.ExprRef, variables: dict) -> str:
        pairs = []
        for v in _constants(t):
            known = variables.get(v.get_id())
            if known is None:
                lo, hi = symvalues.LOGIC.bounds.get(v.get_id(), (None, None))
                known = variables[v.get_id()] = (f"${len(variables)}[{lo},{hi}]", v)
            pairs.append((v, z3.Const(known[0], v.sort())))
        return z3.substitute(t, *pairs).sexpr() if pairs else t.sexpr()


def _is_id(v: Any, negative: bool = False) -> bool:
    if isinstance(v, bool) or not isinstance(v, int):
        return False
    return v < 0 if negative else v > 0


def _constants(t: z3.ExprRef) -> list:
    """The uninterpreted constants of a term, in a fixed order (first occurrence)."""
    out, seen, stack = [], set(), [t]
    visited: set[int] = set()
    while stack:
        e = stack.pop()
        if e.get_id() in visited:
            continue
        visited.add(e.get_id())
        if z3.is_const(e) and e.decl().kind() == z3.Z3_OP_UNINTERPRETED:
            if e.get_id() not in seen:
                seen.add(e.get_id())
                out.append(e)
            continue
        if z3.is_quantifier(e):
            continue
        stack.extend(reversed(e.children()))
    return out


def _is_variable(m: z3.ExprRef) -> bool:
    return z3.is_const(m) and m.decl().kind() == z3.Z3_OP_UNINTERPRETED


def _is_input(backend: Any, v: z3.ExprRef) -> bool:
    """A free input (a `choice_int`): constrained by its range only."""
    return v.get_id() not in backend.ssa and backend.choices.get(str(v)) is not None


def _mentions_only(d: z3.ExprRef, ids: set[int]) -> bool:
    return all(c.get_id() in ids for c in _constants(d))
