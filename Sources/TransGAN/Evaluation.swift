// Fréchet distance of generated images in the feature space of a small CNN classifier that the project
// trains itself on Fashion-MNIST (32×32 padded, grayscale). Classifier weights and the real-data feature
// statistics (train split and test split) are cached as safetensors in a cache directory. The real-vs-real
// distance (train vs test statistics) is printed beside every model distance so the number has a scale.
import Foundation
import Atelier

/// conv 3×3 (1→32) → ReLU → avg-pool 2 → conv 3×3 (32→64) → ReLU → avg-pool 2 → conv 3×3 (64→64) → ReLU →
/// avg-pool 2 → flatten (64·4·4) → Linear 128 → ReLU (the features) → Linear 10.
public final class FeatureClassifier: Module, @unchecked Sendable {
    public let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d, fc1: Linear, fc2: Linear
    public static let featureDim = 128
    public init(channels: Int, generator g: RandomGenerator) {
        conv1 = Conv2d(channels, 32, kernel: 3, padding: 1, generator: g)
        conv2 = Conv2d(32, 64, kernel: 3, padding: 1, generator: g)
        conv3 = Conv2d(64, 64, kernel: 3, padding: 1, generator: g)
        fc1 = Linear(64 * 4 * 4, Self.featureDim, generator: g)
        fc2 = Linear(Self.featureDim, 10, generator: g)
        super.init()
        register("conv1", conv1); register("conv2", conv2); register("conv3", conv3)
        register("fc1", fc1); register("fc2", fc2)
    }
    /// `[B, C, 32, 32]` → features `[B, 128]`.
    public func features(_ x: Tensor) -> Tensor {
        var h = conv1(x).relu().avgPool2d(kernel: 2)          // [B, 32, 16, 16]
        h = conv2(h).relu().avgPool2d(kernel: 2)              // [B, 64, 8, 8]
        h = conv3(h).relu().avgPool2d(kernel: 2)              // [B, 64, 4, 4]
        return fc1(h.reshaped([x.shape[0], -1])).relu()       // [B, 128]
    }
    public func logits(_ x: Tensor) -> Tensor { fc2(features(x)) }
}

public struct FrechetEvaluator: @unchecked Sendable {
    public let classifier: FeatureClassifier
    public let trainStats: (mean: [Double], covariance: [Double])
    public let testStats: (mean: [Double], covariance: [Double])
    /// Fréchet distance between the train and test real-image statistics.
    public let realVsReal: Double
    /// Test accuracy of the classifier (sanity check of the feature space).
    public let testAccuracy: Double

    /// Loads the cached classifier and statistics, or trains and computes them (Fashion-MNIST, 32×32).
    public static func prepared(cacheDirectory: URL, channels: Int, imageSize: Int, dataDirectory: URL? = nil,
                                log: (String) -> Void = { _ in }) throws -> FrechetEvaluator {
        guard channels == 1 && imageSize == 32 else {
            throw TrainingError.badOption("the Fréchet evaluator is defined for Fashion-MNIST (1×32×32); this model makes \(channels)×\(imageSize)×\(imageSize)")
        }
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        let url = cacheDirectory.appendingPathComponent("fashion-classifier.safetensors")
        let classifier = FeatureClassifier(channels: 1, generator: RandomGenerator(seed: 2024))
        let dir = dataDirectory ?? ImageDataset.fashionMNISTDirectory
        if FileManager.default.fileExists(atPath: url.path) {
            let f = try SafeTensorsFile.read(from: url)
            try f.restore(classifier, prefix: "classifier.")
            return try FrechetEvaluator(classifier: classifier,
                                        trainStats: (f.doubles("train_mean"), f.doubles("train_cov")),
                                        testStats: (f.doubles("test_mean"), f.doubles("test_cov")),
                                        accuracy: Double(f.metadata["test_accuracy"] ?? "0") ?? 0)
        }
        log("training the evaluation classifier on Fashion-MNIST (cached in \(cacheDirectory.path)) …")
        let train = try ImageDataset.fashionMNIST(split: .train, directory: dir, padTo32: true)
        let test = try ImageDataset.fashionMNIST(split: .test, directory: dir, padTo32: true)
        let opt = Adam(parameters: classifier.namedParameters(), learningRate: 1e-3)
        let rng = RandomGenerator(seed: 77)
        let batch = 128
        for step in 0..<1200 {
            let idx = (0..<batch).map { _ in rng.nextInt(in: 0..<train.count) }
            let (px, labels) = train.batch(idx)
            let x = Tensor(shape: [batch, 1, 32, 32], floats: px)
            let onehot = Tensor(shape: [batch, 10], values: labels.flatMap { l in (0..<10).map { $0 == l ? 1.0 : 0.0 } })
            let loss = -(classifier.logits(x).logSoftmax() * onehot).sum() * (1.0 / Double(batch))
            let grads = gradients(of: loss, wrt: classifier.parameters().map(\.tensor))
            evaluate([loss] + grads)
            opt.step(gradients: grads)
            if step % 200 == 0 { log(String(format: "  classifier step %d  loss %.4f", step, loss.item())) }
        }
        let trainFeatures = features(classifier, train.pixels, count: train.count)
        let testFeatures = features(classifier, test.pixels, count: test.count)
        // Test accuracy from the logits.
        var correct = 0
        for start in stride(from: 0, to: test.count, by: 500) {
            let n = min(500, test.count - start)
            let x = Tensor(shape: [n, 1, 32, 32], floats: Array(test.pixels[(start * 1024)..<((start + n) * 1024)]))
            let l = classifier.logits(x).floats()
            for i in 0..<n {
                let row = l[(i * 10)..<(i * 10 + 10)]
                if row.firstIndex(of: row.max()!)! - i * 10 == test.labels[start + i] { correct += 1 }
            }
        }
        let accuracy = Double(correct) / Double(test.count)
        let d = FeatureClassifier.featureDim
        let trs = gaussianStatistics(trainFeatures, rows: train.count, dim: d)
        let tes = gaussianStatistics(testFeatures, rows: test.count, dim: d)
        var f = SafeTensorsFile()
        f.store(classifier, prefix: "classifier.")
        f.tensors["train_mean"] = SafeTensorsEntry(doubles: trs.mean, shape: [d])
        f.tensors["train_cov"] = SafeTensorsEntry(doubles: trs.covariance, shape: [d, d])
        f.tensors["test_mean"] = SafeTensorsEntry(doubles: tes.mean, shape: [d])
        f.tensors["test_cov"] = SafeTensorsEntry(doubles: tes.covariance, shape: [d, d])
        f.metadata["test_accuracy"] = String(accuracy)
        try f.write(to: url)
        log(String(format: "  classifier test accuracy %.4f", accuracy))
        return try FrechetEvaluator(classifier: classifier, trainStats: trs, testStats: tes, accuracy: accuracy)
    }

    init(classifier: FeatureClassifier, trainStats: (mean: [Double], covariance: [Double]),
         testStats: (mean: [Double], covariance: [Double]), accuracy: Double) throws {
        self.classifier = classifier
        self.trainStats = trainStats
        self.testStats = testStats
        self.testAccuracy = accuracy
        realVsReal = try frechetDistance(mean1: trainStats.mean, cov1: trainStats.covariance, mean2: testStats.mean, cov2: testStats.covariance)
    }

    /// Features `[N, 128]` of images given as flat NCHW floats, in chunks.
    static func features(_ classifier: FeatureClassifier, _ pixels: [Float], count: Int, chunk: Int = 500) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(count * FeatureClassifier.featureDim)
        let size = pixels.count / max(count, 1)
        for start in stride(from: 0, to: count, by: chunk) {
            let n = min(chunk, count - start)
            let x = Tensor(shape: [n, 1, 32, 32], floats: Array(pixels[(start * size)..<((start + n) * size)]))
            out += classifier.features(x).doubles()
        }
        return out
    }

    /// Fréchet distance between generated images (`[N, 1, 32, 32]` floats) and the train statistics.
    public func distance(images: [Float], count: Int) throws -> Double {
        // Statistics of one image have no covariance (the eigen-decomposition would trap on it).
        try Require.int(count, in: TransGANLimits.evalSamples, flag: "samples")
        guard images.count == count * 1024 else { throw TrainingError.badOption("\(images.count) pixels for \(count) 32×32 images") }
        let f = Self.features(classifier, images, count: count)
        let s = gaussianStatistics(f, rows: count, dim: FeatureClassifier.featureDim)
        return try frechetDistance(mean1: s.mean, cov1: s.covariance, mean2: trainStats.mean, cov2: trainStats.covariance)
    }

    /// Fréchet distance of `samples` images from a generator (EMA by default) against the train statistics.
    public func distance(of generator: Generator, samples: Int, seed: UInt64, batch: Int = 100) throws -> Double {
        try Require.int(samples, in: TransGANLimits.evalSamples, flag: "samples")
        let g = RandomGenerator(seed: seed)
        var pixels = [Float]()
        pixels.reserveCapacity(samples * 1024)
        for start in stride(from: 0, to: samples, by: batch) {
            let n = min(batch, samples - start)
            pixels += generator(Tensor.normal([n, generator.config.latentDim], generator: g)).floats()
        }
        return try distance(images: pixels, count: samples)
    }

    public func distance(of trainer: Trainer, samples: Int, seed: UInt64) throws -> Double {
        try distance(of: trainer.emaGenerator, samples: samples, seed: seed)
    }
}
