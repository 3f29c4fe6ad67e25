// 3×3 max and min window filters (dilation and erosion) over the last two dimensions. Out-of-image
// neighbours are ignored. The gradient goes to the selected element (first in scan order on ties).

struct WindowFilterOp: Op {
    let isMax: Bool
    var name: String { isMax ? "maxFilter3x3" : "minFilter3x3" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), s) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), s) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ s: [Int]) {
        let h = s[s.count - 2], w = s[s.count - 1], planes = s.reduce(1, *) / (h * w)
        let isMax = self.isMax
        parallelFor(planes) { r in
            for p in r {
                let xi = x + p * h * w, yi = y + p * h * w
                for i in 0..<h {
                    for j in 0..<w {
                        var best = xi[i * w + j]
                        for di in -1...1 where i + di >= 0 && i + di < h {
                            for dj in -1...1 where j + dj >= 0 && j + dj < w {
                                let v = xi[(i + di) * w + j + dj]
                                if isMax ? v > best : v < best { best = v }
                            }
                        }
                        yi[i * w + j] = best
                    }
                }
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        shapeCheck(!c.higherOrder, name, "second-order gradients are not supported")
        return [Tensor.make(WindowFilterBackwardOp(isMax: isMax), [c.inputs[0], c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// Routes each output's cotangent to the element its window selected. Per plane, so race-free.
struct WindowFilterBackwardOp: Op {
    let isMax: Bool
    var name: String { isMax ? "maxFilter3x3Backward" : "minFilter3x3Backward" }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.inputs[1].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), s) },
                          { run(c.inputs[0].pointer(as: Double.self), c.inputs[1].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), s) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ g: UnsafeMutablePointer<T>, _ dx: UnsafeMutablePointer<T>, _ s: [Int]) {
        let h = s[s.count - 2], w = s[s.count - 1], planes = s.reduce(1, *) / (h * w)
        let isMax = self.isMax
        parallelFor(planes) { r in
            for p in r {
                let xi = x + p * h * w, gi = g + p * h * w, di_ = dx + p * h * w
                di_.update(repeating: 0, count: h * w)
                for i in 0..<h {
                    for j in 0..<w {
                        var best = xi[i * w + j], at = i * w + j
                        for di in -1...1 where i + di >= 0 && i + di < h {
                            for dj in -1...1 where j + dj >= 0 && j + dj < w {
                                let k = (i + di) * w + j + dj
                                if isMax ? xi[k] > best : xi[k] < best { best = xi[k]; at = k }
                            }
                        }
                        di_[at] += gi[i * w + j]
                    }
                }
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        fatalError("[\(name)] second-order gradients are not supported")
    }
}

extension Tensor {
    /// 3×3 maximum filter (morphological dilation) over the last two dimensions.
    public func maxFilter3x3() -> Tensor {
        shapeCheck(rank >= 2, "maxFilter3x3", "needs at least 2 dimensions, got \(shape)")
        return Tensor.make(WindowFilterOp(isMax: true), [self], shape: shape, dtype: dtype)
    }
    /// 3×3 minimum filter (morphological erosion) over the last two dimensions.
    public func minFilter3x3() -> Tensor {
        shapeCheck(rank >= 2, "minFilter3x3", "needs at least 2 dimensions, got \(shape)")
        return Tensor.make(WindowFilterOp(isMax: false), [self], shape: shape, dtype: dtype)
    }
}
