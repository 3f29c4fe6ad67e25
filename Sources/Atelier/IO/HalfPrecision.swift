// 16-bit float conversions for checkpoints: IEEE binary16 (F16) and bfloat16 (BF16, the top half of a
// binary32). Rounding is to nearest, ties to even, matching numpy and PyTorch.

extension Float {
    /// Decodes IEEE binary16 bits exactly (every binary16 value is representable in binary32).
    init(halfBits bits: UInt16) {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0x1F:  // infinity or NaN; keep the payload's top bits so a NaN stays a NaN
            self.init(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        case 0:  // zero or subnormal: mantissa × 2⁻²⁴, exact in binary32
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign != 0 ? -magnitude : magnitude
        default:
            self.init(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
        }
    }

    /// The nearest IEEE binary16 value's bits (ties to even; overflow to ±infinity; NaN stays NaN).
    var halfBits: UInt16 {
        let bits = bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let magnitude = bits & 0x7FFF_FFFF
        if magnitude >= 0x7F80_0000 {  // infinity or NaN
            return sign | (magnitude > 0x7F80_0000 ? 0x7E00 : 0x7C00)
        }
        if magnitude >= 0x4780_0000 {  // ≥ 65536: beyond the rounding range of the largest half (65504)
            return sign | 0x7C00
        }
        if magnitude < 0x3880_0000 {  // below 2⁻¹⁴: subnormal half, units of 2⁻²⁴
            // Scaling by 2²⁴ is exact; rounding the product to an integer (ties to even) is the half mantissa.
            let units = (Float(bitPattern: magnitude) * 0x1p24).rounded(.toNearestOrEven)
            return sign | UInt16(units)
        }
        // Normal: drop 13 mantissa bits with round-to-nearest-even; a carry into the exponent is correct.
        let rebased = magnitude &- (UInt32(127 - 15) << 23)
        let rounded = rebased &+ 0x0FFF &+ ((rebased >> 13) & 1)
        return sign | UInt16(truncatingIfNeeded: rounded >> 13)
    }

    /// Decodes bfloat16 bits exactly (bfloat16 is the top half of a binary32).
    init(bfloat16Bits bits: UInt16) { self.init(bitPattern: UInt32(bits) << 16) }

    /// The nearest bfloat16 value's bits (ties to even; NaN stays a quiet NaN).
    var bfloat16Bits: UInt16 {
        if isNaN { return UInt16(truncatingIfNeeded: bitPattern >> 16) | 0x0040 }
        let bits = bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
