"""`sessref functions`: the catalogue as text and as JSON that follows its schema, with every
name of the installed `openssl/ssl.h` in it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sessref.language.cheader import header_names

ROOT = Path(__file__).resolve().parent.parent
SSL_H = Path("/usr/include/openssl/ssl.h")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sessref", "functions", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def listing() -> dict:
    r = run("--format", "json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_follows_its_schema(listing: dict) -> None:
    import jsonschema

    schema = json.loads((ROOT / "checker" / "functions.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(listing, schema)
    assert listing["totals"]["all"] == len(listing["functions"]) > 1000


@pytest.mark.skipif(not SSL_H.exists(), reason="install libssl-dev for openssl/ssl.h")
def test_every_name_of_ssl_h_is_listed(listing: dict) -> None:
    listed = {f["name"] for f in listing["functions"]}
    missing = sorted(set(header_names(str(SSL_H))) - listed)
    assert not missing, missing


def test_every_entry_cites_its_source(listing: dict) -> None:
    for f in listing["functions"]:
        assert f["cite"], f["name"]
        if f["status"] != "modelled":
            assert f["why"], f["name"]
    by_name = {f["name"]: f for f in listing["functions"]}
    assert "ssl_sess.c" in by_name["SSL_get1_session"]["cite"]
    assert by_name["SSL_get1_session"]["result"] == "owned" and by_name["SSL_get1_session"]["free"] == "SSL_SESSION_free"
    assert by_name["SSL_connect"]["io"] is True
    assert by_name["SSL_set_SSL_CTX"]["status"] == "modelled"
    assert by_name["SSL_renegotiate"]["status"] == "unmodelled"


def test_text_listing_and_lookups() -> None:
    r = run("SSL_CTX_set_psk_use_session_callback", "SSL_CTX_set_cipher_*")
    assert r.returncode == 0
    assert "SSL_CTX_set_psk_use_session_callback: unmodelled" in r.stdout and "why: needs the TLS 1.3 PSK callbacks" in r.stdout
    assert "SSL_CTX_set_cipher_list: neutral" in r.stdout
    r = run("--status", "unmodelled")
    assert r.returncode == 0 and "SSL_renegotiate" in r.stdout and "SSL_get1_session" not in r.stdout
    r = run("SSL_SESION_free")
    assert r.returncode == 2 and "SSL_SESSION_free" in r.stderr
