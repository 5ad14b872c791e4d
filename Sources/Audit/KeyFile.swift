import POSIX

#if canImport(Glibc)
    import Glibc
#endif

/// The audit key files through POSIX's `PrivateFile`, with its failures as `AuditError`s.
enum KeyFile {
    static func readPrivate(path: String) throws(AuditError) -> [UInt8]? {
        try translate { () throws(PrivateFile.Failure) in try PrivateFile.readPrivate(path: path) }
    }

    static func readPublic(path: String) throws(AuditError) -> [UInt8]? {
        try translate { () throws(PrivateFile.Failure) in try PrivateFile.readPublic(path: path) }
    }

    static func publishNew(path: String, contents: [UInt8], mode: mode_t, suffix: String) throws(AuditError) -> Bool {
        try translate { () throws(PrivateFile.Failure) in
            try PrivateFile.publishNew(path: path, contents: contents, mode: mode, temporarySuffix: suffix)
        }
    }

    static func replace(path: String, contents: [UInt8], mode: mode_t) throws(AuditError) {
        try translate { () throws(PrivateFile.Failure) in
            try PrivateFile.replace(path: path, contents: contents, mode: mode)
        }
    }

    private static func translate<T>(_ body: () throws(PrivateFile.Failure) -> T) throws(AuditError) -> T {
        do {
            return try body()
        } catch {
            throw AuditError(
                error.insecure ? .insecureKeyFile : .keyFile, operation: "key file", message: error.message)
        }
    }
}
