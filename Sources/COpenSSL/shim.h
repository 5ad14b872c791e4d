#ifndef PHIGATE_COPENSSL_SHIM_H
#define PHIGATE_COPENSSL_SHIM_H

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <string.h>

/// Sets the scrypt parameters on a fetched SCRYPT context and derives `out_len` bytes.
///
/// OSSL_PARAM keeps the key strings and data pointers it is given, so the parameter array is
/// built here on the C stack, where every pointer outlives the EVP_KDF_derive call that reads it.
/// Returns 1 on success and 0 on failure, leaving the reason on the OpenSSL error queue.
static inline int phigate_scrypt_derive(
    EVP_KDF_CTX *ctx,
    const unsigned char *password, size_t password_len,
    const unsigned char *salt, size_t salt_len,
    uint64_t n, uint32_t r, uint32_t p, uint64_t max_memory,
    unsigned char *out, size_t out_len) {
    OSSL_PARAM params[7];
    params[0] = OSSL_PARAM_construct_octet_string(
        OSSL_KDF_PARAM_PASSWORD, (void *)password, password_len);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
    params[2] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
    params[3] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
    params[4] = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
    params[5] = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_memory);
    params[6] = OSSL_PARAM_construct_end();
    return EVP_KDF_derive(ctx, out, out_len, params);
}

/// Limits an SSL_CTX to protocol versions `min_version` through `max_version` (TLS1_2_VERSION
/// and so on; 0 leaves that end open). Returns 1 on success, 0 on failure.
static inline int phigate_ssl_ctx_set_proto_range(SSL_CTX *ctx, int min_version, int max_version) {
    if (SSL_CTX_set_min_proto_version(ctx, min_version) != 1) {
        return 0;
    }
    return SSL_CTX_set_max_proto_version(ctx, max_version) == 1 ? 1 : 0;
}

/// Sets the options phigate uses on every SSL_CTX: no renegotiation, no compression, no session
/// tickets and no session cache (every connection runs a full handshake), and record buffers
/// released while a connection is idle. Servers also choose the cipher in their own order of
/// preference.
static inline void phigate_ssl_ctx_set_phigate_options(SSL_CTX *ctx, int is_server) {
    uint64_t options = SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET;
    if (is_server) {
        options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
    }
    SSL_CTX_set_options(ctx, options);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
}

/// ALPN selection for a server that speaks HTTP/1.1 only: picks "http/1.1" when the client
/// offers it, and otherwise goes on without ALPN (no protocol is acknowledged, the handshake
/// continues), so a client offering only "h2" is not refused at this layer.
static inline int phigate_alpn_select_http11(
    SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl;
    (void)arg;
    static const unsigned char wanted[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned int index = 0;
    while (index < inlen) {
        unsigned int length = in[index];
        if (length == 0 || length > inlen - index - 1) {
            return SSL_TLSEXT_ERR_NOACK;
        }
        if (length == sizeof(wanted) && memcmp(in + index + 1, wanted, sizeof(wanted)) == 0) {
            *out = in + index + 1;
            *outlen = (unsigned char)length;
            return SSL_TLSEXT_ERR_OK;
        }
        index += 1 + length;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

/// Installs `phigate_alpn_select_http11` as the SSL_CTX's ALPN selection callback.
static inline void phigate_ssl_ctx_select_http11(SSL_CTX *ctx) {
    SSL_CTX_set_alpn_select_cb(ctx, phigate_alpn_select_http11, NULL);
}

/// Sends `name` as the server name indication of a client connection. Returns 1 on success.
static inline int phigate_ssl_set_server_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name) == 1 ? 1 : 0;
}

/// Prints `name` into `bio` as an RFC 2253 string, keeping UTF-8 characters as they are.
/// Returns the number of bytes written, or -1 on failure.
static inline int phigate_x509_name_print_rfc2253(BIO *bio, const X509_NAME *name) {
    unsigned long flags = XN_FLAG_RFC2253 & ~(unsigned long)ASN1_STRFLGS_ESC_MSB;
    return X509_NAME_print_ex(bio, name, 0, flags);
}

#endif
