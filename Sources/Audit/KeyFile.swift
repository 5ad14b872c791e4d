#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The POSIX file operations behind ``AuditSigningKey``: exclusive creation with a mode,
/// permission checks on the open descriptor, whole-file reads and atomic replacement.
///
/// Errors name the operation and the errno text, never file contents.
enum KeyFile {
    /// The contents of the private key file, or nil when it does not exist.
    ///
    /// The checks run on the opened descriptor (`fstat`), so the file checked is the file read.
    /// Throws `.insecureKeyFile` for a mode with any group/other bit, a non-regular file or
    /// another owner.
    static func readPrivate(path: String) throws(AuditError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT {
                return nil
            }
            throw failure("open the key file", errno: errno)
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw failure("inspect the key file", errno: errno)
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw insecure("the key file is not a regular file")
        }
        guard status.st_uid == geteuid() else {
            throw insecure("the key file is owned by another user")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw insecure("the key file is accessible to group or others; chmod 600 it")
        }
        return try readAll(descriptor)
    }

    /// The contents of a file anyone may read (the public key), or nil when it does not exist.
    static func readPublic(path: String) throws(AuditError) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT {
                return nil
            }
            throw failure("open the public key file", errno: errno)
        }
        defer { close(descriptor) }
        return try readAll(descriptor)
    }

    /// Creates `path` with `mode` (failing if it exists), writes `contents` and syncs it.
    static func createExclusive(path: String, contents: [UInt8], mode: mode_t) throws(AuditError) {
        let flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC
        let descriptor = open(path, flags, mode)
        guard descriptor >= 0 else {
            throw failure("create the key file", errno: errno)
        }
        defer { close(descriptor) }
        try writeAll(descriptor, contents)
        guard fsync(descriptor) == 0 else {
            throw failure("sync the key file", errno: errno)
        }
    }

    /// Writes `contents` to `path` through a temporary file and a rename.
    static func replace(path: String, contents: [UInt8], mode: mode_t) throws(AuditError) {
        let temporary = path + ".tmp-" + String(getpid())
        unlink(temporary)
        try createExclusive(path: temporary, contents: contents, mode: mode)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure("publish the public key file", errno: code)
        }
    }

    /// Flushes a directory so that a new name in it survives a crash; best effort, because
    /// some file systems refuse fsync on directories and the key is already safely written.
    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            return
        }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func readAll(_ descriptor: Int32) throws(AuditError) -> [UInt8] {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR {
                    continue
                }
                throw failure("read the key file", errno: errno)
            }
            if count == 0 {
                return contents
            }
            contents.append(contentsOf: buffer[0..<count])
            guard contents.count <= 64 * 1024 else {
                throw AuditError(
                    .keyFile, operation: "load key", message: "the key file is too large")
            }
        }
    }

    private static func writeAll(_ descriptor: Int32, _ contents: [UInt8]) throws(AuditError) {
        var offset = 0
        while offset < contents.count {
            let count = contents[offset...].withUnsafeBytes {
                write(descriptor, $0.baseAddress, $0.count)
            }
            if count < 0 {
                if errno == EINTR {
                    continue
                }
                throw failure("write the key file", errno: errno)
            }
            offset += count
        }
    }

    static func failure(_ action: String, errno code: Int32) -> AuditError {
        AuditError(
            .keyFile, operation: "key file",
            message: "cannot \(action): " + String(cString: strerror(code)))
    }

    private static func insecure(_ message: String) -> AuditError {
        AuditError(.insecureKeyFile, operation: "load key", message: message)
    }
}
