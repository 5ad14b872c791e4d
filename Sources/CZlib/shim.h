#ifndef PHIGATE_CZLIB_SHIM_H
#define PHIGATE_CZLIB_SHIM_H

#include <zlib.h>

/// deflateInit2 is a macro that passes the library version and stream size; Swift cannot call it.
static inline int phigate_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// inflateInit2 with window bits 15 + 32: accept gzip or zlib headers.
static inline int phigate_inflate_init_auto(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}

#endif
