// bench-attention: fused attention kernels vs the GEMM composite on the project's shapes.
// For each preset: validate both against a Float64 reference, warm up, then report median times, GFLOP/s,
// extra memory and speed-ups. `--json` prints one JSON array instead of the table.
import ArgumentParser
import Atelier
import CKernels
import COpenBLAS
import Foundation

@main
struct BenchAttention: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-attention", abstract: "Fused vs composite attention, forward and forward+backward.")

    @Option(help: "Threads for the pool and OpenBLAS (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(parsing: .singleValue, help: "Preset name (repeatable or comma list; default: all).")
    var preset: [String] = []
    @Option(help: "Timed repetitions per measurement (median reported).")
    var reps: Int = 7
    @Option(help: "Batch size B of the model presets.")
    var batch: Int = 16
    @Flag(help: "Print one JSON array, one object per shape.")
    var json = false

    func run() throws {
        let all = Preset.all(batch: batch)
        let wanted = preset.flatMap { $0.split(separator: ",").map(String.init) }
        let unknown = wanted.filter { w in !all.contains { $0.name == w } }
        guard unknown.isEmpty else {
            throw ValidationError("unknown preset \(unknown.joined(separator: ", ")); known: \(all.map(\.name).joined(separator: ", "))")
        }
        let presets = wanted.isEmpty ? all : all.filter { wanted.contains($0.name) }
        let core = String(cString: openblas_get_corename())
        let log = { (s: String) in if !json { print(s) } }
        let ceiling = FMACeiling.measure(threads: threads)
        log(ceiling.description + "; the shares below are of it")
        log("threads \(threads) · OpenBLAS core \(core) · CKernels SIMD level \(ck_simd_level()) · reps \(reps) (median)")
        log("GF = GFLOP/s (fwd 4·BH·Tq·Tk·D, fwd+bwd 2.5×); composite mode = faster of BH-sliced (OpenBLAS 1 thread) or batched GEMMs")
        var rows: [[String: Any]] = []
        for p in presets {
            var row = measure(p, core: core)
            row["fma_ceiling_gflops"] = ceiling.gigaflops
            for key in ["fused_fwd", "fused_fwdbwd", "composite_fwd", "composite_fwdbwd"] {
                row[key + "_share_of_ceiling"] = ceiling.share(of: row[key + "_gflops"] as! Double)
            }
            rows.append(row)
            if !json { printRow(row) }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    func measure(_ p: Preset, core: String) -> [String: Any] {
        let w = Workload(p)
        defer { w.free() }
        var fused = FusedAttention(w, threads: threads), composite = CompositeAttention(w, threads: threads)
        defer { fused.free(); composite.free() }
        openblas_set_num_threads(Int32(threads))

        // Validate first: the reference covers the first slices only when the full problem is large.
        let refSlices = Double(p.tq) * Double(p.tk) * Double(p.d) * Double(p.bh) > 2e8 ? 1 : p.bh
        let ref = ReferenceAttention(w, slices: refSlices)
        fused.forward(); fused.backward()
        composite.mode = .sliced; composite.prepare(); composite.forward(); composite.backward()
        let fusedFwdErr = ReferenceAttention.maxError(ref.out, fused.r.out)
        var fusedBwdErr = [ref.dq, ref.dk, ref.dv].enumerated().map { i, r in
            ReferenceAttention.maxError(r, [fused.r.dq, fused.r.dk, fused.r.dv][i])
        }.max()!
        if let db = fused.dbiasOfFirstSlices(refSlices) {
            fusedBwdErr = max(fusedBwdErr, zip(ref.dbias, db).map { abs($0 - Double($1)) }.max() ?? 0)
        }
        let compFwdErr = ReferenceAttention.maxError(ref.out, composite.r.out)
        let compBwdErr = [ref.dq, ref.dk, ref.dv].enumerated().map { i, r in
            ReferenceAttention.maxError(r, [composite.r.dq, composite.r.dk, composite.r.dv][i])
        }.max()!

        openblas_set_num_threads(Int32(threads))
        let fusedFwd = time { fused.forward() }
        let fusedFwdBwd = time { fused.forward(); fused.backward() }
        // Composite: time both parallel strategies, keep the faster per measurement.
        var best: (fwd: Double, fwdbwd: Double, mode: String) = (.infinity, .infinity, "")
        for mode in [CompositeAttention.Mode.sliced, .batched] {
            composite.mode = mode
            composite.prepare()
            let f = time { composite.forward() }
            let fb = time { composite.forward(); composite.backward() }
            if f + fb < best.fwd + best.fwdbwd { best = (f, fb, mode.rawValue) }
        }
        openblas_set_num_threads(Int32(threads))

        return [
            "name": p.name, "B": p.batch, "H": p.heads, "Tq": p.tq, "Tk": p.tk, "D": p.d, "bias": p.bias,
            "threads": threads, "openblas_core": core, "simd_level": Int(ck_simd_level()),
            "fused_fwd_ms": fusedFwd * 1e3, "fused_fwdbwd_ms": fusedFwdBwd * 1e3,
            "composite_fwd_ms": best.fwd * 1e3, "composite_fwdbwd_ms": best.fwdbwd * 1e3, "composite_mode": best.mode,
            "fused_fwd_gflops": p.forwardFlops / fusedFwd / 1e9, "fused_fwdbwd_gflops": p.forwardBackwardFlops / fusedFwdBwd / 1e9,
            "composite_fwd_gflops": p.forwardFlops / best.fwd / 1e9,
            "composite_fwdbwd_gflops": p.forwardBackwardFlops / best.fwdbwd / 1e9,
            "max_abs_err_fwd": fusedFwdErr, "max_abs_err_bwd": fusedBwdErr,
            "composite_max_abs_err_fwd": compFwdErr, "composite_max_abs_err_bwd": compBwdErr,
            "reference_slices": refSlices,
            "fused_extra_bytes": fused.extraBytes(backward: true), "composite_extra_bytes": composite.extraBytes(backward: true),
            "fused_fwd_extra_bytes": fused.extraBytes(backward: false),
            "composite_fwd_extra_bytes": composite.extraBytes(backward: false),
        ]
    }

    /// Median wall time in seconds of `reps` runs after one warm-up run.
    func time(_ body: () -> Void) -> Double {
        body()
        var samples: [Double] = []
        for _ in 0..<max(reps, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        samples.sort()
        return samples[samples.count / 2]
    }

    func printRow(_ r: [String: Any]) {
        func f(_ key: String, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", r[key] as! Double) }
        func pct(_ key: String) -> String { String(format: "%.0f %% of ceiling", 100 * (r[key + "_share_of_ceiling"] as! Double)) }
        func mb(_ key: String) -> String { String(format: "%.2f MB", Double(r[key] as! Int) / 1e6) }
        let ff = r["fused_fwd_ms"] as! Double, cf = r["composite_fwd_ms"] as! Double
        let ffb = r["fused_fwdbwd_ms"] as! Double, cfb = r["composite_fwdbwd_ms"] as! Double
        print("""
        \(r["name"]!) B\(r["B"]!) H\(r["H"]!) Tq\(r["Tq"]!) Tk\(r["Tk"]!) D\(r["D"]!)\((r["bias"] as! Bool) ? " +bias" : "")
          fwd     fused \(f("fused_fwd_ms", 3)) ms \(f("fused_fwd_gflops", 1)) GF (\(pct("fused_fwd"))) · composite \(f("composite_fwd_ms", 3)) ms \(f("composite_fwd_gflops", 1)) GF (\(pct("composite_fwd"))) · ×\(String(format: "%.2f", cf / ff))
          fwd+bwd fused \(f("fused_fwdbwd_ms", 3)) ms \(f("fused_fwdbwd_gflops", 1)) GF (\(pct("fused_fwdbwd"))) · composite \(f("composite_fwdbwd_ms", 3)) ms \(f("composite_fwdbwd_gflops", 1)) GF (\(pct("composite_fwdbwd"))) · ×\(String(format: "%.2f", cfb / ffb)) (composite \(r["composite_mode"]!))
          max |err| vs f64 (\(r["reference_slices"]!) slices): fused fwd \(String(format: "%.1e", r["max_abs_err_fwd"] as! Double)) bwd \(String(format: "%.1e", r["max_abs_err_bwd"] as! Double)) · composite fwd \(String(format: "%.1e", r["composite_max_abs_err_fwd"] as! Double)) bwd \(String(format: "%.1e", r["composite_max_abs_err_bwd"] as! Double))
          extra memory fwd+bwd: fused \(mb("fused_extra_bytes")) · composite \(mb("composite_extra_bytes"))
        """)
    }
}
