// The safetensors checkpoint format: an 8-byte little-endian header length N, N bytes of JSON
// (`{"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}`), then the
// raw little-endian data; offsets are relative to the data section. Reading validates every entry before any
// byte is used, so a corrupt file throws `CheckpointError` rather than crashing or reading out of bounds.
// Writing sorts keys, pads the header with spaces so the data starts 8-byte aligned, packs tensors without
// gaps (Python's reader rejects holes) and replaces the file atomically.
import Foundation

/// A safetensors file in memory: named tensors plus string metadata.
///
/// ```swift
/// var file = SafeTensorsFile()
/// file.tensors["linear.weight"] = SafeTensorsEntry(floats: w, shape: [out, in])
/// file.metadata["step"] = "1200"
/// try file.write(to: url)
/// let back = try SafeTensorsFile.read(from: url)
/// let w2 = try back.floats("linear.weight", shape: [out, in])
/// ```
public struct SafeTensorsFile: Sendable, Equatable {
    /// Largest header accepted when reading (the limit of the reference implementation).
    public static let maximumHeaderLength = 100_000_000

    /// Tensors by name (PyTorch `state_dict` keys).
    public var tensors: [String: SafeTensorsEntry]
    /// The optional `__metadata__` table.
    public var metadata: [String: String]
    /// The file this was read from, used in error messages; `"<memory>"` for a file built in code.
    public var source: String

    /// Creates a file from tensors and metadata.
    public init(tensors: [String: SafeTensorsEntry] = [:], metadata: [String: String] = [:], source: String = "<memory>") {
        self.tensors = tensors
        self.metadata = metadata
        self.source = source
    }

    // MARK: - Reading

    /// Reads and validates the file at `url`.
    /// - Throws: ``CheckpointError`` naming the file and the problem.
    public static func read(from url: URL) throws(CheckpointError) -> SafeTensorsFile {
        let bytes: Data
        do {
            // Mapped, not copied: only the entries' ranges are copied out below.
            bytes = try Data(readingFileAt: url, options: .mappedIfSafe, describe: Self.reason)
        } catch {
            throw .unreadable(path: url.path, reason: error.reason)
        }
        return try decode(bytes, source: url.path)
    }

    /// Parses and validates a whole file's bytes; `source` names it in errors.
    public static func decode(_ bytes: Data, source: String) throws(CheckpointError) -> SafeTensorsFile {
        let base = bytes.startIndex
        guard bytes.count >= 8 else { throw .truncated(path: source, byteCount: bytes.count) }
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(bytes[base + i]) << (8 * UInt64(i)) }
        guard headerLength >= 2, headerLength <= UInt64(maximumHeaderLength), headerLength <= UInt64(bytes.count - 8) else {
            throw .badHeaderLength(path: source, headerLength: headerLength, fileSize: bytes.count)
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = bytes.count - dataStart
        let header = try parseHeader(bytes[(base + 8)..<(base + dataStart)], source: source)

        var tensors: [String: SafeTensorsEntry] = [:]
        var ranges: [(key: String, range: Range<Int>)] = []
        for key in header.entries.keys.sorted() {
            let raw = header.entries[key]!
            guard let dtype = SafeTensorsDType(rawValue: raw.dtype) else {
                throw .unknownDType(path: source, key: key, dtype: raw.dtype)
            }
            guard let needed = SafeTensorsDType.byteCount(of: raw.shape, dtype: dtype) else {
                throw .invalidShape(path: source, key: key, shape: raw.shape)
            }
            let offsets = raw.dataOffsets
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize else {
                throw .offsetsOutOfRange(path: source, key: key, offsets: offsets, dataSize: dataSize)
            }
            guard offsets[1] - offsets[0] == needed else {
                throw .sizeMismatch(path: source, key: key, dtype: dtype, shape: raw.shape, byteCount: offsets[1] - offsets[0])
            }
            ranges.append((key, offsets[0]..<offsets[1]))
            let slice = bytes[(base + dataStart + offsets[0])..<(base + dataStart + offsets[1])]
            tensors[key] = SafeTensorsEntry(dtype: dtype, shape: raw.shape, data: Data(slice))
        }
        // Sorted by start, two non-empty ranges overlap iff one starts before the previous one ends.
        let occupied = ranges.filter { !$0.range.isEmpty }.sorted { ($0.range.lowerBound, $0.key) < ($1.range.lowerBound, $1.key) }
        for (previous, next) in zip(occupied, occupied.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw .overlappingData(path: source, key: next.key, otherKey: previous.key)
        }
        return SafeTensorsFile(tensors: tensors, metadata: header.metadata, source: source)
    }

    // MARK: - Writing

    /// The file's bytes: header keys sorted, data 8-byte aligned, tensors packed in key order.
    /// - Throws: ``CheckpointError`` if an entry's byte count disagrees with its shape and dtype.
    public func encoded() throws(CheckpointError) -> Data {
        let keys = tensors.keys.sorted()
        var entriesJSON: [(String, String)] = []
        var offset = 0
        for key in keys {
            let entry = tensors[key]!
            if key == "__metadata__" { throw .reservedKey(path: source, key: key) }
            guard let needed = SafeTensorsDType.byteCount(of: entry.shape, dtype: entry.dtype) else {
                throw .invalidShape(path: source, key: key, shape: entry.shape)
            }
            guard needed == entry.data.count else {
                throw .sizeMismatch(path: source, key: key, dtype: entry.dtype, shape: entry.shape, byteCount: entry.data.count)
            }
            let shape = entry.shape.map(String.init).joined(separator: ",")
            entriesJSON.append((key, "{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + needed)]}"))
            offset += needed
        }
        if !metadata.isEmpty {
            let fields = metadata.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0]!))" }
            entriesJSON.append(("__metadata__", "{" + fields.joined(separator: ",") + "}"))
        }
        entriesJSON.sort { $0.0 < $1.0 }
        var header = Array(("{" + entriesJSON.map { "\(Self.jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}").utf8)
        // Space padding (valid JSON whitespace) so the data section starts at a multiple of 8.
        while (8 + header.count) % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var bytes = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: header)
        for key in keys { bytes.append(tensors[key]!.data) }
        return bytes
    }

    /// Writes the file atomically: a temporary file in the same directory, then a rename over `url`.
    /// - Throws: ``CheckpointError`` naming `url` if an entry is inconsistent or the write fails.
    public func write(to url: URL) throws(CheckpointError) {
        var named = self
        named.source = url.path
        let bytes = try named.encoded()
        do {
            try AtomicFile.write(bytes, to: url)
        } catch {
            throw .writeFailed(path: url.path, reason: error.reason)
        }
    }

    // MARK: - Lookups

    /// The entry for `key`.
    /// - Throws: ``CheckpointError/missingKey(path:key:)``.
    public func entry(_ key: String) throws(CheckpointError) -> SafeTensorsEntry {
        guard let entry = tensors[key] else { throw .missingKey(path: source, key: key) }
        return entry
    }

    /// The entry for `key`, checked to have `shape` when one is given.
    /// - Throws: ``CheckpointError/missingKey(path:key:)`` or ``CheckpointError/shapeMismatch(path:key:expected:found:)``.
    public func entry(_ key: String, shape: [Int]?) throws(CheckpointError) -> SafeTensorsEntry {
        let entry = try entry(key)
        if let shape, shape != entry.shape {
            throw .shapeMismatch(path: source, key: key, expected: shape, found: entry.shape)
        }
        return entry
    }

    /// The values of `key` as `Float`, checked against `shape` when one is given.
    public func floats(_ key: String, shape: [Int]? = nil) throws(CheckpointError) -> [Float] {
        try entry(key, shape: shape).floats()
    }

    /// The values of `key` as `Double`, checked against `shape` when one is given.
    public func doubles(_ key: String, shape: [Int]? = nil) throws(CheckpointError) -> [Double] {
        try entry(key, shape: shape).doubles()
    }

    /// The values of an integer entry `key`, checked against `shape` when one is given.
    /// - Throws: ``CheckpointError/dtypeMismatch(path:key:expected:found:)`` for a floating-point entry.
    public func integers(_ key: String, shape: [Int]? = nil) throws(CheckpointError) -> [Int] {
        let entry = try entry(key, shape: shape)
        guard let values = entry.integers() else {
            throw .dtypeMismatch(path: source, key: key, expected: "an integer dtype", found: entry.dtype)
        }
        return values
    }

    // MARK: - Header JSON

    private struct Header {
        var entries: [String: RawEntry] = [:]
        var metadata: [String: String] = [:]
    }

    private struct RawEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// The top level mixes entry objects with the `__metadata__` string table, so it is decoded by hand.
    private struct HeaderDecoding: Decodable {
        var header = Header()

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: AnyKey.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    header.metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    header.entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
                }
            }
        }
    }

    private static func parseHeader(_ json: Data, source: String) throws(CheckpointError) -> Header {
        do {
            return try JSONDecoder().decode(HeaderDecoding.self, from: json).header
        } catch let error as DecodingError {
            throw .invalidHeader(path: source, reason: describe(error))
        } catch {
            throw .invalidHeader(path: source, reason: reason(error))
        }
    }

    /// A one-line account of a decoding error: where in the header, and what was wrong.
    private static func describe(_ error: DecodingError) -> String {
        func location(_ path: [any CodingKey]) -> String {
            path.isEmpty ? "top level" : path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(key.stringValue)' at \(location(context.codingPath))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "unexpected value at \(location(context.codingPath)): \(context.debugDescription)"
        case .dataCorrupted(let context):
            return "not valid JSON at \(location(context.codingPath))"
        @unknown default:
            return "\(error)"
        }
    }

    private static func reason(_ error: any Error) -> String {
        (error as? CocoaError)?.underlying.map { "\($0.localizedDescription)" } ?? error.localizedDescription
    }

    private static func jsonString(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

private extension CocoaError {
    var underlying: (any Error)? { userInfo[NSUnderlyingErrorKey] as? any Error }
}
