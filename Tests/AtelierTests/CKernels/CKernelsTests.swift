// The C kernels at every SIMD level: the suites in this folder's other files nest here. A forced level holds on
// the forcing thread and its slices only (`withSIMDLevel`), so these run in parallel with the rest.
import Testing
import CKernels

@Suite struct CKernelsTests {
    /// Every level: on a CPU without AVX-512 (or AVX2) the forced level is clamped and the best path runs twice.
    static let levels: [Int32] = [0, 1, 2]
}
