// Inverted dropout as one op whose mask is a function of (seed, counter): forward and backward each make one
// pass, nothing is stored, and the gradient is the same op applied to the incoming gradient (dropout is linear),
// so every order of derivative comes for free. The mask layout is defined in CKernels/dropout.c.
import CKernels

struct DropoutOp: Op {
    let seed: UInt64, start: UInt64
    /// An element is kept when its Philox word is below this (keep probability · 2³²).
    let threshold: UInt32
    /// 1 / keep probability, as the float32 kernel applies it.
    let scale: Double
    var name: String { "dropout" }
    var inPlaceCandidates: [Int] { [0] }

    /// Counters one mask of `n` elements uses: 16 per block of 64 elements.
    static func counters(_ n: Int) -> Int { 16 * blocks(n) }
    static func blocks(_ n: Int) -> Int { (n + 63) / 64 }

    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        let (seed, start, threshold) = (self.seed, self.start, self.threshold)
        switch c.dtype {
        case .float32:
            let x = c.inputs[0].pointer(as: Float.self), y = c.outputs[0].pointer(as: Float.self)
            let scale = Float(self.scale)
            parallelFor(Self.blocks(n), grain: 256) { blocks in
                ck_dropout_f32(y, x, Int64(n), Int64(blocks.lowerBound), Int64(blocks.count), start, seed, threshold, scale)
            }
        case .float64:
            let x = c.inputs[0].pointer(as: Double.self), y = c.outputs[0].pointer(as: Double.self)
            let scale = self.scale
            parallelFor(Self.blocks(n), grain: 256) { blocks in
                for b in blocks {
                    for i in (64 * b)..<min(n, 64 * b + 64) {
                        y[i] = Self.keeps(element: i, start: start, seed: seed, threshold: threshold) ? x[i] * scale : 0
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
        [Tensor.make(self, [c.grad], shape: c.grad.shape, dtype: c.grad.dtype)]
    }
}

extension Tensor {
    /// Inverted dropout: zeroes elements with probability `p` and scales the rest by 1/(1−p).
    public func dropout(_ p: Double, rng: RandomGenerator) -> Tensor {
        shapeCheck(p >= 0 && p < 1, "dropout", "probability \(p) outside [0, 1)")
        if p == 0 { return self }
        let keep = 1 - p
        let threshold = UInt32(Swift.min(keep * 4_294_967_296, 4_294_967_295).rounded(.down))
        let n = shape.reduce(1, *)
        let op = DropoutOp(seed: rng.seed, start: rng.reserve(DropoutOp.counters(n)), threshold: threshold, scale: 1 / keep)
        return Tensor.make(op, [self], shape: shape, dtype: dtype)
    }
}
