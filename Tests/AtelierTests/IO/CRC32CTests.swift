// CRC-32C against published vectors (the check value of "123456789", RFC 3720 B.4's 32-byte patterns) and the
// masked form against TensorBoard's own Python implementation.
import Testing
@testable import Atelier

extension IOTests {
@Suite("IO.CRC32C")
struct CRC32CTests {
    @Test func knownVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum((0..<32).map { UInt8(31 - $0) }) == 0x113F_DB5C)
    }

    /// Goldens from `tensorboard.compat.tensorflow_stub.pywrap_tensorflow.masked_crc32c` (tensorboard 2.21).
    @Test func maskedMatchesTensorBoard() {
        #expect(CRC32C.masked(Array("123456789".utf8)) == 0xC78A_B0E5)
        #expect(CRC32C.masked([UInt8]()) == 0xA282_EAD8)
        #expect(CRC32C.masked([UInt8](repeating: 0, count: 32)) == 0x0FD7_FFFA)
        #expect(CRC32C.masked(Array("abc".utf8)) == 0x21F1_576E)
    }
}
}
