// Errors from reading, validating, looking up and writing safetensors checkpoints. Every message names the
// file, so a failed resume points straight at the bad checkpoint.
import Foundation

/// A problem with a safetensors checkpoint; `description` names the file and what is wrong.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file is shorter than the 8-byte header length.
    case truncated(path: String, byteCount: Int)
    /// The header length is larger than the file or than the format's 100 MB limit.
    case badHeaderLength(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not valid JSON of the expected form.
    case invalidHeader(path: String, reason: String)
    /// An entry names a dtype this reader does not know.
    case unknownDType(path: String, key: String, dtype: String)
    /// An entry has a negative dimension or an element count that overflows.
    case invalidShape(path: String, key: String, shape: [Int])
    /// An entry's `data_offsets` are not `[begin, end]` with `0 ≤ begin ≤ end ≤ data size`.
    case offsetsOutOfRange(path: String, key: String, offsets: [Int], dataSize: Int)
    /// Two entries claim overlapping bytes.
    case overlappingData(path: String, key: String, otherKey: String)
    /// shape × dtype size differs from the entry's byte range.
    case sizeMismatch(path: String, key: String, dtype: SafeTensorsDType, shape: [Int], byteCount: Int)
    /// A lookup asked for a key the file does not hold.
    case missingKey(path: String, key: String)
    /// A lookup expected another shape.
    case shapeMismatch(path: String, key: String, expected: [Int], found: [Int])
    /// A lookup needs another kind of dtype (integers from a floating-point entry).
    case dtypeMismatch(path: String, key: String, expected: String, found: SafeTensorsDType)
    /// A tensor may not be called `__metadata__`.
    case reservedKey(path: String, key: String)
    /// Writing the file failed.
    case writeFailed(path: String, reason: String)
    /// The file holds tensors the model does not have (it was saved from another configuration).
    case unexpectedKeys(path: String, keys: [String])
    /// A metadata entry is missing or not what it should be.
    case badMetadata(path: String, key: String, reason: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .unreadable(let path, _), .truncated(let path, _), .badHeaderLength(let path, _, _),
             .invalidHeader(let path, _), .unknownDType(let path, _, _), .invalidShape(let path, _, _),
             .offsetsOutOfRange(let path, _, _, _), .overlappingData(let path, _, _),
             .sizeMismatch(let path, _, _, _, _), .missingKey(let path, _), .shapeMismatch(let path, _, _, _),
             .dtypeMismatch(let path, _, _, _), .reservedKey(let path, _), .writeFailed(let path, _),
             .unexpectedKeys(let path, _), .badMetadata(let path, _, _):
            return path
        }
    }

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read checkpoint \(path): \(reason)"
        case .truncated(let path, let byteCount):
            return "truncated checkpoint \(path): \(byteCount) bytes, fewer than the 8-byte header length"
        case .badHeaderLength(let path, let headerLength, let fileSize):
            return "bad header length in \(path): \(headerLength) bytes declared, file has \(fileSize) bytes "
                + "(limit \(SafeTensorsFile.maximumHeaderLength)); not a safetensors file or truncated"
        case .invalidHeader(let path, let reason):
            return "invalid JSON header in \(path): \(reason)"
        case .unknownDType(let path, let key, let dtype):
            return "unknown dtype '\(dtype)' for '\(key)' in \(path)"
        case .invalidShape(let path, let key, let shape):
            return "invalid shape \(shape) for '\(key)' in \(path)"
        case .offsetsOutOfRange(let path, let key, let offsets, let dataSize):
            return "data_offsets \(offsets) for '\(key)' in \(path) are out of range (data section is \(dataSize) bytes; truncated file?)"
        case .overlappingData(let path, let key, let otherKey):
            return "data of '\(key)' overlaps data of '\(otherKey)' in \(path)"
        case .sizeMismatch(let path, let key, let dtype, let shape, let byteCount):
            let needed = SafeTensorsDType.byteCount(of: shape, dtype: dtype).map(String.init) ?? "more than Int.max"
            return "size mismatch for '\(key)' in \(path): shape \(shape) of \(dtype.rawValue) needs "
                + "\(needed) bytes, found \(byteCount)"
        case .missingKey(let path, let key):
            return "missing key '\(key)' in \(path)"
        case .shapeMismatch(let path, let key, let expected, let found):
            return "shape mismatch for '\(key)' in \(path): expected \(expected), found \(found)"
        case .dtypeMismatch(let path, let key, let expected, let found):
            return "dtype mismatch for '\(key)' in \(path): expected \(expected), found \(found.rawValue)"
        case .reservedKey(let path, let key):
            return "'\(key)' is reserved and cannot name a tensor in \(path)"
        case .writeFailed(let path, let reason):
            return "cannot write checkpoint \(path): \(reason)"
        case .unexpectedKeys(let path, let keys):
            let shown = keys.prefix(3).map { "'\($0)'" }.joined(separator: ", ")
            return "\(path) has \(keys.count) tensor(s) this model does not have (\(shown)\(keys.count > 3 ? ", …" : "")): saved from another configuration?"
        case .badMetadata(let path, let key, let reason):
            return "metadata '\(key)' in \(path): \(reason)"
        }
    }
}
