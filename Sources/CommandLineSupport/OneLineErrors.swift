// What every executable does at its top: run the command and report any failure, argument-parsing errors
// included, as one line on stderr (ArgumentParser would add usage and help lines); --help prints as usual.
import ArgumentParser
import Foundation

extension ParsableCommand {
    /// Parses the arguments, runs the command and exits; a failure prints `PREFIXerror: MESSAGE (see --help)`.
    /// - Parameter prefix: text before `error:`, e.g. `"train-transgan: "`, or empty.
    public static func mainWithOneLineErrors(prefix: String = "") -> Never {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .success || error is ExitCode { exit(withError: error) }
            let first = message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            StandardError.line("\(prefix)error: \(first) (see --help)")
            Foundation.exit(code.rawValue)
        }
    }
}
