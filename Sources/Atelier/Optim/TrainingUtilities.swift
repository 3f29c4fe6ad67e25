// Gradient clipping, exponential moving averages of weights, and learning-rate schedules.
import Foundation

/// The global L2 norm of evaluated gradients, and the factor that scales it down to `maxNorm`
/// (PyTorch's clip_grad_norm_: factor = min(1, maxNorm / (norm + 1e-6))).
public func clipFactor(gradients: [Tensor], maxNorm: Double) -> (norm: Double, factor: Double) {
    let missing = gradients.filter { $0.value == nil }
    if !missing.isEmpty { evaluate(missing) }
    var total = 0.0
    for g in gradients {
        let n = g.count
        switch g.dtype {
        case .float32:
            let p = g.value!.pointer(as: Float.self)
            var s = 0.0
            for i in 0..<n { s += Double(p[i]) * Double(p[i]) }
            total += s
        case .float64:
            let p = g.value!.pointer(as: Double.self)
            for i in 0..<n { total += p[i] * p[i] }
        }
    }
    let norm = total.squareRoot()
    return (norm, norm.isFinite ? min(1, maxNorm / (norm + 1e-6)) : 1)
}

/// True when every element of the (evaluated) gradients is finite: the check of `clipFactor`'s norm without its
/// serial sum, as parallel integer scans of the exponent bits (all ones: infinity or NaN), which vectorise.
public func allFinite(_ gradients: [Tensor]) -> Bool {
    let missing = gradients.filter { $0.value == nil }
    if !missing.isEmpty { evaluate(missing) }
    let chunk = 1 << 16
    for g in gradients {
        let n = g.count, chunks = (n + chunk - 1) / chunk
        let raw = UnsafeRawPointer(g.value!.raw), dtype = g.dtype
        var nonFinite = [Bool](repeating: false, count: chunks)
        nonFinite.withUnsafeMutableBufferPointer { flags in
            parallelFor(chunks) { r in
                for c in r {
                    let range = (c * chunk)..<min(n, (c + 1) * chunk)
                    switch dtype {
                    case .float32:
                        let bits = raw.assumingMemoryBound(to: UInt32.self)
                        var m: UInt32 = 0
                        for i in range { m = max(m, bits[i] & 0x7f80_0000) }
                        flags[c] = m == 0x7f80_0000
                    case .float64:
                        let bits = raw.assumingMemoryBound(to: UInt64.self)
                        var m: UInt64 = 0
                        for i in range { m = max(m, bits[i] & 0x7ff0_0000_0000_0000) }
                        flags[c] = m == 0x7ff0_0000_0000_0000
                    }
                }
            }
        }
        if nonFinite.contains(true) { return false }
    }
    return true
}

/// Keeps `target`'s parameters as an exponential moving average of `source`'s:
/// avg ← β·avg + (1 − β)·θ.
public func updateMovingAverage(target: Module, source: Module, beta: Double) {
    let t = target.namedParameters(), s = source.namedParameters()
    precondition(t.count == s.count, "[ema] modules differ in structure")
    for ((_, a), (_, p)) in zip(t, s) {
        precondition(a.shape == p.shape, "[ema] shapes differ: \(a.shape) vs \(p.shape)")
        let src = p.buffer
        forEachElement(a, { r, w in
            let x = src.pointer(as: Float.self)
            for i in r { w[i] = Float(beta) * w[i] + Float(1 - beta) * x[i] }
        }, { r, w in
            let x = src.pointer(as: Double.self)
            for i in r { w[i] = beta * w[i] + (1 - beta) * x[i] }
        })
    }
}

/// A learning rate as a function of the step (or epoch) count.
public protocol LearningRateSchedule: Sendable {
    func learningRate(at step: Int) -> Double
}

/// A constant rate.
public struct ConstantSchedule: LearningRateSchedule {
    public let rate: Double
    public init(_ rate: Double) { self.rate = rate }
    public func learningRate(at step: Int) -> Double { rate }
}

/// `base · factor^⌊(step − start)/every⌋` once step ≥ start, else `base` (a step decay).
public struct StepDecaySchedule: LearningRateSchedule {
    public let base: Double, factor: Double, start: Int, every: Int
    public init(base: Double, factor: Double, start: Int, every: Int) {
        precondition(every > 0, "[schedule] decay interval must be positive")
        self.base = base; self.factor = factor; self.start = start; self.every = every
    }
    public func learningRate(at step: Int) -> Double {
        step < start ? base : base * Foundation.pow(factor, Double((step - start) / every))
    }
}

/// Linear warm-up to `base` over `warmup` steps, then linear decay to `final` at `total`.
public struct LinearWarmupDecaySchedule: LearningRateSchedule {
    public let base: Double, final: Double, warmup: Int, total: Int
    public init(base: Double, final: Double = 0, warmup: Int, total: Int) {
        self.base = base; self.final = final; self.warmup = warmup; self.total = total
    }
    public func learningRate(at step: Int) -> Double {
        if step < warmup { return base * Double(step + 1) / Double(warmup) }
        let t = min(1, Double(step - warmup) / Double(max(total - warmup, 1)))
        return base + (final - base) * t
    }
}
