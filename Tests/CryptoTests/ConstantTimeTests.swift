import Crypto
import Testing

/// `constantTimeEquals` as a plain equality: the timing property is OpenSSL's and is not
/// measured here.
struct ConstantTimeTests {
    static let cases: [([UInt8], [UInt8], Bool)] = [
        ([], [], true),
        ([0], [0], true),
        ([1, 2, 3], [1, 2, 3], true),
        ([1, 2, 3], [1, 2, 4], false),
        ([1, 2, 3], [0, 2, 3], false),
        ([1, 2, 3], [1, 2], false),
        ([1, 2], [1, 2, 3], false),
        ([], [0], false),
        ([0], [], false),
        ([UInt8](repeating: 0xaa, count: 32), [UInt8](repeating: 0xaa, count: 32), true),
        ([UInt8](repeating: 0xaa, count: 32), [UInt8](repeating: 0xaa, count: 31) + [0xab], false),
        ([0x80], [0x00], false),
    ]

    @Test(arguments: cases)
    func equality(_ a: [UInt8], _ b: [UInt8], _ expected: Bool) {
        #expect(constantTimeEquals(a, b) == expected)
        #expect(constantTimeEquals(b, a) == expected)
    }
}
