// The table of differentiable ops: every op's gradient is checked against finite differences in Float64;
// the ops a transformer discriminator uses are also checked to second order (WGAN-GP needs them), and so is
// every fused op whose second order differentiates its composite form (CompositeOp).
import Testing
@testable import Atelier

let firstOrderCases: [GradCase] = [
    GradCase(name: "neg", shapes: [[3, 4]]) { -$0[0] },
    GradCase(name: "exp", shapes: [[3, 4]]) { $0[0].exp() },
    GradCase(name: "log", shapes: [[3, 4]], low: 0.5, high: 2) { $0[0].log() },
    GradCase(name: "sqrt", shapes: [[3, 4]], low: 0.5, high: 2) { $0[0].sqrt() },
    GradCase(name: "rsqrt", shapes: [[3, 4]], low: 0.5, high: 2) { $0[0].rsqrt() },
    GradCase(name: "abs", shapes: [[3, 4]]) { $0[0].abs() },
    GradCase(name: "sin", shapes: [[3, 4]]) { $0[0].sin() },
    GradCase(name: "cos", shapes: [[3, 4]]) { $0[0].cos() },
    GradCase(name: "tanh", shapes: [[3, 4]]) { $0[0].tanh() },
    GradCase(name: "sigmoid", shapes: [[3, 4]], low: -4, high: 4) { $0[0].sigmoid() },
    GradCase(name: "relu", shapes: [[3, 4]]) { $0[0].relu() },
    GradCase(name: "gelu", shapes: [[3, 4]], low: -3, high: 3) { $0[0].gelu() },
    GradCase(name: "square", shapes: [[3, 4]]) { $0[0].square() },
    GradCase(name: "geluPrime", shapes: [[3, 4]], low: -3, high: 3) { $0[0].unary(.geluPrime) },
    GradCase(name: "geluSecond", shapes: [[3, 4]], low: -3, high: 3) { $0[0].unary(.geluSecond) },
    GradCase(name: "erf", shapes: [[3, 4]]) { $0[0].erf() },
    GradCase(name: "add broadcast", shapes: [[2, 3, 4], [3, 1]]) { $0[0] + $0[1] },
    GradCase(name: "sub broadcast", shapes: [[2, 3, 4], [4]]) { $0[0] - $0[1] },
    GradCase(name: "mul broadcast", shapes: [[2, 1, 4], [3, 1]]) { $0[0] * $0[1] },
    GradCase(name: "div", shapes: [[2, 3], [2, 3]], low: 0.5, high: 2) { $0[0] / $0[1] },
    GradCase(name: "maximum", shapes: [[3, 4], [3, 4]]) { $0[0].maximum($0[1]) },
    GradCase(name: "minimum", shapes: [[3, 4], [4]]) { $0[0].minimum($0[1]) },
    GradCase(name: "addN", shapes: [[3, 5], [3, 5], [3, 5]]) { Tensor.sum([$0[0], $0[1].square(), $0[2], $0[0]]) },
    // Disjoint slices: their gradients are assembled; overlapping ones are summed.
    GradCase(name: "slices assembled", shapes: [[3, 6]]) { $0[0].sliced(axis: 1, 0, 2) * $0[0].sliced(axis: 1, 2, 4).exp() + $0[0].sliced(axis: 1, 4, 6) },
    GradCase(name: "slices overlapping", shapes: [[3, 6]]) { $0[0].sliced(axis: 1, 0, 4) * $0[0].sliced(axis: 1, 2, 6) },
    GradCase(name: "where", shapes: [[3, 4], [3, 4], [3, 4]]) { Tensor.where($0[0].greater(0), $0[1], $0[2]) },
    GradCase(name: "sum axes", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [0, 2]) },
    GradCase(name: "sum keepdims", shapes: [[2, 3, 4]]) { $0[0].sum(axes: [1], keepDims: true) },
    GradCase(name: "mean", shapes: [[2, 3, 4]]) { $0[0].mean(axes: [-1]) },
    GradCase(name: "max", shapes: [[2, 3, 4]]) { $0[0].max(axes: [1]) },
    GradCase(name: "min", shapes: [[2, 3, 4]]) { $0[0].min(axes: [0, 2]) },
    GradCase(name: "variance", shapes: [[2, 5]]) { $0[0].variance(axes: [1], unbiased: true) },
    GradCase(name: "matmul", shapes: [[3, 4], [4, 5]]) { $0[0].matmul($0[1]) },
    GradCase(name: "matmul transA", shapes: [[4, 3], [4, 5]]) { $0[0].matmul($0[1], transA: true) },
    GradCase(name: "matmul transB", shapes: [[3, 4], [5, 4]]) { $0[0].matmul($0[1], transB: true) },
    GradCase(name: "matmul transAB", shapes: [[4, 3], [5, 4]]) { $0[0].matmul($0[1], transA: true, transB: true) },
    GradCase(name: "matmul alpha batched", shapes: [[2, 3, 4], [2, 5, 4]]) { $0[0].matmul($0[1], transB: true, alpha: -0.37) },
    GradCase(name: "matmul alpha shared", shapes: [[2, 3, 4], [4, 5]]) { $0[0].matmul($0[1], alpha: 1.9) },
    GradCase(name: "batched matmul", shapes: [[2, 3, 4], [2, 4, 5]]) { $0[0].matmul($0[1]) },
    GradCase(name: "batched × shared", shapes: [[2, 3, 4], [4, 5]]) { $0[0].matmul($0[1]) },
    GradCase(name: "batchedᵀ × shared", shapes: [[2, 4, 3], [4, 5]]) { $0[0].matmul($0[1], transA: true) },
    GradCase(name: "linear", shapes: [[2, 3, 4], [5, 4], [5]]) { $0[0].linear(weight: $0[1], bias: $0[2]) },
    // Float64 ignores bf16 precision; MatmulBF16Tests checks the float32 bf16 gradients against these.
    GradCase(name: "linear bf16", shapes: [[2, 3, 4], [5, 4], [5]]) { $0[0].linear(weight: $0[1], bias: $0[2], precision: .bf16) },
    GradCase(name: "reshape", shapes: [[2, 6]]) { $0[0].reshaped([3, 4]) },
    GradCase(name: "permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    GradCase(name: "expand", shapes: [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
    GradCase(name: "slice", shapes: [[5, 4]]) { $0[0].sliced(axis: 0, 1, 5, step: 2) },
    GradCase(name: "permutedParts", shapes: [[2, 3, 4]]) { let p = $0[0].permutedParts([1, 2, 0]); return p[0] * p[1].exp() + p[2] },
    GradCase(name: "permutedParts, a part unused", shapes: [[3, 2, 4]]) { let p = $0[0].permutedParts([0, 2, 1]); return p[0] * p[2] },
    GradCase(name: "pad", shapes: [[2, 3]]) { $0[0].padded([(1, 0), (2, 1)]) },
    GradCase(name: "concat", shapes: [[2, 3], [2, 2]]) { Tensor.concat($0, axis: 1) },
    GradCase(name: "stack", shapes: [[2, 3], [2, 3]]) { Tensor.stack($0, axis: 1) },
    GradCase(name: "indexSelect", shapes: [[4, 3]]) { $0[0].indexSelect(axis: 0, [3, 0, 0, 2, 1]) },
    GradCase(name: "indexAdd", shapes: [[5, 3]]) { $0[0].indexAdd(axis: 0, [3, 0, 0, 2, 1], size: 4) },
    // Element-wise (inner size 1) paths, one destination without sources.
    GradCase(name: "indexSelect last axis", shapes: [[2, 4]]) { $0[0].indexSelect(axis: 1, [3, 0, 0, 2, 3, 3]) },
    GradCase(name: "indexAdd last axis", shapes: [[2, 6]]) { $0[0].indexAdd(axis: 1, [3, 0, 0, 3, 1, 3], size: 5) },
    GradCase(name: "softmax", shapes: [[3, 5]]) { $0[0].softmax() },
    // Its gradient is the same op on the incoming gradient; a fresh generator keeps one mask for the differences.
    GradCase(name: "dropout", shapes: [[3, 70]]) { $0[0].dropout(0.3, rng: RandomGenerator(seed: 17)).square() },
    GradCase(name: "reluDropout", shapes: [[3, 70]], low: -2, high: 2) { $0[0].reluDropout(0.3, rng: RandomGenerator(seed: 17)).square() },
    GradCase(name: "softmax axis 0", shapes: [[3, 5]]) { $0[0].softmax(axis: 0) },
    GradCase(name: "softmaxBackward", shapes: [[3, 11], [3, 11]]) { softmaxBackward(y: $0[0], g: $0[1]) },
    GradCase(name: "logSoftmax", shapes: [[3, 5]]) { $0[0].logSoftmax() },
    GradCase(name: "layerNorm", shapes: [[3, 6], [6], [6]]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
    GradCase(name: "layerNormBackward", shapes: [[3, 13], [3, 13], [3, 1]]) { layerNormBackward(g: $0[0], xhat: $0[1], rstd: $0[2]) },
    GradCase(name: "cast", shapes: [[3]], eps: 1e-2, atol: 1e-5, rtol: 1e-5) { $0[0].cast(to: .float32).cast(to: .float64) * 1.0 },
    GradCase(name: "attention", shapes: [[2, 3, 4], [2, 5, 4], [2, 5, 4]]) { Tensor.attention(q: $0[0], k: $0[1], v: $0[2]) },
    GradCase(name: "attention dropout", shapes: [[2, 3, 4], [2, 5, 4], [2, 5, 4]]) {
        Tensor.attention(q: $0[0], k: $0[1], v: $0[2], dropout: 0.3, rng: RandomGenerator(seed: 6))
    },
    GradCase(name: "attention bias", shapes: [[2, 2, 3, 4], [2, 2, 5, 4], [2, 2, 5, 4], [2, 3, 5]]) {
        Tensor.attention(q: $0[0], k: $0[1], v: $0[2], bias: $0[3], scale: 0.7)
    },
    GradCase(name: "conv2d", shapes: [[2, 3, 5, 4], [4, 3, 3, 2], [4]]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2, padding: 1) },
    GradCase(name: "conv2d dilation", shapes: [[1, 2, 6, 6], [3, 2, 2, 2]]) { $0[0].conv2d(weight: $0[1], dilation: 2) },
    GradCase(name: "im2col", shapes: [[2, 2, 4, 5]]) {
        $0[0].im2col(ConvGeometry(kernel: (2, 3), stride: (1, 2), padding: (1, 0), dilation: (1, 1)))
    },
    GradCase(name: "avgPool2d", shapes: [[2, 3, 4, 6]]) { $0[0].avgPool2d(kernel: 2) },
    GradCase(name: "avgPool2d overlapping", shapes: [[1, 2, 5, 5]]) { $0[0].avgPool2d(kernel: 3, stride: 2) },
    GradCase(name: "pixelShuffle", shapes: [[2, 8, 2, 3]]) { $0[0].pixelShuffle(2) },
    GradCase(name: "pixelUnshuffle", shapes: [[2, 2, 4, 6]]) { $0[0].pixelUnshuffle(2) },
    GradCase(name: "reflectionPad2d", shapes: [[1, 2, 3, 4]]) { $0[0].reflectionPadded2d(1) },
    GradCase(name: "reflectionPad2d p2, odd sizes", shapes: [[3, 5, 7]]) { $0[0].reflectionPadded2d(2) * $0[0].reflectionPadded2d(2).sin() },
    GradCase(name: "maxFilter3x3", shapes: [[2, 4, 5]]) { $0[0].maxFilter3x3() },
    GradCase(name: "minFilter3x3", shapes: [[2, 4, 5]]) { $0[0].minFilter3x3() },
    GradCase(name: "gridSample", shapes: [[2, 2, 4, 5], [2, 3, 3, 2]], low: -1.2, high: 1.2) { $0[0].gridSample($0[1]) },
    GradCase(name: "gridSample aligned", shapes: [[2, 2, 4, 5], [2, 3, 3, 2]], low: -1.2, high: 1.2) { $0[0].gridSample($0[1], alignCorners: true) },
    GradCase(name: "gridSample shared input", shapes: [[1, 2, 4, 5], [3, 2, 3, 2]], low: -1.2, high: 1.2) { $0[0].gridSample($0[1]) },
    GradCase(name: "affineGrid", shapes: [[2, 2, 3]]) { Tensor.affineGrid(theta: $0[0], height: 3, width: 4) },
    GradCase(name: "resize nearest", shapes: [[1, 2, 3, 4]]) { $0[0].resized(height: 5, width: 3, mode: .nearest) },
    GradCase(name: "resize bilinear", shapes: [[1, 2, 3, 4]]) { $0[0].resized(height: 5, width: 7, mode: .bilinear) },
    GradCase(name: "resize bicubic", shapes: [[1, 2, 3, 4]]) { $0[0].resized(height: 6, width: 2, mode: .bicubic) },
    GradCase(name: "batchNorm train", shapes: [[3, 2, 2, 2], [2], [2]]) { $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 },
    GradCase(name: "batchNorm train, odd sizes", shapes: [[3, 2, 3, 5], [2], [2]]) { $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 },
    GradCase(name: "batchNorm train, no affine", shapes: [[2, 3, 2, 3]]) { $0[0].batchNormTraining(weight: nil, bias: nil).0 },
    // The batch mean and variance are outputs too: their cotangents reach x through the forward's rule.
    GradCase(name: "batchNorm train statistics", shapes: [[3, 2, 2, 3], [2], [2]]) {
        let (y, mean, variance) = $0[0].batchNormTraining(weight: $0[1], bias: $0[2])
        return y + (mean + variance.square()).reshaped([1, 2, 1, 1])
    },
    GradCase(name: "batchNormBackward", shapes: [[2, 3, 2, 3], [2, 3, 2, 3], [3], [3]]) {
        let d = batchNormBackward(g: $0[0], xhat: $0[1], rstd: $0[2], weight: $0[3])
        return d.dx + (d.sumG * d.sumGXhat).reshaped([1, 3, 1, 1])
    },
    GradCase(name: "batchNorm eval", shapes: [[3, 2, 2, 2], [2], [2], [2], [2]], low: 0.5, high: 1.5) {
        $0[0].batchNormInference(mean: $0[1], variance: $0[2], weight: $0[3], bias: $0[4])
    },
    GradCase(name: "dropout", shapes: [[4, 5]]) { $0[0].dropout(0.3, rng: RandomGenerator(seed: 7)) },
    GradCase(name: "reluDropout", shapes: [[4, 17]], low: -2, high: 2) { $0[0].reluDropout(0.3, rng: RandomGenerator(seed: 7)) },
    GradCase(name: "l1Loss", shapes: [[3, 4], [3, 4]]) { $0[0].l1Loss($0[1]) },
    GradCase(name: "mseLoss", shapes: [[3, 4], [3, 4]]) { $0[0].mseLoss($0[1]) },
    GradCase(name: "bceWithLogits", shapes: [[3, 4]], low: -3, high: 3) {
        $0[0].binaryCrossEntropyWithLogits(Tensor(shape: [3, 4], values: (0..<12).map { Double($0 % 2) }, dtype: .float64), posWeight: 10)
    },
    GradCase(name: "hingeLoss", shapes: [[3, 4]], low: -3, high: 3) { $0[0].hingeLoss(sign: -1) },
    GradCase(name: "softplus", shapes: [[3, 5]], low: -6, high: 6) { $0[0].softplus() },
]

@Test(arguments: firstOrderCases)
func firstOrderGradient(_ c: GradCase) {
    let failure = checkFirstOrder(c)
    #expect(failure == nil, "\(failure ?? "")")
}

let secondOrderCases: [GradCase] = [
    GradCase(name: "gelu", shapes: [[3, 4]], low: -3, high: 3) { $0[0].gelu() },
    GradCase(name: "relu", shapes: [[3, 4]]) { $0[0].relu().square() },
    GradCase(name: "reluDropout", shapes: [[3, 40]], low: -2, high: 2) { $0[0].reluDropout(0.3, rng: RandomGenerator(seed: 5)).square() },
    // Piecewise linear: the square and the product make the second derivative nonzero.
    GradCase(name: "maxFilter3x3", shapes: [[2, 4, 5]]) { $0[0].maxFilter3x3().square() },
    GradCase(name: "minFilter3x3 of a product", shapes: [[2, 4, 5], [4, 5]]) { ($0[0] * $0[1]).minFilter3x3().square() },
    GradCase(name: "gridSample", shapes: [[2, 2, 4, 5], [2, 3, 3, 2]], low: -1.2, high: 1.2) { $0[0].gridSample($0[1]).square() },
    GradCase(name: "gridSample aligned", shapes: [[2, 2, 4, 5], [2, 3, 3, 2]], low: -1.2, high: 1.2) {
        $0[0].gridSample($0[1], alignCorners: true).square()
    },
    GradCase(name: "gridSample shared input", shapes: [[1, 2, 4, 5], [3, 2, 3, 2]], low: -1.2, high: 1.2) { $0[0].gridSample($0[1]).square() },
    GradCase(name: "mul", shapes: [[3, 4], [4]]) { $0[0] * $0[1] },
    GradCase(name: "add", shapes: [[3, 4], [4]]) { ($0[0] + $0[1]).square() },
    GradCase(name: "mean", shapes: [[3, 4]]) { $0[0].square().mean(axes: [1]) },
    GradCase(name: "matmul alpha", shapes: [[2, 3, 4], [2, 5, 4]]) { $0[0].matmul($0[1], transB: true, alpha: 0.6).square() },
    GradCase(name: "linear", shapes: [[2, 3, 4], [5, 4], [5]]) { $0[0].linear(weight: $0[1], bias: $0[2]).tanh() },
    GradCase(name: "layerNorm", shapes: [[3, 6], [6], [6]]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]) },
    GradCase(name: "softmax", shapes: [[3, 5]]) { $0[0].softmax() },
    // Batch norm's second order differentiates the fused backward's composite form; x̂ and r reach the forward's rule.
    GradCase(name: "batchNorm train", shapes: [[3, 2, 2, 3], [2], [2]]) { $0[0].batchNormTraining(weight: $0[1], bias: $0[2]).0 },
    GradCase(name: "batchNorm train, no affine, squared", shapes: [[2, 3, 3, 1]]) { $0[0].batchNormTraining(weight: nil, bias: nil).0.square() },
    GradCase(name: "batchNorm train statistics", shapes: [[3, 2, 2, 3], [2], [2]]) {
        let (y, mean, variance) = $0[0].batchNormTraining(weight: $0[1], bias: $0[2])
        return y.tanh() + (mean * variance).reshaped([1, 2, 1, 1])
    },
    // Third order of batch norm.
    GradCase(name: "batchNormBackward", shapes: [[2, 3, 2, 3], [2, 3, 2, 3], [3], [3]]) {
        let d = batchNormBackward(g: $0[0], xhat: $0[1], rstd: $0[2], weight: $0[3])
        return d.dx.square() + (d.sumG * d.sumGXhat).reshaped([1, 3, 1, 1])
    },
    GradCase(name: "batchNorm eval", shapes: [[3, 2, 2, 2], [2], [2], [2], [2]], low: 0.5, high: 1.5) {
        $0[0].batchNormInference(mean: $0[1], variance: $0[2], weight: $0[3], bias: $0[4]).square()
    },
    // The composite higher-order rule of the fused layer-norm backward (third order of layer norm).
    GradCase(name: "layerNormBackward", shapes: [[3, 13], [3, 13], [3, 1]]) { layerNormBackward(g: $0[0], xhat: $0[1], rstd: $0[2]).square() },
    GradCase(name: "layerNorm (rows of 37)", shapes: [[2, 37], [37], [37]]) { $0[0].layerNorm(weight: $0[1], bias: $0[2]).tanh() },
    // Its composite higher-order rule (third order of softmax).
    GradCase(name: "softmaxBackward", shapes: [[3, 11], [3, 11]]) { softmaxBackward(y: $0[0], g: $0[1]).square() },
    GradCase(name: "indexSelect", shapes: [[4, 3]]) { $0[0].indexSelect(axis: 0, [3, 0, 0, 2]).square() },
    GradCase(name: "concat", shapes: [[2, 3], [2, 2]]) { Tensor.concat($0, axis: 1).square() },
    GradCase(name: "slices assembled", shapes: [[3, 6]]) { $0[0].sliced(axis: 1, 0, 2) * $0[0].sliced(axis: 1, 2, 4).exp() + $0[0].sliced(axis: 1, 4, 6) },
    GradCase(name: "permutedParts", shapes: [[2, 3, 4]]) { let p = $0[0].permutedParts([1, 2, 0]); return p[0] * p[1].exp() + p[2].square() },
    GradCase(name: "attention", shapes: [[2, 3, 4], [2, 5, 4], [2, 5, 4], [3, 5]]) { Tensor.attention(q: $0[0], k: $0[1], v: $0[2], bias: $0[3]) },
    GradCase(name: "conv2d", shapes: [[2, 2, 4, 4], [3, 2, 2, 2], [3]]) { $0[0].conv2d(weight: $0[1], bias: $0[2], stride: 2).square() },
    GradCase(name: "avgPool2d", shapes: [[1, 2, 4, 4]]) { $0[0].avgPool2d(kernel: 2).square() },
    GradCase(name: "reflectionPad2d", shapes: [[2, 3, 5]]) { $0[0].reflectionPadded2d(2).square() },
    GradCase(name: "transformer block", shapes: [[2, 3, 4], [12, 4], [4], [4]]) { x in
        let qkv = x[0].layerNorm(weight: x[2], bias: x[3]).linear(weight: x[1])
        let q = qkv.sliced(axis: 2, 0, 4), k = qkv.sliced(axis: 2, 4, 8), v = qkv.sliced(axis: 2, 8, 12)
        return (x[0] + Tensor.attention(q: q, k: k, v: v)).gelu().mean(axes: [1])
    },
]


@Test(arguments: secondOrderCases)
func secondOrderGradient(_ c: GradCase) {
    let failure = checkSecondOrder(c)
    #expect(failure == nil, "\(failure ?? "")")
}
