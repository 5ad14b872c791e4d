#if canImport(Glibc)
    import Glibc
#endif

/// Key files: created owner-only and atomically, refused when anyone else could read them.
///
/// Used for the audit signing key and the secret-sealing key. Every check is made on the open
/// descriptor (not the path), symbolic links are not followed, and a file is published under
/// its final name with link(2), so a reader never sees a half-written key.
public enum PrivateFile {
    /// Why a key file could not be used. `insecure` means it exists but must not be trusted.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var insecure: Bool
        public var message: String

        public var description: String { message }

        public init(insecure: Bool, message: String) {
            self.insecure = insecure
            self.message = message
        }
    }

    /// The contents of the private file at `path`, or nil when there is none.
    ///
    /// Refuses a file that is not regular, is owned by another user, or has any group or other
    /// permission bit.
    public static func readPrivate(path: String, maxBytes: Int = 64 * 1024) throws(Failure) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("open \(path)")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw failure("inspect \(path)") }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw Failure(insecure: true, message: "\(path) is not a regular file")
        }
        guard status.st_uid == geteuid() else {
            throw Failure(insecure: true, message: "\(path) is owned by another user")
        }
        guard status.st_mode & 0o077 == 0 else {
            throw Failure(insecure: true, message: "\(path) is accessible to group or others; chmod 600 it")
        }
        return try readAll(descriptor, path: path, maxBytes: maxBytes)
    }

    /// The contents of a file anyone may read (a public key), or nil when there is none.
    public static func readPublic(path: String, maxBytes: Int = 64 * 1024) throws(Failure) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw failure("open \(path)")
        }
        defer { close(descriptor) }
        return try readAll(descriptor, path: path, maxBytes: maxBytes)
    }

    /// Writes `contents` to a new file at `path` with `mode`, failing if anything exists there.
    public static func createExclusive(path: String, contents: [UInt8], mode: mode_t) throws(Failure) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure("create \(path)") }
        defer { close(descriptor) }
        var offset = 0
        while offset < contents.count {
            let count = contents[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("write \(path)")
            }
            offset += count
        }
        guard fsync(descriptor) == 0 else { throw failure("sync \(path)") }
    }

    /// Publishes `contents` at `path` only if no file is there yet: written under a temporary
    /// name, then linked into place. Returns false when another writer got there first.
    public static func publishNew(path: String, contents: [UInt8], mode: mode_t, temporarySuffix: String)
        throws(Failure) -> Bool
    {
        let temporary = path + ".tmp-" + temporarySuffix
        try createExclusive(path: temporary, contents: contents, mode: mode)
        defer { unlink(temporary) }
        if link(temporary, path) != 0 {
            guard errno == EEXIST else { throw failure("publish \(path)") }
            return false
        }
        syncDirectory(containing: path)
        return true
    }

    /// Replaces the file at `path` atomically (write a temporary file, rename over).
    public static func replace(path: String, contents: [UInt8], mode: mode_t) throws(Failure) {
        let temporary = path + ".tmp-" + String(getpid())
        unlink(temporary)
        try createExclusive(path: temporary, contents: contents, mode: mode)
        guard rename(temporary, path) == 0 else {
            let error = failure("replace \(path)")
            unlink(temporary)
            throw error
        }
    }

    /// Makes a new directory entry durable. Best effort: a failure leaves a correct file that
    /// a crash might forget, which the next start recreates.
    public static func syncDirectory(containing path: String) {
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        _ = fsync(descriptor)
        close(descriptor)
    }

    private static func readAll(_ descriptor: Int32, path: String, maxBytes: Int) throws(Failure) -> [UInt8] {
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read \(path)")
            }
            if count == 0 { return contents }
            contents.append(contentsOf: buffer[0..<count])
            guard contents.count <= maxBytes else {
                throw Failure(insecure: false, message: "\(path) is larger than a key file can be")
            }
        }
    }

    private static func failure(_ action: String) -> Failure {
        Failure(insecure: false, message: "cannot \(action): " + String(cString: strerror(errno)))
    }
}
