import Atelier
import CKernels
import Testing

/// Runs `body` in the current context with the C kernels' SIMD level forced (on this thread and on the slices of
/// its `parallelFor` loops only, so other tests may run meanwhile). On a CPU without AVX-512 (or AVX2) the level is
/// clamped.
public func withSIMDLevel<R>(_ level: Int32, _ body: () -> R) -> R {
    ExecutionContext.current.with(simdLevel: Int(level)).run {
        #expect(ck_simd_level() == min(level, ck_simd_level_supported()))
        return body()
    }
}
