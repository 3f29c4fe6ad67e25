/// ⌊v⌋ for a finite v with |v| < 2^31 (callers check the range first), without a libm call.
///
/// Why: the package targets baseline x86-64, which has no rounding instruction (SSE4.1's `roundss` cannot be
/// assumed), so Swift lowers `rounded(.down)` to a call to `floorf`, in per-pixel bilinear sampling. Truncation
/// toward zero is exact for integers of this size, and one step down fixes negative non-integers. Concrete
/// overloads, not one generic function: the generic integer conversion is a library call of its own.
@inlinable @inline(__always)
public func floorInRange(_ v: Float) -> Float {
    let truncated = Float(Int32(v))
    return truncated > v ? truncated - 1 : truncated
}

@inlinable @inline(__always)
public func floorInRange(_ v: Double) -> Double {
    let truncated = Double(Int32(v))
    return truncated > v ? truncated - 1 : truncated
}
