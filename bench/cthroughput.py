"""Throughput of `sessref check FILE.c`: a generated 5,000-line C file with 20 session
functions (each with struct storage, log macros, untracked arithmetic, a switch, a loop and
a cleanup label around its session calls), checked end to end (parse, lower, entry
contexts, solve, report).

    python bench/cthroughput.py              # 5,000 lines, 20 functions
    python bench/cthroughput.py --lines 20000 --functions 40
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = """#include <string.h>
#include <openssl/ssl.h>

typedef SSL_SESSION app_session_t;
typedef struct app_conn {
    SSL *ssl;
    app_session_t *saved;
    int fd;
    long bytes;
    char name[64];
} app_conn_t;

#define APP_LOG(c, fmt, ...) app_log((c)->fd, __FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define APP_CLEAR(p) do { SSL_SESSION_free(p); (p) = NULL; } while (0)
"""


def function(i: int, filler: int) -> str:
    body = []
    for k in range(filler):
        body.append(f"    stats[{k % 8}] += c->bytes * {k + 1} - (long)strlen(c->name);")
        if k % 10 == 0:
            body.append(f'    APP_LOG(c, "step {k} of {i}: %ld", stats[{k % 8}]);')
    filler_text = "\n".join(body)
    return f"""
int app_session_step_{i}(app_conn_t *c, int mode)
{{
    long stats[8] = {{0}};
    SSL_SESSION *fresh = NULL;
    int rc = -1;

{filler_text}
    switch (mode) {{
    case 0:
        APP_LOG(c, "plain");
        break;
    case 1:
        c->bytes = 0;
        /* fall through */
    default:
        APP_LOG(c, "other");
    }}
    for (int r = 0; r < 3; r++) {{
        if (stats[r] < 0)
            goto out;
    }}
    fresh = SSL_get1_session(c->ssl);
    if (fresh == NULL)
        goto out;
    APP_CLEAR(c->saved);
    c->saved = fresh;
    fresh = NULL;
    rc = 0;
out:
    SSL_SESSION_free(fresh);
    return rc;
}}
"""


def generate(lines: int, functions: int) -> str:
    per = max((lines - HEADER.count("\n")) // functions - 38, 1)
    filler = int(per / 1.1)
    text = HEADER + "".join(function(i, filler) for i in range(functions))
    return text


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=5000)
    parser.add_argument("--functions", type=int, default=20)
    args = parser.parse_args()
    from sessref.cli import check_file
    from sessref.solving import Options

    text = generate(args.lines, args.functions)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.c"
        path.write_text(text)
        started = time.perf_counter()
        report = check_file(path, Options(), fixes=False)
        seconds = time.perf_counter() - started
    print(f"{text.count(chr(10))} lines, {args.functions} session functions: {report.verdict} "
          f"({len(report.findings)} finding(s)) in {seconds:.2f} s")
    return 0 if report.verdict == "safe" else 1


if __name__ == "__main__":
    raise SystemExit(main())
