// A small CNN + attention classifier trains on generated data; a checkpoint written mid-way and loaded
// into a fresh model and optimiser continues to bit-identical losses.
import Foundation
import Testing
@testable import Atelier
import TestSupport

/// conv → relu → conv(stride 2) → tokens → one ViT block → mean-pool → linear.
final class TinyConvAttention: Module, @unchecked Sendable {
    let conv1: Conv2d, conv2: Conv2d, block: ViTBlock, head: Linear
    init(rng: RandomGenerator) {
        conv1 = Conv2d(1, 8, kernel: 3, padding: 1, rng: rng)
        conv2 = Conv2d(8, 16, kernel: 3, stride: 2, padding: 1, rng: rng)
        block = ViTBlock(dim: 16, heads: 2, rng: rng)
        head = Linear(16, 2, rng: rng)
        super.init()
        register("conv1", conv1); register("conv2", conv2); register("block", block); register("head", head)
    }
    func callAsFunction(_ x: Tensor) -> Tensor {
        let f = conv2(conv1(x).relu()).relu()                                 // [B, 16, 4, 4]
        let tokens = f.reshaped([f.shape[0], 16, 16]).transposed(1, 2)        // [B, 16 tokens, 16]
        return head(block(tokens).mean(axes: [1]))                            // [B, 2]
    }
}

/// Images with a bright horizontal bar (class 0) or vertical bar (class 1) at random places.
func barsBatch(_ n: Int, seed: UInt64) -> (Tensor, Tensor) {
    var rng = TestRNG(seed)
    var pixels = [Double](repeating: 0, count: n * 64), labels = [Double](repeating: 0, count: n * 2)
    for i in 0..<n {
        let cls = i % 2, pos = Int(rng.next() * 8)
        for k in 0..<8 { pixels[i * 64 + (cls == 0 ? pos * 8 + k : k * 8 + pos)] = 1 }
        for p in 0..<64 { pixels[i * 64 + p] += 0.1 * rng.next() }
        labels[i * 2 + cls] = 1
    }
    return (Tensor(shape: [n, 1, 8, 8], values: pixels), Tensor(shape: [n, 2], values: labels))
}

func crossEntropy(_ logits: Tensor, _ onehot: Tensor) -> Tensor { -(logits.logSoftmax() * onehot).sum(axes: [1]).mean() }

func trainSteps(_ model: TinyConvAttention, _ opt: Adam, _ steps: Range<Int>) -> [Double] {
    steps.map { step in
        let (x, y) = barsBatch(32, seed: UInt64(step))
        let loss = crossEntropy(model(x), y)
        let grads = gradients(of: loss, wrt: model.parameters().map(\.tensor))
        evaluate([loss] + grads)
        opt.step(gradients: grads, gradientScale: clipFactor(gradients: grads, maxNorm: 5).factor)
        return loss.item()
    }
}

@Test func cnnAttentionLearnsAndResumesExactly() throws {
    let model = TinyConvAttention(rng: RandomGenerator(seed: 11))
    let opt = Adam(parameters: model.namedParameters(), learningRate: 3e-3)
    let first = trainSteps(model, opt, 0..<20)

    let scratch = try ScratchDirectory("atelier-resume")
    defer { scratch.remove() }
    let dir = scratch.url
    let url = dir.appendingPathComponent("mid.safetensors")
    var file = SafeTensorsFile()
    file.store(model, prefix: "model.")
    file.store(opt, prefix: "optimizer.")
    try file.write(to: url)

    let continued = trainSteps(model, opt, 20..<60)

    let restored = TinyConvAttention(rng: RandomGenerator(seed: 999))
    let restoredOpt = Adam(parameters: restored.namedParameters(), learningRate: 3e-3)
    let loaded = try SafeTensorsFile.read(from: url)
    try loaded.restore(restored, prefix: "model.")
    try loaded.restore(restoredOpt, prefix: "optimizer.")
    let resumed = trainSteps(restored, restoredOpt, 20..<60)

    #expect(resumed == continued)
    let late = continued.suffix(5).reduce(0, +) / 5
    #expect(late < 0.25 * first[0], "cross-entropy \(first[0]) → \(late)")
}

@Test func checkpointMismatchesAreNamedErrors() throws {
    let scratch = try ScratchDirectory("atelier-ckpt")
    defer { scratch.remove() }
    let dir = scratch.url
    let url = dir.appendingPathComponent("small.safetensors")
    let gen = RandomGenerator(seed: 1)
    var file = SafeTensorsFile()
    file.store(Linear(4, 3, rng: gen))
    try file.write(to: url)
    let loaded = try SafeTensorsFile.read(from: url)

    let wrongShape = Linear(5, 3, rng: gen)
    let before = wrongShape.weight.tensor.floats()
    do { try loaded.restore(wrongShape); Issue.record("shape mismatch accepted") } catch {
        #expect("\(error)".contains("small.safetensors") && "\(error)".contains("shape"))
    }
    #expect(wrongShape.weight.tensor.floats() == before, "a failed restore must leave the model unchanged")

    do { try loaded.restore(Linear(4, 3, bias: false, rng: gen)); Issue.record("extra key accepted") } catch {
        #expect("\(error)".contains("bias"))
    }
    do { try loaded.restore(ViTBlock(dim: 4, heads: 2, rng: gen)); Issue.record("missing key accepted") } catch {
        #expect("\(error)".contains("missing key"))
    }
}
