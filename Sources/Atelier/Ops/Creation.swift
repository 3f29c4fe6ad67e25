// Constant tensors as graph nodes (no storage until evaluated) and dtype conversion.

/// Fills its output with one value.
struct FillOp: NonDifferentiableOp {
    let value: Double
    var name: String { "fill" }
    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        dispatch(c.dtype, { fill(c.outputs[0].pointer(as: Float.self), n, Float(value)) },
                          { fill(c.outputs[0].pointer(as: Double.self), n, value) })
    }
}

/// Converts between float32 and float64.
struct CastOp: Op {
    let to: DType
    var name: String { "cast" }
    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        let from = to == .float32 ? DType.float64 : .float32
        if from == to { return }
        if to == .float32 {
            let s = c.inputs[0].pointer(as: Double.self), d = c.outputs[0].pointer(as: Float.self)
            parallelFor(n, grain: 65536) { r in for i in r { d[i] = Float(s[i]) } }
        } else {
            let s = c.inputs[0].pointer(as: Float.self), d = c.outputs[0].pointer(as: Double.self)
            parallelFor(n, grain: 65536) { r in for i in r { d[i] = Double(s[i]) } }
        }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] { [c.grad.cast(to: c.inputs[0].dtype)] }
}

extension Tensor {
    /// A tensor of `shape` filled with `value`.
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32) -> Tensor {
        Tensor.make(FillOp(value: value), [], shape: shape, dtype: dtype)
    }
    public static func zeros(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 0, dtype: dtype) }
    public static func ones(_ shape: [Int], dtype: DType = .float32) -> Tensor { full(shape, 1, dtype: dtype) }
    public static func zeros(like t: Tensor) -> Tensor { full(t.shape, 0, dtype: t.dtype) }
    public static func ones(like t: Tensor) -> Tensor { full(t.shape, 1, dtype: t.dtype) }

    /// `[0, 1, …, n-1]` as a 1-d tensor.
    public static func arange(_ n: Int, dtype: DType = .float32) -> Tensor {
        Tensor(shape: [n], values: (0..<n).map(Double.init), dtype: dtype)
    }

    /// This tensor converted to `dtype` (identity if it already has it).
    public func cast(to dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        return Tensor.make(CastOp(to: dtype), [self], shape: shape, dtype: dtype)
    }

    /// A 0-d constant of this tensor's dtype.
    func constant(_ v: Double) -> Tensor { Tensor(scalar: v, dtype: dtype) }
}
