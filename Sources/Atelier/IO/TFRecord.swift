// TFRecord framing, the container of TensorBoard event files: each record is its length (uint64, little-endian),
// the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data (both CRCs uint32 LE).
// Readers check both CRCs, so a record cut short by a crash is recognised as incomplete rather than misread.

public enum TFRecord {
    /// Appends one framed record holding `data` to `output`.
    public static func append(_ data: [UInt8], to output: inout [UInt8]) {
        var length: [UInt8] = []
        withUnsafeBytes(of: UInt64(data.count).littleEndian) { length.append(contentsOf: $0) }
        output.append(contentsOf: length)
        appendLittleEndian(CRC32C.masked(length), to: &output)
        output.append(contentsOf: data)
        appendLittleEndian(CRC32C.masked(data), to: &output)
    }

    private static func appendLittleEndian(_ value: UInt32, to output: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }
}
