import Foundation

/// Runs `python3`, whose packages (safetensors, tensorboard) are the reference readers of the files we write.
public enum Python {
    /// Runs `python3 -c script args...`; returns (exit status, stdout, stderr).
    public static func run(_ script: String, _ arguments: [String] = []) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a large output cannot fill the pipe and deadlock.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Whether `python3` can import `safetensors` and `numpy` (CI installs them with pip).
    public static let hasSafeTensors: Bool = {
        (try? run("import safetensors, numpy"))?.status == 0
    }()

    /// Whether `python3` can import TensorBoard's event-file reader (CI installs `tensorboard` with pip).
    public static let hasTensorBoard: Bool = {
        (try? run("import tensorboard.backend.event_processing.event_accumulator"))?.status == 0
    }()
}
