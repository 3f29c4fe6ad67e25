// Runs the package's training executables, alone or under `mpirun -np N` on loopback, for the data-parallel
// tests. `swift test` builds the executables beside the test bundle.
import Atelier
import Foundation
import Testing
import TestSupport

enum MPIRun {
    /// The build products folder (the test bundle's).
    static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.pathComponents.count > 1 && !url.lastPathComponent.hasSuffix(".xctest") { url.deleteLastPathComponent() }
        return url.deletingLastPathComponent()
    }()

    static func executable(_ name: String) throws -> URL {
        let url = products.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw TestFailure("\(name) was not built in \(products.path); run the tests with `swift test`, which builds it")
        }
        return url
    }

    /// mpirun from Open MPI (`.ci/run` installs openmpi-bin).
    static let mpirun: URL? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    struct Outcome {
        var status: Int32
        var output: String
        var seconds: Double
    }

    /// Runs `program arguments` (under `mpirun -np ranks` when ranks > 0) and waits at most `timeout` seconds.
    static func run(_ program: String, _ arguments: [String], ranks: Int = 0, timeout: Double = 300,
                    whileRunning: ((Process) throws -> Void)? = nil) throws -> Outcome {
        let process = Process()
        let binary = try executable(program)
        if ranks > 0 {
            guard let mpirun else { throw TestFailure("mpirun is not installed (apt-get install openmpi-bin)") }
            process.executableURL = mpirun
            process.arguments = ["--allow-run-as-root", "--oversubscribe", "-np", String(ranks), binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_MCA_btl"] = "self,vader,tcp"        // loopback only, no network probing
        environment["OMPI_MCA_btl_tcp_if_include"] = "lo"
        environment["OMPI_MCA_oob_tcp_if_include"] = "lo"
        process.environment = environment
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("atelier-mpi-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close(); try? FileManager.default.removeItem(at: log) }
        process.standardOutput = handle
        process.standardError = handle
        let start = Date()
        try process.run()
        try whileRunning?(process)
        while process.isRunning && Date().timeIntervalSince(start) < timeout { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw TestFailure("\(program) did not finish within \(timeout) s:\n" + (try String(contentsOf: log, encoding: .utf8)))
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, output: try String(contentsOf: log, encoding: .utf8),
                       seconds: Date().timeIntervalSince(start))
    }

    /// Runs and requires exit status 0.
    @discardableResult
    static func succeed(_ program: String, _ arguments: [String], ranks: Int = 0) throws -> Outcome {
        let outcome = try run(program, arguments, ranks: ranks)
        guard outcome.status == 0 else {
            throw TestFailure("\(program) \(arguments.joined(separator: " ")) (ranks \(ranks)) exited with \(outcome.status):\n\(outcome.output)")
        }
        return outcome
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Every tensor and metadata entry of two checkpoints, compared exactly; returns the differences.
func checkpointDifferences(_ a: URL, _ b: URL) throws -> [String] {
    let x = try SafeTensorsFile.read(from: a), y = try SafeTensorsFile.read(from: b)
    var differences: [String] = []
    if Set(x.tensors.keys) != Set(y.tensors.keys) { differences.append("tensor names differ") }
    for key in x.tensors.keys.sorted() {
        guard let u = x.tensors[key], let v = y.tensors[key] else { continue }
        if u.shape != v.shape || u.data != v.data {
            differences.append(u.shape != v.shape ? "\(key): shape \(u.shape) vs \(v.shape)"
                                                  : "\(key): max |Δ| \(maxAbsDifference(u.doubles(), v.doubles()))")
        }
    }
    for key in Set(x.metadata.keys).union(y.metadata.keys).sorted() where x.metadata[key] != y.metadata[key] {
        differences.append("metadata \(key): \(x.metadata[key] ?? "-") vs \(y.metadata[key] ?? "-")")
    }
    return differences
}
