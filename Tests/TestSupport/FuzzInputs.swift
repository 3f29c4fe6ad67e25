import Foundation

/// The files under Fuzz/`kind`/`target`/ of this checkout (`kind` is "corpus" or "regressions"), sorted: the fuzz
/// targets' seeds and known-bad inputs, which `swift test` replays through the loaders of every target.
public enum FuzzInputs {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    public static func files(_ kind: String, _ target: String) throws -> [URL] {
        let folder = root.appendingPathComponent(kind).appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
