"""An `SSL_CTX`'s internal session cache: the lhash keyed by (protocol version, session id)
and the doubly linked list sorted by expiry, holding one reference per cached session.

Sources (OpenSSL 3.0.22, ssl/ssl_sess.c): `SSL_CTX_add_session` L741-825,
`remove_session_lock` L827-859, `SSL_CTX_flush_sessions` L1180-1226, `SSL_SESSION_list_add`
L1268-1315, `SSL_SESSION_list_remove` L1228-1266, `timeoutcmp` L37-50.
The list runs from the head (latest expiry) to the tail (soonest expiry); a session added
with the same expiry as others goes in front of them, so among equal expiries the one
linked earliest is nearest the tail.
"""

from __future__ import annotations

import functools

from ..language.errors import NotModelledError
from . import refcount  # the primitives: this module sits above them, below refs.py
from .objects import (  # noqa: F401  (the queue's kinds, as the executor reads them: cache.REMOVED ...)
    ALIVE,
    CACHE_UPDATE_TIME,
    CACHED,
    CALLBACK_FIELD,
    CBARG,
    CBFREED,
    CBKIND,
    CBSITE,
    CLOCK,
    CTX_END,
    DESTROYED,
    DYING,
    FIELDS,
    GET_SESSION,
    HS,
    LIB,
    LOST,
    LSEQ,
    MODE,
    NCACHED,
    NEW_SESSION,
    NR,
    NRWHY,
    PQ,
    PQ_N,
    RELEASE,
    REMOVE_CB,
    REMOVED,
    SERVERNAME,
    SESSION,
    SID,
    SIZE,
    ST,
    STAGE,
    TIME,
    TIME_T_MAX,
    TIMEOUT,
    VER,
    Holder,
    cache_of,
    new_cb_of,
    slot_of,
)
from .refcount import callback_contract, callback_site, reachable
from .rules import CACHE_CORRUPTION, CALLBACK_NEW_FREED_LENT, CALLBACK_NEW_KEPT_NOWHERE, CALLBACK_OWNERSHIP
from .world import World, obj


def _cache(ctx: int) -> Holder:
    return cache_of(ctx)


def expiry(w: World, s: int):
    """`ssl_session_calculate_timeout` L79-93: time + timeout, or never (`timeout_ovf`),
    represented as TIME_T_MAX + 1, which no flush time exceeds. The overflow test is done
    in uint64_t (`CALCULATE_TIMEOUT` L58-72): `TIME_T_MAX - time` wraps for a negative
    time, so a session with a negative time never expires [verified 3.0.19: found by
    `sessref conform` on specs/examples/set_time_unknown.sess]."""
    time = w.get(TIME(s))
    total = w.add(time, w.get(TIMEOUT(s)))
    never = TIME_T_MAX + 1
    return w.ite(w.lt(time, 0), never, w.ite(w.lt(TIME_T_MAX, total), never, total))


def expired(w: World, s: int, t) -> bool:
    """`sess_timedout` L29-35: expired when `t > time + timeout`, strictly."""
    return w.test(w.lt(expiry(w, s), t))


def members(w: World, ctx: int) -> list[int]:
    """The sessions in `ctx`'s cache, head (latest expiry) first."""
    found = [s for s in w.objects(SESSION) if w.get(CACHED(s)) == ctx]

    def later_first(a: int, b: int) -> int:
        ea, eb = expiry(w, a), expiry(w, b)
        if w.test(w.lt(eb, ea)):
            return -1
        if w.test(w.lt(ea, eb)):
            return 1
        return w.get(LSEQ(b)) - w.get(LSEQ(a))

    return sorted(found, key=functools.cmp_to_key(later_first))


def same_key(w: World, a: int, b: int) -> bool:
    """`ssl_session_cmp` (ssl/ssl_lib.c L3181): same protocol version and session id."""
    return w.test(w.eq(w.get(VER(a)), w.get(VER(b)))) and w.test(w.eq(w.get(SID(a)), w.get(SID(b))))


def has_empty_id(w: World, s: int) -> bool:
    return w.test(w.eq(w.get(SID(s)), 0))


def lookup(w: World, ctx: int, s: int, who: str) -> int:
    """`lh_SSL_SESSION_retrieve`: the cached object under `s`'s key, or 0. Comparing keys
    reads the cached object, so a destroyed entry under that key is a use after free."""
    for r in members(w, ctx):
        if r == s or same_key(w, r, s):
            refcount.use(w, r, f"{who} compares the key of", holder=_cache(ctx))
            return r
    return 0


def _unlink(w: World, ctx: int, r: int, who: str) -> None:
    """`SSL_SESSION_list_remove`: writes the neighbours' links."""
    order = members(w, ctx)
    if r in order:
        i = order.index(r)
        for n in order[max(i - 1, 0) : i] + order[i + 1 : i + 2]:
            refcount.use(w, n, f"{who} unlinks {obj(r)} and so writes into its neighbour", holder=_cache(ctx))
    w.set(CACHED(r), 0)


def _link(w: World, ctx: int, s: int, who: str) -> None:
    """`SSL_SESSION_list_add`: find the place by expiry (reading the sessions it passes)."""
    order = members(w, ctx)
    if order:
        es = expiry(w, s)
        visited = [order[0]]
        if w.test(w.lt(es, expiry(w, order[0]))):  # not first: compare with the tail, then walk
            visited.append(order[-1])
            if not w.test(w.lt(es, expiry(w, order[-1]))):
                for n in order[1:-1]:
                    visited.append(n)
                    if not w.test(w.lt(es, expiry(w, n))):
                        break
        for n in dict.fromkeys(visited):
            refcount.use(w, n, f"{who} sorts {obj(s)} into the cache and reads", holder=_cache(ctx))
    counter = w.get(LSEQ()) + 1
    w.set(LSEQ(), counter)
    w.set(LSEQ(s), counter)
    w.set(CACHED(s), ctx)


def add(w: World, ctx: int, c: int) -> int:
    """`SSL_CTX_add_session(ctx, c)` on a live `c`; returns 1 for a new key, 0 when `c` itself
    was already cached."""
    who = "`SSL_CTX_add_session`"
    owner = w.get(CACHED(c))
    if owner and owner != ctx:
        # R4 in SSL_get_session.pod: one cache per session; `owner`/`prev`/`next` are overwritten.
        w.finding(
            CACHE_CORRUPTION,
            f"{obj(c)} is already in {obj(owner)}'s cache; linking it into {obj(ctx)}'s cache too corrupts both lists",
            (c, owner, ctx),
        )
    if owner == ctx:
        # L767-822: +1 then -1 (net 0), re-linked at its place by expiry.
        w.note(c, f"{obj(c)} is already in {obj(ctx)}'s cache: returns 0, count unchanged")
        if w.get(MODE(ctx)) & CACHE_UPDATE_TIME:
            w.set(TIME(c), w.get(CLOCK()))
        _unlink(w, ctx, c, who)
        _link(w, ctx, c, who)
        return 0
    replaced = lookup(w, ctx, c, who)
    refcount.take(w, c, _cache(ctx), f"{obj(ctx)}'s session cache takes a reference to {obj(c)}")
    if replaced:
        # L767-777: another object under the same key is dropped silently (no remove
        # callback, not marked not resumable).
        _unlink(w, ctx, replaced, who)
        w.note(replaced, f"{obj(replaced)} has the same key as {obj(c)} and is replaced in the cache")
        refcount.release(w, replaced, _cache(ctx))
    else:
        w.set(NCACHED(ctx), w.get(NCACHED(ctx)) + 1)
    if w.get(MODE(ctx)) & CACHE_UPDATE_TIME:
        w.set(TIME(c), w.get(CLOCK()))
    _evict(w, ctx)
    _link(w, ctx, c, who)
    return 1


def _evict(w: World, ctx: int) -> None:
    """L794-810: while the count (new entry included) is >= the size, remove the tail — the
    session expiring soonest. A tail with an empty id stops the loop."""
    size = w.get(SIZE(ctx))
    if size <= 0:
        return
    while w.get(NCACHED(ctx)) >= size:
        order = members(w, ctx)
        if not order:
            return
        tail = order[-1]
        w.note(tail, f"{obj(ctx)}'s cache is full: {obj(tail)} expires soonest and is evicted")
        if not remove(w, ctx, tail, "cache-full eviction", why=5):
            return


def remove(w: World, ctx: int, c: int, who: str, why: int = 1) -> bool:
    """`remove_session_lock(ctx, c)`: drop the cached object under `c`'s key (which may be
    another object); mark `c` (the argument) not resumable, found or not. An empty id does
    nothing at all."""
    refcount.use(w, c, f"{who} reads the session id of", holder=_cache(ctx))
    if has_empty_id(w, c):
        return False
    found = lookup(w, ctx, c, who)
    if found:
        _unlink(w, ctx, found, who)
        w.set(NCACHED(ctx), w.get(NCACHED(ctx)) - 1)
    _mark_not_resumable(w, c, why)
    if w.get(REMOVE_CB(ctx)):
        # L852-856: the callback gets `c` (borrowed, found or not), then the cache's reference goes.
        queue_callback(w, ctx, c, found)
    elif found:
        refcount.release(w, found, _cache(ctx), text=f"{obj(ctx)}'s session cache drops {obj(found)}")
    return bool(found)


def flush(w: World, ctx: int, t, who: str) -> None:
    """`SSL_CTX_flush_sessions(ctx, t)`: from the tail, remove sessions while `t == 0` or they
    have expired; stop at the first that has not. Removed sessions become not resumable.
    The remove callbacks run in the walk, under the lock (L1206-1207); the cache's
    references are released only after the walk (L1189-1225: the sessions go on a stack,
    freed at L1225), so every callback of a flush sees every flushed session alive
    (docs/semantics.md §4.6)."""
    flush_all = w.test(w.eq(t, 0))
    flushed = []
    for s in reversed(members(w, ctx)):
        refcount.use(w, s, f"{who} walks {obj(ctx)}'s cache and reads", holder=_cache(ctx))
        if not (flush_all or expired(w, s, t)):
            break
        _unlink(w, ctx, s, who)
        w.set(NCACHED(ctx), w.get(NCACHED(ctx)) - 1)
        _mark_not_resumable(w, s, 5)
        if w.get(REMOVE_CB(ctx)):
            queue_callback(w, ctx, s, 0)
            flushed.append(s)
        else:
            refcount.release(w, s, _cache(ctx), text=f"{who} removes {obj(s)} from {obj(ctx)}'s cache")
    for s in flushed:
        _queue(w, RELEASE, ctx, s, release=s)


def _mark_not_resumable(w: World, s: int, why: int) -> None:
    """`not_resumable = 1`, and why (`handshake.NR_REASONS`), for `stale-session`."""
    if not w.get(NR(s)):
        w.set(NRWHY(s), why)
    w.set(NR(s), True)


# ---- what the library owes the script: callbacks, and the rest of a call ------------------
# The library calls the script's callbacks in the middle of a call. An effect cannot run
# script code, so it queues them: ("pq_n",) entries, each with ("pq", "kind", i):
#   REMOVED      remove_session_cb(ctx, arg), then the cache releases ("pq", "rel", i);
#   RELEASE      the cache releases ("pq", "rel", i), after the remove callbacks of a flush;
#   CTX_END      the end of a context's destruction (its last flush's callbacks are done);
#   NEW_SESSION  new_session_cb(ssl, arg) with the library's +1, then -1 if it returns 0;
#   GET_SESSION  get_session_cb(ssl, id, len, &copy), whose result the next stage reads;
#   STAGE        the rest of a handshake (`handshake.STAGES[code]`), once the callbacks
#                queued before it have run.
# The executor runs the entries in order after the call's step (`Executor._library_callbacks`):
# `begin_queued`, the callback or stage, `finish_queued`.



def queue_callback(w: World, ctx: int, arg: int, release: int) -> None:
    _queue(w, REMOVED, ctx, arg, release=release)


def queue_context_end(w: World, ctx: int) -> None:
    """The callbacks of a context's last flush see it alive; everything else sees it gone."""
    w.set(DYING(ctx), True)
    _queue(w, CTX_END, ctx, 0)


def queue_new_session(w: World, ctx: int, ssl: int, s: int) -> None:
    _queue(w, NEW_SESSION, ctx, s, ssl=ssl)


def queue_get_session(w: World, ctx: int, ssl: int, length) -> None:
    _queue(w, GET_SESSION, ctx, 0, ssl=ssl, length=length)


def queue_stage(w: World, code: int, arg: int, n: int) -> None:
    _queue(w, STAGE, 0, arg, code=code, n=n)


def _queue(w: World, kind: int, ctx: int, arg: int, release: int = 0, ssl: int = 0, length=0, code: int = 0, n: int = 0) -> None:
    if w.get(CBKIND()):
        raise NotModelledError("a callback whose own calls make the library call back into the script",
                               label="this call would run a callback again, inside the callback",
                               help="callbacks run by the library (new/get/remove session) may call OpenSSL, but not "
                               "calls that run the script's callbacks again (a handshake, a cache add or flush): "
                               "nested callbacks are not modelled yet")
    i = w.get(PQ_N())
    # What a remove callback sees of the cache: the count right after its session left it.
    w.set(PQ("count", i), w.get(NCACHED(ctx)) if ctx else 0)
    for field, value in (("kind", kind), ("ctx", ctx), ("arg", arg), ("rel", release), ("ssl", ssl),
                         ("len", length), ("code", code), ("n", n), ("copy", 1), ("ret", 0)):
        w.set(PQ(field, i), value)
    w.set(PQ_N(), i + 1)


def queue_servername(w: World, ctx: int, ssl: int) -> None:
    """The servername callback of `ctx`, on `ssl`; its result goes to HS("sniret", ssl)."""
    _queue(w, SERVERNAME, ctx, 0, ssl=ssl)


def entry_kind(w: World, i: int) -> int:
    return w.value(w.get(PQ("kind", i)))


def begin_queued(w: World, i: int) -> None:
    """Before entry `i`: for a remove callback, the cache as the library leaves it at that
    moment (its count then), and a context being freed still readable (SSL_CTX_free flushes
    before it frees the structure, ssl/ssl_lib.c L3454-3458); for `new_session_cb`, the
    library's extra reference (ssl_lib.c L3764-3765)."""
    kind = entry_kind(w, i)
    if kind in CALLBACK_FIELD:
        w.set(CBSITE("return"), 0)
        w.set(CBSITE("copy"), 0)
        w.set(CBFREED(), 0)
        w.set(CBKIND(), kind)
        w.set(CBARG(), w.value(w.get(PQ("arg", i))))
    if kind == NEW_SESSION:
        s = w.value(w.get(PQ("arg", i)))
        ssl = w.value(w.get(PQ("ssl", i)))
        refcount.use(w, s, "the library up-refs, for `new_session_cb`,", holder=slot_of(ssl))
        refcount.take(w, s, new_cb_of(ssl), f"the library takes a reference to {obj(s)} for `new_session_cb`")
    if kind != REMOVED:
        return
    ctx = w.value(w.get(PQ("ctx", i)))
    w.set(PQ("final", i), w.get(NCACHED(ctx)))
    w.set(NCACHED(ctx), w.get(PQ("count", i)))
    if w.get(DYING(ctx)):
        w.set(ST(ctx), ALIVE)


def callback_of(w: World, i: int):
    """The script function registered for entry `i` (0: none, or not a callback)."""
    kind = entry_kind(w, i)
    field = CALLBACK_FIELD.get(kind)
    if field is None:
        return 0
    return w.get(FIELDS[field](w.value(w.get(PQ("ctx", i)))))


def finish_queued(w: World, i: int) -> None:
    """After entry `i`: the cache drops its reference, the context is gone, or the library
    does what the callback's result asks."""
    w.set(CBKIND(), 0)
    w.set(CBARG(), 0)
    kind = entry_kind(w, i)
    ctx = w.value(w.get(PQ("ctx", i)))
    if kind == CTX_END:
        w.set(DYING(ctx), False)
    elif kind == NEW_SESSION:
        _after_new_session(w, i)
    elif kind == GET_SESSION:
        ssl = w.value(w.get(PQ("ssl", i)))
        w.set(HS("got", ssl), w.get(PQ("ret", i)))
        w.set(HS("copy", ssl), w.get(PQ("copy", i)))
    elif kind == SERVERNAME:
        w.set(HS("sniret", w.value(w.get(PQ("ssl", i)))), w.get(PQ("ret", i)))
    elif kind == REMOVED:
        w.set(NCACHED(ctx), w.get(PQ("final", i)))
        if w.get(DYING(ctx)):
            w.set(ST(ctx), DESTROYED)
        release = w.value(w.get(PQ("rel", i)))
        if release:
            refcount.release(w, release, _cache(ctx), text=f"after the remove callback, {obj(ctx)}'s session cache drops {obj(release)}")
    elif kind == RELEASE:
        release = w.value(w.get(PQ("rel", i)))
        refcount.release(w, release, _cache(ctx), text=f"after the flush's remove callbacks, {obj(ctx)}'s session cache drops {obj(release)}")


def _after_new_session(w: World, i: int) -> None:
    """ssl_lib.c L3764-3768: returning 0 makes the library drop its reference; returning 1
    gives it to the callback, which must keep the session somewhere to free it later."""
    s = w.value(w.get(PQ("arg", i)))
    ssl = w.value(w.get(PQ("ssl", i)))
    freed = w.value(w.get(CBFREED()))
    w.set(CBFREED(), 0)
    if not w.test(w.get(PQ("ret", i))):
        if freed:
            # The callback dropped the library's reference and returned 0: the library drops
            # one more, which another holder counts on (ssl_lib.c L3766-3767).
            w.finding(
                CALLBACK_OWNERSHIP,
                f"the callback releases {obj(s)}, which the library only lent it: {callback_contract(w, NEW_SESSION)}",
                (s,),
                variant=CALLBACK_NEW_FREED_LENT,
                site=freed,
            )
            w.set(LIB(s), w.get(LIB(s)) + 1)
            refcount.release(w, s, new_cb_of(ssl), text=f"the callback then returns 0, and the library drops {obj(s)} again")
            return
        refcount.release(w, s, new_cb_of(ssl), text=f"`new_session_cb` returned 0: the library drops its reference to {obj(s)}")
        return
    if freed:
        w.note(s, f"`new_session_cb` returned 1 after dropping the library's reference to {obj(s)} itself")
        return
    w.set(LIB(s), w.get(LIB(s)) - 1)
    w.set(LOST(s), False)
    w.note(s, f"`new_session_cb` returned 1: the script owns the library's extra reference to {obj(s)}")
    if w.get(ST(s)) != DESTROYED and not reachable(w, s):
        w.set(LOST(s), True)
        w.finding(
            CALLBACK_OWNERSHIP,
            f"`new_session_cb` returned 1, so it owns a reference to {obj(s)}, but it kept the session "
            "nowhere: that reference is never released. Return 1 only after storing the session "
            "(and free it when the store lets go); return 0 if it only serialised it",
            (s,),
            variant=CALLBACK_NEW_KEPT_NOWHERE,
            site=callback_site(w, "return"),
        )

