// Where the tools write everything but the output asked for: progress lines and the one error line of a failure
// after the arguments parsed (`mainWithOneLineErrors` reports the parse errors).
import Foundation

public enum StandardError {
    /// Writes `text` and a newline to stderr.
    public static func line(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Writes `PREFIXerror: DESCRIPTION`, e.g. `train-transgan: error: --steps must be …`.
    public static func error(_ error: Any, prefix: String = "") {
        line("\(prefix)error: \(error)")
    }
}
