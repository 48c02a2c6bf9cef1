"""The function catalogue (checker/language/catalogue.toml): complete against the installed
headers, consistent with the model, the one table every consumer reads; and what its three
statuses mean for a verdict."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from sessref.language import ast, cint
from sessref.language.catalogue import CATALOGUE, REASONS, CatalogueError, _load, names
from sessref.language.cheader import header_names, parse_errors
from sessref.language.parser import parse
from sessref.language.prototypes import CALLBACK_SIGNATURES, PROTOTYPES
from sessref.language.resolve import resolve
from sessref.model.api import EFFECTS, EX_IO, io_ex_result
from sessref.model.entry import CALLER_RELEASES
from sessref.solving import Options, check

ROOT = Path(__file__).resolve().parent.parent
INCLUDE = Path("/usr/include/openssl")
# Every name of these installed headers must have an entry (an OpenSSL update that adds
# one fails here, loudly).
FULL_HEADERS = ("ssl.h", "tls1.h", "srtp.h", "sslerr_legacy.h", "err.h", "bio.h")
OBJECTS = ("SSL_SESSION", "SSL", "SSL_CTX")

needs_headers = pytest.mark.skipif(not (INCLUDE / "ssl.h").exists(), reason="install libssl-dev for openssl/ssl.h")


# ---- coverage ----------------------------------------------------------------------------


@needs_headers
def test_ssl_h_parses_completely() -> None:
    # Nothing of the header is skipped by the parser: every declaration is seen.
    assert parse_errors(str(INCLUDE / "ssl.h")) == []
    found = header_names(str(INCLUDE / "ssl.h"))
    functions = [n for n, h in found.items() if h.kind == "function"]
    macros = [n for n, h in found.items() if h.kind == "macro"]
    assert len(functions) > 450 and len(macros) > 200
    # A cross-check that needs no parser: each `NAME(` that starts a line's declaration.
    text = (INCLUDE / "ssl.h").read_text()
    declared = set(re.findall(r"^(?:__owur |OSSL_DEPRECATEDIN_\w+ )*(?:const )?\w+ \*?(SSL_\w+)\(", text, re.M))
    assert declared <= set(found), sorted(declared - set(found))


@needs_headers
@pytest.mark.parametrize("header", FULL_HEADERS)
def test_every_name_of_the_header_is_in_the_catalogue(header: str) -> None:
    found = header_names(str(INCLUDE / header))
    missing = sorted(n for n in found if n not in CATALOGUE)
    assert not missing, f"{header}: not in the catalogue: {missing[:20]} (run tools/build_catalogue.py)"


def test_libcrypto_and_libc_calls_of_session_code() -> None:
    wanted = [
        "ERR_get_error", "ERR_print_errors_fp", "ERR_error_string_n", "ERR_clear_error", "BIO_new", "BIO_free",
        "BIO_s_mem", "BIO_new_file", "BIO_read", "BIO_write", "PEM_read_bio_SSL_SESSION", "PEM_write_bio_SSL_SESSION",
        "d2i_SSL_SESSION_bio", "i2d_SSL_SESSION_bio", "X509_free", "OPENSSL_free", "CRYPTO_free",
        "CRYPTO_get_ex_new_index", "SSL_get_ex_new_index", "SSL_SESSION_get_ex_new_index", "SSL_set_ex_data",
        "SSL_get_ex_data", "memcpy", "memset", "strlen", "malloc", "free", "fprintf", "printf", "snprintf", "time",
    ]
    assert [n for n in wanted if n not in CATALOGUE] == []


@needs_headers
def test_build_tool_finds_nothing_missing() -> None:
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "build_catalogue.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


# ---- the data's shape and the classification rules -------------------------------------------


def test_every_entry_has_a_parsed_prototype_and_a_reason() -> None:
    for name, e in CATALOGUE.items():
        assert e.prototype.name == name
        assert PROTOTYPES[name] is e.prototype
        if not e.modelled:
            assert e.why and e.cite, name


def test_unknown_fields_and_reasons_fail_at_load(tmp_path: Path) -> None:
    head = '[reasons.r]\nstatus = "neutral"\ntext = "t"\n'
    bad = {
        "field": '[fn.f]\nprototype = "int f(void);"\nstatus = "neutral"\nreason = "r"\nowner = "x"\n',
        "reason": '[fn.f]\nprototype = "int f(void);"\nstatus = "neutral"\nreason = "nope"\n',
        "status": '[fn.f]\nprototype = "int f(void);"\nstatus = "safe"\n',
        "mismatch": '[fn.f]\nprototype = "int f(void);"\nstatus = "unmodelled"\nreason = "r"\n',
        "name": '[fn.f]\nprototype = "int g(void);"\nstatus = "modelled"\n',
        "free": '[fn.f]\nprototype = "char *f(void);"\nstatus = "modelled"\nresult = "owned"\n',
    }
    for what, text in bad.items():
        path = tmp_path / f"{what}.toml"
        path.write_text(head + text)
        with pytest.raises(CatalogueError):
            _load(path)


def test_modelled_entries_are_the_model_effects() -> None:
    for name, e in CATALOGUE.items():
        if e.modelled:
            assert e.effect_name in EFFECTS, f"{name} is modelled but model/api.py has no effect {e.effect_name}"
            if e.alias:
                assert CATALOGUE[e.alias].modelled
    assert CALLER_RELEASES.startswith("__sessref_")
    for name in EFFECTS:
        if not name.startswith("__sessref_"):  # sessref's own effects (C entry contexts, helpers)
            assert name in CATALOGUE and CATALOGUE[name].modelled, f"effect {name} has no modelled catalogue entry"


def test_results_and_io_agree_with_the_effects() -> None:
    for name, e in CATALOGUE.items():
        if not e.modelled:
            continue
        effect = EFFECTS[e.effect_name]
        ret = e.prototype.ret
        if ret.pointers == 1 and ret.base in OBJECTS:
            assert e.result in ("owned", "borrowed"), name
        if effect.returns:
            assert e.result == effect.returns, name
        assert e.io == effect.deferred, name


def test_no_neutral_call_returns_or_releases_a_tracked_object() -> None:
    """A neutral call cannot give the script a session, SSL or context (it would have to be
    modelled), and nothing named like a free, an up-ref, a cache or session setter is neutral."""
    reviewed = {  # named like it, but reviewed: what they free is no tracked object
        "SSL_SRP_CTX_free": "ssl/tls_srp.c: frees the SRP parameters of the SSL only",
        "SSL_CTX_SRP_CTX_free": "ssl/tls_srp.c: frees the SRP parameters of the context only",
    }
    risky = re.compile(r"(_free$|up_ref|_add_session|_remove_session|flush_sessions|set_session$|cache_mode|"
                       r"sess_set_|cache_size|set_timeout|set_time$|set1_id|SSL_SESSION_set|get1_session)")
    for name, e in CATALOGUE.items():
        if not e.neutral:
            continue
        ret = e.prototype.ret
        assert not (ret.pointers == 1 and ret.base in OBJECTS), f"neutral {name} returns {ret}"
        takes_tracked = any(t.pointers == 1 and t.base in OBJECTS for t, _ in e.prototype.params)
        if takes_tracked and risky.search(name) and name not in reviewed:
            pytest.fail(f"{name} takes a tracked object and looks like it changes references, yet is neutral")


def test_reasons_are_used_and_consistent() -> None:
    used = {e.reason for e in CATALOGUE.values() if e.reason}
    assert used <= set(REASONS)
    for key, r in REASONS.items():
        assert r["status"] in ("neutral", "unmodelled") and r["text"] and r.get("cite"), key


def test_session_state_changers_are_not_neutral() -> None:
    must_not_be_neutral = [
        "SSL_CTX_set_session_id_context", "SSL_set_session_id_context", "SSL_set_SSL_CTX", "SSL_dup",
        "SSL_CTX_set_psk_use_session_callback", "SSL_CTX_set_psk_find_session_callback", "SSL_CTX_sessions",
        "SSL_CTX_ctrl", "SSL_ctrl", "SSL_CTX_set_generate_session_id", "SSL_CTX_set_session_ticket_cb",
        "SSL_set_session_ticket_ext", "SSL_CTX_clear_options", "SSL_set_options", "SSL_new_session_ticket",
        "SSL_read_ex", "SSL_write_ex", "SSL_CONF_cmd", "SSL_CTX_set_not_resumable_session_callback",
        "SSL_SESSION_set_app_data", "SSL_CTX_set_quiet_shutdown", "BIO_new_ssl_connect", "BIO_get_ssl",
        "SSL_CTX_set_tlsext_ticket_key_cb", "CRYPTO_free_ex_data", "SSL_set_num_tickets",
        "SSL_set_min_proto_version", "SSL_set_tlsext_host_name",
    ]
    assert [n for n in must_not_be_neutral if CATALOGUE[n].neutral] == []


# ---- consumers derive their tables from it ----------------------------------------------------


def test_consumer_tables_come_from_the_catalogue() -> None:
    from sessref import execute, fixes, repro

    assert set(repro.TLS_CALLS) == names(io=True)
    assert sorted(repro.TLS_CALLS.values()) == list(range(len(repro.TLS_CALLS)))
    assert repro.ALLOCATORS == names(allocates=True) and repro.ALLOCATORS
    assert repro._METHODS == names(repro="unchecked") and "TLS_method" in repro._METHODS
    assert set(execute._QUEUEING) == names(io=True) | {n for n, e in CATALOGUE.items() if e.registers}
    assert set(execute._CALLBACK_KINDS.values()) == set(CALLBACK_SIGNATURES)
    assert set(fixes.FREES.values()) == {"SSL_SESSION_free", "SSL_free", "SSL_CTX_free"}
    for kind, free in fixes.FREES.items():  # one free function per kind of object
        frees = {e.free for e in CATALOGUE.values()
                 if e.modelled and e.result == "owned" and e.prototype.ret.base == kind and e.prototype.ret.pointers == 1}
        assert frees == {free}, (kind, frees)
    assert set(fixes.BORROWING_GETTERS) == {"SSL_get_session", "SSL_get0_session"}


def _called(text: str) -> set[str]:
    program = parse(text, "g.sess")
    own = {f.name for f in program.items if isinstance(f, ast.FuncDef)}
    return {c.func for c in ast.walk(program.items) if isinstance(c, ast.Call)} - own


def test_generator_calls_only_what_the_catalogue_marks() -> None:
    from sessref.generate import generate_script

    used: set[str] = set()
    for seed in range(60):
        used |= _called(generate_script(seed))
    assert used <= names(generator=True), sorted(used - names(generator=True))


@pytest.mark.slow
def test_generator_uses_every_call_the_catalogue_marks() -> None:
    from sessref.generate import generate_script

    used: set[str] = set()
    for seed in range(400):
        used |= _called(generate_script(seed))
    assert used == names(generator=True), (sorted(used - names(generator=True)), sorted(names(generator=True) - used))


# ---- what the statuses mean for a verdict ------------------------------------------------------


def _verdict(text: str):
    program = parse(text, "t.sess")
    resolve(program)
    v = check(program, Options(timeout_ms=20_000))
    # what the report's notes say of each unmodelled call reached, after the reason's names
    return replace(v, reason=v.reason + " " + " ".join(c.describe() for c in v.unmodelled))


PRELUDE = "SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());\nSSL *ssl = SSL_new(ctx);\n"


def test_an_unmodelled_call_makes_the_verdict_unknown() -> None:
    v = _verdict(PRELUDE + "SSL_renegotiate(ssl);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unknown"
    assert "`SSL_renegotiate` (line 3) is not modelled" in v.reason and "handshake" in v.reason
    assert not v.vacuous


def test_an_unmodelled_call_on_one_branch_only_still_blocks_safe() -> None:
    v = _verdict(PRELUDE + "if (*) { SSL_renegotiate(ssl); }\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unknown" and "SSL_renegotiate" in v.reason


def test_an_unreachable_unmodelled_call_does_not_matter() -> None:
    v = _verdict(PRELUDE + "if (ssl == NULL) { SSL_renegotiate(ssl); }\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "safe"


def test_findings_before_an_unmodelled_call_are_reported() -> None:
    v = _verdict(PRELUDE + "SSL_free(ssl);\nSSL_free(ssl);\nSSL_renegotiate(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unsafe" and [cx.rule.name for cx in v.counterexamples] == ["double-free"]


def test_unknown_exit_code_and_report(tmp_path: Path) -> None:
    path = tmp_path / "u.sess"
    path.write_text(PRELUDE + "SSL_renegotiate(ssl);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    r = subprocess.run([sys.executable, "-m", "sessref", "check", str(path)], capture_output=True, text=True)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "`SSL_renegotiate` (line 3) is not modelled" in r.stdout
    assert "no path reaches the end" not in r.stdout


def test_neutral_calls_cost_no_step() -> None:
    from sessref.solving import replay

    base = PRELUDE + "SSL_free(ssl);\nSSL_CTX_free(ctx);\n"
    neutral = PRELUDE + "ERR_clear_error();\nint n = ERR_get_error();\nfprintf(stderr, \"%d\\n\", n);\n" \
        "SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n"
    steps = []
    for text in (base, neutral):
        program = parse(text, "t.sess")
        resolve(program)
        steps.append(len([s for s in replay(program, {}, Options()).backend.trace]))
    # SSL_CTX_set_mode reads its context (one step); the calls given no object take none.
    assert steps[1] == steps[0] + 1
    assert _verdict(neutral).verdict == "safe"


def test_neutral_calls_read_what_they_are_given() -> None:
    v = _verdict(PRELUDE + "SSL_free(ssl);\nprintf(\"%s\", SSL_get_version(ssl));\nSSL_CTX_free(ctx);\n")
    assert [cx.rule.name for cx in v.counterexamples] == ["use-after-free"]
    # ... except the arguments a call does not always read (declared `untouched`)
    v = _verdict(PRELUDE + "SSL_free(ssl);\nint e = SSL_get_error(ssl, 0);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "safe"
    # ... and the session of an SSL, for the calls that read it (`s->session`)
    v = _verdict(PRELUDE + "SSL_SESSION *s = SSL_SESSION_new();\nSSL_set_session(ssl, s);\nSSL_SESSION_free(s);\n"
                 "SSL_SESSION_free(s);\nSSL_get_current_cipher(ssl);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert ("use-after-free", 7) in [(cx.rule.name, cx.span.line) for cx in v.counterexamples]


def test_neutral_results_and_out_parameters_are_unknown() -> None:
    # Both branches of a neutral result are explored: the leak on the error path is found.
    v = _verdict(PRELUDE + "SSL_SESSION *s = SSL_get1_session(ssl);\nSSL_SESSION *t = SSL_SESSION_new();\n"
                 "if (SSL_CTX_set_cipher_list(ctx, \"HIGH\") != 1) { return; }\n"
                 "SSL_SESSION_free(t);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert "leak" in [cx.rule.name for cx in v.counterexamples]
    # `&len` given to a neutral call: any value afterwards.
    v = _verdict(PRELUDE + "int len = 0;\nSSL_SESSION *t = SSL_SESSION_new();\n"
                 "SSL_get0_alpn_selected(ssl, NULL, &len);\nif (len > 0) { SSL_SESSION_free(t); }\n"
                 "SSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert "leak" in [cx.rule.name for cx in v.counterexamples]


def test_tracked_objects_given_to_untyped_parameters_are_unmodelled() -> None:
    v = _verdict(PRELUDE + "SSL_SESSION *s = SSL_SESSION_new();\nSSL_set_ex_data(ssl, 0, s);\nSSL_SESSION_free(s);\n"
                 "SSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unknown" and "`SSL_set_ex_data`" in v.reason and "may keep or release it" in v.reason
    v = _verdict(PRELUDE + "SSL_SESSION *s = SSL_SESSION_new();\nfree(s);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unknown" and "`free`" in v.reason


def test_callbacks_of_neutral_registrations_must_be_inert() -> None:
    inert = "int verify(int ok, X509_STORE_CTX *x) { return ok; }\n"
    v = _verdict(inert + PRELUDE + "SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "safe"
    busy = "SSL_SESSION *kept;\nvoid info(SSL *s, int where, int ret) { kept = SSL_get1_session(s); }\n"
    v = _verdict(busy + PRELUDE + "SSL_CTX_set_info_callback(ctx, info);\nSSL_free(ssl);\nSSL_CTX_free(ctx);\n")
    assert v.verdict == "unknown" and "callback `info`" in v.reason


# ---- out-parameters: every pointer a modelled function takes is read, written or declared ---


class _Probe:
    """Runs one modelled effect on a context, an SSL and a session (with an id and a cipher)
    and records which arguments it looks at and which `&x` cells it writes."""

    def __init__(self, choices: bool = False) -> None:
        from sessref.concrete import ConcreteBackend, Oracle
        from sessref.execute import Site
        from sessref.model.values import METHOD_ANY, OPAQUE_POINTER, string
        from sessref.model.world import Arg

        self.backend = ConcreteBackend(Oracle({}, default_bool=choices))  # choices: every `w.choose` taken
        self.state = self.backend.initial()
        self.site = self.backend.sites.intern(Site(ast.Span("probe", 1, 1, 1, 1), (), "probe"))
        from sessref.model import api

        self.api = api
        self.step(api.start, [])
        ctx = self.step(EFFECTS["SSL_CTX_new"].run, [Arg(METHOD_ANY, "method")])
        ssl = self.step(EFFECTS["SSL_new"].run, [Arg(ctx, "ctx")])
        s = self.step(EFFECTS["SSL_SESSION_new"].run, [])
        self.step(EFFECTS["SSL_SESSION_set1_id"].run, [Arg(s, "s"), Arg(string(0), '"id"'), Arg(2, "2")])
        self.step(EFFECTS["SSL_SESSION_set_cipher"].run, [Arg(s, "s"), Arg(OPAQUE_POINTER, "cipher")])
        self.objects = {"SSL_SESSION": s, "SSL": ssl, "SSL_CTX": ctx}

    def step(self, fn, args):
        state, value = self.backend.step(self.state, fn, args, self.site, [])
        assert state is not None
        self.state = state
        return value

    def null(self, name: str, index: int) -> str:
        """What the effect does when its `index`-th (object) argument is NULL: "crashes" (a
        null-dereference finding), "returns N", or "ignores it"."""
        from sessref.model.values import NULL, OPAQUE_POINTER, function_pointer, string
        from sessref.model.world import Arg

        e = CATALOGUE[name]
        args = []
        for i, (t, pname) in enumerate(e.prototype.params):
            if i == index:
                args.append(Arg(NULL, "NULL"))
            elif t.pointers == 1 and t.base in OBJECTS:
                args.append(Arg(self.objects[t.base], pname))
            elif t.pointers:
                value = string(0) if t.base == "char" else function_pointer(0) if i in e.prototype.function_params else OPAQUE_POINTER
                args.append(Arg(value, pname))
            else:
                args.append(Arg(0x0303 if "version" in pname else 3, pname))
        before = len(self.backend.findings)
        state, value = self.backend.step(self.state, EFFECTS[e.effect_name].run, args, self.site, [])
        if any(f.rule.name == "null-dereference" for f in self.backend.findings[before:]):
            return "crashes"
        if e.prototype.ret.pointers and value == NULL:
            return "returns NULL"
        return f"returns {value}" if isinstance(value, int) and not isinstance(value, bool) else "ignores it"

    def run(self, name: str) -> tuple[set[int], set[int]]:
        from sessref.model.values import OPAQUE_POINTER, function_pointer, string
        from sessref.model.world import Arg

        e = CATALOGUE[name]
        looked: set[int] = set()

        class Recorded(Arg):
            def __getattribute__(self, attr: str):
                if attr in ("value", "address_of"):
                    looked.add(object.__getattribute__(self, "index"))
                return object.__getattribute__(self, attr)

        def arg(i: int, value, text: str, address_of=None) -> Arg:
            a = Recorded(value, text, None, address_of)
            object.__setattr__(a, "index", i)
            return a

        args, cells = [], {}
        for i, (t, pname) in enumerate(e.prototype.params):
            if t.pointers == 1 and t.base in OBJECTS:
                args.append(arg(i, self.objects[t.base], pname))
            elif t.pointers == 2 or (t.pointers == 1 and not t.const and t.base not in
                                     ("char", "void", "BIO", "FILE", "X509", "SSL_CIPHER", "SSL_METHOD", "unsigned char")):
                cell = ("var", "probe", pname, i)  # `&x`: an out-parameter (or d2i's `&s`, i2d's `&p`)
                before = 0 if t.base in OBJECTS else 987654 if t.pointers == 1 else string(77)  # sentinels
                self.state.cells[cell] = before
                cells[i] = (cell, before)
                args.append(arg(i, 1, f"&{pname}", cell))
            elif t.pointers:
                value = string(0) if t.base == "char" else function_pointer(0) if i in e.prototype.function_params else OPAQUE_POINTER
                args.append(arg(i, value, pname))
            else:
                args.append(arg(i, 0x0303 if "version" in pname else 3, pname))
        state, _ = self.backend.step(self.state, EFFECTS[e.effect_name].run, args, self.site, [])
        assert state is not None, f"{name} crashed on valid arguments"
        if name in EX_IO:  # the `_ex` forms write their count after the I/O, on success
            state.cells[("hsret",)] = 5
            state, _ = self.backend.step(state, io_ex_result(name), args, self.site, [])
        written = {i for i, (cell, before) in cells.items() if state.cells.get(cell) != before}
        return looked, written


def test_every_pointer_parameter_of_a_modelled_function_is_read_written_or_declared_untouched() -> None:
    problems = []
    for name, e in sorted(CATALOGUE.items()):
        pointers = [i for i, (t, _) in enumerate(e.prototype.params) if t.pointers]
        if not e.modelled or not pointers:
            continue
        looked, written = _Probe().run(name)
        more_looked, more_written = _Probe(choices=True).run(name)  # the other outcome of each choice
        looked, written = looked | more_looked, written | more_written
        for i in pointers:
            t, pname = e.prototype.params[i]
            # An out-parameter (`unsigned int *len`, `const unsigned char **out`) must be
            # written; any other pointer (an object, a buffer, a callback) read.
            out = t.pointers == 2 or (t.pointers == 1 and not t.const and cint.int_type(t.base) is not None)
            used = i in written if out else (i in looked or i in written)
            if not used and pname not in e.untouched:
                problems.append(f"{name}: `{pname}` is not {'written' if out else 'read or written'} by the effect: "
                                "declare it `untouched` (with why) or model it")
            if used and pname in e.untouched:
                problems.append(f"{name}: `{pname}` is declared untouched, but the effect uses it")
        assert set(e.untouched) <= {p for _, p in e.prototype.params}, name
    assert not problems, "\n".join(problems)


def test_out_parameters_are_written() -> None:
    # The calls the issue names write their out-parameters (a false "safe" otherwise).
    for name, out in (("SSL_SESSION_get_id", "len"), ("SSL_SESSION_get0_id_context", "len"),
                      ("SSL_SESSION_get0_alpn_selected", "alpn"), ("SSL_SESSION_get0_alpn_selected", "len"),
                      ("SSL_SESSION_get0_ticket", "tick"), ("i2d_SSL_SESSION", "pp"), ("d2i_SSL_SESSION", "a")):
        e = CATALOGUE[name]
        index = next(i for i, (_, p) in enumerate(e.prototype.params) if p == out)
        _, written = _Probe(choices=True).run(name)  # d2i: decoding succeeds
        assert index in written, f"{name} does not write `{out}`"


def test_null_behaviour_is_the_models() -> None:
    """Each modelled call's `null` says what it does with a NULL session, SSL or context, as
    measured on 3.0.19 (README "Checked against the real library") and modelled."""
    problems = []
    for name, e in sorted(CATALOGUE.items()):
        if not e.modelled or e.alias:
            continue
        objects = [i for i, (t, _) in enumerate(e.prototype.params) if t.pointers == 1 and t.base in OBJECTS]
        for i in objects:
            pname = e.prototype.params[i][1]
            found = _Probe().null(name, i)
            declared = e.null_args.get(pname)
            if declared != found:
                problems.append(f"{name}: NULL `{pname}` {found}, the catalogue says {declared!r}")
    assert not problems, "\n".join(problems)
