import Foundation
import Testing

@testable import TLS

#if canImport(Glibc)
    import Glibc
#endif

/// The server engine against an independent client: `openssl s_client` over a real loopback
/// socket, which the test drives with blocking reads and writes.
@Suite(.enabled(if: CertificateFixtures.available, "needs the openssl command line tool"))
struct InteropTests {
    /// Extra `s_client` arguments, whether the server asks for client certificates, and what
    /// the server must see.
    struct Client: Sendable, CustomTestStringConvertible {
        let name: String
        let arguments: [String]
        let clientCA: Bool
        let expectedProtocol: String
        /// The client subject the server must report as verified, or nil for none.
        let verifiedSubject: String?

        var testDescription: String { name }
    }

    static let clients: [Client] = [
        Client(
            name: "default", arguments: [], clientCA: false, expectedProtocol: "TLSv1.3",
            verifiedSubject: nil),
        Client(
            name: "TLS 1.2", arguments: ["-tls1_2"], clientCA: false,
            expectedProtocol: "TLSv1.2", verifiedSubject: nil),
        Client(
            name: "client certificate", arguments: ["-cert", "client.pem", "-key", "client.key"],
            clientCA: true, expectedProtocol: "TLSv1.3",
            verifiedSubject: CertificateFixtures.clientSubject),
    ]

    @Test(arguments: clients)
    func opensslClientGetsAResponse(_ client: Client) throws {
        let fixtures = try fixtures()
        let context = try TLSContext(
            server: serverConfiguration(fixtures, clientCA: client.clientCA))
        let listener = try LoopbackListener()
        // Option values that are not options name fixture files.
        let extra = client.arguments.map { $0.hasPrefix("-") ? $0 : fixtures.path($0) }
        let arguments = [
            "s_client", "-connect", "127.0.0.1:\(listener.port)", "-servername", "localhost",
            "-CAfile", fixtures.caCertificate, "-verify_return_error", "-alpn", "http/1.1",
            "-quiet",
        ]
        let request = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
        let process = try startOpenSSL(arguments + extra, input: request)

        let socket = try listener.accept()
        defer { close(socket) }
        let server = try context.makeConnection()
        var received: [UInt8] = []
        while !String(decoding: received, as: UTF8.self).contains("\r\n\r\n") {
            let incoming = try readSome(socket)
            received += try server.receive(incoming)
            try writeAll(server.takeOutgoing(), to: socket)
        }
        #expect(server.negotiatedProtocol == client.expectedProtocol)
        #expect(server.alpn == "http/1.1")
        let peer = server.peerCertificate
        #expect(peer?.subject == client.verifiedSubject)
        #expect(peer?.verified == (client.verifiedSubject == nil ? nil : true))
        try server.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello".utf8))
        server.close()
        try writeAll(server.takeOutgoing(), to: socket)
        shutdown(socket, Int32(SHUT_WR))

        let printed = process.standardOutput.readDataToEndOfFile()
        process.process.waitUntilExit()
        #expect(String(decoding: printed, as: UTF8.self).hasSuffix("\r\n\r\nhello"))
        #expect(received == Array(request.utf8))
    }

    /// A running `openssl` process and the read end of its standard output.
    struct Running {
        let process: Process
        let standardOutput: FileHandle
    }

    private func startOpenSSL(_ arguments: [String], input: String) throws -> Running {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CertificateFixtures.tool ?? "openssl")
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        return Running(process: process, standardOutput: stdout.fileHandleForReading)
    }

    private func readSome(_ socket: Int32) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16_384)
        let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
        guard count > 0 else {
            throw FixtureError("the client closed or timed out before sending a request")
        }
        return Array(buffer[0..<count])
    }

    private func writeAll(_ bytes: [UInt8], to socket: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes {
                send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard count > 0 else {
                throw FixtureError("cannot write to the client")
            }
            offset += count
        }
    }
}

/// A blocking TCP listener on 127.0.0.1 with an ephemeral port and ten-second timeouts.
final class LoopbackListener {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw FixtureError("cannot create a socket")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw FixtureError("cannot listen on 127.0.0.1")
        }
        Self.setTimeout(descriptor)
        self.descriptor = descriptor
        self.port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        close(descriptor)
    }

    /// Waits up to ten seconds for one connection.
    func accept() throws -> Int32 {
        let connection = Glibc.accept(descriptor, nil, nil)
        guard connection >= 0 else {
            throw FixtureError("no client connected")
        }
        Self.setTimeout(connection)
        return connection
    }

    private static func setTimeout(_ socket: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        let size = socklen_t(MemoryLayout<timeval>.size)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, size)
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, size)
    }
}
