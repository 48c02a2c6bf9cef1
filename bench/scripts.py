"""Generated operation scripts for the benchmark (and for tests that need big inputs)."""

from __future__ import annotations

import random


def straight_line(calls: int, sessions: int = 100, seed: int = 1) -> str:
    """`calls` calls over `sessions` sessions, one context and one connection; safe."""
    rng = random.Random(seed)
    out = [
        "// straight-line benchmark script",
        "SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());",
        "SSL *ssl = SSL_new(ctx);",
    ]
    for i in range(sessions):
        out.append(f"SSL_SESSION *s{i} = SSL_SESSION_new();")
    made = 3 + sessions
    while made < calls - sessions - 2:
        i = rng.randrange(sessions)
        kind = rng.randrange(4)
        if kind == 0:
            out += [f"SSL_SESSION_up_ref(s{i});", f"SSL_SESSION_free(s{i});"]
        elif kind == 1:
            out += [f"SSL_set_session(ssl, s{i});", f"SSL_SESSION_get_time(s{i});"]
        elif kind == 2:
            out += [f"SSL_SESSION *t{made} = SSL_get1_session(ssl);", f"SSL_SESSION_free(t{made});"]
        else:
            out += [f"SSL_SESSION_is_resumable(s{i});", f"SSL_SESSION_get_timeout(s{i});"]
        made += 2
    for i in range(sessions):
        out.append(f"SSL_SESSION_free(s{i});")
    out += ["SSL_free(ssl);", "SSL_CTX_free(ctx);"]
    return "\n".join(out) + "\n"


def branches(k: int, bug: bool = False) -> str:
    """`k` sequential independent `if (*)` branches over `k` sessions sharing one
    connection's slot (2^k paths); with `bug`, the last branch frees a session twice."""
    out = [
        f"// {k} independent branches",
        "SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());",
        "SSL *ssl = SSL_new(ctx);",
    ]
    for i in range(k):
        out.append(f"SSL_SESSION *s{i} = SSL_SESSION_new();")
    for i in range(k):
        out.append(f"if (*) {{ SSL_set_session(ssl, s{i}); }} else {{ SSL_SESSION_up_ref(s{i}); SSL_SESSION_free(s{i}); }}")
    if bug:
        out.append(f"if (*) {{ SSL_SESSION_free(s{k - 1}); }}")
    for i in range(k):
        out.append(f"SSL_SESSION_free(s{i});")
    out += ["SSL_free(ssl);", "SSL_CTX_free(ctx);"]
    return "\n".join(out) + "\n"


def loop() -> str:
    """A `while (*)` loop that keeps a session across connections (safe)."""
    return """// loop benchmark
SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT);
SSL_SESSION *saved = NULL;
while (*) {
    SSL *ssl = SSL_new(ctx);
    if (saved != NULL) {
        SSL_set_session(ssl, saved);
        if (*) SSL_CTX_add_session(ctx, saved);
    }
    SSL_SESSION_free(saved);
    saved = SSL_get1_session(ssl);
    if (saved == NULL) saved = SSL_SESSION_new();
    SSL_free(ssl);
}
SSL_SESSION_free(saved);
SSL_CTX_free(ctx);
"""


def handshake_pairs(n: int) -> str:
    """`n` client/server handshake pairs in one script: a client context that keeps the last
    session for its next connection, and a server context with the internal cache shared by
    every accept, a new-session callback that keeps the latest session (up-ref, returns 1)
    and a remove callback that forgets it. Unpinned protocol; safe."""
    out = [
        "//~ safe",
        f"// {n} client/server handshake pairs: a shared server cache and its callbacks",
        "SSL_SESSION *kept = NULL;",
        "int on_new(SSL *ssl, SSL_SESSION *sess) {",
        "    SSL_SESSION_free(kept);",
        "    kept = sess;",
        "    return 1;",
        "}",
        "void on_remove(SSL_CTX *c, SSL_SESSION *sess) {",
        "    if (sess == kept) {",
        "        SSL_SESSION_free(kept);",
        "        kept = NULL;",
        "    }",
        "}",
        "SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());",
        "SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());",
        "SSL_CTX_sess_set_new_cb(sctx, on_new);",
        "SSL_CTX_sess_set_remove_cb(sctx, on_remove);",
        "SSL_SESSION *saved = NULL;",
    ]
    for i in range(n):
        out += [
            f"SSL *c{i} = SSL_new(cctx);",
            f"if (saved != NULL) SSL_set_session(c{i}, saved);",
            f"if (SSL_connect(c{i}) == 1) {{",
            "    SSL_SESSION_free(saved);",
            f"    saved = SSL_get1_session(c{i});",
            f"    SSL_shutdown(c{i});",
            "}",
            f"SSL_free(c{i});",
            f"SSL *s{i} = SSL_new(sctx);",
            f"if (SSL_accept(s{i}) == 1) {{",
            f"    SSL_read(s{i}, NULL, 0);",
            f"    SSL_shutdown(s{i});",
            "}",
            f"SSL_free(s{i});",
        ]
    out += [
        "SSL_SESSION_free(saved);",
        "SSL_CTX_free(sctx);",
        "SSL_SESSION_free(kept);",
        "SSL_CTX_free(cctx);",
    ]
    return "\n".join(out) + "\n"
