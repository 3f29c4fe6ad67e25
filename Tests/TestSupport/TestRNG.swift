// Deterministic test inputs (xorshift64), so failures reproduce; shared by the gradient checks and the
// kernel tests.

struct TestRNG {
    var state: UInt64
    init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
    /// Uniform in [0, 1).
    mutating func next() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) / Double(1 << 53)
    }
    mutating func values(_ n: Int, low: Double = -1, high: Double = 1) -> [Double] {
        (0..<n).map { _ in low + (high - low) * next() }
    }
    /// Float32 values in [-1, 1).
    mutating func floats(_ n: Int) -> [Float] { values(n).map { Float($0) } }
}

/// max |a − b| over two equally long sequences.
func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}
