// A minimal Protocol Buffers encoder (wire format only, no schema): the fields TensorBoard's event messages use.
// Each field is a key varint (field number << 3 | wire type) then its payload: varints for integers and enums,
// little-endian fixed64/fixed32 for double/float, and a length varint before strings, bytes and nested messages.
import Foundation

/// Appends encoded fields to `bytes`; a nested message is encoded into its own encoder, then added as a field.
public struct ProtobufEncoder: Sendable, Equatable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// Wire types of the encoding (the low 3 bits of a field key).
    enum WireType: UInt64 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    /// Base-128 varint: seven bits per byte, least significant group first, the high bit set on every byte but
    /// the last (1–10 bytes).
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    private mutating func appendKey(_ field: Int, _ type: WireType) {
        precondition(field >= 1 && field <= 536_870_911, "[protobuf] field number \(field) is outside 1…2²⁹−1")
        appendVarint(UInt64(field) << 3 | type.rawValue)
    }

    /// An `int32`/`int64`/enum field. A negative value is sent as its 64-bit two's complement (10 bytes), as
    /// protobuf does for `int32` too, so readers of either width decode it.
    public mutating func append(field: Int, int64 value: Int64) {
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// A `double` field (fixed64, little-endian IEEE bits).
    public mutating func append(field: Int, double value: Double) {
        appendKey(field, .fixed64)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `float` field (fixed32, little-endian IEEE bits).
    public mutating func append(field: Int, float value: Float) {
        appendKey(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A `bytes` field.
    public mutating func append<Bytes: Collection>(field: Int, bytes payload: Bytes) where Bytes.Element == UInt8 {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    /// A `string` field (UTF-8).
    public mutating func append(field: Int, string: String) {
        append(field: field, bytes: Array(string.utf8))
    }

    /// A nested message field.
    public mutating func append(field: Int, message: ProtobufEncoder) {
        append(field: field, bytes: message.bytes)
    }
}
