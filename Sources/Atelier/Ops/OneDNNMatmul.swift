// oneDNN's matmul primitive: bf16 or fp32 A and B, fp32 C, an optional fp32 bias row, 2-d operands whose
// transposes are strides, α as an output scale and β as a sum post-op. It is the bf16 GEMM kernel (BF16GEMM) and
// the large fp32 GEMMs' kernel where oneDNN has a JIT brgemm kernel for the CPU (SGEMM). Creating a primitive
// JIT-compiles its kernel (milliseconds), so each shape's primitive is made once per thread count and kept for
// the life of the process; executing it is cheap. One primitive may execute on several threads at once because
// each execution brings its own stream and its own scratchpad (user scratchpad mode): in oneDNN's default mode, as
// Debian builds it, one scratchpad is shared by every primitive of the process, and concurrent executions returned
// wrong results now and then. A primitive also splits its work for the OpenMP thread count it was created under,
// hence the key.
import CDNNL
import Foundation
import Synchronization

/// One shape's primitive; immutable after creation.
final class OneDNNMatmul: @unchecked Sendable {
    /// Everything a primitive is specialised on (row-major leading dimensions included).
    struct Shape: Hashable {
        /// The element type of A and B (C and the bias are fp32).
        enum Inputs: Hashable { case bf16, f32 }
        var inputs: Inputs = .bf16
        /// A bias row [N] added to every row of C (before β·C is added).
        var bias = false
        var transA: Bool, transB: Bool
        var m: Int, n: Int, k: Int
        var lda: Int, ldb: Int, ldc: Int
        var alpha: Float, beta: Float
    }

    let shape: Shape
    /// oneDNN's name for the kernel it chose, e.g. `brg:avx512_core_bf16` or `brg:avx512_core_amx`.
    let implementation: String
    private let primitive: OpaquePointer
    private let aDesc: dnnl_memory_desc_t, bDesc: dnnl_memory_desc_t, cDesc: dnnl_memory_desc_t
    private let biasDesc: dnnl_memory_desc_t?
    /// The working memory an execution must bring (user scratchpad mode), and its size in bytes.
    private let scratchpadDesc: dnnl_memory_desc_t, scratchpadBytes: Int

    /// Whether the kernel runs on bf16 instructions (AMX or AVX512-BF16). Without them oneDNN 2.6 still
    /// offers bf16 matmul on AVX-512 (`gemm:jit`, converting to fp32 inside), measured at 0.4× of OpenBLAS
    /// sgemm on this project's Zen 4 with `ONEDNN_MAX_CPU_ISA=AVX512_CORE`, so it is not used by choice.
    var usesBF16Instructions: Bool { implementation.contains("bf16") || implementation.contains("amx") }

    private init?(_ s: Shape, threads: Int, engine: OpaquePointer) {
        atelier_dnnl_set_threads(Int32(clamping: threads))
        // Logical [M, K] · [K, N] → [M, N]; a transposed operand is the same matrix with swapped strides.
        var a = dnnl_memory_desc_t(), b = dnnl_memory_desc_t(), c = dnnl_memory_desc_t(), bias = dnnl_memory_desc_t()
        let aStrides: [Int64] = s.transA ? [1, Int64(s.lda)] : [Int64(s.lda), 1]
        let bStrides: [Int64] = s.transB ? [1, Int64(s.ldb)] : [Int64(s.ldb), 1]
        let inputType = s.inputs == .bf16 ? dnnl_bf16 : dnnl_f32
        guard dnnl_memory_desc_init_by_strides(&a, 2, [Int64(s.m), Int64(s.k)], inputType, aStrides) == dnnl_success,
              dnnl_memory_desc_init_by_strides(&b, 2, [Int64(s.k), Int64(s.n)], inputType, bStrides) == dnnl_success,
              dnnl_memory_desc_init_by_strides(&c, 2, [Int64(s.m), Int64(s.n)], dnnl_f32, [Int64(s.ldc), 1]) == dnnl_success,
              !s.bias || dnnl_memory_desc_init_by_strides(&bias, 2, [1, Int64(s.n)], dnnl_f32, [Int64(s.n), 1]) == dnnl_success
        else { return nil }
        var desc = dnnl_matmul_desc_t()
        let created = s.bias ? dnnl_matmul_desc_init(&desc, &a, &b, &bias, &c) : dnnl_matmul_desc_init(&desc, &a, &b, nil, &c)
        guard created == dnnl_success else { return nil }

        var attr: OpaquePointer?
        guard dnnl_primitive_attr_create(&attr) == dnnl_success, let attr else { return nil }
        defer { dnnl_primitive_attr_destroy(attr) }
        guard dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) == dnnl_success else { return nil }
        if s.alpha != 1 {
            var alpha = s.alpha
            guard dnnl_primitive_attr_set_output_scales(attr, 1, 0, &alpha) == dnnl_success else { return nil }
        }
        if s.beta != 0 {
            // dst = β·dst + α·A·B: the sum post-op adds the scaled old contents after the output scale.
            var postOps: OpaquePointer?
            guard dnnl_post_ops_create(&postOps) == dnnl_success, let postOps else { return nil }
            defer { dnnl_post_ops_destroy(postOps) }
            guard dnnl_post_ops_append_sum(postOps, s.beta) == dnnl_success,
                  dnnl_primitive_attr_set_post_ops(attr, postOps) == dnnl_success else { return nil }
        }

        var pd: OpaquePointer?
        // Fails (unimplemented) where oneDNN has no matmul for the types at all, e.g. bf16 on AVX2-only CPUs.
        guard dnnl_primitive_desc_create(&pd, &desc, attr, engine, nil) == dnnl_success, let pd else { return nil }
        defer { dnnl_primitive_desc_destroy(pd) }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        guard let scratchpad = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) else { return nil }
        var primitive: OpaquePointer?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else { return nil }
        scratchpadDesc = scratchpad.pointee
        scratchpadBytes = withUnsafePointer(to: scratchpadDesc) { Int(dnnl_memory_desc_get_size($0)) }
        self.shape = s
        self.implementation = name.map { String(cString: $0) } ?? "unknown"
        self.primitive = primitive
        (aDesc, bDesc, cDesc) = (a, b, c)
        biasDesc = s.bias ? bias : nil
    }

    /// The op name failures are reported under.
    private var opName: String { shape.inputs == .bf16 ? "gemm_bf16" : "gemm_f32" }

    /// Runs the primitive on `threads` OpenMP threads (`bias` [N] exactly when the shape has one); a failure here is
    /// a broken library, not a user error.
    func execute(a: UnsafeRawPointer, b: UnsafeRawPointer, bias: UnsafePointer<Float>? = nil, c: UnsafeMutablePointer<Float>, threads: Int) {
        precondition((bias != nil) == shape.bias, "[\(opName)] bias pointer given: \(bias != nil), primitive has a bias: \(shape.bias)")
        guard let engine = OneDNNMatmul.engine?.value else { fatalError("[\(opName)] oneDNN engine unavailable") }
        var ma: OpaquePointer?, mb: OpaquePointer?, mc: OpaquePointer?, mbias: OpaquePointer?, ms: OpaquePointer?
        // This execution's scratchpad, from the tensors' memory pool.
        let scratchpad = Buffer(byteCount: scratchpadBytes)
        // Memory objects only wrap the caller's pointers (no allocation).
        var ok = withUnsafePointer(to: aDesc) { dnnl_memory_create(&ma, $0, engine, UnsafeMutableRawPointer(mutating: a)) } == dnnl_success
        ok = ok && withUnsafePointer(to: bDesc) { dnnl_memory_create(&mb, $0, engine, UnsafeMutableRawPointer(mutating: b)) } == dnnl_success
        ok = ok && withUnsafePointer(to: cDesc) { dnnl_memory_create(&mc, $0, engine, UnsafeMutableRawPointer(c)) } == dnnl_success
        if let bias, let biasDesc {
            ok = ok && withUnsafePointer(to: biasDesc) { dnnl_memory_create(&mbias, $0, engine, UnsafeMutableRawPointer(mutating: bias)) } == dnnl_success
        }
        if scratchpadBytes > 0 {
            ok = ok && withUnsafePointer(to: scratchpadDesc) { dnnl_memory_create(&ms, $0, engine, scratchpad.raw) } == dnnl_success
        }
        defer { for m in [ma, mb, mc, mbias, ms] { if let m { dnnl_memory_destroy(m) } } }
        var status = dnnl_runtime_error
        if ok {
            let stream = OneDNNMatmul.takeStream(engine)
            var args = [dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: ma), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: mb),
                        dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: mc)]
            if mbias != nil { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: mbias)) }
            if let ms { args.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: ms)) }
            atelier_dnnl_set_threads(Int32(clamping: threads))
            status = dnnl_primitive_execute(primitive, stream, Int32(args.count), &args)
            if status == dnnl_success { status = dnnl_stream_wait(stream) }
            OneDNNMatmul.returnStream(stream)
            withExtendedLifetime(scratchpad) {}
        }
        precondition(status == dnnl_success, "[\(opName)] oneDNN \(implementation) failed (status \(status.rawValue)) for \(shape)")
    }

    // MARK: - Process-wide caches (not settings): the CPU engine, the primitives by shape, idle streams

    private static let engine: UncheckedSendable<OpaquePointer>? = {
        var engine: OpaquePointer?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        return UncheckedSendable(engine)
    }()
    private struct Key: Hashable { var shape: Shape, threads: Int }
    private struct Cache: ~Copyable {
        /// nil values remember shapes oneDNN cannot do, so they are asked once.
        var primitives: [Key: OneDNNMatmul?] = [:]
        /// A stream serves one execution at a time; concurrent callers each take one.
        var idleStreams: [UncheckedSendable<OpaquePointer>] = []
    }
    private static let cache = Mutex(Cache())

    /// The primitive for `shape` run on `threads` OpenMP threads, created on first request; nil if oneDNN has no
    /// matmul for it here.
    static func primitive(for shape: Shape, threads: Int) -> OneDNNMatmul? {
        let key = Key(shape: shape, threads: max(threads, 1))
        if let known = cache.withLock({ $0.primitives[key] }) { return known }
        // Created outside the lock (JIT takes milliseconds); a racing creator's duplicate is simply dropped.
        let made = engine.flatMap { OneDNNMatmul(shape, threads: key.threads, engine: $0.value) }
        return cache.withLock { cache in
            if let known = cache.primitives[key] { return known }
            cache.primitives[key] = .some(made)
            return made
        }
    }

    private static func takeStream(_ engine: OpaquePointer) -> OpaquePointer {
        if let stream = cache.withLock({ $0.idleStreams.popLast() }) { return stream.value }
        var stream: OpaquePointer?
        guard dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue) == dnnl_success, let stream else {
            fatalError("[gemm_bf16] oneDNN could not create a stream")
        }
        return stream
    }

    private static func returnStream(_ stream: OpaquePointer) {
        cache.withLock { $0.idleStreams.append(UncheckedSendable(stream)) }
    }

    /// The instruction set oneDNN dispatches to on this CPU (after `ONEDNN_MAX_CPU_ISA`), e.g. `avx512_core_bf16`.
    static var effectiveISA: String {
        let isa = dnnl_get_effective_cpu_isa()
        let names: [(dnnl_cpu_isa_t, String)] = [
            (dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"), (dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"),
            (dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"), (dnnl_cpu_isa_avx512_core, "avx512_core"),
            (dnnl_cpu_isa_avx2_vnni, "avx2_vnni"), (dnnl_cpu_isa_avx2, "avx2"), (dnnl_cpu_isa_avx, "avx"),
            (dnnl_cpu_isa_sse41, "sse41"),
        ]
        return names.first { $0.0 == isa }?.1 ?? "isa 0x\(String(isa.rawValue, radix: 16))"
    }
}
