// Shared helpers for the IO tests: the suite group and fixture lookup.
import Foundation
import Testing

/// Groups the IO suites so that `swift test --filter IOTests` runs exactly them.
@Suite("IO") enum IOTests {}

enum Fixtures {
    /// A file from Tests/AtelierTests/Fixtures, bundled with `.copy("Fixtures")`.
    static func url(_ name: String) -> URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures").appendingPathComponent(name)
    }
}
