import Dispatch
import HTTP
import Server
import Synchronization
import Testing

@testable import App

/// The compliance endpoints' parameter rules, without a server.
@Suite("Audit parameters")
struct AuditParameterTests {
    @Test(
        "Each endpoint takes only its own parameters, each once",
        arguments: [
            ("patient=A&patient=B", ["patient"], "Each parameter may appear once; patient is repeated."),
            ("patient=A&bogus=1", ["patient"], "Unsupported parameter; the parameters are patient."),
            ("x=1", [String](), "This endpoint takes no parameters."),
            ("actor=%ZZ", AuditRoutes.filterNames, "The query string is malformed."),
            ("actor=%C3%28", AuditRoutes.filterNames, "The query string is malformed."),
        ])
    func refusedParameters(query: String, accepted: [String], detail: String) throws {
        let head = HTTPRequestHead(method: "GET", target: "/audit/x?" + query, path: "/audit/x", query: query)
        let request = Request(head: head, requestID: "req-1")
        #expect {
            _ = try request.parameters(accepted: accepted)
        } throws: { error in
            (error as? HTTPProblem)?.status == 400 && (error as? HTTPProblem)?.detail == detail
        }
    }

    @Test(
        "an account name filters in any spelling its login accepts; other actors as given",
        arguments: [
            (" Dr.Demo ", "dr.demo"), ("ＤＲ.demo", "dr.demo"), ("cli:Root", "cli:Root"), ("phigate", "phigate"),
        ])
    func actorSpelling(given: String, filtered: String) throws {
        #expect(try AuditRoutes.filter([(name: "actor", value: given)], maximumLimit: 1000).0.actor == filtered)
    }

    @Test("format is not a filter: events refuse it")
    func formatIsNotAFilter() {
        #expect(throws: HTTPProblem.self) {
            _ = try AuditRoutes.filter([(name: "format", value: "cef")], maximumLimit: 1000)
        }
    }

    @Test("Export takes any positive limit; events stop at their maximum")
    func limits() throws {
        let big = [(name: "limit", value: "5000")]
        #expect(try AuditRoutes.filter(big, maximumLimit: nil).limit == 5000)
        #expect(try AuditRoutes.filter([], maximumLimit: nil).limit == nil)
        #expect(throws: HTTPProblem.self) { _ = try AuditRoutes.filter(big, maximumLimit: 1000) }
        let zero = [(name: "limit", value: "0")]
        #expect(throws: HTTPProblem.self) { _ = try AuditRoutes.filter(zero, maximumLimit: nil) }
    }
}

/// The guard that lets one verification of the live log run at a time.
@Suite("Single flight")
struct SingleFlightTests {
    @Test("while one caller runs, every other is turned away; after it leaves, the next may run")
    func oneAtATime() {
        let flight = SingleFlight()
        let admitted = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if flight.enter() { admitted.withLock { $0 += 1 } }
        }
        #expect(admitted.withLock { $0 } == 1)
        #expect(!flight.enter())
        flight.leave()
        #expect(flight.enter())
        #expect(!flight.enter())
        flight.leave()
    }
}
