// A command-line client loads a PSK session from a file and never frees it (OpenSSL
// apps 2017).
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
    psksess = PEM_read_bio_SSL_SESSION(stmp, NULL, 0, NULL);    //~ leak
    BIO_free(stmp);
    if (psksess == NULL) {
        fprintf(stderr, "Can't read PSK session file %s\n", psksessf);
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !load_psk(argv[1]))
        return 1;
    printf("loaded\n");
    return 0;
}
