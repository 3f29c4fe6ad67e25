// The SIMD level is process-wide, so every test that forces one lives in this serialized suite
// (its nested suites, in the other files of this folder, inherit `.serialized`).
import Testing
import CKernels

@Suite(.serialized) struct CKernelsTests {
    /// Every level: on a CPU without AVX-512 (or AVX2) the forced level is clamped and the best path runs twice.
    static let levels: [Int32] = [0, 1, 2]

    /// Runs `body` with `level` forced, then restores the default.
    static func withLevel<R>(_ level: Int32, _ body: () -> R) -> R {
        ck_set_simd_level(level)
        defer { ck_set_simd_level(-1) }
        let active = ck_simd_level(), expected = min(level, ck_simd_level_supported())
        #expect(active == expected)
        return body()
    }
}

/// Deterministic inputs in [-1, 1) (a 64-bit LCG), so failures reproduce.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Double(state >> 40) / Double(1 << 24) * 2 - 1)
    }
    mutating func floats(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

/// max |a − b| over two equally long sequences.
func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}
