import Foundation

/// A fresh directory under the system temporary directory; removed by `remove()`.
public struct ScratchDirectory {
    public let url: URL

    public init(_ label: String = #function) throws {
        let name = "atelier-test-\(label.filter { $0.isLetter || $0.isNumber || $0 == "-" })-\(UUID().uuidString.prefix(8))"
        url = FileManager.default.temporaryDirectory.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}
