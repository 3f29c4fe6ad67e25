// libFuzzer's two entry points. LLVMFuzzerInitialize picks the target once, from ATELIER_FUZZ_TARGET or else from
// the executable's name (`fuzz-<target>`, the links scripts/fuzz.sh makes); LLVMFuzzerTestOneInput hands each
// input to it. A target returns normally for any input its loader refuses with a typed error: a trap, an
// AddressSanitizer report, a hang or a blown memory limit is the finding.
import Foundation

/// Every target, by the name scripts/fuzz.sh and Fuzz/corpus/<name> use.
let targets: [String: @Sendable (Data) -> Void] = [
    "images": FuzzTargets.images,
    "checkpoints": FuzzTargets.checkpoints,
    "idx": FuzzTargets.idx,
    "cifar": FuzzTargets.cifar,
    "brushes": FuzzTargets.brushes,
]

nonisolated(unsafe) var selected: (@Sendable (Data) -> Void)?

@_cdecl("LLVMFuzzerInitialize")
public func initialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let program = argv.pointee?.pointee.map { String(cString: $0) } ?? ""
    let invokedAs = String(program.split(separator: "/").last ?? "")
    let name = ProcessInfo.processInfo.environment["ATELIER_FUZZ_TARGET"]
        ?? (invokedAs.hasPrefix("fuzz-") ? String(invokedAs.dropFirst(5)) : invokedAs)
    guard let target = targets[name] else {
        FileHandle.standardError.write(Data("atelier-fuzz: unknown target '\(name)'; set ATELIER_FUZZ_TARGET to one of \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    selected = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    selected?(start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}
