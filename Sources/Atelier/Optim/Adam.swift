// Adam and AdamW (decoupled weight decay), any betas including β1 = 0.
import Foundation

public final class Adam: Optimizer, @unchecked Sendable {
    public let beta1: Double, beta2: Double, eps: Double, weightDecay: Double
    /// AdamW: weight decay applied to the weights directly rather than added to the gradient.
    public let decoupled: Bool
    let expAvg: [StateTensor], expAvgSq: [StateTensor]

    public init(parameters: [(String, Parameter)], learningRate: Double, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false) {
        beta1 = betas.0; beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        expAvg = parameters.map { StateTensor(Tensor.zeros($0.1.shape, dtype: $0.1.dtype).materialized()) }
        expAvgSq = parameters.map { StateTensor(Tensor.zeros($0.1.shape, dtype: $0.1.dtype).materialized()) }
        super.init(parameters: parameters, learningRate: learningRate)
    }

    public override func update(index: Int, parameter p: Parameter, gradient: Buffer, scale: Double) {
        let t = Double(stepCount)
        let bc1 = 1 - Foundation.pow(beta1, t), bc2 = 1 - Foundation.pow(beta2, t)
        let stepSize = learningRate / bc1
        let (b1, b2, eps, wd, lr, decoupled) = (beta1, beta2, self.eps, weightDecay, learningRate, self.decoupled)
        let sqrtBc2 = bc2.squareRoot()
        let m = expAvg[index].buffer, v = expAvgSq[index].buffer
        forEachElement(p, { r, w in
            let g = gradient.pointer(as: Float.self), m = m.pointer(as: Float.self), v = v.pointer(as: Float.self)
            let (b1, b2, s) = (Float(b1), Float(b2), Float(scale))
            for i in r {
                var gi = g[i] * s
                if wd != 0 {
                    if decoupled { w[i] -= Float(lr * wd) * w[i] } else { gi += Float(wd) * w[i] }
                }
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] -= Float(stepSize) * m[i] / (v[i].squareRoot() / Float(sqrtBc2) + Float(eps))
            }
        }, { r, w in
            let g = gradient.pointer(as: Double.self), m = m.pointer(as: Double.self), v = v.pointer(as: Double.self)
            for i in r {
                var gi = g[i] * scale
                if wd != 0 {
                    if decoupled { w[i] -= lr * wd * w[i] } else { gi += wd * w[i] }
                }
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                w[i] -= stepSize * m[i] / (v[i].squareRoot() / sqrtBc2 + eps)
            }
        })
    }

    public override func namedState() -> [(String, StateTensor)] {
        zip(parameters, zip(expAvg, expAvgSq)).flatMap { named, state in
            [("exp_avg.\(named.0)", state.0), ("exp_avg_sq.\(named.0)", state.1)]
        }
    }
}

/// SGD with optional momentum (PyTorch's form: v ← μv + g; w ← w − lr·v).
public final class SGD: Optimizer, @unchecked Sendable {
    public let momentum: Double
    let velocity: [StateTensor]
    public init(parameters: [(String, Parameter)], learningRate: Double, momentum: Double = 0) {
        self.momentum = momentum
        velocity = parameters.map { StateTensor(Tensor.zeros($0.1.shape, dtype: $0.1.dtype).materialized()) }
        super.init(parameters: parameters, learningRate: learningRate)
    }
    public override func update(index: Int, parameter p: Parameter, gradient: Buffer, scale: Double) {
        let (mu, lr) = (momentum, learningRate)
        let vb = velocity[index].buffer
        forEachElement(p, { r, w in
            let g = gradient.pointer(as: Float.self), v = vb.pointer(as: Float.self)
            for i in r { v[i] = Float(mu) * v[i] + g[i] * Float(scale); w[i] -= Float(lr) * v[i] }
        }, { r, w in
            let g = gradient.pointer(as: Double.self), v = vb.pointer(as: Double.self)
            for i in r { v[i] = mu * v[i] + g[i] * scale; w[i] -= lr * v[i] }
        })
    }
    public override func namedState() -> [(String, StateTensor)] {
        zip(parameters, velocity).map { ("momentum_buffer.\($0.0.0)", $0.1) }
    }
}
