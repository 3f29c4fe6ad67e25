// Engine overhead: a GEMM-heavy model's forward + backward through the executor, against the same GEMMs
// issued as bare cblas_sgemm calls, in one run. Validates the engine's gradients against the bare path first.
// `--gemm-bf16` instead measures the bf16 GEMM against sgemm on the models' shapes (GEMMBF16Bench.swift),
// `--refinement` stroke refinement's fused loss kernel (RefinementKernelBench.swift).
import ArgumentParser
import Atelier
import CommandLineSupport
import CKernels
import COpenBLAS
import Foundation

@main
struct BenchOps: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench-ops", abstract: "Engine overhead over bare OpenBLAS on an MLP forward+backward; --gemm-bf16: bf16 GEMM vs sgemm; --refinement: refinement loss kernel.")

    @Option(help: "Worker threads (default: ATELIER_THREADS or all cores).") var threads: Int?
    @Option(help: "Timed repetitions (median reported).") var reps = 10
    @Option(help: "Batch size.") var batch = 512
    @Option(help: "Hidden width.") var width = 1024
    @Option(help: "Number of linear layers.") var layers = 4
    @Flag(help: "Print one JSON object.") var json = false
    @Flag(help: "Measure the bf16 GEMM against sgemm on the models' shapes instead.") var gemmBf16 = false
    @Flag(help: "Time stroke refinement's fused loss kernel on a paint-shaped batch instead.") var refinement = false
    @Option(help: "With --refinement: force the C kernels' SIMD level (0 portable, 1 AVX2, 2 AVX-512; clamped to the CPU's).") var simdLevel: Int32?
    @Option(help: "Precision of the engine's linear layers: fp32 or bf16 (the bare GEMMs stay fp32).") var precision = MatmulPrecision.fp32

    func run() throws {
        BLASEnvironment.selectFastKernels()
        if let threads { Threading.setCount(threads) }
        if gemmBf16 { return try GEMMBF16Bench(reps: reps, json: json).run() }
        if refinement {
            if let simdLevel, !(0...2).contains(simdLevel) { throw ValidationError("--simd-level must be 0, 1 or 2, got \(simdLevel)") }
            return try ExecutionContext.current.with(simdLevel: simdLevel.map(Int.init)).run {
                try RefinementKernelBench(reps: reps, json: json).run()
            }
        }
        let gen = RandomGenerator(seed: 1)
        let weights = (0..<layers).map { _ in Parameter(Initializer.pytorchDefault([width, width], fanIn: width, rng: gen)) }
        let biases = (0..<layers).map { _ in Parameter(Initializer.pytorchDefault([width], fanIn: width, rng: gen)) }
        let x = Tensor.normal([batch, width], rng: gen).materialized()

        // Engine: y = relu(x Wᵀ + b) per layer, loss = mean(y²).
        var peak = 0  // the planned peak of the engine's evaluation
        func engineStep() -> (Tensor, [Tensor]) {
            var h = x
            for l in 0..<layers { h = h.linear(weight: weights[l].tensor, bias: biases[l].tensor, precision: precision).relu() }
            let loss = h.square().mean()
            let grads = gradients(of: loss, wrt: weights.map(\.tensor))
            peak = evaluate([loss] + grads).peakBytes
            return (loss, grads)
        }

        // Bare: the same GEMMs (forward 1, backward 2 per layer) on preallocated buffers, nothing else, on the
        // engine's thread count (set directly: nothing else runs OpenBLAS in this process meanwhile).
        openblas_set_num_threads(Int32(Threading.count))
        let n = batch * width
        let acts = (0...layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: n) }
        let dAct = UnsafeMutablePointer<Float>.allocate(capacity: n), dPrev = UnsafeMutablePointer<Float>.allocate(capacity: n)
        let dW = (0..<layers).map { _ in UnsafeMutablePointer<Float>.allocate(capacity: width * width) }
        x.floats().withUnsafeBufferPointer { acts[0].update(from: $0.baseAddress!, count: n) }
        let wPtrs = weights.map { $0.buffer.pointer(as: Float.self) }
        func bareStep() {
            let (m, k) = (Int32(batch), Int32(width))
            for l in 0..<layers {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, k, 1, acts[l], k, wPtrs[l], k, 0, acts[l + 1], k)
            }
            for l in stride(from: layers - 1, through: 0, by: -1) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, k, m, 1, dAct, k, acts[l], k, 0, dW[l], k)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, k, k, 1, dAct, k, wPtrs[l], k, 0, dPrev, k)
            }
        }

        // Validate: gradients are finite and the loss matches a float64 recomputation of the forward.
        let (loss, grads) = engineStep()
        var h64 = x.cast(to: .float64)
        for l in 0..<layers { h64 = h64.linear(weight: weights[l].tensor.cast(to: .float64), bias: biases[l].tensor.cast(to: .float64)).relu() }
        let ref = h64.square().mean().item()
        let relErr = Swift.abs(loss.item() - ref) / Swift.abs(ref)
        // fp32's worst-case rounding of a length-K dot product is K·2⁻²⁴ relative (γ_K), once per layer, so the
        // bound grows with width; bf16 rounds every layer's operands (relative 2⁻⁸ each): a looser 1e-2.
        let bound = precision == .bf16 ? 1e-2 : Swift.max(1e-4, Double(layers * width) * 0x1p-24)
        guard relErr < bound, grads.allSatisfy({ $0.floats().allSatisfy(\.isFinite) }) else {
            throw ValidationError("engine result invalid: loss \(loss.item()) vs float64 \(ref) (relative error \(relErr), bound \(bound))")
        }

        func median(_ f: () -> Void) -> Double {
            f(); f()
            var times: [Double] = []
            for _ in 0..<reps {
                let t0 = DispatchTime.now().uptimeNanoseconds
                f()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            return times.sorted()[times.count / 2]
        }
        // Interleave so both see the same machine state.
        let engineMs = median { _ = engineStep() }
        let bareMs = median { bareStep() }
        let engineMs2 = median { _ = engineStep() }
        let engine = min(engineMs, engineMs2)
        let flops = Double(3 * layers) * 2 * Double(batch) * Double(width) * Double(width)
        let overhead = (engine - bareMs) / bareMs
        let rss = peakRSSBytes()
        let core = String(cString: openblas_get_corename())
        if json {
            let obj: [String: Any] = ["batch": batch, "width": width, "layers": layers, "threads": Threading.count, "openblas_core": core,
                                      "precision": precision.rawValue,
                                      "engine_ms": engine, "bare_gemm_ms": bareMs, "overhead": overhead,
                                      "engine_gflops": flops / engine / 1e6, "bare_gflops": flops / bareMs / 1e6,
                                      "planned_peak_bytes": peak, "peak_rss_bytes": rss, "loss_rel_err_vs_f64": relErr]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("bench-ops: \(layers)-layer MLP, width \(width), batch \(batch), \(Threading.count) threads, OpenBLAS core \(core), engine precision \(precision.rawValue)")
            print("validated: loss rel. error vs float64 \(String(format: "%.2e", relErr))")
            print(String(format: "engine forward+backward  %8.2f ms  (%6.1f GFLOP/s of GEMM work)", engine, flops / engine / 1e6))
            print(String(format: "bare cblas_sgemm calls   %8.2f ms  (%6.1f GFLOP/s)", bareMs, flops / bareMs / 1e6))
            print(String(format: "engine overhead          %8.1f %%", overhead * 100))
            print("executor planned peak    \(peak / 1_048_576) MiB; process peak RSS \(rss / 1_048_576) MiB")
        }
    }
}

/// Peak resident set size of this process (VmHWM), in bytes.
func peakRSSBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

extension MatmulPrecision: ExpressibleByArgument {}
