// Inverted dropout as one op whose mask is a function of (seed, counter): forward and backward each make one
// pass, nothing is stored, and the gradient is the same op applied to the incoming gradient (dropout is linear),
// so every order of derivative comes for free. The mask layout is defined in CKernels/dropout.c.
// With `relu` the op is dropout(relu(x)), the transformer feed-forward's activation, drawing the same mask (the
// same bits as `relu().dropout(p)`); its gradient needs only the output: y > 0 exactly where x > 0 and the
// element was kept, so dx = g/keep there and 0 elsewhere — one pass over (y, g) instead of regenerating the
// mask and then applying ReLU's rule, and the ReLU output need not be kept.
import CKernels

struct DropoutOp: Op {
    let seed: UInt64, start: UInt64
    /// An element is kept when its Philox word is below this (keep probability · 2³²).
    let threshold: UInt32
    /// 1 / keep probability, as the float32 kernel applies it.
    let scale: Double
    /// dropout(relu(x)) instead of dropout(x).
    var relu = false
    var name: String { relu ? "reluDropout" : "dropout" }
    var inPlaceCandidates: [Int] { [0] }

    /// Counters one mask of `n` elements uses: 16 per block of 64 elements.
    static func counters(_ n: Int) -> Int { 16 * blocks(n) }
    static func blocks(_ n: Int) -> Int { (n + 63) / 64 }

    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        let (seed, start, threshold, relu) = (self.seed, self.start, self.threshold, self.relu)
        switch c.dtype {
        case .float32:
            let x = c.inputs[0].pointer(as: Float.self), y = c.outputs[0].pointer(as: Float.self)
            let scale = Float(self.scale)
            let kernel = relu ? ck_relu_dropout_f32 : ck_dropout_f32
            parallelFor(Self.blocks(n), grain: 256) { blocks in
                kernel(y, x, Int64(n), Int64(blocks.lowerBound), Int64(blocks.count), start, seed, threshold, scale)
            }
        case .float64:
            let x = c.inputs[0].pointer(as: Double.self), y = c.outputs[0].pointer(as: Double.self)
            let scale = self.scale
            parallelFor(Self.blocks(n), grain: 256) { blocks in
                for b in blocks {
                    for i in (64 * b)..<min(n, 64 * b + 64) {
                        let v = relu ? (x[i] > 0 ? x[i] : 0) : x[i]
                        y[i] = Self.keeps(element: i, start: start, seed: seed, threshold: threshold) ? v * scale : 0
                    }
                }
            }
        }
    }

    /// The mask on the host, for the float64 path and for tests of the C kernel.
    static func keeps(element i: Int, start: UInt64, seed: UInt64, threshold: UInt32) -> Bool {
        let block = i / 64, word = (i % 64) / 16, lane = i % 16
        let (w0, w1, w2, w3) = philox(start &+ UInt64(16 * block + lane), seed)
        switch word {
        case 0: return w0 < threshold
        case 1: return w1 < threshold
        case 2: return w2 < threshold
        default: return w3 < threshold
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        if relu {
            return [Tensor.make(FusedElementwiseBackwardOp(kind: .relu, scale: scale), [c.outputs[0], c.grad], shape: c.grad.shape, dtype: c.grad.dtype)]
        }
        return [Tensor.make(self, [c.grad], shape: c.grad.shape, dtype: c.grad.dtype)]
    }
}

extension Tensor {
    /// Inverted dropout: zeroes elements with probability `p` and scales the rest by 1/(1−p).
    public func dropout(_ p: Double, rng: RandomGenerator) -> Tensor { dropout(p, rng: rng, relu: false) }

    /// `relu().dropout(p, rng:)` in one op, drawing the same mask from `rng`.
    public func reluDropout(_ p: Double, rng: RandomGenerator) -> Tensor { dropout(p, rng: rng, relu: true) }

    private func dropout(_ p: Double, rng: RandomGenerator, relu: Bool) -> Tensor {
        shapeCheck(p >= 0 && p < 1, relu ? "reluDropout" : "dropout", "probability \(p) outside [0, 1)")
        if p == 0 { return relu ? self.relu() : self }
        let op = DropoutOp(dropping: p, of: shape.reduce(1, *), rng: rng, relu: relu)
        return Tensor.make(op, [self], shape: shape, dtype: dtype)
    }
}

extension DropoutOp {
    /// The mask dropping each of `count` elements with probability `p` (in [0, 1)), its counters reserved
    /// from `rng`.
    init(dropping p: Double, of count: Int, rng: RandomGenerator, relu: Bool = false) {
        let keep = 1 - p
        self.init(seed: rng.seed, start: rng.reserve(DropoutOp.counters(count)),
                  threshold: UInt32(Swift.min(keep * 4_294_967_296, 4_294_967_295).rounded(.down)), scale: 1 / keep, relu: relu)
    }

    /// This mask in the fused attention kernels' form.
    var attentionDropout: ck_attention_dropout {
        ck_attention_dropout(seed: seed, start: start, threshold: threshold, scale: Float(scale))
    }
}
