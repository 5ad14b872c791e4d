import Foundation
import HTTP
import POSIX
import Support
import TLS

/// Streamed response bodies: chunked framing, pulled from a worker as the client reads.
extension EventLoop {
    static let lastChunk = Array("0\r\n\r\n".utf8)
    static let chunkedField = Array("Transfer-Encoding: chunked".utf8)

    /// Writes the head of a streamed response and asks a worker for the first piece.
    func startStream(
        _ connection: Connection, _ response: Response, _ body: any ResponseBodyStream, _ context: ResponseContext
    ) {
        let chunked = !context.http10
        let keepAlive = chunked && context.keepAlive && connection.keepAlive && !connection.peerClosed
        connection.keepAlive = keepAlive
        HTTPResponseEncoder.encode(
            HTTPResponseHead(status: response.status, headers: response.headers), into: &connection.output,
            terminated: false)
        // The encoder left the head open after a field's CRLF; dateField starts with CRLF.
        if chunked {
            connection.output.append(contentsOf: Self.chunkedField)
            connection.output.append(contentsOf: dateField)
        } else {
            connection.output.append(contentsOf: dateField.dropFirst(2))
        }
        connection.output.append(contentsOf: Self.requestIDField)
        connection.output.append(contentsOf: context.requestID.utf8)
        connection.output.append(contentsOf: keepAlive ? Self.endOfHead : Self.closeAndEndOfHead)
        connection.phase = .awaitingResponse
        connection.streaming = Connection.Streaming(
            body: body, context: context, status: response.status, chunked: chunked)
        pullPiece(connection)
    }

    /// Asks a worker for the next piece unless one is on its way or the client is behind.
    func pullPiece(_ connection: Connection) {
        guard var streaming = connection.streaming, !streaming.pulling,
            connection.output.count - connection.outputSent < Self.outputHighWater
        else { return }
        streaming.pulling = true
        connection.streaming = streaming
        let id = connection.id
        let body = streaming.body
        workers.async { [self] in
            do {
                submit(.streamPiece(connection: id, bytes: try body.next(), failed: false))
            } catch {
                submit(.streamPiece(connection: id, bytes: nil, failed: true))
            }
        }
    }

    /// Frames a piece onto the output; at the end, the last chunk and the usual completion.
    func receivePiece(_ connection: Connection, _ bytes: [UInt8]?, failed: Bool) {
        guard var streaming = connection.streaming else { return }
        streaming.pulling = false
        connection.streaming = streaming
        if failed {
            logger.warning(
                "http.stream_failed",
                ["req.id": .string(streaming.context.requestID), "http.route": .string(streaming.context.route)])
            close(connection)
            return
        }
        if let bytes {
            if !bytes.isEmpty {
                if streaming.chunked {
                    connection.output.append(contentsOf: String(bytes.count, radix: 16).utf8)
                    connection.output.append(contentsOf: [0x0D, 0x0A])
                    connection.output.append(contentsOf: bytes)
                    connection.output.append(contentsOf: [0x0D, 0x0A])
                } else {
                    connection.output.append(contentsOf: bytes)
                }
            }
            flush(connection)
            if connections[connection.id] != nil { pullPiece(connection) }
            return
        }
        if streaming.chunked { connection.output.append(contentsOf: Self.lastChunk) }
        connection.streaming = nil
        completed(connection, status: streaming.status, streaming.context, keepAlive: connection.keepAlive)
        flush(connection)
        resume(connection)
    }
}
