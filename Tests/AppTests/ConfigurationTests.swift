import Foundation
import Testing

@testable import App

@Suite("Configuration")
struct ConfigurationTests {
    /// Writes `json` to a scoped temporary file and loads it with `environment`.
    static func load(json: String?, environment: [String: String] = [:]) throws(ConfigurationError) -> Configuration {
        guard let json else { return try ConfigurationLoader.load(file: nil, environment: environment) }
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("phigate-config-\(UUID().uuidString).json").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }  // best-effort clean-up of a temp file
        return try ConfigurationLoader.load(file: path, environment: environment)
    }

    @Test("defaults with no file and no environment")
    func defaults() throws {
        let c = try Self.load(json: nil)
        #expect(c.listen.description == "127.0.0.1:8080")
        #expect(c.dataDirectory == "./data")
        #expect(c.demo == false)
        #expect(c.server.headerTimeoutSeconds == 10)
        #expect(c.server.limits.maxHeaderBytes == 16_384)
        #expect(c.server.maxConnections == 4096)
    }

    @Test("nested file keys and environment overrides, environment winning")
    func precedence() throws {
        let c = try Self.load(
            json: #"{"listen": "127.0.0.1:9000", "http": {"header_timeout_seconds": 5, "max_body_bytes": 2048}}"#,
            environment: [
                "PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS": "7", "PHIGATE_DEMO": "true",
                "PHIGATE_UNRELATED": "ignored",
            ])
        #expect(c.listen.port == 9000)
        #expect(c.server.headerTimeoutSeconds == 7)
        #expect(c.server.limits.maxBodyBytes == 2048)
        #expect(c.demo == true)
    }

    @Test(
        "a key given twice in the file is refused, wherever it is, instead of one value winning",
        arguments: [
            #"{"listen": "127.0.0.1:0", "listen": "0.0.0.0:1"}"#,
            #"{"http": {"max_body_bytes": 1024, "max_body_bytes": 4096}}"#,
            #"{"demo": true} {"demo": false}"#,
        ])
    func duplicateKeys(json: String) {
        #expect(throws: ConfigurationError.self) { try Self.load(json: json) }
        do {
            _ = try Self.load(json: json)
        } catch {
            #expect(error.key == "--config")
            #expect(error.message.hasPrefix("the configuration file is not valid JSON ("))
            #expect(!error.message.contains("0.0.0.0") && !error.message.contains("4096"), "values are not echoed")
        }
    }

    static let invalid: [(String?, [String: String], String)] = [
        (#"{"http": {"idle_timeout_seconds": -1}}"#, [:], "http.idle_timeout_seconds"),
        (#"{"http": {"idle_timeout_seconds": "30"}}"#, [:], "http.idle_timeout_seconds"),
        (#"{"http": {"max_header_bytes": 1.5}}"#, [:], "http.max_header_bytes"),
        (#"{"http": {"no_such_key": 1}}"#, [:], "http.no_such_key"),
        (#"{"colour": "blue"}"#, [:], "colour"),
        (#"{"http": 5}"#, [:], "http"),
        (#"{"demo": "yes"}"#, [:], "demo"),
        (#"{"listen": "localhost:8080"}"#, [:], "listen"),
        (#"{"listen": "127.0.0.1:99999"}"#, [:], "listen"),
        (#"{"listen": "0.0.0.0:8080"}"#, [:], "listen"),
        (#"{"listen": "[::]:8080"}"#, [:], "listen"),
        (#"{"log_level": "loud"}"#, [:], "log_level"),
        (#"{"data_dir": ""}"#, [:], "data_dir"),
        (#"[1, 2]"#, [:], "--config"),
        (#"{"listen": "#, [:], "--config"),
        (nil, ["PHIGATE_HTTP_MAX_HEADER_BYTES": "banana"], "http.max_header_bytes"),
        (nil, ["PHIGATE_HTTP_MAX_HEADER_BYTES": "12 "], "http.max_header_bytes"),
        (nil, ["PHIGATE_HTTP_MAX_CONNECTIONS": "0"], "http.max_connections"),
        (nil, ["PHIGATE_DEMO": "maybe"], "demo"),
        (nil, ["PHIGATE_LISTEN": "127.0.0.1"], "listen"),
    ]

    @Test("invalid values stop start-up naming the key", arguments: invalid)
    func invalidNamesKey(json: String?, environment: [String: String], key: String) {
        #expect {
            _ = try Self.load(json: json, environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.key == key
        }
    }

    @Test("a non-loopback address needs an explicit TLS-terminator declaration")
    func plaintextOutsideLoopback() throws {
        let c = try Self.load(json: #"{"listen": "0.0.0.0:8080", "http": {"allow_plaintext_non_loopback": true}}"#)
        #expect(c.listen.host == "0.0.0.0")
        #expect(try Self.load(json: #"{"listen": "[::1]:8080"}"#).listen.port == 8080)
    }

    @Test("every documented key has its environment variable name")
    func environmentNames() {
        let names = Configuration.keys.map(\.environmentName)
        #expect(names.contains("PHIGATE_HTTP_HEADER_TIMEOUT_SECONDS"))
        #expect(names.contains("PHIGATE_DATA_DIR"))
        #expect(names.contains("PHIGATE_LISTEN"))
        #expect(Set(names).count == names.count)
    }

    @Test("the example configuration file loads")
    func exampleLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        for name in ["phigate.example.json", "phigate.json"] {
            let c = try ConfigurationLoader.load(
                file: root.appendingPathComponent("Config/\(name)").path, environment: [:])
            #expect(c.listen.description == "127.0.0.1:8080")
        }
    }
}

@Suite("Configuration reference")
struct ConfigurationReferenceTests {
    @Test("every key is documented in Config/README.md and the example file loads with it")
    func documented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let reference = try String(contentsOf: root.appendingPathComponent("Config/README.md"), encoding: .utf8)
        for key in Configuration.keys {
            #expect(reference.contains("| `\(key.name)` |"), "Config/README.md does not document \(key.name)")
        }
    }

    @Test("webhook subscribers are checked, naming the entry and field")
    func webhooks() throws {
        let good =
            #"[{"url":"https://siem.example/hook","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","#
            + #""events":["break_glass.*"]}]"#
        let loaded = try ConfigurationLoader.load(file: nil, environment: ["PHIGATE_WEBHOOKS": good])
        #expect(loaded.webhooks.count == 1)
        let cases: [(String, String)] = [
            (#"[{"url":"ftp://x/y","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]"#, "webhooks[0]"),
            (#"[{"url":"https://x/y","secret":"not-a-secret"}]"#, "webhooks[0]"),
            (#"[{"url":"https://x/y"}]"#, "webhooks[0].secret"),
            (
                #"[{"url":"https://x/y","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","colour":1}]"#,
                "webhooks[0].colour"
            ),
            (
                #"[{"url":"https://x/y","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","#
                    + #""events":["break_glass.activate"]}]"#,
                "webhooks[0].events"
            ),
            (
                #"[{"url":"https://x/y","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","#
                    + #""events":["*","breakglass.*"]}]"#,
                "webhooks[0].events"
            ),
            (#"{"url":"https://x/y"}"#, "webhooks"),
            ("not json", "webhooks"),
        ]
        for (text, key) in cases {
            #expect {
                _ = try ConfigurationLoader.load(file: nil, environment: ["PHIGATE_WEBHOOKS": text])
            } throws: { error in
                (error as? ConfigurationError)?.key == key
                    && !(error as! ConfigurationError).message.contains("MfKQ9r8")
            }
        }
        let twice = #"[{"url":"https://x/y","url":"https://z/w","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]"#
        #expect {
            _ = try ConfigurationLoader.load(file: nil, environment: ["PHIGATE_WEBHOOKS": twice])
        } throws: { error in
            (error as? ConfigurationError)?.message == "names a member twice in one object (from PHIGATE_WEBHOOKS)"
        }
    }

    @Test("PHIGATE_* variables that name no setting are found, others are not")
    func unknownEnvironmentNames() {
        let environment = [
            "PHIGATE_DATA_DIRR": "/tmp/x", "PHIGATE_TLS_CRT": "a.pem", "PHIGATE_DATA_DIR": "/tmp/d",
            "PHIGATE_CONFIG": "c.json", "PHIGATE_AUDIT_MAX_GROUP_SIZE": "8", "HOME": "/root", "phigate_demo": "1",
        ]
        let unknown = ConfigurationLoader.unknownEnvironmentNames(in: environment)
        #expect(unknown == ["PHIGATE_DATA_DIRR", "PHIGATE_TLS_CRT"])
        #expect(ConfigurationLoader.unknownEnvironmentNames(in: [:]).isEmpty)
    }
}
