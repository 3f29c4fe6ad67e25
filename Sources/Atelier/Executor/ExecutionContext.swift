// The settings an evaluation runs with: worker threads, the C kernels' SIMD level, which fused kernels are on, a
// profiler and the memory pool its tensors use. They travel with the code that uses them (a task-local value, handed to every `parallelFor` slice),
// not in process-wide switches, so two evaluations with different settings can run at once and each sees its own
// (the test suite runs in parallel).
import Foundation
import Synchronization
import CKernels

public struct ExecutionContext: Sendable {
    /// Worker threads for the engine's slices, oneDNN and OpenBLAS (in `Threading.allowedCounts`).
    public var threads: Int {
        didSet { ExecutionContext.checkThreads(threads) }
    }
    /// The C kernels' vector path: 0 portable, 1 AVX2+FMA, 2 AVX-512 (clamped to the CPU's); nil: the best the CPU
    /// has. Results of the levels agree to rounding, not bitwise.
    public var simdLevel: Int? {
        didSet { ExecutionContext.checkSIMDLevel(simdLevel) }
    }
    /// Routes float32 attention through the fused kernels; off forces the composite path. Read when the graph is
    /// built (`Tensor.attention`), not when it runs.
    public var fusedAttention: Bool
    /// Collects per-op timings of the evaluations run in this context; nil: no timing.
    public var profiler: Profiler?
    /// Forces the fp32 GEMM library (`SGEMM.Path`); nil chooses per product (`SGEMM.automaticPath`). The default
    /// context takes `ATELIER_SGEMM=onednn|openblas` if set.
    public var sgemmPath: SGEMM.Path?
    /// Where tensor storage allocated in this context comes from and returns to (`MemoryPool.shared` unless given).
    public var memoryPool: MemoryPool
    /// The OpenBLAS thread count of a lease held around this code (`BLASThreads.hold`), which its BLAS calls share.
    var blasLease: Int? = nil

    public init(threads: Int = ExecutionContext.machineThreads, simdLevel: Int? = nil, fusedAttention: Bool = true,
                profiler: Profiler? = nil, sgemmPath: SGEMM.Path? = nil, memoryPool: MemoryPool = .shared) {
        ExecutionContext.checkThreads(threads)
        ExecutionContext.checkSIMDLevel(simdLevel)
        self.threads = threads
        self.simdLevel = simdLevel
        self.fusedAttention = fusedAttention
        self.profiler = profiler
        self.sgemmPath = sgemmPath
        self.memoryPool = memoryPool
    }

    /// `ATELIER_THREADS` if it is in `Threading.allowedCounts`, else every core.
    public static let machineThreads: Int = {
        if let s = ProcessInfo.processInfo.environment["ATELIER_THREADS"], let n = Int(s), Threading.allowedCounts.contains(n) {
            return n
        }
        return ProcessInfo.processInfo.activeProcessorCount
    }()

    // MARK: - This context with one setting changed

    public func with(threads: Int) -> ExecutionContext { var c = self; c.threads = threads; return c }
    public func with(simdLevel: Int?) -> ExecutionContext { var c = self; c.simdLevel = simdLevel; return c }
    public func with(fusedAttention: Bool) -> ExecutionContext { var c = self; c.fusedAttention = fusedAttention; return c }
    public func with(profiler: Profiler?) -> ExecutionContext { var c = self; c.profiler = profiler; return c }
    public func with(sgemmPath: SGEMM.Path?) -> ExecutionContext { var c = self; c.sgemmPath = sgemmPath; return c }
    public func with(memoryPool: MemoryPool) -> ExecutionContext { var c = self; c.memoryPool = memoryPool; return c }

    // MARK: - Which context is in force

    /// The context of code that installed none: `machineThreads`, the best SIMD level, fused kernels on, the shared
    /// memory pool, and a profiler when `ATELIER_PROFILE` is `1` (by op) or `shapes` (by op and shapes). The one mutable process-wide
    /// setting of the engine, for executables to apply their flags once at startup (`--threads`); libraries and
    /// tests install a context for a scope with `run` instead.
    public static var `default`: ExecutionContext {
        get { defaultContext.withLock { $0 } }
        set { defaultContext.withLock { $0 = newValue } }
    }

    private static let defaultContext = Mutex(ExecutionContext(
        profiler: Profiler.fromEnvironment(),
        sgemmPath: ProcessInfo.processInfo.environment["ATELIER_SGEMM"].flatMap { SGEMM.Path(rawValue: $0.lowercased()) }))

    /// Not mutable state: a task-local binding, set only for the scope of `install` (a `var` as the wrapper requires).
    @TaskLocal private static var installed: ExecutionContext? = nil

    /// The innermost context installed by `run` on this task or thread (or handed to this `parallelFor` slice),
    /// else `default`.
    public static var current: ExecutionContext { installed ?? .default }

    /// Runs `body` with this context as `current` (its OpenBLAS calls run on `threads` threads: see `BLASThreads`).
    public func run<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        do { return try install(body) } catch { throw error as! E }
    }

    /// Runs `body` in the current context with `threads` worker threads, or unchanged when nil (a library call's
    /// `threads` option).
    public static func run<R, E: Error>(threads: Int?, _ body: () throws(E) -> R) throws(E) -> R {
        try (threads.map { current.with(threads: $0) } ?? current).run(body)
    }

    /// Makes this context current on the calling thread for `body`: the task-local value and the C kernels'
    /// thread-local SIMD level. `parallelFor` slices enter through here.
    func install<R>(_ body: () throws -> R) rethrows -> R {
        let previousLevel = ck_simd_level()
        ck_set_simd_level(Int32(simdLevel ?? -1))
        defer { ck_set_simd_level(previousLevel) }
        return try ExecutionContext.$installed.withValue(self) { try body() }
    }

    // MARK: - Checks

    private static func checkThreads(_ n: Int) {
        precondition(Threading.allowedCounts.contains(n),
                     "[ExecutionContext] threads must be in \(Threading.allowedCounts), got \(n)")
    }

    private static func checkSIMDLevel(_ level: Int?) {
        precondition(level.map { (0...2).contains($0) } ?? true,
                     "[ExecutionContext] simdLevel must be 0, 1, 2 or nil, got \(level!)")
    }
}
