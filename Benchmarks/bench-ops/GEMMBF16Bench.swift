// bench-ops --gemm-bf16: the bf16 GEMM (bf16 inputs, fp32 accumulation and output) against OpenBLAS sgemm on
// the models' shapes, in one sitting. Each shape is validated first (sampled entries against a float64
// reference, every path), then the variants are timed round-robin so that all see the same machine state;
// medians are reported, with the measured FP32 FMA ceiling for scale.
import ArgumentParser
import Atelier
import COpenBLAS
import Foundation

struct GEMMShape {
    let name: String, transA: Bool, transB: Bool, m: Int, n: Int, k: Int
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    var aCount: Int { m * k }
    var bCount: Int { k * n }
    var lda: Int { transA ? m : k }
    var ldb: Int { transB ? k : n }
    var kind: String { (transA ? "Aᵀ" : "A") + (transB ? "Bᵀ" : "B") }

    /// 1024³, and the linear layers of TransGAN-S (M = 16·64 tokens, width 384, MLP 1536) and of Paint
    /// Transformer (M = batch·tokens 8192, width 256, MLP 1024): forward ABᵀ (x·Wᵀ), input gradient AB (g·W),
    /// weight gradient AᵀB (gᵀ·x, the contraction over the tokens).
    static let models: [GEMMShape] = [
        GEMMShape(name: "square", transA: false, transB: false, m: 1024, n: 1024, k: 1024),
        GEMMShape(name: "transgan-s attn proj fwd", transA: false, transB: true, m: 1024, n: 384, k: 384),
        GEMMShape(name: "transgan-s mlp up fwd", transA: false, transB: true, m: 1024, n: 1536, k: 384),
        GEMMShape(name: "transgan-s mlp down fwd", transA: false, transB: true, m: 1024, n: 384, k: 1536),
        GEMMShape(name: "transgan-s mlp up dx", transA: false, transB: false, m: 1024, n: 384, k: 1536),
        GEMMShape(name: "transgan-s attn proj dw", transA: true, transB: false, m: 384, n: 384, k: 1024),
        GEMMShape(name: "transgan-s mlp up dw", transA: true, transB: false, m: 1536, n: 384, k: 1024),
        GEMMShape(name: "paint attn proj fwd", transA: false, transB: true, m: 8192, n: 256, k: 256),
        GEMMShape(name: "paint mlp up fwd", transA: false, transB: true, m: 8192, n: 1024, k: 256),
        GEMMShape(name: "paint mlp down fwd", transA: false, transB: true, m: 8192, n: 256, k: 1024),
        GEMMShape(name: "paint mlp up dx", transA: false, transB: false, m: 8192, n: 256, k: 1024),
        GEMMShape(name: "paint attn proj dw", transA: true, transB: false, m: 256, n: 256, k: 8192),
        GEMMShape(name: "paint mlp up dw", transA: true, transB: false, m: 1024, n: 256, k: 8192),
    ]
}

struct GEMMBF16Bench {
    let reps: Int
    let json: Bool

    func run() throws {
        let threads = Threading.count
        openblas_set_num_threads(Int32(threads))
        let env = ProcessInfo.processInfo.environment
        let core = String(cString: openblas_get_corename())
        let ceiling = FMACeiling.measure(threads: threads)
        let waitPolicy = env["OMP_WAIT_POLICY"] ?? "unset"
        if !json {
            print(ceiling.description + "; bf16 dot products do two multiply-adds per fp32 lane, so the bf16 peak is twice it")
            print("threads \(threads) · OpenBLAS core \(core) · oneDNN ISA \(BF16GEMM.libraryISA) · OMP_WAIT_POLICY \(waitPolicy) · reps \(reps) (median, round-robin)")
            print("GF = GFLOP/s (2·M·N·K); bf16 = bf16 inputs; +cvt = fp32 inputs rounded to bf16 inside the call; fallback = sgemm on rounded inputs")
            print(padded("shape", 26) + padded("op", 5) + padded("M×N×K", 15)
                  + ["sgemm", "bf16", "+cvt", "fallbk", "×", "×cvt", "share"].map { padded($0, 8, right: true) }.joined() + "  path")
        }
        var rows: [[String: Any]] = []
        for shape in GEMMShape.models {
            let row = try measure(shape, threads: threads)
            rows.append(row)
            if !json {
                let gf = { (key: String) in row[key + "_gflops"] as! Double }
                print(padded(shape.name, 26) + padded(shape.kind, 5) + padded("\(shape.m)×\(shape.n)×\(shape.k)", 15)
                      + String(format: "%8.1f%8.1f%8.1f%8.1f%8.2f%8.2f%7.0f%%", gf("sgemm"), gf("bf16"), gf("bf16_with_conversion"),
                               gf("fallback"), row["speedup"] as! Double, row["speedup_with_conversion"] as! Double,
                               ceiling.share(of: gf("bf16")) * 100)
                      + "  \(row["path"]!) (oneDNN \(row["implementation"]!)"
                      + ((row["passed_over_library_gflops"] as? Double).map { String(format: ": %.1f", $0) } ?? "") + ")")
            }
        }
        let ratios = rows.map { $0["speedup"] as! Double }.sorted()
        let ratiosCvt = rows.map { $0["speedup_with_conversion"] as! Double }.sorted()
        if json {
            let obj: [String: Any] = ["benchmark": "gemm-bf16", "threads": threads, "openblas_core": core,
                                      "onednn_isa": BF16GEMM.libraryISA, "omp_wait_policy": waitPolicy,
                                      "fma_ceiling_gflops": ceiling.gigaflops, "reps": reps, "shapes": rows,
                                      "median_speedup": ratios[ratios.count / 2],
                                      "median_speedup_with_conversion": ratiosCvt[ratiosCvt.count / 2]]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "median speed-up over sgemm: %.2f× (bf16 inputs), %.2f× (with conversion)",
                         ratios[ratios.count / 2], ratiosCvt[ratiosCvt.count / 2]))
        }
    }

    private func measure(_ s: GEMMShape, threads: Int) throws -> [String: Any] {
        let rng = RandomGenerator(seed: UInt64(s.m * 31 + s.n * 7 + s.k))
        let a = (0..<s.aCount).map { _ in Float(rng.nextUniform() * 2 - 1) }, b = (0..<s.bCount).map { _ in Float(rng.nextUniform() * 2 - 1) }
        var aBits = [UInt16](repeating: 0, count: s.aCount), bBits = [UInt16](repeating: 0, count: s.bCount)
        BFloat16.round(a, rows: 1, cols: s.aCount, ld: s.aCount, into: &aBits)
        BFloat16.round(b, rows: 1, cols: s.bCount, ld: s.bCount, into: &bBits)
        var c = [Float](repeating: 0, count: s.m * s.n)
        let path = BF16GEMM.automaticPath(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, lda: s.lda, ldb: s.ldb, ldc: s.n)
        let implementation = BF16GEMM.libraryImplementation(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                                            lda: s.lda, ldb: s.ldb, ldc: s.n) ?? "none"

        func sgemm() {
            cblas_sgemm(CblasRowMajor, s.transA ? CblasTrans : CblasNoTrans, s.transB ? CblasTrans : CblasNoTrans, Int32(s.m),
                        Int32(s.n), Int32(s.k), 1, a, Int32(s.lda), b, Int32(s.ldb), 0, &c, Int32(s.n))
        }
        func bf16(_ path: BF16GEMM.Path? = nil) {
            BF16GEMM.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: aBits, lda: s.lda, b: bBits,
                          ldb: s.ldb, c: &c, ldc: s.n, path: path)
        }
        func bf16Converting(_ path: BF16GEMM.Path? = nil) {
            BF16GEMM.gemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, a: a, lda: s.lda, b: b, ldb: s.ldb,
                          c: &c, ldc: s.n, path: path)
        }

        // Validate every variant and path before timing.
        var worst = 0.0
        var checks: [(String, () -> Void, Bool)] = [("sgemm", sgemm, false)]
        for p in BF16GEMM.Path.allCases where p == .fallback || implementation != "none" {
            checks.append(("bf16 \(p.rawValue)", { bf16(p) }, true))
            checks.append(("bf16+cvt \(p.rawValue)", { bf16Converting(p) }, true))
        }
        for (label, variant, isBF16) in checks {
            c = [Float](repeating: .nan, count: s.m * s.n)
            variant()
            worst = max(worst, try validate(s, a, b, c, bf16: isBF16, label: label))
        }

        // Round-robin: one run of every variant per rep, after a warm-up round. Where oneDNN has a kernel that the
        // automatic choice passes over (bf16 emulated without the instructions), it is timed too, to show why.
        var variants: [() -> Void] = [sgemm, { bf16() }, { bf16Converting() }, { bf16(.fallback) }]
        let timesPassedOver = path == .fallback && implementation != "none"
        if timesPassedOver { variants.append { bf16(.oneDNN) } }
        var times = [[Double]](repeating: [], count: variants.count)
        for rep in -1..<max(reps, 1) {
            for (i, variant) in variants.enumerated() {
                let start = DispatchTime.now().uptimeNanoseconds
                variant()
                if rep >= 0 { times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9) }
            }
        }
        let medians = times.map { $0.sorted()[$0.count / 2] }
        var row: [String: Any] = [:]
        if timesPassedOver { row["passed_over_library_gflops"] = s.flops / medians[4] / 1e9 }
        return row.merging([
            "name": s.name, "op": s.kind, "M": s.m, "N": s.n, "K": s.k, "transA": s.transA, "transB": s.transB,
            "path": path.rawValue, "implementation": implementation,
            "sgemm_ms": medians[0] * 1e3, "bf16_ms": medians[1] * 1e3, "bf16_with_conversion_ms": medians[2] * 1e3,
            "fallback_ms": medians[3] * 1e3,
            "sgemm_gflops": s.flops / medians[0] / 1e9, "bf16_gflops": s.flops / medians[1] / 1e9,
            "bf16_with_conversion_gflops": s.flops / medians[2] / 1e9, "fallback_gflops": s.flops / medians[3] / 1e9,
            "speedup": medians[0] / medians[1], "speedup_with_conversion": medians[0] / medians[2],
            "max_error_over_bound": worst,
        ]) { $1 }
    }

    /// Checks 257 sampled entries of C against float64 on the fp32 inputs, within BF16GEMM.errorBound for the
    /// bf16 variants and the fp32 bound (γ_k only) for sgemm; returns the worst error / bound.
    private func validate(_ s: GEMMShape, _ a: [Float], _ b: [Float], _ c: [Float], bf16: Bool, label: String) throws -> Double {
        let rng = RandomGenerator(seed: 99)
        var worst = 0.0
        for _ in 0..<257 {
            let i = rng.nextInt(in: 0..<s.m), j = rng.nextInt(in: 0..<s.n)
            var exact = 0.0, absolute = 0.0
            for l in 0..<s.k {
                let x = Double(s.transA ? a[l * s.m + i] : a[i * s.k + l]), y = Double(s.transB ? b[j * s.k + l] : b[l * s.n + j])
                exact += x * y
                absolute += abs(x * y)
            }
            let bound = BF16GEMM.errorBound(k: s.k, absoluteProducts: absolute, inputsRounded: !bf16)
            let ratio = abs(Double(c[i * s.n + j]) - exact) / bound
            guard ratio <= 1 else {
                throw ValidationError("\(label) \(s.name): C[\(i), \(j)] = \(c[i * s.n + j]), float64 \(exact), bound \(bound)")
            }
            worst = max(worst, ratio)
        }
        return worst
    }
}

/// `text` padded with spaces to `width` characters (on the left when `right`).
private func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}
