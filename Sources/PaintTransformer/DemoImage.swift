import Foundation

// A built-in test picture, so `paint --demo` works on a fresh machine with no downloads and tests have a
// photo-like input: a landscape with a graded sky, a sun with a soft halo, layered hills, a lake with
// reflections, a house and a tree, plus fine value noise standing in for photographic grain and texture.

extension RGBImage {
    /// A procedurally generated landscape, deterministic for a given size.
    /// - Parameter size: side length in pixels (square).
    public static func demoLandscape(size: Int = 512) -> RGBImage {
        precondition(size > 0, "[demoLandscape] size must be positive")
        var image = RGBImage(width: size, height: size)
        var rng = SplitMix64(seed: 2021)
        let grain = (0..<(size * size)).map { _ in rng.nextUnitFloat() - 0.5 }
        let n = Float(size)
        func mix(_ a: SIMD3<Float>, _ b: SIMD3<Float>, _ t: Float) -> SIMD3<Float> { a + (b - a) * min(max(t, 0), 1) }
        func ridge(_ x: Float, _ base: Float, _ amp: Float, _ freq: Float, _ phase: Float) -> Float {
            base + amp * (sin(freq * x + phase) * 0.6 + sin(2.3 * freq * x + 1.7 * phase) * 0.3 + sin(5.1 * freq * x + phase) * 0.1)
        }
        for row in 0..<size {
            for col in 0..<size {
                let x = (Float(col) + 0.5) / n, y = (Float(row) + 0.5) / n
                // Sky: deep blue at the top to warm haze at the horizon, a sun with a halo.
                var c = mix(SIMD3(0.16, 0.32, 0.70), SIMD3(0.98, 0.78, 0.55), y / 0.55)
                let sunDistance = ((x - 0.72) * (x - 0.72) + (y - 0.22) * (y - 0.22)).squareRoot()
                c = mix(c, SIMD3(1.0, 0.93, 0.70), 0.6 * exp(-sunDistance * 9))
                if sunDistance < 0.06 { c = SIMD3(1.0, 0.97, 0.85) }
                // Clouds: soft horizontal bands.
                let cloud = max(0, sin(x * 9 + sin(y * 30) * 0.8) * sin(y * 26 + 1.3)) * max(0, 1 - y / 0.35)
                c = mix(c, SIMD3(0.97, 0.95, 0.97), 0.55 * cloud)
                // Far hills (blue-violet), near hills (greens), a lake below the horizon at y = 0.62.
                let far = ridge(x, 0.46, 0.05, 7, 0.4)
                if y > far { c = mix(SIMD3(0.42, 0.45, 0.62), SIMD3(0.30, 0.36, 0.50), (y - far) * 8) }
                let near = ridge(x, 0.55, 0.06, 4.5, 2.1)
                if y > near { c = mix(SIMD3(0.30, 0.55, 0.22), SIMD3(0.12, 0.35, 0.12), (y - near) * 6) }
                if y > 0.62 {
                    // Water: blue, lighter towards the far shore, with ripples.
                    let ripple = 0.05 * sin(y * 180 + sin(x * 20) * 2)
                    c = mix(SIMD3(0.50, 0.62, 0.78), SIMD3(0.12, 0.28, 0.52), (y - 0.62) / 0.18) + SIMD3(repeating: ripple)
                    let sunReflection = exp(-abs(x - 0.72) * 25) * max(0, 1 - (y - 0.62) * 4)
                    c = mix(c, SIMD3(1.0, 0.9, 0.65), 0.7 * sunReflection * (0.6 + 0.4 * sin(y * 240)))
                }
                let shore = ridge(x, 0.80, 0.02, 6, 0.9)
                if y > shore { c = mix(SIMD3(0.85, 0.75, 0.52), SIMD3(0.35, 0.60, 0.20), (y - shore) * 25) }
                if y > shore + 0.06 {
                    let stripes = 0.05 * sin(x * 140 + y * 60)
                    c = mix(SIMD3(0.38, 0.62, 0.22), SIMD3(0.20, 0.42, 0.12), (y - shore) * 4) + SIMD3(repeating: stripes)
                    // Flowers: a sparse pattern of red and yellow dots.
                    let fx = x * 40, fy = y * 40
                    let cell = abs(sin(Float(Int(fx)) * 12.9898 + Float(Int(fy)) * 78.233) * 43758.5453)
                    let frac = cell - cell.rounded(.down)
                    let dot = (fx - fx.rounded(.down) - 0.5) * (fx - fx.rounded(.down) - 0.5) + (fy - fy.rounded(.down) - 0.5) * (fy - fy.rounded(.down) - 0.5)
                    if frac > 0.75, dot < 0.06 { c = frac > 0.88 ? SIMD3(0.9, 0.15, 0.12) : SIMD3(0.98, 0.85, 0.2) }
                }
                // A house on the near hill: walls, a red roof, a door and a window.
                if x > 0.16, x < 0.34, y > 0.50, y < 0.64 { c = SIMD3(0.92, 0.88, 0.78) * (x < 0.2 ? 0.8 : 1) }
                let roofHalf = (0.64 - 0.50) * 0.9 - abs(x - 0.25) * 0.9
                if x > 0.13, x < 0.37, y <= 0.50, y > 0.50 - roofHalf { c = SIMD3(0.70, 0.18, 0.14) }
                if x > 0.22, x < 0.27, y > 0.57, y < 0.64 { c = SIMD3(0.35, 0.20, 0.12) }
                if x > 0.29, x < 0.325, y > 0.535, y < 0.565 { c = SIMD3(0.25, 0.45, 0.75) }
                // A tree: trunk and a round crown with darker dapples.
                if x > 0.455, x < 0.475, y > 0.52, y < 0.66 { c = SIMD3(0.36, 0.24, 0.14) }
                let crown = ((x - 0.465) * (x - 0.465) / 0.0036 + (y - 0.47) * (y - 0.47) / 0.0049)
                if crown < 1 {
                    let dapple = 0.08 * sin(x * 120) * sin(y * 110)
                    c = SIMD3(0.16, 0.42 + dapple, 0.14) * (1 - 0.3 * crown)
                }
                c += SIMD3(repeating: 0.05 * grain[row * size + col])
                c = simd_clamp01(c)
                image[0, row, col] = c.x
                image[1, row, col] = c.y
                image[2, row, col] = c.z
            }
        }
        return image
    }
}

private func simd_clamp01(_ v: SIMD3<Float>) -> SIMD3<Float> {
    SIMD3(min(max(v.x, 0), 1), min(max(v.y, 0), 1), min(max(v.z, 0), 1))
}
