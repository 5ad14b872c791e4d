#ifndef PHIGATE_CSQLITE_SHIM_H
#define PHIGATE_CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro Swift cannot import: it tells SQLite to copy bound bytes.
static inline sqlite3_destructor_type phigate_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// SQLITE_STATIC, likewise a cast macro: the bound bytes stay valid while SQLite uses them.
static inline sqlite3_destructor_type phigate_sqlite_static(void) {
    return SQLITE_STATIC;
}

/// sqlite3_config is variadic, which Swift cannot call. Turns off SQLite's memory statistics,
/// which take a process-wide mutex around every allocation; nothing in phigate reads them.
/// Only effective before SQLite initializes (the first open); returns SQLITE_MISUSE after.
static inline int phigate_sqlite_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
