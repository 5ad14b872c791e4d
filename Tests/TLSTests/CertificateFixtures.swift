import Foundation

/// Certificates and keys made with the `openssl` command line tool in a temporary directory,
/// once per test process.
///
/// A test CA issues an RSA server certificate for localhost and 127.0.0.1 and an EC client
/// certificate; a second, unrelated CA, a self-signed client certificate and a stray key give
/// the failure cases something to fail on. Every key file is mode 0600 unless a fixture says
/// otherwise. Using the command line tool keeps the certificates independent of the engine
/// under test.
struct CertificateFixtures: Sendable {
    /// Path of the `openssl` executable, or nil when it is not installed.
    static let tool: String? = {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":")
        for directory in directories {
            let candidate = "\(directory)/openssl"
            if FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        return nil
    }()

    /// Whether the fixtures can be made; tests needing them are skipped otherwise.
    static let available = tool != nil

    /// The fixtures, made on first use and shared by every test.
    static let shared: Result<CertificateFixtures, FixtureError> = Result {
        () throws(FixtureError) in try CertificateFixtures()
    }

    /// The client certificate's subject, as RFC 2253 prints it.
    static let clientSubject = "CN=clinic-42,O=Example Health"

    let directory: String

    var caCertificate: String { path("ca.pem") }
    var otherCACertificate: String { path("other-ca.pem") }
    var serverCertificate: String { path("server.pem") }
    var serverKey: String { path("server.key") }
    var clientCertificate: String { path("client.pem") }
    var clientKey: String { path("client.key") }
    var selfSignedCertificate: String { path("self-signed.pem") }
    var selfSignedKey: String { path("self-signed.key") }
    /// A key that matches no certificate.
    var strayKey: String { path("stray.key") }
    /// The server key again, encrypted with a passphrase.
    var encryptedServerKey: String { path("server-encrypted.key") }
    /// The server key again, with mode 0644.
    var worldReadableServerKey: String { path("server-0644.key") }
    /// The server key again, with mode 0640.
    var groupReadableServerKey: String { path("server-0640.key") }

    /// Fingerprint of the client certificate as `openssl x509 -fingerprint -sha256` prints it,
    /// reduced to lowercase hex.
    private(set) var clientFingerprint = ""

    func path(_ name: String) -> String {
        "\(directory)/\(name)"
    }

    private init() throws(FixtureError) {
        let base = FileManager.default.temporaryDirectory.path
        directory = "\(base)/phigate-tls-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: false)
        } catch {
            throw FixtureError("cannot create \(directory)")
        }

        try makeCA(name: "ca", subject: "/CN=phigate test CA")
        try makeCA(name: "other-ca", subject: "/CN=unrelated CA")
        try makeLeaf(
            name: "server", keyAlgorithm: ["-newkey", "rsa:2048"], subject: "/CN=localhost",
            extensions: "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth",
            serial: "0x1001")
        try makeLeaf(
            name: "client", keyAlgorithm: ecKey, subject: "/O=Example Health/CN=clinic-42",
            extensions: "extendedKeyUsage=clientAuth", serial: "0x1002")
        try run(
            [
                "req", "-x509", "-new", "-nodes", "-days", "2", "-subj", "/CN=impostor",
                "-keyout", selfSignedKey, "-out", selfSignedCertificate,
            ] + ecKey)
        try run([
            "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", strayKey,
        ])
        try run([
            "pkey", "-in", serverKey, "-aes256", "-passout", "pass:fixture",
            "-out", encryptedServerKey,
        ])
        try copy(serverKey, to: worldReadableServerKey, mode: 0o644)
        try copy(serverKey, to: groupReadableServerKey, mode: 0o640)
        for key in [serverKey, clientKey, selfSignedKey, strayKey, encryptedServerKey] {
            try setMode(0o600, key)
        }

        let printed = try run([
            "x509", "-in", clientCertificate, "-noout", "-fingerprint", "-sha256",
        ])
        guard let equals = printed.firstIndex(of: "=") else {
            throw FixtureError("unexpected fingerprint output")
        }
        clientFingerprint = printed[printed.index(after: equals)...]
            .filter { $0 != ":" && !$0.isWhitespace }.lowercased()
    }

    private var ecKey: [String] {
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    }

    private func makeCA(name: String, subject: String) throws(FixtureError) {
        try run(
            [
                "req", "-x509", "-new", "-nodes", "-days", "2", "-subj", subject,
                "-keyout", path("\(name).key"), "-out", path("\(name).pem"),
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ] + ecKey)
    }

    private func makeLeaf(
        name: String, keyAlgorithm: [String], subject: String, extensions: String, serial: String
    ) throws(FixtureError) {
        let extensionFile = path("\(name).ext")
        let text = "basicConstraints=CA:FALSE\n\(extensions)\n"
        let written = FileManager.default.createFile(
            atPath: extensionFile, contents: Data(text.utf8))
        guard written else {
            throw FixtureError("cannot write \(extensionFile)")
        }
        try run(
            [
                "req", "-new", "-nodes", "-subj", subject,
                "-keyout", path("\(name).key"), "-out", path("\(name).csr"),
            ] + keyAlgorithm)
        try run([
            "x509", "-req", "-in", path("\(name).csr"), "-days", "2", "-set_serial", serial,
            "-CA", caCertificate, "-CAkey", path("ca.key"), "-extfile", extensionFile,
            "-out", path("\(name).pem"),
        ])
    }

    private func copy(_ source: String, to target: String, mode: Int) throws(FixtureError) {
        do {
            try FileManager.default.copyItem(atPath: source, toPath: target)
        } catch {
            throw FixtureError("cannot copy \(source)")
        }
        try setMode(mode, target)
    }

    private func setMode(_ mode: Int, _ file: String) throws(FixtureError) {
        do {
            try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file)
        } catch {
            throw FixtureError("cannot chmod \(file)")
        }
    }

    /// Runs `openssl` with `arguments` and returns its standard output.
    @discardableResult
    private func run(_ arguments: [String]) throws(FixtureError) -> String {
        guard let tool = Self.tool else {
            throw FixtureError("openssl is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw FixtureError("cannot start openssl")
        }
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let complaint = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: complaint, as: UTF8.self)
            throw FixtureError("openssl \(arguments.first ?? "") failed: \(text)")
        }
        return String(decoding: printed, as: UTF8.self)
    }
}

/// Why the fixtures could not be made.
struct FixtureError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
