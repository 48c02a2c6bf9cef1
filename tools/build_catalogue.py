"""Adds the names of the installed OpenSSL headers that the function catalogue lacks.

    python tools/build_catalogue.py [--check]
    python tools/build_catalogue.py --constants     # rewrite checker/language/constants.toml

The catalogue (`checker/language/catalogue.toml`) is the reviewed data; this tool only
helps to write it. It keeps every existing entry as it is and appends, for each function or
function-like macro of the headers below that has no entry yet, a new entry: the header's
declaration (for a macro, a prototype inferred from what it expands to, marked so), and a
first classification by the rules in `RULES` (name patterns, each with the reason it
cites). A new entry that no rule classifies is `unmodelled` with the reason `unreviewed`,
so that an OpenSSL update can never make an unknown function neutral by accident.
`--check` writes nothing and exits 1 if an entry is missing (the test does the same).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checker.language import cheader  # noqa: E402

try:
    import tomllib  # noqa: E402
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]  # noqa: E402

CATALOGUE = ROOT / "checker" / "language" / "catalogue.toml"
INCLUDE = Path("/usr/include/openssl")
# Every name of these headers is in the catalogue (tests/test_catalogue.py holds it).
FULL_HEADERS = ("ssl.h", "tls1.h", "srtp.h", "sslerr_legacy.h", "err.h", "bio.h")


# ---- classification ---------------------------------------------------------------------
# (pattern on the name, status, reason key, extra fields). The first match wins. Reasons
# are declared once in the catalogue's [reasons] table.

def _names(*names: str) -> str:
    return "^(" + "|".join(names) + ")$"


RULES: list[tuple[str, str, str, dict]] = [
    # -- things that touch what the model tracks: never neutral --
    (_names("SSL_CTX_set_session_id_context", "SSL_set_session_id_context"), "unmodelled", "session-id-context", {}),
    (_names("SSL_set_SSL_CTX"), "unmodelled", "switches-context", {}),
    (_names("SSL_dup"), "unmodelled", "dup-ssl", {}),
    (_names("SSL_CTX_set_psk_use_session_callback", "SSL_set_psk_use_session_callback",
            "SSL_CTX_set_psk_find_session_callback", "SSL_set_psk_find_session_callback"), "unmodelled", "psk-session-callbacks", {}),
    (_names("SSL_CTX_set_generate_session_id", "SSL_set_generate_session_id", "SSL_has_matching_session_id"),
     "unmodelled", "session-ids", {}),
    (_names("SSL_CTX_set_session_ticket_cb", "SSL_CTX_set_tlsext_ticket_key_cb", "SSL_CTX_set_tlsext_ticket_key_evp_cb",
            "SSL_CTX_set_tlsext_ticket_keys", "SSL_CTX_get_tlsext_ticket_keys"), "unmodelled", "ticket-decisions", {}),
    (_names("SSL_set_session_ticket_ext", "SSL_set_session_ticket_ext_cb", "SSL_set_session_secret_cb"),
     "unmodelled", "client-session-hooks", {}),
    (_names("SSL_CTX_set_not_resumable_session_callback", "SSL_set_not_resumable_session_callback"),
     "unmodelled", "not-resumable-callback", {}),
    (_names("SSL_CTX_sessions"), "unmodelled", "cache-internals", {}),
    (_names("SSL_CTX_ctrl", "SSL_ctrl", "SSL_CTX_callback_ctrl", "SSL_callback_ctrl", "BIO_ctrl", "BIO_callback_ctrl",
            "BIO_ptr_ctrl", "BIO_int_ctrl"), "unmodelled", "generic-ctrl", {}),
    (_names("SSL_CTX_set_ssl_version", "SSL_set_ssl_method"), "unmodelled", "method-change", {}),
    (_names("SSL_renegotiate", "SSL_renegotiate_abbreviated", "SSL_new_session_ticket", "SSL_verify_client_post_handshake",
            "SSL_key_update", "SSL_read_early_data",
            "SSL_write_early_data", "SSL_sendfile", "SSL_stateless", "DTLSv1_listen", "DTLSv1_handle_timeout"),
     "unmodelled", "more-io", {}),
    (_names("SSL_CTX_clear_options", "SSL_clear_options", "SSL_set_options"), "unmodelled", "options", {}),
    (_names("SSL_set_min_proto_version", "SSL_set_max_proto_version", "SSL_set_num_tickets"), "unmodelled", "ssl-settings", {}),
    # -- macros that are another modelled call with the same arguments --
    (_names("SSL_set_time"), "modelled", "", {"alias": "SSL_SESSION_set_time"}),
    (_names("SSL_set_timeout"), "modelled", "", {"alias": "SSL_SESSION_set_timeout"}),
    (_names("SSL_get_time"), "modelled", "", {"alias": "SSL_SESSION_get_time"}),
    (_names("SSL_get_timeout"), "modelled", "", {"alias": "SSL_SESSION_get_timeout"}),
    (_names("SSL_cache_hit"), "modelled", "", {"alias": "SSL_session_reused"}),
    (_names("SSL_CONF_cmd", "SSL_CONF_cmd_argv", "SSL_CTX_config", "SSL_config", "SSL_CONF_CTX_finish"), "unmodelled", "config-commands", {}),
    (_names("SSL_CTX_new_ex"), "unmodelled", "ctx-new-ex", {}),
    (_names("SSL_SESSION_set_app_data", "SSL_SESSION_get_app_data"), "unmodelled", "session-app-data", {}),
    (_names("d2i_SSL_SESSION_bio", "PEM_read_bio_SSL_SESSION", "PEM_read_SSL_SESSION"), "modelled", "",
     {"result": "owned", "free": "SSL_SESSION_free", "repro": "none"}),
    (_names("TLSv1_2_method", "TLSv1_2_client_method", "TLSv1_2_server_method"), "modelled", "", {"repro": "unchecked"}),
    (r"^(TLSv1_\w*method|TLSv1_1_\w*method|SSLv3_\w*method|DTLS\w*method)$", "unmodelled", "pinned-methods", {}),
    (_names("BIO_f_ssl", "BIO_new_ssl", "BIO_new_ssl_connect", "BIO_new_buffer_ssl_connect", "BIO_ssl_copy_session_id",
            "BIO_ssl_shutdown", "BIO_set_ssl", "BIO_get_ssl", "BIO_set_ssl_mode", "BIO_set_ssl_renegotiate_bytes",
            "BIO_get_num_renegotiates", "BIO_set_ssl_renegotiate_timeout", "BIO_do_handshake"), "unmodelled", "ssl-bio", {}),
    (_names("SSL_SRP_CTX_free", "SSL_CTX_SRP_CTX_free", "SSL_SRP_CTX_init", "SSL_CTX_SRP_CTX_init",
            "SSL_srp_server_param_with_username", "SRP_Calc_A_param", "SSL_set_srp_server_param",
            "SSL_set_srp_server_param_pw"), "neutral", "srp", {}),
    (_names("SSL_set_session_ticket_ext"), "unmodelled", "client-session-hooks", {}),
    # -- callback registrations: neutral when the callback is inert (see the reason) --
    (r"^(SSL_CTX|SSL)_set_(info_callback|msg_callback|verify|cert_verify_callback|client_cert_cb|cert_cb|"
     r"alpn_select_cb|next_proto_select_cb|next_protos_advertised_cb|keylog_callback|client_hello_cb|"
     r"psk_client_callback|psk_server_callback|tmp_dh_callback|security_callback|ct_validation_callback|"
     r"record_padding_callback|async_callback|allow_early_data_cb|cookie_generate_cb|cookie_verify_cb|"
     r"stateless_cookie_generate_cb|stateless_cookie_verify_cb|default_passwd_cb|srp_username_callback|"
     r"srp_verify_param_callback|srp_client_pwd_callback|tlsext_servername_callback|tlsext_status_cb|"
     r"tlsext_debug_callback)$", "neutral", "callback-registration", {}),
    (r"^(DTLS_set_timer_cb|SSL_CTX_add_client_custom_ext|SSL_CTX_add_server_custom_ext|SSL_CTX_add_custom_ext)$",
     "neutral", "callback-registration", {}),
    (r"^(SSL|SSL_CTX)_get_ex_new_index$|^SSL_SESSION_get_ex_new_index$", "neutral", "ex-index", {}),
    # -- user pointers kept: neutral unless a tracked object is passed --
    (r"^(SSL_set_ex_data|SSL_CTX_set_ex_data|SSL_set_app_data|SSL_CTX_set_app_data|SSL_set0_security_ex_data|"
     r"SSL_CTX_set0_security_ex_data|SSL_CTX_set_default_passwd_cb_userdata|SSL_set_default_passwd_cb_userdata|"
     r"SSL_CTX_set_msg_callback_arg|SSL_set_msg_callback_arg|SSL_CTX_set_record_padding_callback_arg|"
     r"SSL_set_record_padding_callback_arg|SSL_CTX_set_srp_cb_arg|SSL_set_async_callback_arg|SSL_CTX_set_async_callback_arg|"
     r"SSL_CTX_set_tlsext_servername_arg|SSL_CTX_set_tlsext_status_arg|SSL_set_tlsext_debug_arg)$",
     "neutral", "user-data", {}),
    (r"^(SSL_get_ex_data|SSL_CTX_get_ex_data|SSL_get_app_data|SSL_CTX_get_app_data|SSL_get0_security_ex_data|"
     r"SSL_CTX_get0_security_ex_data|SSL_CTX_get_default_passwd_cb_userdata|SSL_get_default_passwd_cb_userdata|"
     r"SSL_CTX_get_record_padding_callback_arg|SSL_get_record_padding_callback_arg|SSL_CTX_get_tlsext_status_arg)$",
     "neutral", "user-data-read", {}),
    # -- reading a connection's session (a use of the slot's session) --
    (_names("SSL_get_current_cipher", "SSL_get_peer_certificate", "SSL_get0_peer_certificate", "SSL_get1_peer_certificate",
            "SSL_get_peer_cert_chain", "SSL_get_psk_identity", "SSL_get_cipher", "SSL_get_cipher_name",
            "SSL_get_cipher_bits", "SSL_get_cipher_version", "SSL_get_shared_ciphers", "SSL_get_time", "SSL_get_timeout",
            "SSL_get_servername", "SSL_get_servername_type", "SSL_get0_peer_scts"),
     "neutral", "reads-slot-session", {"reads_session": True}),
    # -- plain configuration and queries --
    (r"^(SSL_CTX|SSL)_(use|add1?|add0|set0|set1|clear|build|select|get0|get1?)_?\w*(cert|chain|PrivateKey|RSAPrivateKey|"
     r"serverinfo|psk_identity_hint|CA_list|client_CA|certificate|store|cert_and_key|verify_cert_store)\w*$",
     "neutral", "certificates", {}),
    (r"^(SSL_CTX|SSL)_(load_verify|set_default_verify|set_verify_depth|get_verify|set1_param|get0_param|set_purpose|"
     r"set_trust|set1_host|add1_host|set_hostflags|get0_peername|get0_verified_chain|dane_\w+|get0_dane\w*|"
     r"set_verify_result|enable_ct|ct_is_enabled|set_ctlog_list_file|set_default_ctlog_list_file|set0_ctlog_store|"
     r"get0_ctlog_store|check_private_key|certs_clear|get_cert_store|set_cert_store|set1_cert_store|get_client_CA_list|"
     r"set_client_CA_list|get_privatekey|get_certificate|get0_privatekey|get0_certificate|get0_CA_list|set0_CA_list|"
     r"add1_to_CA_list|get0_peer_CA_list|dup_CA_list|disable_ct|set_post_handshake_auth|set_retry_verify)\w*$",
     "neutral", "verification", {}),
    (r"^SSL_(add_file|add_dir|add_store)_cert_subjects_to_stack$|^SSL_load_client_CA_file\w*$|^SSL_dup_CA_list$",
     "neutral", "certificates", {}),
    (r"^(SSL_CTX|SSL)_(set_cipher_list|set_ciphersuites|get_ciphers|get_cipher_list|set1_groups\w*|get1_groups|"
     r"set1_sigalgs\w*|set1_client_sigalgs\w*|set1_client_certificate_types|get0_certificate_types|get_shared_group|"
     r"get_negotiated_group|set_alpn_protos|set_tlsext_use_srtp|get_srtp_profiles|get_selected_srtp_profile|"
     r"set_security_level|get_security_level|get_security_callback|set_tmp_dh|set0_tmp_dh_pkey|set_dh_auto|set_tmp_ecdh|"
     r"set_ecdh_auto|set_tmp_rsa|need_tmp_RSA|set_block_padding|set_max_early_data|get_max_early_data|"
     r"set_recv_max_early_data|get_recv_max_early_data|set_tlsext_max_fragment_length|set_tlsext_status_type|"
     r"get_tlsext_status_type|set_tlsext_status_\w+|get_tlsext_status_\w+|set_srp_\w+|get_srp_\w+|get1_supported_ciphers|"
     r"get_client_ciphers|bytes_to_cipher_list|set_split_send_fragment|set_max_send_fragment|set_max_pipelines|"
     r"set_default_read_buffer_len|set_max_cert_list|get_max_cert_list|set_mode|clear_mode|get_mode|set_read_ahead|"
     r"get_read_ahead|set_default_read_ahead|get_default_read_ahead|set_cert_flags|clear_cert_flags|set_mtu|"
     r"set_purpose|set_debug|set_tlsext_debug_\w+|set_psk_\w+_callback|get_psk_identity_hint|set_client_cert_engine|"
     r"client_hello_\w+|set0_security_ex_data|get0_security_ex_data|set_tmp_rsa_callback|get_num_tickets|"
     r"get_options|get_min_proto_version|get_max_proto_version|get_quiet_shutdown|get_ssl_method|"
     r"get_timeout|get_session_cache_mode|get_info_callback|get_verify_callback|get_default_passwd_cb|"
     r"get_keylog_callback|get0_raw_cipherlist|get0_ec_point_formats|has_client_custom_ext|get_max_early_data|"
     r"set_srp_\w+)$",
     "neutral", "negotiation-config", {}),
    (r"^SSL_client_hello_\w+$|^SSL_get0_(alpn_selected|next_proto_negotiated)$|^SSL_select_next_proto$",
     "neutral", "negotiation-config", {}),
    (r"^SSL_CTX_sess_(accept|accept_good|accept_renegotiate|connect|connect_good|connect_renegotiate|hits|cb_hits|misses|"
     r"timeouts|cache_full)$", "neutral", "cache-statistics", {}),
    (r"^SSL_CTX_sess_get_(new|remove|get)_cb$", "neutral", "callback-getters", {}),
    (r"^SSL_(get_error|want\w*|pending|has_pending|get_state|is_init_finished|in_init|in_before|in_connect_init|"
     r"in_accept_init|is_server|is_dtls|get_version|version|client_version|get_fd|get_rfd|get_wfd|get_rbio|get_wbio|"
     r"get_finished|get_peer_finished|get_client_random|get_server_random|get_early_data_status|get_key_update_type|"
     r"get_default_timeout|get_extms_support|get_secure_renegotiation_support|num_renegotiations|total_renegotiations|"
     r"clear_num_renegotiations|renegotiate_pending|waiting_for_async|get_async_status|get_all_async_fds|"
     r"get_changed_async_fds|get_pending_cipher|get_current_compression|get_current_expansion|get_ex_data_X509_STORE_CTX_idx|"
     r"get_signature_nid|get_peer_signature_nid|get_peer_tmp_key|get_server_tmp_key|get_tmp_key|get_shutdown_state|"
     r"get_SSL_CTX_nothing|session_reused_nothing|get_verify_mode|get_verify_depth|cache_hit|alloc_buffers|free_buffers|"
     r"state_string\w*|rstate_string\w*|alert_\w+_string\w*|group_to_name|get_negotiated_group|trace|test_functions|"
     r"extension_supported|get0_dane_authority|get0_dane_tlsa|get_rbio|get_read_ahead|get_ssl_method)$",
     "neutral", "connection-queries", {}),
    (r"^DTLS_(get_data_mtu|set_link_mtu|get_link_min_mtu)$|^DTLSv1_get_timeout$", "neutral", "connection-queries", {}),
    (r"^SSL_(set_fd|set_rfd|set_wfd|set_bio|set0_rbio|set0_wbio)$", "neutral", "transport", {}),
    (r"^SSL_CIPHER_\w+$|^SSL_COMP_\w+$|^OPENSSL_cipher_name$|^OSSL_default_\w+$", "neutral", "cipher-tables", {}),
    (r"^sk_(SSL_CIPHER|SSL_COMP|SRTP_PROTECTION_PROFILE)_\w+$", "neutral", "stacks", {}),
    (r"^(OPENSSL_init_ssl|SSL_library_init|SSL_load_error_strings|OpenSSL_add_ssl_algorithms|SSLeay_add_ssl_algorithms|"
     r"SSL_add_ssl_module|ERR_load_SSL_strings|SSL_COMP_free_compression_methods)$", "neutral", "initialisation", {}),
    (r"^SSL_CONF_CTX_(new|free|set_flags|clear_flags|set1_prefix|set_ssl|set_ssl_ctx)$|^SSL_CONF_cmd_value_type$",
     "neutral", "config-context", {}),
    (r"^SSL_OP_BIT$|^TLS1_get_version$|^TLS1_get_client_version$", "neutral", "constants", {}),
    (r"^SSL_SESSION_get_max_fragment_length$", "neutral", "session-reader", {}),
    (r"^(PEM_write_bio_SSL_SESSION|PEM_write_SSL_SESSION|i2d_SSL_SESSION_bio)$", "neutral", "session-encoders", {}),
    (r"^SSL_CTX_(get_verify_mode|get_verify_depth|get_quiet_shutdown|get_max_cert_list)$", "neutral", "connection-queries", {}),
    (r"^SSL_get_(verify_callback|info_callback|default_passwd_cb|psk_identity_hint|srp_\w+|security_level|"
     r"max_cert_list|num_tickets|options|min_proto_version|max_proto_version|quiet_shutdown|record_padding\w*|"
     r"max_early_data|recv_max_early_data)$", "neutral", "connection-queries", {}),
    (_names("SSL_CTX_set_current_cert", "SSL_set_current_cert", "SSL_check_chain"), "neutral", "certificates", {}),
    (_names("SSL_export_keying_material", "SSL_export_keying_material_early"), "neutral", "reads-slot-session",
     {"reads_session": True}),
    (_names("SSL_get_peer_signature_type_nid", "SSL_get_signature_type_nid", "SSL_get_sigalgs", "SSL_get_shared_sigalgs"),
     "neutral", "connection-queries", {}),
    # -- libcrypto --
    (r"^ERR_\w+$|^[A-Z0-9_]+err$|^lh_ERR_STRING_DATA_\w+$", "neutral", "error-queue", {}),
    (r"^sk_BIO_\w+$", "neutral", "bio", {}),
    (r"^ossl_bio__attr__$", "neutral", "constants", {}),
    (r"^BIO_\w+$", "neutral", "bio", {}),
]

# Result ownership of pointer results, by naming convention (the tool's guess, reviewed in
# the data): `get0`/`get` lend, `get1`/`new`/`dup` give the caller a reference.
FREE_OF = {"BIO": "BIO_free", "X509": "X509_free", "EVP_PKEY": "EVP_PKEY_free", "SSL_CONF_CTX": "SSL_CONF_CTX_free",
           "char": "OPENSSL_free", "STACK_OF(X509)": "OSSL_STACK_OF_X509_free", "X509_STORE": "X509_STORE_free"}


def classify(name: str) -> tuple[str, str, dict]:
    for pattern, status, reason, extra in RULES:
        if re.search(pattern, name):
            return status, reason, extra
    return "unmodelled", "unreviewed", {}


# ---- macro prototypes ------------------------------------------------------------------------


def _strip(node):
    cast = None
    while node is not None and node.type in ("parenthesized_expression", "cast_expression"):
        if node.type == "cast_expression":
            cast = cast or node.child_by_field_name("type")
            node = node.child_by_field_name("value")
        else:
            node = node.named_children[0] if node.named_children else None
    return node, cast


def infer_macro(params: list[str], body: str, known: dict[str, cheader.Prototype], name: str) -> str | None:
    """A prototype for `name(params)` from the calls its body makes: each parameter takes the
    type of the parameter it is passed to (or of its cast), the result the outer call's."""
    wrapper = f"void __m(void) {{ __r = ({body}); }}"
    tree = cheader._parser().parse(wrapper.encode())
    types: dict[str, str] = {}

    def ctype_text(ct) -> str:
        return f"{'const ' if ct.const else ''}{ct.base}{' ' + '*' * ct.pointers if ct.pointers else ''}"

    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "call_expression":
            fn = node.child_by_field_name("function")
            proto = known.get(fn.text.decode()) if fn is not None else None
            args = node.child_by_field_name("arguments").named_children
            for i, a in enumerate(args):
                inner, cast = _strip(a)
                if inner is not None and inner.type == "identifier" and inner.text.decode() in params:
                    pname = inner.text.decode()
                    if cast is not None:
                        text = cast.text.decode()
                        # `(char *)(parg)` and `(void *)(arg)` only fit a `void *` parameter (ctrl's parg)
                        plain = "(*" in text or re.sub(r"\s", "", text) in ("char*", "void*")
                        types.setdefault(pname, "void *" if plain else text)
                    elif proto is not None and i < len(proto.params):
                        types.setdefault(pname, ctype_text(proto.params[i][0]))
        stack.extend(node.children)
    top = tree.root_node.named_children[0].child_by_field_name("body").named_children[0]
    value = top.named_children[0].child_by_field_name("right")
    value, cast = _strip(value)
    if cast is not None:
        ret = cast.text.decode()
    elif value is None:
        ret = "void"
    elif value.type == "call_expression":
        fn = value.child_by_field_name("function")
        proto = known.get(fn.text.decode())
        if proto is None:
            return None
        ret = ctype_text(proto.ret)
    elif value.type in ("binary_expression", "unary_expression", "number_literal"):
        op = value.child_by_field_name("operator")
        ret = "uint64_t" if op is not None and op.text == b"<<" else "int"
    elif value.type == "conditional_expression":
        ret = "int"
    else:
        ret = "void"
    if any(p not in types for p in params if p != "..."):
        return None
    shown = ", ".join(f"{types[p]}{'' if types[p].endswith('*') else ' '}{p}" for p in params) or "void"
    return f"{ret}{'' if ret.endswith('*') else ' '}{name}({shown});"


# The safestack API (DEFINE_STACK_OF.pod), for the sk_TYPE_op macros.
STACK_OPS = {
    "num": "int {f}(const STACK_OF({t}) *sk);",
    "value": "{e} *{f}(const STACK_OF({t}) *sk, int idx);",
    "new": "STACK_OF({t}) *{f}(sk_{t}_compfunc compare);",
    "new_null": "STACK_OF({t}) *{f}(void);",
    "new_reserve": "STACK_OF({t}) *{f}(sk_{t}_compfunc compare, int n);",
    "reserve": "int {f}(STACK_OF({t}) *sk, int n);",
    "free": "void {f}(const STACK_OF({t}) *sk);",
    "zero": "void {f}(const STACK_OF({t}) *sk);",
    "delete": "{e} *{f}(STACK_OF({t}) *sk, int i);",
    "delete_ptr": "{e} *{f}(STACK_OF({t}) *sk, {e} *ptr);",
    "push": "int {f}(STACK_OF({t}) *sk, const {e} *ptr);",
    "unshift": "int {f}(STACK_OF({t}) *sk, const {e} *ptr);",
    "pop": "{e} *{f}(STACK_OF({t}) *sk);",
    "shift": "{e} *{f}(STACK_OF({t}) *sk);",
    "pop_free": "void {f}(STACK_OF({t}) *sk, sk_{t}_freefunc freefunc);",
    "insert": "int {f}(STACK_OF({t}) *sk, {e} *ptr, int idx);",
    "set": "{e} *{f}(STACK_OF({t}) *sk, int idx, const {e} *ptr);",
    "find": "int {f}(STACK_OF({t}) *sk, const {e} *ptr);",
    "find_ex": "int {f}(STACK_OF({t}) *sk, const {e} *ptr);",
    "find_all": "int {f}(STACK_OF({t}) *sk, const {e} *ptr, int *pnum);",
    "sort": "void {f}(const STACK_OF({t}) *sk);",
    "is_sorted": "int {f}(const STACK_OF({t}) *sk);",
    "dup": "STACK_OF({t}) *{f}(const STACK_OF({t}) *sk);",
    "deep_copy": "STACK_OF({t}) *{f}(const STACK_OF({t}) *sk, sk_{t}_copyfunc copyfunc, sk_{t}_freefunc freefunc);",
    "set_cmp_func": "sk_{t}_compfunc {f}(STACK_OF({t}) *sk, sk_{t}_compfunc compare);",
}
STACK_ELEMENTS = {"SSL_CIPHER": "const SSL_CIPHER"}
LHASH_OPS = {
    "new": "LHASH_OF(ERR_STRING_DATA) *{f}(void *hfn, void *cfn);",
    "free": "void {f}(LHASH_OF(ERR_STRING_DATA) *lh);",
    "flush": "void {f}(LHASH_OF(ERR_STRING_DATA) *lh);",
    "insert": "ERR_STRING_DATA *{f}(LHASH_OF(ERR_STRING_DATA) *lh, ERR_STRING_DATA *ptr);",
    "delete": "ERR_STRING_DATA *{f}(LHASH_OF(ERR_STRING_DATA) *lh, const ERR_STRING_DATA *ptr);",
    "retrieve": "ERR_STRING_DATA *{f}(LHASH_OF(ERR_STRING_DATA) *lh, const ERR_STRING_DATA *ptr);",
    "error": "int {f}(LHASH_OF(ERR_STRING_DATA) *lh);",
    "num_items": "unsigned long {f}(LHASH_OF(ERR_STRING_DATA) *lh);",
    "node_stats_bio": "void {f}(const LHASH_OF(ERR_STRING_DATA) *lh, BIO *out);",
    "node_usage_stats_bio": "void {f}(const LHASH_OF(ERR_STRING_DATA) *lh, BIO *out);",
    "stats_bio": "void {f}(const LHASH_OF(ERR_STRING_DATA) *lh, BIO *out);",
    "get_down_load": "unsigned long {f}(LHASH_OF(ERR_STRING_DATA) *lh);",
    "set_down_load": "void {f}(LHASH_OF(ERR_STRING_DATA) *lh, unsigned long dl);",
    "doall": "void {f}(LHASH_OF(ERR_STRING_DATA) *lh, void *doall);",
}
# Macro prototypes from their manual pages (or, for the compatibility no-ops, what they are).
MANUAL = {
    "SSL_OP_BIT": "uint64_t SSL_OP_BIT(int n);",
    "d2i_SSL_SESSION_bio": "SSL_SESSION *d2i_SSL_SESSION_bio(BIO *bp, SSL_SESSION **s_id);",
    "i2d_SSL_SESSION_bio": "int i2d_SSL_SESSION_bio(BIO *bp, const SSL_SESSION *s_id);",
    "SSL_CTX_need_tmp_RSA": "long SSL_CTX_need_tmp_RSA(SSL_CTX *ctx);",
    "SSL_CTX_set_tmp_rsa": "long SSL_CTX_set_tmp_rsa(SSL_CTX *ctx, void *rsa);",
    "SSL_need_tmp_RSA": "long SSL_need_tmp_RSA(SSL *ssl);",
    "SSL_set_tmp_rsa": "long SSL_set_tmp_rsa(SSL *ssl, void *rsa);",
    "SSL_CTX_set_ecdh_auto": "long SSL_CTX_set_ecdh_auto(SSL_CTX *dummy, int onoff);",
    "SSL_set_ecdh_auto": "long SSL_set_ecdh_auto(SSL *dummy, int onoff);",
    "SSL_CTX_set_tmp_rsa_callback": "void SSL_CTX_set_tmp_rsa_callback(SSL_CTX *ctx, void *cb);",
    "SSL_set_tmp_rsa_callback": "void SSL_set_tmp_rsa_callback(SSL *ssl, void *cb);",
    "SSL_COMP_free_compression_methods": "void SSL_COMP_free_compression_methods(void);",
    "SSL_disable_ct": "void SSL_disable_ct(SSL *s);",
    "SSL_CTX_disable_ct": "void SSL_CTX_disable_ct(SSL_CTX *ctx);",
    "ERR_PUT_error": "void ERR_PUT_error(int l, int f, int r, const char *fn, int ln);",
    "ERR_SYSTEM_ERROR": "int ERR_SYSTEM_ERROR(unsigned long errcode);",
    "ERR_PACK": "unsigned long ERR_PACK(int lib, int func, int reason);",
    "ERR_raise": "void ERR_raise(int lib, int reason);",
    "ERR_put_error": "void ERR_put_error(int lib, int func, int reason, const char *file, int line);",
    "ERR_free_strings": "void ERR_free_strings(void);",
    "BIO_CB_return": "int BIO_CB_return(int a);",
    "BIO_cb_pre": "int BIO_cb_pre(int a);",
    "BIO_cb_post": "int BIO_cb_post(int a);",
    "BIO_set_nbio_accept": "long BIO_set_nbio_accept(BIO *b, int n);",
    "BIO_sock_cleanup": "void BIO_sock_cleanup(void);",
    "ossl_bio__attr__": "void ossl_bio__attr__(int x);",
}


def manual_prototype(name: str, params: list[str]) -> str | None:
    if name in MANUAL:
        return MANUAL[name]
    m = re.fullmatch(r"sk_(\w+?)_(" + "|".join(sorted(STACK_OPS, key=len, reverse=True)) + ")", name)
    if m:
        t = m.group(1)
        return STACK_OPS[m.group(2)].format(f=name, t=t, e=STACK_ELEMENTS.get(t, t))
    m = re.fullmatch(r"lh_ERR_STRING_DATA_(\w+)", name)
    if m and m.group(1) in LHASH_OPS:
        return LHASH_OPS[m.group(1)].format(f=name)
    m = re.fullmatch(r"([A-Z0-9_]+)err", name)
    if m and params == ["f", "r"]:
        return f"void {name}(int f, int r);"
    return None


# ---- constants -------------------------------------------------------------------------------

CONSTANTS = ROOT / "checker" / "language" / "constants.toml"
CONSTANT_HEADERS = ("ssl.h", "tls1.h", "ssl3.h", "prov_ssl.h", "sslerr.h", "x509_vfy.h", "x509.h", "x509v3.h", "bio.h",
                    "err.h", "crypto.h", "pem.h", "evp.h", "ssl2.h", "dtls1.h", "srtp.h", "sslerr_legacy.h", "bioerr.h",
                    "pemerr.h", "x509err.h", "cryptoerr.h", "asn1.h")
_INCLUDES = "".join(f"#include <openssl/{h}>\n" for h in ("ssl.h", "x509v3.h", "pem.h", "err.h"))


def write_constants() -> int:
    """Every object-like macro of CONSTANT_HEADERS that is an integer constant expression,
    with its value and C type as gcc computes them on this machine (x86_64)."""
    import subprocess
    import tempfile

    candidates: list[str] = []
    for h in CONSTANT_HEADERS:
        src = (INCLUDE / h).read_text(encoding="utf-8", errors="replace")
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)[ \t]+\S", src, re.M):
            n = m.group(1)
            if not n[0].isupper() or n.startswith(("HEADER_", "OSSL_DEPRECATED")) or (n.startswith("OPENSSL_") and not n.startswith(("OPENSSL_INIT_", "OPENSSL_VERSION_"))):
                continue
            if n not in candidates:
                candidates.append(n)
    good = list(candidates)
    head = _INCLUDES.count("\n")
    with tempfile.TemporaryDirectory() as tmp:
        c = Path(tmp) / "t.c"
        for _ in range(20):  # drop what is not an integer constant expression until gcc accepts the rest
            c.write_text(_INCLUDES + "".join(f"enum {{ sr_{i} = (long long)({n}) + 0 }};\n" for i, n in enumerate(good)))
            r = subprocess.run(["gcc", "-fsyntax-only", "-w", str(c)], capture_output=True, text=True)
            bad = {int(x) - head - 1 for x in re.findall(r"t\.c:(\d+):", r.stderr)}
            if not bad:
                break
            good = [n for i, n in enumerate(good) if i not in bad]
        types = ", ".join(f"{t}: \"{t}\"" for t in ("int", "unsigned int", "long", "unsigned long", "long long",
                                                         "unsigned long long"))
        prog = "#include <stdio.h>\n" + _INCLUDES + f"#define T(x) _Generic((x), {types}, default: \"int\")\n"
        prog += "int main(void) {\n" + "".join(
            f'  printf("%s %s %lld\\n", "{n}", T({n}), (long long)({n}));\n' for n in good) + "  return 0;\n}\n"
        (Path(tmp) / "p.c").write_text(prog)
        subprocess.run(["gcc", "-w", "-o", str(Path(tmp) / "p"), str(Path(tmp) / "p.c")], check=True)
        out = subprocess.run([str(Path(tmp) / "p")], capture_output=True, text=True, check=True).stdout
    lines = ["# Integer constants of the OpenSSL 3.0 headers, as gcc computes them on x86_64",
             "# (tools/build_catalogue.py --constants). NAME = [value, \"C type\"].", "", "[constants]"]
    for row in out.splitlines():
        name, rest = row.split(" ", 1)
        ctype, value = rest.rsplit(" ", 1)
        if name.startswith("SSL_OP_") and ctype == "unsigned long":
            ctype = "uint64_t"  # SSL_OP_BIT(n) is ((uint64_t)1 << (uint64_t)n)
        lines.append(f'{name} = [{value}, "{ctype}"]')
    CONSTANTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 4} constants written to {CONSTANTS.relative_to(ROOT)}")
    return 0


# ---- writing -----------------------------------------------------------------------------------


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return _toml_string(str(v))


def entry_text(name: str, fields: dict) -> str:
    lines = [f"[fn.{name}]"]
    for k, v in fields.items():
        lines.append(f"{k} = {_value(v)}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--constants", action="store_true")
    args = ap.parse_args()
    if args.constants:
        return write_constants()
    data = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    have = data.get("fn", {})
    callback_types = frozenset(data.get("types", {}).get("callbacks", []))
    names: dict[str, tuple[str, cheader.HeaderName]] = {}
    for header in FULL_HEADERS:
        for n, hn in cheader.header_names(str(INCLUDE / header)).items():
            names.setdefault(n, (header, hn))
    missing = [n for n in names if n not in have]
    if args.check:
        for n in missing:
            print(f"missing: {n} ({names[n][0]})")
        return 1 if missing else 0
    known: dict[str, cheader.Prototype] = {}
    for n, entry in have.items():
        try:
            known[n] = cheader.prototype(entry["prototype"], callback_types)
        except (KeyError, ValueError):
            pass
    for n, (_header, hn) in names.items():
        if hn.kind == "function" and n not in known:
            known[n] = cheader.prototype(hn.text, callback_types)
    # Macros may expand to other macros: infer until nothing more can be.
    macros = {n: names[n][1] for n in missing if names[n][1].kind == "macro"}
    inferred: dict[str, str] = {}
    progress = True
    while progress:
        progress = False
        for n, hn in macros.items():
            if n in inferred:
                continue
            m = re.match(r"(\w+)\(([^)]*)\) ?(.*)", hn.text)
            params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            proto = infer_macro(params, m.group(3) or "0", known, n)
            if proto:
                try:
                    known[n] = cheader.prototype(proto, callback_types)
                except ValueError:
                    continue
                inferred[n] = proto
                progress = True
    out = []
    for n in sorted(missing, key=lambda x: (FULL_HEADERS.index(names[x][0]), names[x][1].line)):
        header, hn = names[n]
        fields: dict = {}
        if hn.kind == "function":
            fields["prototype"] = hn.text
        else:
            m = re.match(r"(\w+)\(([^)]*)\) ?(.*)", hn.text)
            params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            manual = manual_prototype(n, params)
            proto = manual or inferred.get(n)
            fields["prototype"] = proto or f"long {n}({', '.join('long ' + p for p in params) or 'void'});"
            fields["kind"] = "macro"
            fields["expands"] = m.group(3)
            fields["prototype_from"] = "manual" if manual else "expansion" if proto else "guess"
        fields["header"] = header
        status, reason, extra = classify(n)
        fields["status"] = status
        if reason:
            fields["reason"] = reason
        for k, v in extra.items():
            fields[k] = v
        out.append(entry_text(n, fields))
    if out:
        with CATALOGUE.open("a", encoding="utf-8") as f:
            f.write("\n" + "\n".join(out))
    print(f"{len(out)} entries added to {CATALOGUE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
