import Foundation
import HTTP
import POSIX
import Support
import TLS

/// HTTPS on the loop: records opened before the parser, plaintext sealed just before sending.
extension EventLoop {
    /// Moves pending plaintext through the TLS engine into the record buffer.
    func seal(_ connection: Connection, _ tls: TLSConnection) -> Bool {
        if connection.outputSent < connection.output.count && tls.state == .established {
            do {
                try connection.output.withUnsafeBytes {
                    try tls.send(UnsafeRawBufferPointer(rebasing: $0[connection.outputSent...]))
                }
            } catch {
                close(connection)
                return false
            }
            connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
            connection.outputSent = 0
        } else if connection.outputSent < connection.output.count && tls.state == .closed {
            close(connection)
            return false
        }
        if tls.hasOutgoing { connection.wire.append(contentsOf: tls.takeOutgoing()) }
        return true
    }

    /// Application bytes from received records; nil when the connection was closed.
    func decrypt(_ connection: Connection, _ tls: TLSConnection, _ input: UnsafeRawBufferPointer) -> [UInt8]? {
        do {
            let plaintext = try tls.receive(input)
            if tls.state == .closed {
                peerFinished(connection)
                return connections[connection.id] == nil ? nil : plaintext
            }
            return plaintext
        } catch {
            if error.code == .protocolViolation {
                // Plain HTTP on the TLS port: a clear answer instead of a hang or a reset.
                _ = TLSConnection.plainHTTPResponse.withUnsafeBytes { Descriptor.send(connection.fd, $0) }
            } else {
                if tls.hasOutgoing {
                    _ = tls.takeOutgoing().withUnsafeBytes { Descriptor.send(connection.fd, $0) }
                }
                logger.debug("tls.failed", ["conn.id": .int(Int(connection.id)), "error": .string(error.message)])
            }
            close(connection)
            return nil
        }
    }
}
