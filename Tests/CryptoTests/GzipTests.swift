import Compression
import Testing

/// Gzip through zlib: round trips, a stream made by Python's gzip module, bounded
/// decompression, damaged input, and streaming.
struct GzipTests {
    /// `python3 -c 'import gzip; print(list(gzip.compress(b"hello hello hello", mtime=0)))'`
    static let pythonHello: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 203, 72, 205, 201, 201, 87, 200, 64, 144, 0, 128, 136,
        249, 229, 17, 0, 0, 0,
    ]

    /// Two members, `gzip.compress(b"abc", mtime=0) + gzip.compress(b"def", mtime=0)`.
    static let pythonTwoMembers: [UInt8] = [
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 76, 74, 6, 0, 194, 65, 36, 53, 3, 0, 0, 0,
        31, 139, 8, 0, 0, 0, 0, 0, 2, 3, 75, 73, 77, 3, 0, 97, 225, 196, 12, 3, 0, 0, 0,
    ]

    @Test func decompressesPythonOutput() throws {
        let output = try Gzip.decompress(Self.pythonHello, maxOutputBytes: 1024)
        #expect(output == Array("hello hello hello".utf8))
    }

    @Test func decompressesConcatenatedMembers() throws {
        let output = try Gzip.decompress(Self.pythonTwoMembers, maxOutputBytes: 1024)
        #expect(output == Array("abcdef".utf8))
    }

    static let samples: [[UInt8]] = [
        [],
        Array("a".utf8),
        Array(String(repeating: "phigate audit entry ", count: 500).utf8),
        (0..<200_000).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) },
    ]

    @Test(arguments: samples, [Int32(-1), 0, 1, 6, 9])
    func roundTrip(_ data: [UInt8], _ level: Int32) throws {
        let compressed = try Gzip.compress(data, level: level)
        #expect(Array(compressed.prefix(3)) == [0x1f, 0x8b, 0x08])
        #expect(try Gzip.decompress(compressed, maxOutputBytes: data.count) == data)
    }

    @Test func compressionIsDeterministic() throws {
        let data = Array(String(repeating: "same input ", count: 100).utf8)
        #expect(try Gzip.compress(data) == Gzip.compress(data))
    }

    @Test func repetitiveDataShrinks() throws {
        let data = [UInt8](repeating: 0x41, count: 100_000)
        #expect(try Gzip.compress(data).count < 1000)
    }

    @Test func bombIsRefused() throws {
        // 64 MiB of zeros compresses to about 64 KiB.
        let bomb = try Gzip.compress([UInt8](repeating: 0, count: 64 << 20), level: 9)
        #expect(bomb.count < 100_000)
        #expect { try Gzip.decompress(bomb, maxOutputBytes: 1 << 20) } throws: {
            ($0 as? CompressionError)?.code == .outputLimitExceeded
        }
    }

    @Test(arguments: [(17, true), (16, false), (0, false)])
    func limitIsExact(_ limit: Int, _ succeeds: Bool) {
        let result = Result { try Gzip.decompress(Self.pythonHello, maxOutputBytes: limit) }
        switch result {
        case .success(let output):
            #expect(succeeds && output.count == 17)
        case .failure(let error):
            #expect(!succeeds && (error as? CompressionError)?.code == .outputLimitExceeded)
        }
    }

    struct Damage: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let code: CompressionError.Code
        var testDescription: String { name }
    }

    static let damages: [Damage] = [
        Damage(name: "empty", bytes: [], code: .truncatedData),
        Damage(name: "header only", bytes: Array(pythonHello.prefix(10)), code: .truncatedData),
        Damage(
            name: "last byte missing", bytes: Array(pythonHello.dropLast()),
            code: .truncatedData),
        Damage(
            name: "bad magic", bytes: [0x1f, 0x8c] + pythonHello.dropFirst(2),
            code: .corruptData),
        Damage(name: "CRC flipped", bytes: flipping(pythonHello, at: 20), code: .corruptData),
        Damage(name: "length flipped", bytes: flipping(pythonHello, at: 24), code: .corruptData),
        Damage(
            name: "trailing garbage", bytes: pythonHello + [0x00, 0x01, 0x02],
            code: .corruptData),
        Damage(name: "not compressed", bytes: Array("hello".utf8), code: .corruptData),
    ]

    static func flipping(_ bytes: [UInt8], at index: Int) -> [UInt8] {
        var copy = bytes
        copy[index] ^= 0x01
        return copy
    }

    @Test(arguments: damages)
    func damagedInputIsRefused(_ damage: Damage) {
        #expect { try Gzip.decompress(damage.bytes, maxOutputBytes: 1024) } throws: {
            ($0 as? CompressionError)?.code == damage.code
        }
    }

    @Test(arguments: [Int32(-2), 10, 100])
    func badLevelsAreRefused(_ level: Int32) {
        #expect { try Gzip.compress([1, 2, 3], level: level) } throws: {
            ($0 as? CompressionError)?.code == .invalidParameter
        }
        #expect { try GzipStream(level: level) } throws: {
            ($0 as? CompressionError)?.code == .invalidParameter
        }
    }

    @Test(arguments: [1, 7, 4096, 100_000])
    func streamingMatchesOneShot(_ chunkSize: Int) throws {
        let data = Self.samples[3]
        let stream = try GzipStream()
        var output: [UInt8] = []
        var offset = 0
        while offset < data.count {
            let end = min(offset + chunkSize, data.count)
            output += try stream.compress(Array(data[offset..<end]))
            offset = end
        }
        output += try stream.finish()
        #expect(output == (try Gzip.compress(data)))
    }

    @Test func flushedStreamStillRoundTrips() throws {
        let stream = try GzipStream(level: 1)
        var output = try stream.compress(Array("first part, ".utf8))
        let flushed = try stream.flush()
        #expect(!flushed.isEmpty)
        output += flushed
        output += try stream.compress(Array("second part".utf8))
        output += try stream.finish()
        let restored = try Gzip.decompress(output, maxOutputBytes: 100)
        #expect(restored == Array("first part, second part".utf8))
    }

    @Test func finishedStreamRefusesMore() throws {
        let stream = try GzipStream()
        _ = try stream.finish()
        #expect { try stream.compress([1]) } throws: {
            ($0 as? CompressionError)?.code == .streamFinished
        }
        #expect { try stream.finish() } throws: {
            ($0 as? CompressionError)?.code == .streamFinished
        }
    }
}
