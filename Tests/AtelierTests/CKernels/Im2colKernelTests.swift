// im2col against its direct definition, and col2im as its exact adjoint: ⟨im2col x, y⟩ = ⟨x, col2im y⟩.
import Testing
import CKernels
import TestSupport

struct KernelConvGeometry: CustomTestStringConvertible, Sendable {
    var c: Int, h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
    var oh: Int { Int(ck_conv_output_size(Int64(h), Int64(kh), Int64(sh), Int64(ph), Int64(dh))) }
    var ow: Int { Int(ck_conv_output_size(Int64(w), Int64(kw), Int64(sw), Int64(pw), Int64(dw))) }
    var rows: Int { c * kh * kw }
    var testDescription: String { "C\(c) \(h)×\(w) k\(kh)×\(kw) s\(sh),\(sw) p\(ph),\(pw) d\(dh),\(dw)" }
    var args: [Int64] { [c, h, w, kh, kw, sh, sw, ph, pw, dh, dw].map(Int64.init) }
}

extension CKernelsTests {
    @Suite struct Im2col {
        static let geometries: [KernelConvGeometry] = [
            .init(c: 1, h: 1, w: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1),
            .init(c: 3, h: 7, w: 5, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1),
            .init(c: 2, h: 9, w: 11, kh: 3, kw: 2, sh: 2, sw: 3, ph: 2, pw: 1, dh: 2, dw: 1),
            .init(c: 2, h: 6, w: 13, kh: 4, kw: 5, sh: 3, sw: 2, ph: 3, pw: 4, dh: 1, dw: 3),
            .init(c: 1, h: 5, w: 5, kh: 2, kw: 2, sh: 4, sw: 4, ph: 0, pw: 0, dh: 1, dw: 1),  // pixels never read
            .init(c: 3, h: 16, w: 16, kh: 4, kw: 4, sh: 4, sw: 4, ph: 0, pw: 0, dh: 1, dw: 1), // patch embedding
        ]

        /// The definition: column entry (c, ky, kx; oy, ox) = image[c, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw], 0 outside.
        static func directIm2col(_ g: KernelConvGeometry, _ x: [Double], ld: Int, offset: Int, into cols: inout [Double]) {
            for c in 0..<g.c { for ky in 0..<g.kh { for kx in 0..<g.kw { for oy in 0..<g.oh { for ox in 0..<g.ow {
                let y = oy * g.sh - g.ph + ky * g.dh, xx = ox * g.sw - g.pw + kx * g.dw
                let inside = y >= 0 && y < g.h && xx >= 0 && xx < g.w
                cols[((c * g.kh + ky) * g.kw + kx) * ld + offset + oy * g.ow + ox] = inside ? x[(c * g.h + y) * g.w + xx] : 0
            } } } } }
        }

        /// Two images side by side in one column matrix (ld = 2·OH·OW), as the batched conv lays them out.
        @Test(arguments: geometries)
        func im2colMatchesDefinition(g: KernelConvGeometry) {
            var rng = TestRNG(5)
            let images = (0..<2).map { _ in rng.floats(g.c * g.h * g.w) }
            let n = g.oh * g.ow, ld = 2 * n
            var expected = [Double](repeating: 0, count: g.rows * ld)
            var cols32 = [Float](repeating: .nan, count: g.rows * ld), cols64 = [Double](repeating: .nan, count: g.rows * ld)
            let a = g.args
            for b in 0..<2 {
                Self.directIm2col(g, images[b].map(Double.init), ld: ld, offset: b * n, into: &expected)
                cols32.withUnsafeMutableBufferPointer {
                    ck_im2col_f32($0.baseAddress! + b * n, Int64(ld), images[b], a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])
                }
                let image64 = images[b].map(Double.init)
                cols64.withUnsafeMutableBufferPointer {
                    ck_im2col_f64($0.baseAddress! + b * n, Int64(ld), image64, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])
                }
            }
            // Pure copies: exact equality.
            #expect(cols32.map(Double.init) == expected)
            #expect(cols64 == expected)
        }

        /// ⟨im2col x, y⟩ = ⟨x, col2im y⟩. f64: both sides sum the same products in different orders, error ~1e-15
        /// relative to Σ|terms|; f32 is accumulated here in Double, so only col2im's float additions (≤ KH·KW terms
        /// per pixel) differ: ~1e-6 relative. Tolerances 1e-12 and 1e-5 of Σ|terms|.
        @Test(arguments: geometries)
        func col2imIsAdjoint(g: KernelConvGeometry) {
            var rng = TestRNG(11)
            let ld = g.oh * g.ow + 3 // a leading dimension wider than one image, to exercise `ld`
            let x32 = rng.floats(g.c * g.h * g.w), y32 = rng.floats(g.rows * ld)
            let a = g.args
            var cols32 = [Float](repeating: 0, count: g.rows * ld), back32 = [Float](repeating: .nan, count: x32.count)
            ck_im2col_f32(&cols32, Int64(ld), x32, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])
            ck_col2im_f32(&back32, y32, Int64(ld), a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])
            let x64 = x32.map(Double.init), y64 = y32.map(Double.init)
            var cols64 = [Double](repeating: 0, count: g.rows * ld), back64 = [Double](repeating: .nan, count: x64.count)
            ck_im2col_f64(&cols64, Int64(ld), x64, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])
            ck_col2im_f64(&back64, y64, Int64(ld), a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10])

            // Only the columns [0, OH·OW) of each row belong to this image.
            func dotCols<T: BinaryFloatingPoint>(_ cols: [T], _ y: [Double]) -> (Double, Double) {
                var s = 0.0, m = 0.0
                for r in 0..<g.rows { for j in 0..<(g.oh * g.ow) {
                    let t = Double(cols[r * ld + j]) * y[r * ld + j]; s += t; m += abs(t)
                } }
                return (s, m)
            }
            let (lhs32, mag32) = dotCols(cols32, y64), (lhs64, mag64) = dotCols(cols64, y64)
            let rhs32 = zip(x64, back32).reduce(0) { $0 + $1.0 * Double($1.1) }
            let rhs64 = zip(x64, back64).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(lhs64 - rhs64) <= 1e-12 * max(mag64, 1))
            #expect(abs(lhs32 - rhs32) <= 1e-5 * max(mag32, 1))
        }
    }
}
