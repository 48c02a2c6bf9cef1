/* The `_ex` I/O calls (SSL_read_ex, SSL_peek_ex, SSL_write_ex): their result, and what they
 * leave in *readbytes / *written on success and on failure (a read with nothing there,
 * after the peer's close_notify, before any side is set; a write of 0 bytes, after
 * SSL_shutdown). */
#include "harness.h"

int main(void)
{
    SSL_CTX *sctx = h_server_ctx(), *cctx = h_client_ctx();
    SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
    unsigned char buf[16];
    size_t n = 77;
    h_pair(c, s);
    FACT("read_before_handshake_result", "%d", SSL_read_ex(c, buf, sizeof buf, &n));
    FACT("read_before_handshake_count", "%zu", n);
    h_handshake(c, s);
    n = 77;
    FACT("read_nothing_result", "%d", SSL_read_ex(c, buf, sizeof buf, &n));
    FACT("read_nothing_count", "%zu", n);
    SSL_write(s, "x", 1);
    n = 77;
    FACT("peek_data_result", "%d", SSL_peek_ex(c, buf, sizeof buf, &n));
    FACT("peek_data_count", "%zu", n);
    n = 77;
    FACT("read_data_result", "%d", SSL_read_ex(c, buf, sizeof buf, &n));
    FACT("read_data_count", "%zu", n);
    n = 77;
    FACT("write_zero_result", "%d", SSL_write_ex(c, "abc", 0, &n));
    FACT("write_zero_count", "%zu", n);
    FACT("plain_write_zero_result", "%d", SSL_write(c, "abc", 0));
    SSL_shutdown(s);
    n = 77;
    FACT("read_after_close_notify_result", "%d", SSL_read_ex(c, buf, sizeof buf, &n));
    FACT("read_after_close_notify_count", "%zu", n);
    n = 77;
    FACT("write_result", "%d", SSL_write_ex(c, "abc", 3, &n));
    FACT("write_count", "%zu", n);
    SSL_shutdown(c);
    n = 77;
    FACT("write_after_shutdown_result", "%d", SSL_write_ex(c, "abc", 3, &n));
    FACT("write_after_shutdown_count", "%zu", n);
    SSL *d = SSL_new(cctx);
    n = 77;
    FACT("read_no_side_result", "%d", SSL_read_ex(d, buf, sizeof buf, &n));
    FACT("read_no_side_count", "%zu", n);
    SSL_free(d);
    ERR_clear_error();
    SSL_free(c);
    SSL_free(s);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    h_finish();
    return 0;
}
