import Foundation

/// A private PKI for HTTPS receivers, made with the `openssl` command line tool in a test's
/// temporary directory:
/// - `caPath`: the receivers' CA, the one a transport is configured to trust;
/// - `otherCAPath`: an unrelated CA that issued nothing the receivers present;
/// - `receiver`: a certificate from the CA for IP 127.0.0.1 and DNS localhost;
/// - `elsewhere`: a certificate from the same CA for DNS elsewhere.test only.
struct ReceiverCertificates {
    struct Identity {
        let chainPath: String
        let keyPath: String

        var files: (chainPath: String, keyPath: String) { (chainPath, keyPath) }
    }

    let caPath: String
    let otherCAPath: String
    let receiver: Identity
    let elsewhere: Identity

    /// The `openssl` and `python3` executables, when both are on the PATH.
    static let tools: (openssl: String, python: String)? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        func find(_ name: String) -> String? {
            path.split(separator: ":").map { "\($0)/\(name)" }
                .first { FileManager.default.isExecutableFile(atPath: $0) }
        }
        guard let openssl = find("openssl"), let python = find("python3") else {
            return nil
        }
        return (openssl, python)
    }()

    static var available: Bool { tools != nil }

    /// Makes the certificates in `directory`, on a Dispatch thread: the `openssl` runs block.
    static func make(in directory: TemporaryDirectory) async throws -> ReceiverCertificates {
        let path = directory.url.path
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try ReceiverCertificates(directory: path) })
            }
        }
    }

    private init(directory: String) throws {
        caPath = try Self.makeCA(directory, name: "ca")
        otherCAPath = try Self.makeCA(directory, name: "other-ca")
        receiver = try Self.makeLeaf(
            directory, name: "receiver", subjectAltName: "IP:127.0.0.1,DNS:localhost")
        elsewhere = try Self.makeLeaf(
            directory, name: "elsewhere", subjectAltName: "DNS:elsewhere.test")
    }

    /// A self-signed P-256 CA valid for two days; returns its certificate's path.
    private static func makeCA(_ directory: String, name: String) throws -> String {
        let certificate = "\(directory)/\(name).pem"
        try run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "\(directory)/\(name).key", "-out", certificate, "-days", "2",
            "-subj", "/CN=phigate test \(name)",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        return certificate
    }

    /// A server certificate issued by the "ca" CA for `subjectAltName`.
    private static func makeLeaf(
        _ directory: String, name: String, subjectAltName: String
    ) throws -> Identity {
        let key = "\(directory)/\(name).key"
        let request = "\(directory)/\(name).csr"
        let extensions = "\(directory)/\(name).ext"
        let certificate = "\(directory)/\(name).pem"
        try run([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", request, "-subj", "/CN=\(name)",
        ])
        let lines = [
            "subjectAltName=\(subjectAltName)", "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature", "extendedKeyUsage=serverAuth",
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8)
            .write(to: URL(fileURLWithPath: extensions))
        try run([
            "x509", "-req", "-in", request, "-CA", "\(directory)/ca.pem",
            "-CAkey", "\(directory)/ca.key",
            "-set_serial", String(UInt32.random(in: 1...UInt32.max)),
            "-days", "2", "-extfile", extensions, "-out", certificate,
        ])
        return Identity(chainPath: certificate, keyPath: key)
    }

    private static func run(_ arguments: [String]) throws {
        guard let tools else {
            throw Failure(message: "openssl is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tools.openssl)
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self)
            throw Failure(message: "openssl \(arguments[0]) failed: \(text)")
        }
    }

    struct Failure: Error {
        let message: String
    }
}
