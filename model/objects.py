"""The objects of the model, the cells that describe them, and the library's defaults.

Every object (`SSL_SESSION`, `SSL`, `SSL_CTX`) has:
  ("st", o)     UNALLOCATED, ALIVE or DESTROYED
  ("rc", o)     its reference count (`references` in the C structures)
  ("lib", o)    how many of those references library holders own (an `SSL`'s session
                slot, a cache, the two `SSL_CTX` references of an `SSL`); the rest belong
                to the script
  ("site", o)   the step that allocated it (where a leak at the end is reported)
  ("death", o)  the step that destroyed it, ("killer", o) the holder whose release did it
  ("lost", o)   a leak of it was already reported
A session also has ("cached", s) the context whose cache holds it (0: none), its cache key
("ver", s)/("sid", s) (protocol version, session id; sid 0 is the empty id), ("nr", s)
`not_resumable`, ("time", s)/("timeout", s), ("lseq", s) its place among equal expiries,
("host", s) which hostname buffer it has (0: none; each new hostname frees the old
buffer and counts up, ("hostseq", s) the last number used), ("cipher", s) whether it has a
cipher, ("hostfreed", s) whether the script freed its hostname (a `get0` pointer) already.
A session made by a handshake has ("real", s) (a peer knows its keys, so it can resume it)
and ("tick", s) when it carries a ticket; ("nrwhy", s) says why it was marked not resumable.
An `SSL` has ("slot", l) its session, ("ctx", l)/("sctx", l) its two contexts,
("done", l) a completed handshake, ("shut", l) its shutdown flags, ("side", l) client (1) or
server (2) once set, ("proto", l) the negotiated version, ("hit", l) whether it resumed, and
the settings copied from its context at `SSL_new`: ("opts", l), ("minv", l)/("maxv", l),
("ntick", l). A context also has ("goodc", c)/("goods", c), its completed handshakes (for the
automatic flush), and ("issued12", c)/("issued13", c), whether it issued tickets of that
version (only then can a client offer one: the ticket keys are the context's own).
An `SSL_CTX` has ("mode", c), ("size", c), ("timeout", c), ("ncached", c) and its callbacks
("remove_cb", c), ("new_cb", c), ("get_cb", c) (a script function, or 0). The queue of
remove callbacks the library owes the script is described in `cache.py`.
"""

from __future__ import annotations

SESSION = "SSL_SESSION"
SSL = "SSL"
CTX = "SSL_CTX"
KINDS = (SESSION, SSL, CTX)

UNALLOCATED, ALIVE, DESTROYED = 0, 1, 2

# The script's own references: everything not held by a library holder.
SCRIPT = ("script",)
KILLED_BY_LIBRARY = -1


# What the library owes the script in the middle of a call (the queue, described in
# `cache.py`): the kind of each entry ("pq", "kind", i), and the kind of the running
# callback ("cbkind",).
REMOVED, CTX_END, NEW_SESSION, GET_SESSION, STAGE, RELEASE = 1, 2, 3, 4, 5, 6
CALLBACK_FIELD = {REMOVED: "remove_cb", NEW_SESSION: "new_cb", GET_SESSION: "get_cb"}


def slot_of(ssl: int) -> tuple[str, int]:
    return ("slot", ssl)


def ctx_ref_of(ssl: int) -> tuple[str, int]:
    return ("ssl-ctx", ssl)


def session_ctx_ref_of(ssl: int) -> tuple[str, int]:
    return ("ssl-session-ctx", ssl)


# Fields that only ever hold a few plain values on any one path. The encoding keeps each
# object's fields of this kind together, so that after a join it knows which combinations
# of them occur (a destroyed object with count 0, a live one with count 1) instead of
# every combination of their values.
FINITE_FIELDS = frozenset(
    {"st", "rc", "lib", "lost", "site", "death", "killer", "cached", "nr", "lseq",
     "slot", "ctx", "sctx", "done", "shut", "ncached", "method", "host", "hostseq", "cipher", "hostfreed",
     "remove_cb", "new_cb", "get_cb", "dying", "nrwhy", "tick", "real", "origin", "side", "failed", "pend", "peeking", "hit", "proto", "hsafter",
     "opts", "minv", "maxv", "ntick", "goodc", "goods", "issued12", "issued13"}
)

# Defaults, OpenSSL 3.0.
# ssl/ssl_lib.c SSL_CTX_new_ex L3246: session_cache_mode = SSL_SESS_CACHE_SERVER.
DEFAULT_CACHE_MODE = 0x0002
# include/openssl/ssl.h.in L648: SSL_SESSION_CACHE_MAX_SIZE_DEFAULT (1024 * 20).
DEFAULT_CACHE_SIZE = 20480
# ssl/t1_lib.c tls1_default_timeout L102-109: the TLS method default, 7200 s (the manual's 300 is wrong).
DEFAULT_CTX_TIMEOUT = 7200
# ssl/ssl_sess.c SSL_SESSION_new L154: `ss->timeout = 60 * 5 + 4`.
SESSION_NEW_TIMEOUT = 304

CACHE_CLIENT = 0x0001
CACHE_SERVER = 0x0002
CACHE_NO_AUTO_CLEAR = 0x0080
CACHE_NO_INTERNAL_LOOKUP = 0x0100
CACHE_NO_INTERNAL_STORE = 0x0200
CACHE_UPDATE_TIME = 0x0400
SENT_SHUTDOWN = 1
RECEIVED_SHUTDOWN = 2
# include/openssl/ssl.h SSL_OP_NO_TICKET.
OP_NO_TICKET = 1 << 14
# ssl/ssl_lib.c SSL_CTX_new_ex L3366: SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_MIDDLEBOX_COMPAT.
DEFAULT_OPTIONS = 0x00020000 | 0x00100000
# ssl/ssl_lib.c SSL_CTX_new_ex L3399: num_tickets = 2.
DEFAULT_NUM_TICKETS = 2

# time_t is 64 bits; a time + timeout beyond this sets `timeout_ovf` (never expires).
TIME_T_MAX = 2**63 - 1
# The largest values of the C types the library's results have (x86_64 LP64): a value the
# model makes up for a result lies in its type's range (checker/language/cint.py).
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1
ULONG_MAX = 2**64 - 1
# What `time(NULL)` may return: some moment between 2023 and 2033.
CLOCK_RANGE = (1_700_000_000, 2_000_000_000)
