import Foundation
import Testing
@testable import Atelier
import TestSupport

// The separable 3×3 window filters against a plain 9-neighbour loop, on odd sizes and with many ties (values on a
// 4-level grid), forward and gradient routing (centre first on ties, else the first extreme in scan order).

private func reference(_ x: [Double], h: Int, w: Int, planes: Int, isMax: Bool, grad g: [Double]) -> (y: [Double], dx: [Double]) {
    var y = x, dx = [Double](repeating: 0, count: x.count)
    for p in 0..<planes {
        for i in 0..<h {
            for j in 0..<w {
                let centre = p * h * w + i * w + j
                var best = x[centre], at = centre
                for di in -1...1 where i + di >= 0 && i + di < h {
                    for dj in -1...1 where j + dj >= 0 && j + dj < w {
                        let k = p * h * w + (i + di) * w + j + dj
                        if isMax ? x[k] > best : x[k] < best { best = x[k]; at = k }
                    }
                }
                // The plain loop keeps the first strictly better element; among equal extremes other than the
                // centre that is the first in scan order only if no earlier one ties, so resolve ties explicitly.
                if best != x[centre] {
                    search: for di in -1...1 where i + di >= 0 && i + di < h {
                        for dj in -1...1 where j + dj >= 0 && j + dj < w {
                            let k = p * h * w + (i + di) * w + j + dj
                            if x[k] == best { at = k; break search }
                        }
                    }
                }
                y[centre] = best
                dx[at] += g[centre]
            }
        }
    }
    return (y, dx)
}

@Test(arguments: [[3, 5, 7], [1, 1, 1], [2, 1, 6], [2, 6, 1], [1, 2, 2], [4, 9, 11]])
func windowFiltersMatchThePlainLoop(shape: [Int]) {
    let planes = shape[0], h = shape[1], w = shape[2], n = planes * h * w
    let seeded = RandomGenerator(seed: UInt64(n))
    let x = Tensor.uniform([n], rng: seeded).doubles().map { ($0 * 4).rounded(.down) / 4 }  // ties
    let g = Tensor.uniform([n], rng: RandomGenerator(seed: 99)).doubles()
    for isMax in [true, false] {
        let input = Tensor(shape: shape, values: x, dtype: .float64)
        let out = isMax ? input.maxFilter3x3() : input.minFilter3x3()
        let cotangent = Tensor(shape: shape, values: g, dtype: .float64)
        let dx = gradients(of: (out * cotangent).sum(), wrt: [input])[0]
        evaluate([out, dx])
        let expected = reference(x, h: h, w: w, planes: planes, isMax: isMax, grad: g)
        #expect(out.doubles() == expected.y, "\(shape) isMax \(isMax)")
        let worst = maxAbsDifference(dx.doubles(), expected.dx)
        #expect(worst < 1e-12, "\(shape) isMax \(isMax): gradient differs by \(worst)")
    }
}
