import Auth
import Dispatch
import Policy
import Store
import Synchronization
import Testing

@testable import BreakGlass

@Suite("Connections racing on one database")
struct ConcurrencyTests {
    typealias F = BreakGlassFixture
    let t0 = F.t0

    /// Runs `body` on `count` threads, each with its own connection to `path`, and returns
    /// the outcomes sorted.
    func race(
        _ count: Int, path: String, _ body: @Sendable (Database) throws -> String
    ) -> [String] {
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: count) { _ in
            let outcome: String
            do {
                outcome = try body(Database(path: path))
            } catch let error as BreakGlassError {
                outcome = error.code.name
            } catch {
                outcome = "\(error)"
            }
            outcomes.withLock { $0.append(outcome) }
        }
        return outcomes.withLock { $0.sorted() }
    }

    @Test("one code raced on several connections is accepted once")
    func sameCode() throws {
        let fixture = try F()
        let now = t0
        let outcomes = race(6, path: fixture.path) { database in
            let identities = try IdentityStore(database: database)
            let factor = try SecondFactor(identities: identities, encryptionKey: F.key)
            return String(try factor.verify("alice", code: F.code(at: now), now: now))
        }
        #expect(outcomes == ["60000000"] + Array(repeating: "replayed", count: 5))
    }

    @Test("grants for one patient raced on several connections: one is created")
    func samePatient() throws {
        let fixture = try F()
        let now = t0
        let outcomes = race(6, path: fixture.path) { database in
            let store = try GrantStore(database: database)
            return try store.activate(
                F.request("pat-1"), holder: F.alice, secondFactorStep: 1, now: now
            ).holder
        }
        #expect(outcomes == ["alice"] + Array(repeating: "already_active", count: 5))
        #expect(try fixture.count("break_glass_grants") == 1)
        #expect(try fixture.count("break_glass_reviews") == 1)
    }

    @Test("the active-grant limit holds under a race")
    func limit() throws {
        let fixture = try F()
        let now = t0
        let patients = Mutex(0)
        let outcomes = race(6, path: fixture.path) { database in
            let store = try GrantStore(database: database)
            let patient = patients.withLock { value in
                value += 1
                return "pat-\(value)"
            }
            return try store.activate(
                F.request(patient), holder: F.alice, secondFactorStep: 1, now: now
            ).holder
        }
        #expect(
            outcomes == Array(repeating: "alice", count: 3)
                + Array(repeating: "too_many_active_grants", count: 3))
    }
}
