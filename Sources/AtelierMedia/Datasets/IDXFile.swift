// The IDX format of MNIST and Fashion-MNIST: a big-endian magic number 0x000008TD (T = 0x08 for unsigned bytes,
// D = number of dimensions), D big-endian UInt32 dimensions, then the row-major bytes.

/// An IDX file of unsigned bytes.
struct IDXFile {
    var dimensions: [Int]
    var bytes: ArraySlice<UInt8>

    /// Magic number of an unsigned-byte IDX file with `rank` dimensions.
    static func magic(rank: Int) -> UInt32 { 0x0800 | UInt32(rank) }

    /// Parses `data` (already decompressed), which must be an unsigned-byte IDX of `rank` dimensions.
    init(_ data: [UInt8], rank: Int, path: String) throws(DatasetError) {
        let headerSize = 4 + 4 * rank
        guard data.count >= 4 else { throw .truncated(path: path, expectedBytes: headerSize, foundBytes: data.count) }
        func uint32(at offset: Int) -> UInt32 {
            data[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let magic = uint32(at: 0)
        guard magic == Self.magic(rank: rank) else { throw .wrongMagic(path: path, expected: Self.magic(rank: rank), found: magic) }
        guard data.count >= headerSize else { throw .truncated(path: path, expectedBytes: headerSize, foundBytes: data.count) }
        dimensions = (0..<rank).map { Int(uint32(at: 4 + 4 * $0)) }
        var payload = 1
        for dimension in dimensions {
            let (product, overflow) = payload.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .invalidHeader(path: path, reason: "dimensions \(dimensions) overflow") }
            payload = product
        }
        let (expected, overflow) = headerSize.addingReportingOverflow(payload)
        guard !overflow else { throw .invalidHeader(path: path, reason: "dimensions \(dimensions) overflow") }
        guard data.count >= expected else { throw .truncated(path: path, expectedBytes: expected, foundBytes: data.count) }
        guard data.count == expected else {
            throw .invalidHeader(path: path, reason: "\(data.count - expected) unexpected bytes after the data of dimensions \(dimensions)")
        }
        bytes = data[headerSize...]
    }
}
