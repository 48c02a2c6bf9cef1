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
}

_HELP: dict[str, str] = {
    "use-after-free": "keep an owned reference (`SSL_get1_session` or `SSL_SESSION_up_ref`) for as long as you use the object, and release it afterwards",
    "double-free": "release only references you own, once each; set the pointer to NULL after freeing it",
    "dangling-reference": "take a reference of your own before the holder lets go, or do not release a reference you do not own",
    "leak": "release the reference with the matching free call on every path, including early returns",
    "borrowed-free": "use `SSL_get1_session` (which gives you a reference you must free) instead of `SSL_get_session`, or do not free the pointer",
    "null-dereference": "check the pointer for NULL before this call (`SSL_get1_session` returns NULL when the slot is empty; allocation and decoding may fail)",
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
