"""The library rule behind each finding (`= note:`) and the fix (`help:`)."""

from __future__ import annotations

from .model.rules import Rule

_NOTES: dict[str, tuple[str, ...]] = {
    "use-after-free": (
        "an object is destroyed when its last reference is released; every pointer to it "
        "then dangles (SSL_SESSION_free.pod: \"these failures may also appear delayed\")",
    ),
    "double-free": (
        "each reference is released exactly once: by the script for the references it owns, "
        "by the library for the ones its holders own (an `SSL`'s slot at `SSL_free`, a cache at "
        "flush or `SSL_CTX_free`)",
    ),
    "dangling-reference": (
        "a holder that still points at an object does not keep it alive unless it owns a reference; "
        "the crash comes later, when that holder touches the object",
    ),
    "leak": (
        "the script owns every reference it creates (`SSL_SESSION_new`, `_dup`, `d2i_`, "
        "`SSL_get1_session`, `_up_ref`, `SSL_new`, `SSL_CTX_new`) and must release each once",
    ),
    "borrowed-free": (
        "`SSL_get_session`/`SSL_get0_session`, `get0_*` calls and callback parameters lend a "
        "pointer without a reference (SSL_get_session.pod, SSL_SESSION_free.pod)",
        "a warning about fragility, not a memory error at this step: the real library runs clean "
        "here (`sessref conform` checks it under valgrind), but the count is now one lower than "
        "its holders believe, and the holder whose reference this was fails when it lets go",
    ),
    "null-dereference": (
        "the library dereferences this argument without checking it for NULL",
    ),
    "cache-corruption": (
        "a session carries the list links and key of one cache: use it with one `SSL_CTX` only, "
        "and do not change its id while it is cached (SSL_set_session.pod, d2i_SSL_SESSION.pod)",
    ),
    "callback-ownership": (
        "the session callbacks have reference contracts (SSL_CTX_sess_set_get_cb.pod, ssl/ssl_lib.c "
        "ssl_update_cache L3764-3768, ssl/ssl_sess.c lookup_sess_in_cache L543-581): `new_session_cb` "
        "gets a reference the library took for it and keeps it only by returning 1; "
        "`get_session_cb`'s `*copy = 0` hands one of the callback's references to the library, "
        "`*copy = 1` makes the library take its own; `remove_session_cb` gets no reference at all",
    ),
    "stale-session": (
        "not a memory error: the library marks a session not resumable when its connection ends "
        "without `SSL_shutdown`, on a fatal alert, when a cache evicts or flushes it, when "
        "`SSL_CTX_remove_session` names it, and after one TLS 1.3 resumption; offering it again "
        "silently costs a full handshake (SSL_get_session.pod, SSL_CTX_sess_set_get_cb.pod)",
    ),
}

_HELP: dict[str, str] = {
    "use-after-free": "keep an owned reference (`SSL_get1_session` or `SSL_SESSION_up_ref`) for as long as you use the object, and release it afterwards",
    "double-free": "release only references you own, once each; set the pointer to NULL after freeing it",
    "dangling-reference": "take a reference of your own before the holder lets go, or do not release a reference you do not own",
    "leak": "release the reference with the matching free call on every path, including early returns",
    "borrowed-free": "use `SSL_get1_session` (which gives you a reference you must free) instead of `SSL_get_session`, or do not free the pointer",
    "null-dereference": "check the pointer for NULL before this call (`SSL_get1_session` returns NULL when the slot is empty; allocation and decoding may fail)",
    "callback-ownership": "in `new_session_cb`, return 1 only after storing the session (free it when the store lets go), else return 0 and do not free it; in `get_session_cb`, set `*copy = 0` only on a reference you hand over (`SSL_SESSION_up_ref` a stored session first); in `remove_session_cb`, never free the session",
    "stale-session": "shut connections down with `SSL_shutdown` before `SSL_free`, keep the newest session (`new_session_cb` in TLS 1.3), and check `SSL_SESSION_is_resumable` before offering a saved session",
    "cache-corruption": "cache a session in one context only; to move it, `SSL_CTX_remove_session` it from the first; decode into a fresh pointer (`d2i_SSL_SESSION(NULL, ...)`)",
}


def advice_for(rule: Rule, message: str) -> tuple[tuple[str, ...], str]:
    """The notes and help for a finding of `rule` whose message is `message`."""
    notes = _NOTES.get(rule.name, ())
    help_text = _HELP.get(rule.name, "")
    if rule.name == "borrowed-free" and "`get0` result" in message:
        notes = notes[:1]
        help_text = "do not free a `get0` result; copy it (`OPENSSL_strdup`, `X509_up_ref`) if it must outlive the session"
    if rule.name == "leak" and "overwritten" in message:
        help_text = "free the old value before assigning a new one"
    if rule.name == "leak" and "out of scope" in message:
        help_text = "free the reference before leaving the scope, or hand it to a holder that outlives it"
    return notes, help_text
