// Loaders that only take paths get the input through files in one directory per fuzzing process, overwritten by
// each input and removed at exit. The directory is in /dev/shm when there is one: on this machine's ext4 /tmp a
// write and read back cost 3 ms, which capped those targets at a few hundred inputs per second.
import Foundation

enum ScratchFiles {
    static let directory: URL = {
        let memory = URL(fileURLWithPath: "/dev/shm", isDirectory: true)
        let parent = FileManager.default.isWritableFile(atPath: memory.path) ? memory : FileManager.default.temporaryDirectory
        let url = parent.appendingPathComponent("atelier-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: ScratchFiles.directory) }
        return url
    }()

    /// Writes `bytes` as `name` in the scratch directory; a failed write stops the run, as it would fake coverage.
    @discardableResult
    static func write(_ bytes: Data, name: String) -> URL {
        let url = directory.appendingPathComponent(name)
        do { try bytes.write(to: url) } catch { fatalError("atelier-fuzz: cannot write \(url.path): \(error)") }
        return url
    }
}
