import Atelier

// Over-compositing of a window's strokes in drawing order as one op: canvas ← fg·α·d + canvas·(1 − α·d) for
// strokes 0…N−1. Built from engine ops this is ~8 nodes per stroke (selects, broadcasts, products) and as many
// again in the backward; stroke refinement evaluates it every step over hundreds of windows, and those small ops
// were a sixth of `paint`'s time. The backward recomputes the intermediate canvases per window instead of
// keeping N of them in the graph. Higher orders (nothing here needs them) differentiate the composite form.

/// Inputs: canvas [B, C, H, W], foreground [B·N, C, H, W], alpha [B·N, 1, H, W], decisions [B, N] → [B, C, H, W].
struct StrokeCompositeOp: CompositeOp {
    var name: String { "strokeComposite" }

    func execute(_ c: KernelContext) {
        switch c.dtype {
        case .float32: run(Float.self, c)
        case .float64: run(Double.self, c)
        }
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let (b, channels, plane, n) = Self.sizes(c.inputShapes)
        let canvas = c.inputs[0].pointer(as: T.self), fg = c.inputs[1].pointer(as: T.self)
        let alpha = c.inputs[2].pointer(as: T.self), decisions = c.inputs[3].pointer(as: T.self)
        let out = c.outputs[0].pointer(as: T.self)
        parallelFor(b) { windows in
            for w in windows {
                let o = out + w * channels * plane
                o.update(from: canvas + w * channels * plane, count: channels * plane)
                for i in 0..<n {
                    Self.draw(fg + (w * n + i) * channels * plane, alpha + (w * n + i) * plane, decisions[w * n + i],
                              onto: o, channels: channels, plane: plane)
                }
            }
        }
    }

    /// canvas ← fg·α·d + canvas·(1 − α·d) for one stroke: `fg` [C, plane], `alpha` [plane], canvas [C, plane].
    @inline(__always)
    static func draw<T: KernelScalar>(_ fg: UnsafeMutablePointer<T>, _ alpha: UnsafeMutablePointer<T>, _ d: T,
                                      onto canvas: UnsafeMutablePointer<T>, channels: Int, plane: Int) {
        if d == 0 { return }
        for ch in 0..<channels {
            let oc = canvas + ch * plane, fc = fg + ch * plane
            for p in 0..<plane {
                let ad = alpha[p] * d
                oc[p] = fc[p] * ad + oc[p] * (1 - ad)
            }
        }
    }

    static func sizes(_ shapes: [[Int]]) -> (windows: Int, channels: Int, plane: Int, strokes: Int) {
        let canvas = shapes[0]
        return (canvas[0], canvas[1], canvas[2] * canvas[3], shapes[3][1])
    }

    func composite(_ inputs: [Tensor]) -> [Tensor] {
        [DifferentiableStrokeRenderer.compositeWithEngineOps(canvas: inputs[0], foreground: inputs[1], alpha: inputs[2], decisions: inputs[3])]
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let outs = Tensor.make(StrokeCompositeBackwardOp(), c.inputs + [c.grad], outputs: c.inputs.map(\.spec))
        return (0..<4).map { c.needsGradient[$0] ? outs[$0] : nil }
    }
}

/// Inputs: the forward's four and the output gradient g → d(canvas), d(foreground), d(alpha), d(decisions).
/// Walking strokes from last to first with G the gradient reaching the canvas after stroke i and `before` the
/// canvas under it: d(fg_i) = G·α_i·d_i, d(α_i) = d_i·Σ_c G·(fg_i − before), d(d_i) = Σ_p α_i·Σ_c G·(fg_i − before),
/// then G ← G·(1 − α_i·d_i); d(canvas) is the final G.
struct StrokeCompositeBackwardOp: CompositeOp {
    var name: String { "strokeCompositeBackward" }

    func execute(_ c: KernelContext) {
        switch c.dtype {
        case .float32: run(Float.self, c)
        case .float64: run(Double.self, c)
        }
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let (b, channels, plane, n) = StrokeCompositeOp.sizes(c.inputShapes)
        let canvas = c.inputs[0].pointer(as: T.self), fg = c.inputs[1].pointer(as: T.self)
        let alpha = c.inputs[2].pointer(as: T.self), decisions = c.inputs[3].pointer(as: T.self)
        let g = c.inputs[4].pointer(as: T.self)
        let dCanvas = c.outputs[0].pointer(as: T.self), dFg = c.outputs[1].pointer(as: T.self)
        let dAlpha = c.outputs[2].pointer(as: T.self), dDecisions = c.outputs[3].pointer(as: T.self)
        let window = channels * plane
        parallelFor(b) { windows in
            // The canvas after each stroke, [N, C, plane], and one plane of Σ_c G·(fg − before).
            let after = UnsafeMutablePointer<T>.allocate(capacity: max(1, n) * window)
            let mixed = UnsafeMutablePointer<T>.allocate(capacity: plane)
            defer { after.deallocate(); mixed.deallocate() }
            for w in windows {
                var running = canvas + w * window
                for i in 0..<n {
                    let slot = after + i * window
                    slot.update(from: running, count: window)
                    StrokeCompositeOp.draw(fg + (w * n + i) * window, alpha + (w * n + i) * plane, decisions[w * n + i],
                                           onto: slot, channels: channels, plane: plane)
                    running = slot
                }
                // Slot i now holds the canvas *after* stroke i; the canvas before stroke i is slot i − 1 (or the input).
                let grad = dCanvas + w * window
                grad.update(from: g + w * window, count: window)
                for i in stride(from: n - 1, through: 0, by: -1) {
                    let under = i == 0 ? canvas + w * window : after + (i - 1) * window
                    let d = decisions[w * n + i]
                    let a = alpha + (w * n + i) * plane, f = fg + (w * n + i) * window
                    let df = dFg + (w * n + i) * window, da = dAlpha + (w * n + i) * plane
                    for p in 0..<plane { mixed[p] = 0 }
                    for ch in 0..<channels {
                        let gc = grad + ch * plane, fc = f + ch * plane, uc = under + ch * plane, dfc = df + ch * plane
                        for p in 0..<plane {
                            let ad = a[p] * d
                            dfc[p] = gc[p] * ad
                            mixed[p] += gc[p] * (fc[p] - uc[p])
                            gc[p] *= 1 - ad
                        }
                    }
                    var decisionGrad: T = 0
                    for p in 0..<plane {
                        da[p] = mixed[p] * d
                        decisionGrad += mixed[p] * a[p]
                    }
                    dDecisions[w * n + i] = decisionGrad
                }
            }
        }
    }

    /// The VJP of the forward's composite.
    func composite(_ inputs: [Tensor]) -> [Tensor] {
        let primals = Array(inputs.prefix(4))
        let grads = vectorJacobianProduct(StrokeCompositeOp().composite, at: primals, cotangents: [inputs[4]])
        return zip(primals, grads).map { $1 ?? Tensor.zeros(like: $0) }
    }
}
