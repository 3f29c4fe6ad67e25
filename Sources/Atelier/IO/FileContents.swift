// Reading a whole file into Data for a loader. The path's kind is checked before opening (FileKind): a FIFO would
// block, a device or directory would read as nothing or fail vaguely. And around a leak in Foundation on Linux: a
// file whose stat size is 0 is read in 4 KiB chunks (files under /proc report 0 yet have contents), and when
// nothing comes back that first buffer is never freed. Fuzzing the loaders with LeakSanitizer found it; an empty
// regular file now gives empty Data without that path, and every other file is read as before.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read, as a phrase for the loader's own error, which names the file.
package struct FileReadFailure: Error {
    package let reason: String
}

extension Data {
    /// The contents of the file at `url`, as `Data(contentsOf:options:)` reads them, if it is a regular file.
    /// - Parameter describe: the reason given when Foundation's read fails.
    package init(readingFileAt url: URL, options: Data.ReadingOptions = [],
                 describe: (any Error) -> String = { $0.localizedDescription }) throws(FileReadFailure) {
        if let problem = FileKind.readProblem(url.path) { throw FileReadFailure(reason: problem) }
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_size == 0 {
            self.init()
            return
        }
        do { try self.init(contentsOf: url, options: options) } catch { throw FileReadFailure(reason: describe(error)) }
    }
}
