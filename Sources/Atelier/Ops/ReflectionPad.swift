// Reflection padding of the last two dimensions (PyTorch ReflectionPad2d) and its adjoint, as two linear ops
// that are each other's gradient. Why not two index gathers: the column gather read one element per index and
// its backward scattered one element per index, 3 % of a Paint Transformer training step for a 1-pixel border;
// here interior rows are contiguous copies and only the 2p border columns are gathered.

/// Mirror index of `i` ∈ [−p, n + p) into [0, n) without repeating the edge (…, 2, 1, 0, 1, 2, …).
@inline(__always) private func reflected(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * (n - 1) - i : i) }

struct ReflectionPadOp: Op {
    let padding: Int
    var name: String { "reflectionPad2d" }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(c, Float.self) }, { run(c, Double.self) })
    }

    private func run<T: KernelScalar>(_ c: KernelContext, _: T.Type) {
        let shape = c.inputShapes[0], p = padding
        let (h, w) = (shape[shape.count - 2], shape[shape.count - 1])
        let (ph, pw) = (h + 2 * p, w + 2 * p)
        let planes = shape.dropLast(2).reduce(1, *)
        let x = UncheckedSendable(c.inputs[0].pointer(as: T.self)), y = UncheckedSendable(c.outputs[0].pointer(as: T.self))
        parallelFor(planes * ph, grain: max(1, 4096 / pw)) { rows in
            for row in rows {
                let (plane, r) = row.quotientAndRemainder(dividingBy: ph)
                let source = x.value + (plane * h + reflected(r - p, h)) * w, out = y.value + row * pw
                (out + p).update(from: source, count: w)
                for j in 0..<p {
                    out[j] = source[p - j]
                    out[p + w + j] = source[w - 2 - j]
                }
            }
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(ReflectionPadBackwardOp(padding: padding), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}

/// The adjoint of `ReflectionPadOp`: each input element gets the sum of the padded elements that copied it.
struct ReflectionPadBackwardOp: Op {
    let padding: Int
    var name: String { "reflectionPad2dBackward" }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(c, Float.self) }, { run(c, Double.self) })
    }

    private func run<T: KernelScalar>(_ c: KernelContext, _: T.Type) {
        let shape = c.outputShapes[0], p = padding
        let (h, w) = (shape[shape.count - 2], shape[shape.count - 1])
        let (ph, pw) = (h + 2 * p, w + 2 * p)
        let planes = shape.dropLast(2).reduce(1, *)
        let g = UncheckedSendable(c.inputs[0].pointer(as: T.self)), dx = UncheckedSendable(c.outputs[0].pointer(as: T.self))
        // A plane's rows gather from mirrored rows too, so a plane is one task (sums in a fixed order).
        parallelFor(planes, grain: max(1, 16384 / (ph * pw))) { range in
            for plane in range {
                let out = dx.value + plane * h * w
                out.initialize(repeating: 0, count: h * w)
                for r in 0..<ph {
                    let target = out + reflected(r - p, h) * w, row = g.value + (plane * ph + r) * pw
                    for j in 0..<w { target[j] += row[p + j] }
                    for j in 0..<p {
                        target[p - j] += row[j]
                        target[w - 2 - j] += row[p + w + j]
                    }
                }
            }
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        [Tensor.make(ReflectionPadOp(padding: padding), [c.grad], shape: c.inputs[0].shape, dtype: c.grad.dtype)]
    }
}
