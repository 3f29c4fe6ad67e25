// Parameter initialisers with PyTorch's conventions; drawn from the engine's counter-based generator.
import Foundation

public enum Initializer {
    /// U(low, high).
    public static func uniform(_ shape: [Int], _ low: Double, _ high: Double, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        Tensor.uniform(shape, low: low, high: high, dtype: dtype, rng: rng).materialized()
    }
    /// N(mean, std²).
    public static func normal(_ shape: [Int], mean: Double = 0, std: Double, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        Tensor.normal(shape, mean: mean, std: std, dtype: dtype, rng: rng).materialized()
    }
    /// N(0, std²) truncated to [a, b] (absolute bounds, as `timm`'s trunc_normal_), by redrawing outliers.
    public static func truncatedNormal(_ shape: [Int], std: Double, a: Double = -2, b: Double = 2, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        var values = Tensor.normal(shape, std: std, dtype: .float64, rng: rng).doubles()
        for i in values.indices where values[i] < a || values[i] > b {
            repeat { values[i] = std * rng.nextNormal() } while values[i] < a || values[i] > b
        }
        return Tensor(shape: shape, values: values, dtype: dtype)
    }
    /// PyTorch's default for Linear/Conv weights and biases: U(±1/√fan_in).
    public static func pytorchDefault(_ shape: [Int], fanIn: Int, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        let bound = 1 / Double(max(fanIn, 1)).squareRoot()
        return uniform(shape, -bound, bound, dtype: dtype, rng: rng)
    }
    /// Xavier/Glorot uniform: U(±gain·√(6/(fan_in + fan_out))).
    public static func xavierUniform(_ shape: [Int], fanIn: Int, fanOut: Int, gain: Double = 1, dtype: DType = .float32, rng: RandomGenerator) -> Tensor {
        let bound = gain * (6 / Double(fanIn + fanOut)).squareRoot()
        return uniform(shape, -bound, bound, dtype: dtype, rng: rng)
    }
}
