import Foundation

/// The files in `folder` that TensorBoard reads as event files (names containing "tfevents"), in name order.
public func tensorBoardEventFiles(in folder: URL) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("tfevents") }.sorted()
        .map { folder.appendingPathComponent($0) }
}
