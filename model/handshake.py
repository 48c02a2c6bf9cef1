"""Handshakes and I/O from one side's point of view, with an abstract peer.

What the peer does is a choice the solver explores: which protocol version it negotiates,
whether it resumes the session the client offers, what a client offers a server, how many
TLS 1.3 tickets arrive, whether it aborts with a fatal alert. Each choice has a label below;
`sessref.repro` drives a real peer to take the same ones.

The library runs callbacks in the middle of these calls (`new_session_cb`,
`get_session_cb`, `remove_session_cb`). An effect cannot run script code, so a handshake is
cut into *stages* at every callback: a stage does what the library does up to a callback,
queues the callback (see `cache.py`) and, when the library has more to do afterwards,
queues the next stage as a continuation. The executor runs the queue in order.

Sources are OpenSSL 3.0.22: ssl/statem/statem_clnt.c, statem_srvr.c, statem_lib.c,
extensions_srvr.c, ssl/ssl_sess.c and ssl/ssl_lib.c; the facts, with their source lines
and how they were checked, are `docs/semantics.md` §5 (handshakes) and §6 (callbacks).
"""

from __future__ import annotations

from typing import Callable

from . import cache, refs
from .objects import (
    BEGAN,
    CACHE_CLIENT,
    CACHE_NO_AUTO_CLEAR,
    CACHE_NO_INTERNAL_LOOKUP,
    CACHE_NO_INTERNAL_STORE,
    CACHE_SERVER,
    CIPHER,
    CLOCK,
    CTX_OF,
    DEFAULT_CTX_TIMEOUT,
    DONE,
    FAILED,
    FIXV,
    GET_CB,
    GOODC,
    GOODS,
    HIT,
    HOST,
    HOSTSEQ,
    HS,
    HSAFTER,
    HSRET,
    IDSEQ,
    INT_MAX,
    ISSUED12,
    ISSUED13,
    LIB,
    LOST,
    MAXV,
    MINV,
    MODE,
    NEW_CB,
    NR,
    NRWHY,
    NTICK,
    OP_NO_TICKET,
    OPTS,
    ORIGIN,
    PEEKING,
    PEND,
    PQ,
    PQ_N,
    PROTO,
    QUIET,
    RC,
    REAL,
    RECEIVED_SHUTDOWN,
    REMOVE_CB,
    SCTX,
    SENT,
    SENT_SHUTDOWN,
    SESSION,
    SHUT,
    SID,
    SIDCTX,
    SIDE,
    SLOT,
    SNI,
    SNI_CB,
    THOST12,
    THOST13,
    TICK,
    TIME,
    TIMEOUT,
    TSID12,
    TSID13,
    VER,
    VERIFY_PEER,
    VMODE,
    XTICK,
    Holder,
    cache_of,
    handshake_of,
    new_cb_of,
    slot_of,
)
from .refcount import callback_site, reachable
from .rules import (
    CALLBACK_COPY0_ONLY_REFERENCE,
    CALLBACK_COPY0_UNOWNED,
    CALLBACK_COPY_LEFT_1,
    CALLBACK_OWNERSHIP,
    STALE_SESSION,
)
from .sessiondata import copy_ex_data, new_hostname
from .world import World, obj

CLIENT, SERVER = 1, 2
TLS1_2, TLS1_3 = 0x0303, 0x0304
# Session ids the handshake makes (random 32 bytes in the library) are distinct numbers
# from here on; a decoded session may still carry one of them (stored bytes, decoded again).
_HANDSHAKE_IDS = 1 << 40
MAX_TICKETS_PER_READ = 2

# The peer's choices (labels are also what `repro` reads back).
PEER_TLS13 = "the peer negotiates TLS 1.3"
PEER_ABORTS_EARLY = "the peer aborts before its hello"
PEER_RESUMES = "the peer resumes the offered session"
PEER_SENDS_TLS12_TICKET = "the server sends a TLS 1.2 ticket"
PEER_RENEWS_TICKET = "the server renews the ticket"
PEER_NOT_TLS = "the peer does not speak TLS"
PEER_ABORTS = "the peer aborts the handshake with a fatal alert"
CLIENT_OFFERS_TICKET = "the client offers a ticket"
CLIENT_OFFERS_ID = "the client offers a session id"
CLIENT_SENDS_NAME = "the client sends a server name"
SERVER_ACKNOWLEDGES_NAME = "the server acknowledges the server name"
CLIENT_ID_IS_CACHED = "the client's session id is cache entry"
TICKET_ARRIVES = "a TLS 1.3 ticket arrives"
PEER_ALERT_ON_READ = "the peer sends a fatal alert"
DATA_ARRIVES = "application data arrives"
PEER_CLOSES = "the peer's close_notify arrives"
PEER_KNOWS = "the client offered the id of the session the callback returned"
PEER_CERT_REJECTED = "the peer's certificate fails verification"
# Facts of a path the reproducer needs up front (`World.record`).
NEGOTIATED = "the negotiated version"
OFFERED = "the client offers the session"
PEER_HOLDS = "the peer holds"

# Why a session was marked not resumable, for `stale-session` (("nrwhy", s)).
NR_REMOVED, NR_UNCLEAN, NR_SINGLE_USE, NR_ALERT, NR_FLUSHED = 1, 2, 3, 4, 5
NR_REASONS = {
    NR_REMOVED: "`SSL_CTX_remove_session` removed it",
    NR_UNCLEAN: "its connection ended without `SSL_shutdown`, so the bad-session cleanup removed it",
    NR_SINGLE_USE: "a TLS 1.3 session is single use and it resumed a connection already",
    NR_ALERT: "a fatal alert ended its connection",
    NR_FLUSHED: "it was evicted or flushed from a session cache",
}


def handshake_holder(ssl: int) -> Holder:
    return handshake_of(ssl)


def new_cb_holder(ssl: int) -> Holder:
    return new_cb_of(ssl)


# ---- the connection's settings ----------------------------------------------------------


def copy_settings(w: World, ssl: int, ctx: int) -> None:
    """ssl/ssl_lib.c SSL_new L705-713: options, version bounds, ticket count, verify mode,
    quiet shutdown and session id context are copied from the context; changing the context later does not
    change this `SSL`."""
    for field in ("opts", "minv", "maxv", "ntick", "vmode", "sidctx", "quiet", "fixv"):
        w.set((field, ssl), w.get((field, ctx)))
    w.set(SIDE(ssl), 0)
    w.set(BEGAN(ssl), False)
    w.set(SENT(ssl), 0)
    w.set(XTICK(ssl), 0)
    w.set(FAILED(ssl), False)
    w.set(PEND(ssl), False)
    w.set(HIT(ssl), False)
    w.set(PROTO(ssl), 0)
    w.set(SNI(ssl), False)


def _allowed(w: World, ssl: int, version: int) -> bool:
    fixed = w.get(FIXV(ssl))
    if fixed:
        return version == fixed  # `ssl->method` of a one-version method table
    lo, hi = w.get(MINV(ssl)), w.get(MAXV(ssl))
    return (lo == 0 or not w.test(w.lt(version, lo))) and (hi == 0 or not w.test(w.lt(hi, version)))


def _negotiate(w: World, ssl: int) -> int:
    """The version the peer picks among those this side allows (TLS 1.2 and 1.3 modelled)."""
    allowed = [v for v in (TLS1_2, TLS1_3) if _allowed(w, ssl, v)]
    if len(allowed) == 2:
        return TLS1_3 if w.choose(PEER_TLS13) else TLS1_2
    return allowed[0] if allowed else 0


def _fresh_id(w: World) -> int:
    n = w.get(IDSEQ()) + 1
    w.set(IDSEQ(), n)
    return _HANDSHAKE_IDS + n


def _session_timeout(w: World, ssl: int):
    """ssl_get_new_session L469-474: the session context's timeout, or the method's 7200 s."""
    t = w.get(TIMEOUT(w.get(SCTX(ssl))))
    return w.ite(w.eq(t, 0), DEFAULT_CTX_TIMEOUT, t)


def _replace_slot(w: World, ssl: int, new: int, why: str) -> None:
    """The slot takes `new` (count 1, already the slot's) and drops the old session."""
    old = w.get(SLOT(ssl))
    w.set(SLOT(ssl), new)
    w.note(new, f"{obj(ssl)}'s slot takes {obj(new)} ({why})")
    if old:
        refs.release(w, old, slot_of(ssl), text=f"{obj(ssl)}'s slot drops {obj(old)} ({why})")


def _new_session(w: World, ssl: int, why: str, version: int = 0, sid: int = 0) -> int:
    """ssl/ssl_sess.c ssl_get_new_session L458-512: a fresh session in the slot."""
    s = refs.allocate(w, SESSION, holder=slot_of(ssl))
    for field, value in (("cached", 0), ("lseq", 0), ("host", 0), ("hostseq", 0), ("hostfreed", False),
                         ("nr", False), ("nrwhy", 0), ("tick", False), ("real", True)):
        w.set((field, s), value)
    w.set(VER(s), version)
    w.set(SID(s), sid)
    w.set(CIPHER(s), True)
    w.set(TIME(s), w.get(CLOCK()))
    w.set(TIMEOUT(s), _session_timeout(w, ssl))
    w.set(ORIGIN(s), w.get(SCTX(ssl)) if w.get(SIDE(ssl)) == SERVER else 0)
    # ssl_sess.c ssl_get_new_session: the session gets the SSL's context id.
    w.set(SIDCTX(s), w.get(SIDCTX(ssl)))
    _replace_slot(w, ssl, s, why)
    return s


def _dup_into_slot(w: World, ssl: int, why: str) -> int:
    """ssl_session_dup(slot, 0) replaces the slot (tickets): same fields, a new object."""
    src = w.get(SLOT(ssl))
    refs.use(w, src, "the library copies", holder=slot_of(ssl))
    d = refs.allocate(w, SESSION, holder=slot_of(ssl))
    for field in ("ver", "sid", "time", "timeout", "cipher", "tick", "real", "origin", "sidctx"):
        w.set((field, d), w.get((field, src)))
    copy_ex_data(w, d, src)  # ssl_session_dup: CRYPTO_dup_ex_data, the pointers as they are
    for field, value in (("cached", 0), ("lseq", 0), ("hostseq", 0), ("hostfreed", False), ("nr", False), ("nrwhy", 0)):
        w.set((field, d), value)
    w.set(HOST(d), 0)
    if w.get(HOST(src)):
        w.set(HOSTSEQ(d), 1)
        w.set(HOST(d), 1)
    _replace_slot(w, ssl, d, why)
    return d


def resumable(w: World, s: int) -> bool:
    """ssl/ssl_sess.c SSL_SESSION_is_resumable L1106-1114: not marked, and an id or a ticket."""
    return not w.get(NR(s)) and (w.get(TICK(s)) or not cache.has_empty_id(w, s))


# ---- queueing the rest of a call ----------------------------------------------------------
# A stage is `fn(w, ssl, n)`; `_then` runs it now when nothing waits in the queue, else
# queues it behind the callbacks this stage queued.

STAGES: list[Callable[[World, int, int], None]] = []


def stage(fn: Callable[[World, int, int], None]) -> Callable[[World, int, int], None]:
    STAGES.append(fn)
    return fn


def _then(w: World, mark: int, fn: Callable[[World, int, int], None], ssl: int, n: int = 0) -> None:
    if w.get(PQ_N()) > mark:
        cache.queue_stage(w, STAGES.index(fn), ssl, n)
    else:
        fn(w, ssl, n)


def run_stage(w: World, i: int) -> None:
    """Queue entry `i` is a stage: run it."""
    code = w.value(w.get(PQ("code", i)))
    STAGES[code](w, w.value(w.get(PQ("arg", i))), w.value(w.get(PQ("n", i))))


def _result(w: World, value) -> None:
    """The call's return value, read by the executor once the queue is empty."""
    w.set(HSRET(), value)


# ---- the handshake ---------------------------------------------------------------------------


def handshake(w: World, ssl: int, side: int, after: int = -1) -> None:
    """SSL_do_handshake (ssl/ssl_lib.c L3912-3938) on a connection whose side is set; `after`
    is the stage to run once it succeeded (`SSL_read` reading on), if any."""
    if w.get(FAILED(ssl)):
        # statem.c state_machine: a connection in the error state returns -1 at once.
        w.note(ssl, f"{obj(ssl)} failed earlier: the call returns -1")
        _result(w, -1)
        return
    if w.get(DONE(ssl)):
        _result(w, 1)
        if w.get(XTICK(ssl)):
            # SSL_new_session_ticket put the connection back in init: this call writes them.
            w.set(HSAFTER(ssl), after)
            _extra_ticket(w, ssl, 0)
            return
        if after >= 0:
            STAGES[after](w, ssl, 0)
        return
    # The state machine leaves its initial state (SSL_dup no longer copies the SSL), even if
    # the ClientHello cannot be built.
    w.set(BEGAN(ssl), True)
    version = _negotiate(w, ssl)
    if not version:
        w.note(ssl, f"{obj(ssl)} allows no protocol version the model knows: the handshake fails")
        _result(w, -1)
        return
    w.record(NEGOTIATED, version)
    w.set(PROTO(ssl), version)
    w.set(HSAFTER(ssl), after)
    w.set(HS("keys", ssl), True)
    if side == CLIENT:
        _client_hello(w, ssl)
    else:
        _server_hello(w, ssl)


def _certificate_rejected(w: World, ssl: int) -> bool:
    """With SSL_VERIFY_PEER, a full handshake verifies the peer's certificate (a resumed one
    sends none: statem_srvr.c send_certificate_request, statem_clnt.c); it passes or fails as
    the peer chooses, and a failure is a fatal alert after the hello [verified 3.0.19:
    tests/library/settings.c, an untrusted certificate fails the client's handshake]."""
    if w.get(HIT(ssl)) or not w.get(VMODE(ssl)) & VERIFY_PEER:
        return False
    return w.choose(PEER_CERT_REJECTED)


def _fatal_alert(w: World, ssl: int) -> None:
    """ssl/s3_msg.c ssl3_send_alert L57-59 and rec_layer_s3.c L1599-1608 (sent or received):
    `SSL_CTX_remove_session(session_ctx, session)`. The connection is in error: it is "in
    init" again, so `SSL_free` does not treat its session as bad."""
    s = w.get(SLOT(ssl))
    w.note(ssl, f"a fatal alert ends {obj(ssl)}'s connection")
    w.set(DONE(ssl), False)
    w.set(FAILED(ssl), True)
    if s:
        cache.remove(w, w.get(SCTX(ssl)), s, "the fatal alert", why=NR_ALERT)
    _result(w, -1)


def _client_hello(w: World, ssl: int) -> None:
    """statem_clnt.c tls_construct_client_hello L1109-1117: a slot session that is not
    resumable, or of a version this side does not allow, is replaced by a fresh one."""
    s = w.get(SLOT(ssl))
    offered = 0
    if s:
        refs.use(w, s, "the ClientHello reads the session in", holder=slot_of(ssl))
        version_ok = w.test(w.lt(0x0300, w.get(VER(s)))) and _allowed(w, ssl, w.get(VER(s)))
        if resumable(w, s) and version_ok:
            offered = s
        elif w.get(NR(s)):
            why = NR_REASONS.get(w.value(w.get(NRWHY(s))), "it was marked not resumable")
            w.finding(
                STALE_SESSION,
                f"{obj(s)} is offered for resumption but is not resumable ({why}): "
                "the connection does a full handshake",
                (s,),
            )
    if not offered:
        _new_session(w, ssl, "a fresh session for the ClientHello")
    if w.choose(PEER_ABORTS_EARLY):
        if w.choose(PEER_NOT_TLS):
            # "wrong version number": SSLfatal with SSL_AD_NO_ALERT, so no alert and no
            # removal; the session stays resumable [verified 3.0.22].
            w.note(ssl, f"the peer's answer is not TLS: {obj(ssl)}'s handshake fails without an alert")
            w.set(FAILED(ssl), True)
            _result(w, -1)
            return
        _fatal_alert(w, ssl)
        return
    version = w.get(PROTO(ssl))
    mark = w.get(PQ_N())
    if offered and w.get(REAL(offered)) and w.test(w.eq(w.get(VER(offered)), version)) and w.choose(PEER_RESUMES):
        w.set(HIT(ssl), True)
        w.note(offered, f"the server resumes {obj(offered)}: {obj(ssl)}'s slot keeps it")
    else:
        w.set(HIT(ssl), False)
        if offered:
            # L1567-1581: declined; the old session is not marked and stays where it is cached.
            _new_session(w, ssl, "the server declined the offered session")
        s = w.get(SLOT(ssl))
        w.set(VER(s), version)
        if version == TLS1_2:
            # A server that will send a ticket sends an empty id in its ServerHello
            # (ssl_generate_session_id L408-411): the id is SHA-256 of the ticket, when it
            # comes (L2597-2629); otherwise it is the ServerHello's [found by conform: an
            # abort after the ServerHello removed nothing from the cache].
            ticket = not w.get(OPTS(ssl)) & OP_NO_TICKET and w.choose(PEER_SENDS_TLS12_TICKET)
            w.set(HS("ticket", ssl), ticket)
            if not ticket:
                w.set(SID(s), _fresh_id(w))
    # The server's answer to the name is in its ServerHello (TLS 1.2), which arrives before
    # an abort, or in its EncryptedExtensions (TLS 1.3), which do not; both come before its
    # certificate.
    if version == TLS1_2:
        _client_name_acknowledged(w, ssl)
    if w.choose(PEER_ABORTS):
        _fatal_alert(w, ssl)
        return
    if version == TLS1_3:
        _client_name_acknowledged(w, ssl)
    if _certificate_rejected(w, ssl):
        _fatal_alert(w, ssl)
        return
    # A client with SSL_OP_NO_TICKET sends no session_ticket extension, so no TLS 1.2
    # server sends it a ticket (t1_lib.c tls_use_ticket; found by a spec's conform run).
    tickets = version == TLS1_2 and not w.get(OPTS(ssl)) & OP_NO_TICKET
    if version == TLS1_2 and not w.get(HIT(ssl)) and w.get(HS("ticket", ssl)):
        s = w.get(SLOT(ssl))
        w.set(TICK(s), True)
        w.set(SID(s), _fresh_id(w))
    elif tickets and w.get(HIT(ssl)) and w.choose(PEER_RENEWS_TICKET):
        _renew_ticket(w, ssl)
    _then(w, mark, _client_finished, ssl)


def _client_name_acknowledged(w: World, ssl: int) -> None:
    """ssl/statem/extensions_clnt.c tls_parse_stoc_server_name: a client that sent a name
    (`SSL_set_tlsext_host_name`) and did not resume copies it into its new session when the
    server acknowledges it (an OpenSSL server does when its servername callback returns
    SSL_TLSEXT_ERR_OK); a resumed session keeps the hostname it had [verified 3.0.22:
    tests/library/sni_hostname.c]."""
    if w.get(HIT(ssl)) or not w.get(SNI(ssl)):
        return
    if w.choose(SERVER_ACKNOWLEDGES_NAME):
        s = w.get(SLOT(ssl))
        new_hostname(w, s, True)
        w.note(s, f"the server acknowledges the name: {obj(s)} gets a copy of it as its hostname")


def _renew_ticket(w: World, ssl: int) -> None:
    """statem_clnt.c tls_process_new_session_ticket L2493-2520: a ticket in a resumed TLS 1.2
    handshake (a renewed one, or a first one for a session resumed by id [found by `sessref
    conform`: the real server sends one when the client supports tickets]) replaces the
    slot with a copy; with CLIENT mode the old session leaves
    the cache first (marked not resumable, the remove callback runs). The copy is not
    announced: the handshake resumed, so `ssl_update_cache` skips it."""
    old = w.get(SLOT(ssl))
    sctx = w.get(SCTX(ssl))
    refs.use(w, old, "the library copies", holder=slot_of(ssl))
    if w.get(MODE(sctx)) & CACHE_CLIENT:
        cache.remove(w, sctx, old, "the ticket renewal", why=NR_REMOVED)
    s = _dup_into_slot(w, ssl, "the server renewed the ticket")
    w.set(TICK(s), True)
    w.set(SID(s), _fresh_id(w))
    w.set(TIME(s), w.get(CLOCK()))


@stage
def _client_finished(w: World, ssl: int, n: int) -> None:
    """statem_lib.c tls_finish_handshake L1102-1122: TLS 1.3 with CLIENT mode removes the
    session from the cache (single use: a resumed one is marked not resumable); TLS 1.2
    updates the cache. Then `sess_connect_good` counts the handshake."""
    w.set(DONE(ssl), True)
    sctx = w.get(SCTX(ssl))
    s = w.get(SLOT(ssl))
    mark = w.get(PQ_N())
    due = _auto_flush_due(w, sctx, CLIENT)
    if w.get(PROTO(ssl)) == TLS1_3:
        if w.get(MODE(sctx)) & CACHE_CLIENT:
            cache.remove(w, sctx, s, "the TLS 1.3 single-use rule", why=NR_SINGLE_USE)
    else:
        _update_cache(w, ssl, CLIENT, due)
    w.set(GOODC(sctx), w.get(GOODC(sctx)) + 1)
    _result(w, 1)
    _then(w, mark, _after_handshake, ssl)


def _auto_flush_due(w: World, ctx: int, side: int) -> bool:
    """ssl_lib.c ssl_update_cache L3771-3781: every 256th handshake (low 8 bits all set)."""
    count = w.get((GOODC if side == CLIENT else GOODS)(ctx))
    return isinstance(count, int) and count & 0xFF == 0xFF


def _update_cache(w: World, ssl: int, side: int, flush_due: bool) -> None:
    """ssl/ssl_lib.c ssl_update_cache L3711-3782."""
    s = w.get(SLOT(ssl))
    if cache.has_empty_id(w, s) or w.get(NR(s)):
        return
    if side == SERVER and w.get(VMODE(ssl)) & VERIFY_PEER and w.test(w.eq(w.get(SIDCTX(s)), 0)):
        # ssl_update_cache's first test: a server verifying its peer caches no session without a context id
        # (no internal cache entry, no new_session_cb, no automatic flush) [verified 3.0.19:
        # tests/library/sid_ctx.c].
        return
    sctx = w.get(SCTX(ssl))
    mode = w.get(MODE(sctx))
    bit = CACHE_CLIENT if side == CLIENT else CACHE_SERVER
    tls13 = w.get(PROTO(ssl)) == TLS1_3
    if mode & bit and (not w.get(HIT(ssl)) or tls13):
        stores = not tls13 or side == CLIENT or w.get(REMOVE_CB(sctx)) or w.get(OPTS(ssl)) & OP_NO_TICKET
        if not mode & CACHE_NO_INTERNAL_STORE and stores:
            cache.add(w, sctx, s)
        if w.get(NEW_CB(sctx)):
            cache.queue_new_session(w, sctx, ssl, s)
    if not mode & CACHE_NO_AUTO_CLEAR and mode & bit and flush_due:
        cache.queue_stage(w, STAGES.index(_auto_flush), sctx, 0)


@stage
def _auto_flush(w: World, sctx: int, n: int) -> None:
    cache.flush(w, sctx, w.get(CLOCK()), "the automatic flush (every 255 handshakes)")


@stage
def _after_handshake(w: World, ssl: int, n: int) -> None:
    after = w.get(HSAFTER(ssl))
    if after >= 0:
        STAGES[after](w, ssl, 0)


# ---- the server -----------------------------------------------------------------------------


def _server_hello(w: World, ssl: int) -> None:
    """ssl/ssl_sess.c ssl_get_prev_session L603-739: what the client offers decides the lookup."""
    version = w.get(PROTO(ssl))
    sctx = w.get(SCTX(ssl))
    tls13 = version == TLS1_3
    if tls13 and w.get(SLOT(ssl)):
        # L612-616: TLS 1.3 drops the slot before looking at the PSK.
        old = w.get(SLOT(ssl))
        w.set(SLOT(ssl), 0)
        refs.release(w, old, slot_of(ssl), text=f"TLS 1.3: {obj(ssl)}'s slot drops {obj(old)} before the lookup")
    stateful = bool(w.get(OPTS(ssl)) & OP_NO_TICKET)
    issued = w.get((ISSUED13 if tls13 else ISSUED12)(sctx))
    if not stateful and issued and w.choose(CLIENT_OFFERS_TICKET):
        # t1_lib.c tls_decrypt_ticket L1902-1928: a new object, never cached by this step.
        s = refs.allocate(w, SESSION, holder=handshake_holder(ssl))
        for field, value in (("cached", 0), ("lseq", 0), ("host", 0), ("hostseq", 0), ("hostfreed", False),
                             ("nr", False), ("nrwhy", 0), ("tick", False), ("real", True), ("cipher", True)):
            w.set((field, s), value)
        w.set(VER(s), version)
        w.set(SID(s), _fresh_id(w))
        w.set(TIME(s), w.get(CLOCK()))
        w.set(TIMEOUT(s), _session_timeout(w, ssl))
        w.set(ORIGIN(s), sctx)
        # The ticket carries the session's context id: the one of the last ticket of this
        # version (the one the peer offers).
        w.set(SIDCTX(s), w.get((TSID13 if tls13 else TSID12)(sctx)))
        # ... and the session's hostname (i2d_SSL_SESSION encodes it) [verified 3.0.22:
        # tests/library/sni_hostname.c: a ticket resumption without a name has it].
        if w.get((THOST13 if tls13 else THOST12)(sctx)):
            new_hostname(w, s, True)
        w.note(s, f"the client's ticket decrypts to a new session {obj(s)}")
        _consider(w, ssl, s, 0)
        return
    if (tls13 and not stateful) or not w.choose(CLIENT_OFFERS_ID):
        _consider(w, ssl, 0, 0)
        return
    # lookup_sess_in_cache L514-584: the internal cache (same version), then the callback.
    if not w.get(MODE(sctx)) & CACHE_NO_INTERNAL_LOOKUP:
        candidates = [m for m in cache.members(w, sctx) if w.test(w.eq(w.get(VER(m)), version))]
        for k, m in enumerate(candidates):
            if w.choose(f"{CLIENT_ID_IS_CACHED} {k + 1}"):
                w.record(OFFERED, m)
                w.set(HS("keys", ssl), bool(w.get(REAL(m))) and w.get(ORIGIN(m)) == sctx)
                refs.use(w, m, "the server's cache lookup compares the key of", holder=cache_of(sctx))
                refs.take(w, m, handshake_holder(ssl), f"the lookup finds {obj(m)} in {obj(sctx)}'s cache and takes a reference")
                _consider(w, ssl, m, 1)
                return
    w.set(HS("keys", ssl), False)  # an id no session of this context has
    if w.get(GET_CB(sctx)):
        mark = w.get(PQ_N())
        cache.queue_get_session(w, sctx, ssl, w.fresh_int("the offered session id's length", 1, 32))
        _then(w, mark, _after_get_session, ssl)
        return
    _consider(w, ssl, 0, 1)


@stage
def _after_get_session(w: World, ssl: int, n: int) -> None:
    """L543-581: what `get_session_cb` returned, and its `*copy` flag."""

    r = w.value(w.get(HS("got", ssl)))
    copy = w.test(w.get(HS("copy", ssl)))
    sctx = w.get(SCTX(ssl))
    if not r:
        _consider(w, ssl, 0, 1)
        return
    refs.use(w, r, "the library reads the session `get_session_cb` returned,")
    owned_before = w.get(RC(r)) - w.get(LIB(r))
    if not copy:
        # The callback hands over one of its references.
        if owned_before <= 0:
            w.finding(
                CALLBACK_OWNERSHIP,
                f"`get_session_cb` set `*copy = 0`, handing over a reference to {obj(r)}, but the script "
                "owns none: the library will release a reference nobody took",
                (r,),
                variant=CALLBACK_COPY0_UNOWNED,
                site=callback_site(w, "copy"),
            )
        w.set(LIB(r), w.get(LIB(r)) + 1)
        w.note(r, f"`*copy = 0`: the callback's reference to {obj(r)} passes to the library: count {w.get(RC(r))}")
        if owned_before == 1 and reachable(w, r):
            w.finding(
                CALLBACK_OWNERSHIP,
                f"`get_session_cb` set `*copy = 0` on {obj(r)} while the script still keeps it: that "
                "was the script's only reference, and the library releases it when the connection "
                "lets go of the session, so the kept pointer dangles. Up-ref it first, or leave `*copy = 1`",
                (r,),
                variant=CALLBACK_COPY0_ONLY_REFERENCE,
                site=callback_site(w, "copy"),
            )
    if w.get(NR(r)):
        # L548-553: a non-resumable result is ignored; with copy 0 its reference is freed.
        w.note(r, f"{obj(r)} is not resumable: the library ignores it")
        if not copy:
            refs.release(w, r, handshake_holder(ssl))
        _consider(w, ssl, 0, 1)
        return
    if copy:
        refs.take(w, r, handshake_holder(ssl), f"`*copy` is 1: the library takes its own reference to {obj(r)}")
        if owned_before > 0 and not reachable(w, r):
            w.set(LOST(r), True)
            w.finding(
                CALLBACK_OWNERSHIP,
                f"`get_session_cb` returned {obj(r)} with `*copy` left at 1, so the library took its own "
                "reference; the callback's reference is not kept anywhere and is never released. "
                "Set `*copy = 0` to hand it over",
                (r,),
                variant=CALLBACK_COPY_LEFT_1,
                site=callback_site(w, "return"),
            )
    # Whether the client offered this very session's id (so that it has its keys): only a
    # session this context's handshakes made, and not one the internal lookup would have found.
    lookup = not w.get(MODE(sctx)) & CACHE_NO_INTERNAL_LOOKUP
    cached = lookup and any(m == r or cache.same_key(w, m, r) for m in cache.members(w, sctx))
    # The client offers a session of the version being negotiated (a TLS 1.3 lookup sees
    # only the PSK identity) [found by `sessref conform` on a generated script].
    same_version = w.test(w.eq(w.get(VER(r)), w.get(PROTO(ssl))))
    knows = bool(w.get(REAL(r))) and w.get(ORIGIN(r)) == sctx and same_version and not cached and w.choose(PEER_KNOWS)
    w.record(OFFERED, r if knows else 0)
    w.set(HS("keys", ssl), knows)
    mark = w.get(PQ_N())
    if not w.get(MODE(sctx)) & CACHE_NO_INTERNAL_STORE:
        cache.add(w, sctx, r)
    _then(w, mark, _consider_found, ssl, r)


@stage
def _consider_found(w: World, ssl: int, r: int) -> None:
    _consider(w, ssl, r, 1)


def _consider(w: World, ssl: int, found: int, from_cache: int) -> None:
    """ssl_get_prev_session L666-739: a found session is resumed unless its version differs
    or it expired (an expired one found by id leaves the cache); otherwise a new session."""
    sctx = w.get(SCTX(ssl))
    version = w.get(PROTO(ssl))
    mark = w.get(PQ_N())
    accepted = False
    if found and version == TLS1_3 and not w.get(HS("keys", ssl)):
        # extensions_srvr.c tls_parse_ctos_psk L1195-1243: TLS 1.3 checks the PSK binder with
        # the found session's keys before any version or expiry check; a client without them
        # fails the handshake [found by `sessref conform`: a get_session_cb returning another
        # session for a TLS 1.3 ticket].
        w.note(found, f"the client cannot prove it has the keys of {obj(found)} (the PSK binder): the handshake fails")
        refs.release(w, found, handshake_holder(ssl), text=f"the lookup drops its reference to {obj(found)}")
        _fatal_alert(w, ssl)
        return
    if found:
        same_context = w.test(w.eq(w.get(SIDCTX(found)), w.get(SIDCTX(ssl))))
        if not w.test(w.eq(w.get(VER(found)), version)):
            w.note(found, f"{obj(found)} has another protocol version: not resumed")
        elif not same_context:
            # ssl_sess.c ssl_get_prev_session: a session of another session id context is a miss
            # [verified 3.0.19: tests/library/sid_ctx.c].
            w.note(found, f"{obj(found)} belongs to another session id context: not resumed")
        elif w.get(VMODE(ssl)) & VERIFY_PEER and w.test(w.eq(w.get(SIDCTX(ssl)), 0)):
            # ssl_get_prev_session: SSL_VERIFY_PEER without a session id context fails the handshake
            # ("session id context uninitialized") [verified 3.0.19: a ticket resumption].
            w.note(ssl, f"{obj(ssl)} verifies its peer but has no session id context: the handshake fails")
            if version == TLS1_3:
                # The PSK extension already made the found session the slot's: the alert
                # removes it (ssl3_send_alert on s->session), before the lookup's reference goes.
                cache.remove(w, sctx, found, "the fatal alert", why=NR_ALERT)
            _then(w, mark, _context_uninitialized, ssl, found)
            return
        elif cache.expired(w, found, w.get(CLOCK())):
            w.note(found, f"{obj(found)} has expired: not resumed")
            if from_cache:
                cache.remove(w, sctx, found, "the expired-session lookup", why=NR_REMOVED)
        else:
            accepted = True
        if not accepted:
            refs.release(w, found, handshake_holder(ssl), text=f"the lookup drops its reference to {obj(found)}")
    _then(w, mark, _server_resume if accepted else _server_full, ssl, found)


@stage
def _context_uninitialized(w: World, ssl: int, found: int) -> None:
    refs.release(w, found, handshake_holder(ssl), text=f"the lookup drops its reference to {obj(found)}")
    _fatal_alert(w, ssl)


@stage
def _server_resume(w: World, ssl: int, found: int) -> None:
    """L710-717: the slot takes over the lookup's reference; the object is shared with the cache."""
    old = w.get(SLOT(ssl))
    w.set(SLOT(ssl), found)
    w.note(found, f"{obj(ssl)} resumes {obj(found)}: the lookup's reference becomes the slot's")
    if old:
        refs.release(w, old, slot_of(ssl))
    w.set(HIT(ssl), True)
    _server_finish(w, ssl, found)


@stage
def _server_full(w: World, ssl: int, n: int) -> None:
    """ssl_get_new_session(s, 1): a new session; a TLS 1.2 server gives it a 32-byte id only
    when no ticket will be issued (ssl_generate_session_id L408-411)."""
    version = w.get(PROTO(ssl))
    sid = _fresh_id(w) if version == TLS1_2 and w.get(OPTS(ssl)) & OP_NO_TICKET else 0
    _new_session(w, ssl, "a new session for a full handshake", version, sid)
    w.set(HIT(ssl), False)
    _server_finish(w, ssl, 0)


def _server_finish(w: World, ssl: int, n: int) -> None:
    """After the session is chosen, the ClientHello's extensions are finalised: the
    servername callback runs (ssl/statem/extensions.c final_server_name: `s->ctx`'s, else
    `session_ctx`'s; whether or not the client sent a name), with the slot already holding
    the resumed or the new session [verified 3.0.19: after get_session_cb, before
    new_session_cb]. Then the rest of the handshake."""
    w.set(HS("tix", ssl), not w.get(OPTS(ssl)) & OP_NO_TICKET)
    for ctx in (w.get(CTX_OF(ssl)), w.get(SCTX(ssl))):
        if w.get(SNI_CB(ctx)):
            mark = w.get(PQ_N())
            w.set(HS("sniret", ssl), 0)
            cache.queue_servername(w, ctx, ssl)
            _then(w, mark, _after_servername, ssl)
            return
    _server_done(w, ssl, 0)


SNI_OK = 0  # SSL_TLSEXT_ERR_OK
SNI_ALERT_FATAL = 2  # SSL_TLSEXT_ERR_ALERT_FATAL


@stage
def _after_servername(w: World, ssl: int, n: int) -> None:
    """What the servername callback's result and the options it set mean (final_server_name):
    SSL_TLSEXT_ERR_ALERT_FATAL ends the handshake with an alert; a callback that turned
    SSL_OP_NO_TICKET on where tickets were expected cancels the ticket: a TLS 1.2 session
    that was to have one gets an id instead (so it is cached), and a TLS 1.3 server sends no
    ticket at all; turning it off cancels nothing, but gives no TLS 1.2 ticket either
    [verified 3.0.19: tests/library/set_ssl_ctx.c, tests/library/sni_options.c]."""
    if w.test(w.eq(w.get(HS("sniret", ssl)), SNI_ALERT_FATAL)):
        w.note(ssl, "the servername callback returned SSL_TLSEXT_ERR_ALERT_FATAL: the handshake fails")
        _fatal_alert(w, ssl)
        return
    if not w.get(HIT(ssl)) and w.test(w.eq(w.get(HS("sniret", ssl)), SNI_OK)) and w.choose(CLIENT_SENDS_NAME):
        # final_server_name: `sent && ret == SSL_TLSEXT_ERR_OK && !s->hit` stores the
        # client's name in the new session; a resumed one keeps its own (from the cache, the
        # get callback or the ticket) [verified 3.0.22: tests/library/sni_hostname.c].
        s = w.get(SLOT(ssl))
        new_hostname(w, s, True)
        w.note(s, f"the client sent a name and the callback accepted it: {obj(s)} gets it as its hostname")
    before = w.get(HS("tix", ssl))
    now = not w.get(OPTS(ssl)) & OP_NO_TICKET
    w.set(HS("tix", ssl), before and now)
    if before and not now:
        if w.get(PROTO(ssl)) == TLS1_3:
            w.set(NTICK(ssl), 0)
        elif not w.get(HIT(ssl)) and cache.has_empty_id(w, w.get(SLOT(ssl))):
            w.set(SID(w.get(SLOT(ssl))), _fresh_id(w))
    _server_done(w, ssl, 0)


@stage
def _server_done(w: World, ssl: int, n: int) -> None:
    """The client completes the handshake, or aborts it; a resumed session whose keys the
    client does not have (an id it made up, another session from the callback) fails."""
    if w.get(HIT(ssl)) and not w.get(HS("keys", ssl)):
        w.note(ssl, f"the client does not have the keys of the session {obj(ssl)} resumed: the handshake fails")
        _fatal_alert(w, ssl)
        return
    if w.choose(PEER_ABORTS) or _certificate_rejected(w, ssl):
        _fatal_alert(w, ssl)
        return
    w.set(DONE(ssl), True)
    sctx = w.get(SCTX(ssl))
    _result(w, 1)
    if w.get(PROTO(ssl)) == TLS1_3:
        _server_ticket(w, ssl, 0)
        return
    if w.get(HS("tix", ssl)):
        w.set(ISSUED12(sctx), True)
        w.set(TSID12(sctx), w.get(SIDCTX(w.get(SLOT(ssl)))))
        w.set(THOST12(sctx), bool(w.get(HOST(w.get(SLOT(ssl))))))
    s = w.get(SLOT(ssl))
    if not w.get(HIT(ssl)) and not cache.has_empty_id(w, s):
        w.record(PEER_HOLDS, s)
    mark = w.get(PQ_N())
    # statem_lib.c L1095-1101: TLS 1.2 updates the cache at the end; `sess_accept_good` is
    # counted on `s->ctx` after it.
    _update_cache(w, ssl, SERVER, _auto_flush_due(w, sctx, SERVER))
    ctx = w.get(CTX_OF(ssl))
    w.set(GOODS(ctx), w.get(GOODS(ctx)) + 1)
    _then(w, mark, _after_handshake, ssl)


@stage
def _server_ticket(w: World, ssl: int, k: int) -> None:
    """statem_srvr.c tls_construct_new_session_ticket L3937-3947, L4027-4035: each TLS 1.3
    ticket after the first, or after a resumption, goes with a copy of the session; the
    session gets an id, then `ssl_update_cache(SERVER)` runs once per ticket. A resumed
    connection sends one ticket at most (ossl_statem_server_write_transition L524-535)
    [found by `sessref conform`: a resumed TLS 1.3 handshake gave the peer one ticket]."""
    count = w.get(NTICK(ssl))
    if w.get(HIT(ssl)):
        count = w.ite(w.lt(count, 1), count, 1)
    if not w.test(w.lt(k, count)):
        ctx = w.get(CTX_OF(ssl))
        w.set(GOODS(ctx), w.get(GOODS(ctx)) + 1)
        _after_handshake(w, ssl, 0)
        return
    if k > 0 or w.get(HIT(ssl)):
        _dup_into_slot(w, ssl, "a TLS 1.3 ticket goes with a copy of the session")
    _send_ticket(w, ssl)
    mark = w.get(PQ_N())
    _update_cache(w, ssl, SERVER, _auto_flush_due(w, w.get(SCTX(ssl)), SERVER))
    _then(w, mark, _server_ticket, ssl, k + 1)


def _send_ticket(w: World, ssl: int) -> None:
    """The slot's session (a copy, when needed) gets an id and goes out in a ticket."""
    s = w.get(SLOT(ssl))
    w.set(SID(s), _fresh_id(w))
    w.record(PEER_HOLDS, s)
    w.set(SENT(ssl), w.get(SENT(ssl)) + 1)
    sctx = w.get(SCTX(ssl))
    if not w.get(OPTS(ssl)) & OP_NO_TICKET:
        w.set(ISSUED13(sctx), True)
        w.set(TSID13(sctx), w.get(SIDCTX(s)))
        w.set(THOST13(sctx), bool(w.get(HOST(s))))


@stage
def _extra_ticket(w: World, ssl: int, n: int) -> None:
    """The tickets `SSL_new_session_ticket` asked for, written by the next call that runs
    the state machine (`SSL_do_handshake`, `SSL_write`, `SSL_read`...): each as the tickets
    of the handshake, with a copy of the session once a ticket was sent or the connection
    resumed (statem_srvr.c tls_construct_new_session_ticket) [verified 3.0.19:
    tests/library/psk_ticket.c: the slot is replaced and `new_session_cb` runs per ticket]."""
    if not w.get(XTICK(ssl)):
        _after_handshake(w, ssl, 0)
        return
    w.set(XTICK(ssl), w.get(XTICK(ssl)) - 1)
    if w.get(SENT(ssl)) or w.get(HIT(ssl)):
        _dup_into_slot(w, ssl, "a TLS 1.3 ticket goes with a copy of the session")
    _send_ticket(w, ssl)
    mark = w.get(PQ_N())
    _update_cache(w, ssl, SERVER, _auto_flush_due(w, w.get(SCTX(ssl)), SERVER))
    _then(w, mark, _extra_ticket, ssl, 0)


# ---- reading: TLS 1.3 tickets arrive on the client -------------------------------------------


@stage
def _read_on(w: World, ssl: int, n: int) -> None:
    """After the handshake, `SSL_read`/`SSL_peek` process what the peer sent. Data an
    `SSL_peek` left in the buffer comes first, before any record behind it. After the
    peer's close_notify a read returns 0 (ssl_lib.c ssl_read_internal L1828-1831)."""
    if w.get(SHUT(ssl)) & RECEIVED_SHUTDOWN:
        _result(w, 0)
        return
    if w.get(PEND(ssl)):
        _result(w, w.fresh_int("bytes read", 1, INT_MAX))
        w.set(PEND(ssl), w.get(PEEKING(ssl)))
        return
    _read_records(w, ssl, _read_data)


def _read_records(w: World, ssl: int, then: Callable[[World, int, int], None]) -> None:
    """Reading: a TLS 1.3 client first processes the tickets that arrived, then `then`."""
    w.set(HS("then", ssl), STAGES.index(then))
    if w.get(SIDE(ssl)) == CLIENT and w.get(PROTO(ssl)) == TLS1_3:
        _client_ticket(w, ssl, 0)
    else:
        then(w, ssl, 0)


@stage
def _client_ticket(w: World, ssl: int, k: int) -> None:
    """statem_clnt.c tls_process_new_session_ticket L2493-2520, L2597-2629: every TLS 1.3
    ticket replaces the slot with a copy carrying the ticket, then `ssl_update_cache(CLIENT)`."""
    if k >= MAX_TICKETS_PER_READ or not w.choose(f"{TICKET_ARRIVES} ({k + 1})"):
        STAGES[w.value(w.get(HS("then", ssl)))](w, ssl, 0)
        return
    s = _dup_into_slot(w, ssl, "a TLS 1.3 ticket arrived")
    w.set(TICK(s), True)
    w.set(SID(s), _fresh_id(w))
    # L2519-2520: the time is reset; the timeout stays the copied one (the lifetime hint
    # is kept apart, in `ext.tick_lifetime_hint`).
    w.set(TIME(s), w.get(CLOCK()))
    sctx = w.get(SCTX(ssl))
    mark = w.get(PQ_N())
    _update_cache(w, ssl, CLIENT, _auto_flush_due(w, sctx, CLIENT))
    _then(w, mark, _client_ticket, ssl, k + 1)


@stage
def _read_data(w: World, ssl: int, n: int) -> None:
    if w.choose(PEER_ALERT_ON_READ):
        _fatal_alert(w, ssl)
        return
    if w.choose(DATA_ARRIVES):
        _result(w, w.fresh_int("bytes read", 1, INT_MAX))
        w.set(PEND(ssl), w.get(PEEKING(ssl)))  # `SSL_peek` leaves it there
    else:
        _result(w, -1)


@stage
def _write_on(w: World, ssl: int, n: int) -> None:
    """`SSL_write` after the handshake writes everything; after `SSL_shutdown` it fails
    (ssl_lib.c ssl_write_internal L2017-2020)."""
    if w.get(SHUT(ssl)) & SENT_SHUTDOWN:
        _result(w, -1)
        return
    _result(w, w.get(HS("wnum", ssl)))


def shutdown(w: World, ssl: int) -> None:
    """ssl/s3_lib.c ssl3_shutdown L4785-4833: the first call sends close_notify and returns 1
    only if the peer's arrived already; a later call reads (a TLS 1.3 client processes the
    tickets in the way [verified 3.0.22]) and returns 1 once the peer's close_notify came,
    else -1 (want read). With quiet shutdown (L4791-4794) it sends nothing: both flags are
    set and it returns 1 [verified 3.0.22: tests/library/quiet_shutdown.c]."""
    shut = w.get(SHUT(ssl))
    if not w.test(w.eq(w.get(QUIET(ssl)), 0)):
        w.set(SHUT(ssl), SENT_SHUTDOWN | RECEIVED_SHUTDOWN)
        w.note(ssl, f"quiet shutdown: {obj(ssl)} is marked closed without sending close_notify; its session "
               "stays resumable at `SSL_free`")
        _result(w, 1)
        return
    if not shut & SENT_SHUTDOWN:
        w.set(SHUT(ssl), shut | SENT_SHUTDOWN)
        w.note(ssl, f"{obj(ssl)} sends close_notify: its session stays resumable at `SSL_free`")
        _result(w, 1 if shut & RECEIVED_SHUTDOWN else 0)
        return
    if shut & RECEIVED_SHUTDOWN:
        _result(w, 1)
        return
    _read_records(w, ssl, _shutdown_read)


@stage
def _shutdown_read(w: World, ssl: int, n: int) -> None:
    if w.choose(PEER_CLOSES):
        w.set(SHUT(ssl), w.get(SHUT(ssl)) | RECEIVED_SHUTDOWN)
        _result(w, 1)
    else:
        _result(w, -1)


READ_ON = STAGES.index(_read_on)
WRITE_ON = STAGES.index(_write_on)
