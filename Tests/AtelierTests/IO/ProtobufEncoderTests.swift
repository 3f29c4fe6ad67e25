// The protobuf wire format, byte for byte: varints at their length boundaries, negative int64 as ten bytes,
// little-endian fixed64/fixed32, length-delimited strings, bytes and nested messages.
import Foundation
import Testing
@testable import Atelier

extension IOTests {
@Suite("IO.ProtobufEncoder")
struct ProtobufEncoderTests {
    static func varint(_ value: UInt64) -> [UInt8] {
        var encoder = ProtobufEncoder()
        encoder.appendVarint(value)
        return encoder.bytes
    }

    @Test func varintLengthBoundaries() {
        #expect(Self.varint(0) == [0x00])
        #expect(Self.varint(1) == [0x01])
        #expect(Self.varint(127) == [0x7F])
        #expect(Self.varint(128) == [0x80, 0x01])
        #expect(Self.varint(300) == [0xAC, 0x02])
        #expect(Self.varint(16_383) == [0xFF, 0x7F])
        #expect(Self.varint(16_384) == [0x80, 0x80, 0x01])
        #expect(Self.varint(UInt64(UInt32.max)) == [0xFF, 0xFF, 0xFF, 0xFF, 0x0F])
        #expect(Self.varint(1 << 63) == [UInt8](repeating: 0x80, count: 9) + [0x01])
        #expect(Self.varint(.max) == [UInt8](repeating: 0xFF, count: 9) + [0x01])
    }

    @Test func integerFields() {
        var e = ProtobufEncoder()
        e.append(field: 2, int64: 150)
        #expect(e.bytes == [0x10, 0x96, 0x01])
        var negative = ProtobufEncoder()
        negative.append(field: 2, int64: -1)                 // two's complement: ten bytes
        #expect(negative.bytes == [0x10] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        var large = ProtobufEncoder()
        large.append(field: 16, int64: .max)                 // field 16 needs a two-byte key
        #expect(large.bytes == [0x80, 0x01] + [UInt8](repeating: 0xFF, count: 8) + [0x7F])
    }

    @Test func fixedWidthFields() {
        var e = ProtobufEncoder()
        e.append(field: 1, double: 1)
        e.append(field: 2, float: -2.5)
        #expect(e.bytes == [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x15, 0, 0, 0x20, 0xC0])
    }

    @Test func lengthDelimitedFields() {
        var inner = ProtobufEncoder()
        inner.append(field: 1, string: "hé")                 // UTF-8: 3 bytes
        var outer = ProtobufEncoder()
        outer.append(field: 5, message: inner)
        outer.append(field: 4, bytes: [UInt8](repeating: 7, count: 200))   // a two-byte length
        #expect(outer.bytes.prefix(7) == [0x2A, 0x05, 0x0A, 0x03, 0x68, 0xC3, 0xA9])
        #expect(outer.bytes[7...9] == [0x22, 0xC8, 0x01])
        #expect(outer.bytes.count == 10 + 200)
        var empty = ProtobufEncoder()
        empty.append(field: 3, string: "")
        #expect(empty.bytes == [0x1A, 0x00])
    }
}
}
