//~ safe
// The fix of 14_psk_file_never_freed_bug.c: the session is freed before exit.
#include <stdio.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

static SSL_SESSION *psksess = NULL;

static int load_psk(const char *psksessf)
{
    BIO *stmp = BIO_new_file(psksessf, "r");

    if (stmp == NULL) {
        fprintf(stderr, "Can't open PSK session file %s\n", psksessf);
        return 0;
    }
    psksess = PEM_read_bio_SSL_SESSION(stmp, NULL, 0, NULL);
    BIO_free(stmp);
    if (psksess == NULL) {
        fprintf(stderr, "Can't read PSK session file %s\n", psksessf);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    int rc = 0;

    if (argc > 1 && !load_psk(argv[1]))
        rc = 1;
    else
        printf("loaded\n");
    SSL_SESSION_free(psksess);
    psksess = NULL;
    return rc;
}
