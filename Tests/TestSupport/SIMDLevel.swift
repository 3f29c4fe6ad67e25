import CKernels
import Testing

/// Runs `body` with the C kernels' SIMD level forced, then restores the default. The level is process-wide, so
/// callers run in `.serialized` suites. On a CPU without AVX-512 (or AVX2) the level is clamped.
public func withSIMDLevel<R>(_ level: Int32, _ body: () -> R) -> R {
    ck_set_simd_level(level)
    defer { ck_set_simd_level(-1) }
    #expect(ck_simd_level() == min(level, ck_simd_level_supported()))
    return body()
}
