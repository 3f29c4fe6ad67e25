// Deterministic test inputs (xorshift64), so failures reproduce; shared by every test target.

public struct TestRNG {
    public var state: UInt64
    public init(_ seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 | 1 }
    /// Uniform in [0, 1).
    public mutating func next() -> Double {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return Double(state >> 11) / Double(1 << 53)
    }
    public mutating func values(_ n: Int, low: Double = -1, high: Double = 1) -> [Double] {
        (0..<n).map { _ in low + (high - low) * next() }
    }
    /// Float32 values in [-1, 1).
    public mutating func floats(_ n: Int) -> [Float] { values(n).map { Float($0) } }
    /// An index in 0..<bound.
    public mutating func index(below bound: Int) -> Int { min(Int(next() * Double(bound)), bound - 1) }
}
