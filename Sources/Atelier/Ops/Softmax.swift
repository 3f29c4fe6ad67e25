// Softmax and log-softmax over the last axis (other axes are moved last). The gradient rules use the
// saved output: dx = y ∘ (g − Σ g∘y) and dx = g − softmax(x)·Σg.
import CKernels

struct SoftmaxOp: Op {
    let log: Bool
    var name: String { log ? "logSoftmax" : "softmax" }
    var inPlaceCandidates: [Int] { [0] }
    func execute(_ c: KernelContext) {
        let s = c.inputShapes[0]
        let cols = s.last ?? 1, rows = s.reduce(1, *) / max(cols, 1)
        if c.dtype == .float32 && !log {
            // Vectorised kernel with an inline exp.
            let x = c.inputs[0].pointer(as: Float.self), y = c.outputs[0].pointer(as: Float.self)
            parallelFor(rows, grain: max(1, 4096 / max(cols, 1))) { r in
                ck_softmax_rows_f32(y + r.lowerBound * cols, x + r.lowerBound * cols, Int64(r.count), Int64(cols))
            }
            return
        }
        dispatch(c.dtype, { run(c.inputs[0].pointer(as: Float.self), c.outputs[0].pointer(as: Float.self), rows, cols) },
                          { run(c.inputs[0].pointer(as: Double.self), c.outputs[0].pointer(as: Double.self), rows, cols) })
    }
    private func run<T: KernelScalar>(_ x: UnsafeMutablePointer<T>, _ y: UnsafeMutablePointer<T>, _ rows: Int, _ cols: Int) {
        let log = self.log
        parallelFor(rows, grain: max(1, 4096 / max(cols, 1))) { r in
            for row in r {
                let xi = x + row * cols, yi = y + row * cols
                var m = -T.infinity
                for j in 0..<cols where xi[j] > m { m = xi[j] }
                if m == -T.infinity { m = 0 }  // a fully masked row gives NaN, as in PyTorch, not a crash
                var sum: T = 0
                if log {
                    for j in 0..<cols { sum += T.exp(xi[j] - m) }
                    let lse = m + T.log(sum)
                    for j in 0..<cols { yi[j] = xi[j] - lse }
                } else {
                    for j in 0..<cols { let e = T.exp(xi[j] - m); yi[j] = e; sum += e }
                    let inv = 1 / sum
                    for j in 0..<cols { yi[j] *= inv }
                }
            }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let y = c.outputs[0], g = c.grad
        if log {
            return [g - y.exp() * g.sum(axes: [-1], keepDims: true)]
        }
        return [softmaxBackward(y: y, g: g)]
    }
}

extension Tensor {
    /// exp(x − max) / Σ exp(x − max) along `axis`.
    public func softmax(axis: Int = -1) -> Tensor { softmaxLike(log: false, axis: axis) }
    /// x − log Σ exp(x) along `axis`.
    public func logSoftmax(axis: Int = -1) -> Tensor { softmaxLike(log: true, axis: axis) }

    private func softmaxLike(log: Bool, axis: Int) -> Tensor {
        let a = normalizeAxis(axis, rank: rank, op: log ? "logSoftmax" : "softmax")
        if a == rank - 1 || rank == 0 {
            return Tensor.make(SoftmaxOp(log: log), [self], shape: shape, dtype: dtype)
        }
        return transposed(a, -1).softmaxLike(log: log, axis: -1).transposed(a, -1)
    }
}
