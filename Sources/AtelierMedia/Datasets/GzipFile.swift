// Whole-file reading through zlib's gzFile API. gzread passes non-gzip files through unchanged, so the same
// reader serves `x.gz` and an already decompressed `x`.
import Atelier
import CMedia
import Foundation

enum GzipFile {
    /// Decompressed contents of `url`, at most `limit` bytes (a guard against decompression bombs).
    static func read(_ url: URL, limit: Int = 1 << 31) throws(DatasetError) -> [UInt8] {
        guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path) }
        // Before opening: gzopen on a FIFO would block until a writer appears.
        if let problem = FileKind.readProblem(url.path) { throw .unreadable(path: url.path, reason: problem) }
        guard let file = gzopen(url.path, "rb") else {
            throw .unreadable(path: url.path, reason: "gzopen failed: \(errnoDescription())")
        }
        defer { gzclose(file) }
        var out = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
            if count < 0 { throw .unreadable(path: url.path, reason: errorMessage(file)) }
            if count == 0 { break }
            out.append(contentsOf: chunk[0..<Int(count)])
            if out.count > limit { throw .unreadable(path: url.path, reason: "decompresses to more than \(limit) bytes") }
        }
        // A gzip stream cut short reads as a clean end of file; zlib only reports it through gzerror.
        var code: Int32 = 0
        _ = gzerror(file, &code)
        if code != Z_OK { throw .unreadable(path: url.path, reason: errorMessage(file)) }
        return out
    }

    private static func errorMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        let message = gzerror(file, &code).map { String(cString: $0) } ?? ""
        return code == Z_ERRNO ? errnoDescription() : (message.isEmpty ? "zlib error \(code)" : message)
    }
}
