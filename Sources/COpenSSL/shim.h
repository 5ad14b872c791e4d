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

#endif
