// Fréchet distance and KID of generated images in the feature space of a small CNN classifier that the project
// trains itself on Fashion-MNIST (32×32 padded, grayscale). The reference is the test split, which neither the
// generator nor the classifier saw. Classifier weights, the real-data statistics and the test features are
// cached as safetensors in a cache directory; `CalibrationLadder` puts every score on a scale made with the
// same classifier and sample count.
import Foundation
import Atelier
import AtelierMedia
/// conv 3×3 (1→32) → ReLU → avg-pool 2 → conv 3×3 (32→64) → ReLU → avg-pool 2 → conv 3×3 (64→64) → ReLU →
/// avg-pool 2 → flatten (64·4·4) → Linear 128 → ReLU (the features) → Linear 10.
public final class FeatureClassifier: Module, @unchecked Sendable {
    public let conv1: Conv2d, conv2: Conv2d, conv3: Conv2d, fc1: Linear, fc2: Linear
    public static let featureDim = 128
    public init(channels: Int, rng g: RandomGenerator) {
        conv1 = Conv2d(channels, 32, kernel: 3, padding: 1, rng: g)
        conv2 = Conv2d(32, 64, kernel: 3, padding: 1, rng: g)
        conv3 = Conv2d(64, 64, kernel: 3, padding: 1, rng: g)
        fc1 = Linear(64 * 4 * 4, Self.featureDim, rng: g)
        fc2 = Linear(Self.featureDim, 10, rng: g)
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

/// One generated set's scores against the test split: Fréchet distance (biased upwards at small N), the
/// unbiased KID, and the entropy (natural log) of the classifier's class histogram of the samples: ln 10 ≈ 2.30
/// when every class is as frequent, lower when the generator drops or favours classes (mode collapse).
public struct EvaluationScore: Sendable, Equatable {
    public var frechet: Double
    public var kid: Double
    public var classEntropy: Double
}

public struct FrechetEvaluator: @unchecked Sendable {
    public let classifier: FeatureClassifier
    public let trainStats: (mean: [Double], covariance: [Double])
    public let testStats: (mean: [Double], covariance: [Double])
    /// Features of the 10,000 test images, the reference of every score.
    public let testFeatures: [Double]
    /// Fréchet distance between the whole train split's and the test split's statistics (at N = 10,000+; the
    /// floor at the evaluation's N is the ladder's first rung).
    public let realVsReal: Double
    /// Test accuracy of the classifier (sanity check of the feature space).
    public let testAccuracy: Double
    /// Features are multiplied by this before KID (see `init`).
    let kidScale: Double
    let scaledTestFeatures: [Double]

    /// Samples per score unless told otherwise: enough that the Fréchet bias is small beside the ladder's steps.
    public static let defaultSamples = 5000
    /// Classifier training: Adam steps of batch 128 with random shifts and flips, cosine learning-rate decay.
    public static let defaultClassifierSteps = 3000

    /// Loads the cached classifier and statistics, or trains and computes them (Fashion-MNIST, 32×32).
    public static func prepared(cacheDirectory: URL, channels: Int, imageSize: Int, dataDirectory: URL? = nil,
                                classifierSteps: Int = defaultClassifierSteps,
                                log: (String) -> Void = { _ in }) throws -> FrechetEvaluator {
        guard channels == 1 && imageSize == 32 else {
            throw TrainingError.badOption("the Fréchet evaluator is defined for Fashion-MNIST (1×32×32); this model makes \(channels)×\(imageSize)×\(imageSize)")
        }
        try FileManager.default.createDirectory(at: cacheDirectory, withIntermediateDirectories: true)
        let url = cacheURL(in: cacheDirectory, classifierSteps: classifierSteps)
        let classifier = FeatureClassifier(channels: 1, rng: RandomGenerator(seed: 2024))
        let dir = dataDirectory ?? ImageDataset.fashionMNISTDirectory
        if FileManager.default.fileExists(atPath: url.path) {
            let f = try SafeTensorsFile.read(from: url)
            try f.restore(classifier, prefix: "classifier.")
            return try FrechetEvaluator(classifier: classifier,
                                        trainStats: (f.doubles("train_mean"), f.doubles("train_cov")),
                                        testStats: (f.doubles("test_mean"), f.doubles("test_cov")),
                                        testFeatures: f.doubles("test_features"),
                                        accuracy: Double(f.metadata["test_accuracy"] ?? "0") ?? 0)
        }
        log("training the evaluation classifier on Fashion-MNIST, \(classifierSteps) steps (cached in \(cacheDirectory.path)) …")
        let train = try ImageDataset.fashionMNIST(split: .train, directory: dir, padTo32: true)
        let test = try ImageDataset.fashionMNIST(split: .test, directory: dir, padTo32: true)
        let opt = Adam(parameters: classifier.namedParameters(), learningRate: 1e-3)
        let rng = RandomGenerator(seed: 77)
        let batch = 128
        for step in 0..<classifierSteps {
            let idx = (0..<batch).map { _ in rng.nextInt(in: 0..<train.count) }
            let (px, labels) = train.batch(idx)
            let x = Tensor(shape: [batch, 1, 32, 32], floats: ImageDegradation.shiftedAndFlipped(px, count: batch, rng: rng))
            let onehot = Tensor(shape: [batch, 10], values: labels.flatMap { l in (0..<10).map { $0 == l ? 1.0 : 0.0 } })
            let loss = -(classifier.logits(x).logSoftmax() * onehot).sum() * (1.0 / Double(batch))
            let grads = gradients(of: loss, wrt: classifier.parameters().map(\.tensor))
            evaluate([loss] + grads)
            opt.learningRate = 1e-3 * 0.5 * (1 + cos(Double.pi * Double(step) / Double(classifierSteps)))
            opt.step(gradients: grads)
            if step % 500 == 0 { log(String(format: "  classifier step %d  loss %.4f", step, loss.item())) }
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
        f.tensors["test_features"] = SafeTensorsEntry(doubles: testFeatures, shape: [test.count, d])
        f.metadata["test_accuracy"] = String(accuracy)
        f.metadata["classifier_steps"] = String(classifierSteps)
        try f.write(to: url)
        log(String(format: "  classifier test accuracy %.4f", accuracy))
        return try FrechetEvaluator(classifier: classifier, trainStats: trs, testStats: tes, testFeatures: testFeatures, accuracy: accuracy)
    }

    /// The cached classifier and statistics (tensors `classifier.*`, `train_mean`, `train_cov`, `test_mean`,
    /// `test_cov`, `test_features`; metadata `test_accuracy`).
    static func cacheURL(in directory: URL, classifierSteps: Int) -> URL {
        directory.appendingPathComponent("fashion-classifier-v2-\(classifierSteps).safetensors")
    }

    init(classifier: FeatureClassifier, trainStats: (mean: [Double], covariance: [Double]),
         testStats: (mean: [Double], covariance: [Double]), testFeatures: [Double], accuracy: Double) throws {
        self.classifier = classifier
        self.trainStats = trainStats
        self.testStats = testStats
        self.testFeatures = testFeatures
        self.testAccuracy = accuracy
        // KID's kernel (x·y/d + 1)³ assumes features of order 1 per dimension (Inception's pooled features are);
        // these ReLU features are larger, and the cube let a few large samples dominate the estimate. Scaling
        // so that the test features' mean x·x/d is 1 fixes the kernel's scale once for every score.
        let d = Double(FeatureClassifier.featureDim), rows = Double(max(testFeatures.count, 1)) / d
        let meanSquare = testFeatures.reduce(0) { $0 + $1 * $1 } / (rows * d)
        let scale = meanSquare > 0 ? 1 / meanSquare.squareRoot() : 1
        kidScale = scale
        scaledTestFeatures = testFeatures.map { $0 * scale }
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

    /// Fréchet distance and KID of images (`[N, 1, 32, 32]` floats in [−1, 1]) against the test split.
    public func score(images: [Float], count: Int) throws -> EvaluationScore {
        // Statistics of one image have no covariance (the eigen-decomposition would trap on it).
        try Require.int(count, in: TransGANLimits.evalSamples, flag: "samples")
        guard images.count == count * 1024 else { throw TrainingError.badOption("\(images.count) pixels for \(count) 32×32 images") }
        let d = FeatureClassifier.featureDim
        let f = Self.features(classifier, images, count: count)
        let s = gaussianStatistics(f, rows: count, dim: d)
        let frechet = try frechetDistance(mean1: s.mean, cov1: s.covariance, mean2: testStats.mean, cov2: testStats.covariance)
        let scale = kidScale
        let kid = try kernelInceptionDistance(f.map { $0 * scale }, rows: count, scaledTestFeatures, rows: testFeatures.count / d, dim: d)
        return EvaluationScore(frechet: frechet, kid: kid, classEntropy: classEntropy(features: f, count: count))
    }

    /// Entropy of the histogram of predicted classes (the classifier's last layer on the features).
    func classEntropy(features f: [Double], count: Int) -> Double {
        let d = FeatureClassifier.featureDim, classes = 10
        let w = classifier.fc2.weight.tensor.doubles(), b = classifier.fc2.bias!.tensor.doubles()    // [10, d], [10]
        var histogram = [Int](repeating: 0, count: classes)
        for i in 0..<count {
            var best = 0, bestLogit = -Double.infinity
            for k in 0..<classes {
                var logit = b[k]
                for j in 0..<d { logit += w[k * d + j] * f[i * d + j] }
                if logit > bestLogit { (best, bestLogit) = (k, logit) }
            }
            histogram[best] += 1
        }
        return histogram.reduce(0) { h, n in
            guard n > 0 else { return h }
            let p = Double(n) / Double(count)
            return h - p * Foundation.log(p)
        }
    }

    /// `samples` images from a generator (EMA by default), scored against the test split.
    public func score(of generator: Generator, samples: Int, seed: UInt64, batch: Int = 100) throws -> EvaluationScore {
        try Require.int(samples, in: TransGANLimits.evalSamples, flag: "samples")
        let g = RandomGenerator(seed: seed)
        var pixels = [Float]()
        pixels.reserveCapacity(samples * 1024)
        for start in stride(from: 0, to: samples, by: batch) {
            let n = min(batch, samples - start)
            pixels += generator(Tensor.normal([n, generator.config.latentDim], rng: g)).floats()
        }
        return try score(images: pixels, count: samples)
    }

    public func score(of trainer: Trainer, samples: Int, seed: UInt64) throws -> EvaluationScore {
        try score(of: trainer.emaGenerator, samples: samples, seed: seed)
    }
}
