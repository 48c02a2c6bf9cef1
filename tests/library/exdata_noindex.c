/* Session ex_data in a process that never registered a session ex_data index: setting the
 * app data (index 0) works, but copying such a session fails (crypto/ex_data.c
 * CRYPTO_dup_ex_data finds no callbacks for the class), so SSL_SESSION_dup gives NULL.
 * Registering any session index first makes the copy work. */
#include <openssl/ssl.h>
#include <stdio.h>

#define FACT(name, fmt, ...) printf("%s = " fmt "\n", name, __VA_ARGS__)

int main(void)
{
    static char data[] = "app data";
    SSL_SESSION *s = SSL_SESSION_new();
    SSL_SESSION *plain = SSL_SESSION_dup(s);
    FACT("dup_without_ex_data", "%d", plain != NULL);
    FACT("set_app_data_without_index", "%d", SSL_SESSION_set_app_data(s, data));
    FACT("get_app_data_without_index", "%d", SSL_SESSION_get_app_data(s) == data);
    SSL_SESSION *d = SSL_SESSION_dup(s);
    FACT("dup_with_app_data_without_index", "%d", d != NULL);
    int idx = SSL_SESSION_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    FACT("first_index", "%d", idx);
    SSL_SESSION *e = SSL_SESSION_dup(s);
    FACT("dup_with_app_data_after_index", "%d", e != NULL);
    FACT("dup_copies_app_data", "%d", e != NULL && SSL_SESSION_get_app_data(e) == data);
    SSL_SESSION_free(plain);
    SSL_SESSION_free(d);
    SSL_SESSION_free(e);
    SSL_SESSION_free(s);
    return 0;
}
