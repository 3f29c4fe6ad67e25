// A small seeded random number generator, so that brushes and synthetic training batches are reproducible
// on every platform (Swift's SystemRandomNumberGenerator cannot be seeded).

/// SplitMix64 (Steele, Lea & Flood 2014): a 64-bit state advanced by a Weyl constant and mixed by two
/// multiply–xorshift rounds. Fast, passes BigCrush, and any seed (including 0) is fine.
public struct SplitMix64: RandomNumberGenerator, Sendable, Equatable {
    /// The whole generator state; store it to resume the same stream.
    public var state: UInt64

    /// Starts the stream at `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension RandomNumberGenerator {
    /// A uniform Float in [0, 1) from the top 24 bits, so every value is exactly representable and 1 is
    /// never returned.
    @inlinable
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }
}
