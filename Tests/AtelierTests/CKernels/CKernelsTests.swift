// The SIMD level is process-wide, so every test that forces one lives in this serialized suite
// (its nested suites, in the other files of this folder, inherit `.serialized`).
import Testing
import CKernels

@Suite(.serialized) struct CKernelsTests {
    /// Every level: on a CPU without AVX-512 (or AVX2) the forced level is clamped and the best path runs twice.
    static let levels: [Int32] = [0, 1, 2]
}
