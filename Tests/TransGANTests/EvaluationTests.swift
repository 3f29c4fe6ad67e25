// The evaluation scale: a briefly trained classifier still orders the calibration ladder, real train images
// score near zero KID against the test split, and the degradations are what they say.
import Foundation
import Testing
@testable import Atelier
import AtelierMedia
@testable import TransGAN
import TestSupport

@Suite("Evaluation", .serialized)
struct EvaluationTests {
    @Test func degradationsChangeImagesAsDocumented() {
        // One image: a vertical edge. Blur keeps the mean, softens the edge; noise has the asked spread.
        var image = [Float](repeating: -1, count: 1024)
        for y in 0..<32 { for x in 16..<32 { image[y * 32 + x] = 1 } }
        let blurred = ImageDegradation.blurred(image, count: 1, sigma: 1)
        #expect(Swift.abs(blurred.reduce(0, +) - image.reduce(0, +)) < 1e-2)
        #expect(blurred[5 * 32 + 15] > -0.9 && blurred[5 * 32 + 15] < 0, "the edge softens: \(blurred[5 * 32 + 15])")
        #expect(blurred[5 * 32 + 2] == -1 && blurred[5 * 32 + 30] == 1, "far from the edge nothing changes")
        let grey = [Float](repeating: 0, count: 1024 * 8)
        let noisy = ImageDegradation.noisy(grey, sigma: 0.3, seed: 1)
        let std = (noisy.map { Double($0 * $0) }.reduce(0, +) / Double(noisy.count)).squareRoot()
        #expect(Swift.abs(std - 0.3) < 0.02, "noise std \(std)")
        #expect(noisy.allSatisfy { $0 >= -1 && $0 <= 1 })
    }

    /// The class-histogram entropy: ln 10 when every class is predicted equally often, 0 for one class.
    @Test func classEntropyIsThatOfThePredictedHistogram() throws {
        let d = FeatureClassifier.featureDim
        let classifier = FeatureClassifier(channels: 1, rng: RandomGenerator(seed: 1))
        var w = [Float](repeating: 0, count: 10 * d)
        for k in 0..<10 { w[k * d + k] = 1 }                     // class k's logit is feature k
        classifier.fc2.weight.assignTensor(Tensor(shape: [10, d], floats: w))
        classifier.fc2.bias!.assignTensor(Tensor(shape: [10], floats: [Float](repeating: 0, count: 10)))
        let identity = (0..<d * d).map { $0 % (d + 1) == 0 ? 1.0 : 0.0 }
        let stats = (mean: [Double](repeating: 0, count: d), covariance: identity)
        let ev = try FrechetEvaluator(classifier: classifier, trainStats: stats, testStats: stats,
                                      testFeatures: [Double](repeating: 1, count: 2 * d), accuracy: 1)
        func features(_ classes: [Int]) -> [Double] { classes.flatMap { c in (0..<d).map { $0 == c ? 1.0 : 0.0 } } }
        #expect(Swift.abs(ev.classEntropy(features: features(Array(0..<10)), count: 10) - Foundation.log(10)) < 1e-12)
        #expect(Swift.abs(ev.classEntropy(features: features([1, 1, 2, 2]), count: 4) - Foundation.log(2)) < 1e-12)
        #expect(ev.classEntropy(features: features([3, 3, 3]), count: 3) == 0)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: ImageDataset.fashionMNISTDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz").path),
                   "needs Debian's dataset-fashion-mnist (.ci/run installs it)"))
    func calibrationLadderIsOrderedAndTheFloorIsNearZeroKID() throws {
        let scratch = try ScratchDirectory("eval")
        defer { scratch.remove() }
        let cache = scratch.url
        let evaluator = try FrechetEvaluator.prepared(cacheDirectory: cache, channels: 1, imageSize: 32, classifierSteps: 150)
        #expect(evaluator.testAccuracy > 0.6, "accuracy \(evaluator.testAccuracy) after 150 steps")
        let rungs = try CalibrationLadder.rungs(evaluator: evaluator, samples: 1000, seed: 3, cacheDirectory: cache)
        let fd = rungs.map(\.frechet), kid = rungs.map(\.kid)
        #expect(rungs.map(\.name) == CalibrationLadder.rungNames)
        // The strong degradations and one class score far above real images; noise orders by its σ. (Blur σ 0.5
        // is within this small classifier's noise at N = 1000 and is not asserted.)
        #expect(fd[2] > 2 * fd[0] && fd[4] > 2 * fd[0] && fd[5] > 3 * fd[0], "\(fd)")
        #expect(fd[3] < fd[4], "\(fd)")
        #expect(Swift.abs(kid[0]) < 0.2 * kid[4], "KID of real images \(kid[0]) vs noise σ 0.3 \(kid[4])")
        // The cached ladder is read back unchanged.
        #expect(try CalibrationLadder.rungs(evaluator: evaluator, samples: 1000, seed: 3, cacheDirectory: cache) == rungs)
    }
}
