import Auth
import BreakGlass
import Dispatch
import Foundation
import Policy
import Store
import Webhooks
import Synchronization

/// One SQLite connection to the records database with the services that use it.
///
/// `@unchecked Sendable`: a session is used by one thread at a time, which `RecordsPool`
/// guarantees by lending each session to a single borrower.
final class RecordsSession: @unchecked Sendable {
    let database: Database
    let records: RecordStore
    let identities: IdentityStore
    let authenticator: Authenticator
    let grants: GrantStore
    let reviews: ReviewStore
    let secondFactor: SecondFactor
    let subscribers: SubscriberStore
    let secretKey: [UInt8]

    init(path: String, services: ServiceSettings) throws {
        secretKey = services.secretKey
        database = try Database(path: path)
        records = try RecordStore(database: database, storesType: { ResourceClass.of($0) != .unsupported })
        identities = try IdentityStore(database: database, policy: services.authPolicy)
        authenticator = try Authenticator(store: identities, policy: services.authPolicy)
        grants = try GrantStore(database: database, policy: services.breakGlassPolicy)
        reviews = try ReviewStore(database: database)
        secondFactor = try SecondFactor(identities: identities, encryptionKey: services.secretKey)
        subscribers = try SubscriberStore(database: database, encryptionKey: services.secretKey)
        try AdminAuditQueue.prepare(database)
        try CertificateBindings.prepare(database)
    }
}

/// What every records session is configured with.
struct ServiceSettings: Sendable {
    var authPolicy: AuthPolicy
    var breakGlassPolicy: BreakGlassPolicy
    /// Seals TOTP secrets at rest (AES-256-GCM); from the data directory's secrets key file.
    var secretKey: [UInt8]
}

/// A fixed set of record sessions shared by the worker threads.
///
/// A borrower blocks until a session is free; SQLite in WAL mode lets the readers run side by
/// side while writes take turns under its busy timeout.
final class RecordsPool: Sendable {
    private let idle: Mutex<[RecordsSession]>
    private let available: DispatchSemaphore

    /// Opens `size` connections to the database at `path`, creating or migrating its schema.
    init(path: String, size: Int, services: ServiceSettings) throws {
        precondition(size > 0, "a pool needs at least one session")
        // The first session migrates the schema before the others open.
        var sessions: [RecordsSession] = []
        for _ in 0..<size { sessions.append(try RecordsSession(path: path, services: services)) }
        idle = Mutex(sessions)
        available = DispatchSemaphore(value: size)
    }

    /// Lends a session to `body` and takes it back afterwards, whatever `body` does.
    @discardableResult
    func with<T>(_ body: (RecordsSession) throws -> T) throws -> T {
        available.wait()
        let session = idle.withLock { $0.removeLast() }
        defer {
            idle.withLock { $0.append(session) }
            available.signal()
        }
        return try body(session)
    }
}
