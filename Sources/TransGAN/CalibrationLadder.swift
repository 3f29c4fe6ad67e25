// A scale for generator scores: the same classifier and sample count applied to real train images, to
// degraded ones and to a single class. A model's Fréchet distance or KID means something beside these rungs;
// alone, neither tells how close to real the samples are.
import Foundation
import Atelier
import AtelierMedia

/// One rung: what was scored and its scores against the test split.
public struct CalibrationRung: Sendable, Equatable, Codable {
    public var name: String
    public var frechet: Double
    public var kid: Double
}

public enum CalibrationLadder {
    /// The rungs, best to worst: real train images (the floor at this N), blurred σ = 0.5 and 1 px, with noise
    /// σ = 0.1 and 0.3, and one class only (T-shirt/top: all variety of shape lost).
    public static let rungNames = ["real (train split)", "real, blur σ 0.5 px", "real, blur σ 1 px",
                                   "real, noise σ 0.1", "real, noise σ 0.3", "real, one class only"]

    /// Scores `samples` train images and their degradations (drawn with `seed`); cached in the evaluator's
    /// cache directory as JSON, since the real images and the classifier do not change.
    public static func rungs(evaluator: FrechetEvaluator, samples: Int, seed: UInt64, dataDirectory: URL? = nil,
                             cacheDirectory: URL?, log: (String) -> Void = { _ in }) throws -> [CalibrationRung] {
        let cacheURL = cacheDirectory?.appendingPathComponent(String(format: "calibration-%d-%llu-%.6f-%.6f.json", samples, seed, evaluator.realVsReal, evaluator.kidScale))
        if let cacheURL, let data = try? Data(contentsOf: cacheURL),
           let cached = try? JSONDecoder().decode([CalibrationRung].self, from: data), cached.map(\.name) == rungNames {
            return cached
        }
        log("scoring the calibration ladder (\(samples) real images per rung) …")
        let train = try ImageDataset.fashionMNIST(split: .train, directory: dataDirectory ?? ImageDataset.fashionMNISTDirectory, padTo32: true)
        guard samples <= train.count else {
            throw TrainingError.badOption("the calibration ladder draws \(samples) real images, more than the train split's \(train.count)")
        }
        let rng = RandomGenerator(seed: seed)
        // Without replacement, so the floor is not lowered by duplicates.
        var order = Array(0..<train.count)
        for i in 0..<samples { order.swapAt(i, rng.nextInt(in: i..<train.count)) }
        let real = train.batch(Array(order.prefix(samples))).pixels
        let oneClass = (0..<train.count).filter { train.labels[$0] == 0 }
        let single = train.batch((0..<samples).map { oneClass[$0 % oneClass.count] }).pixels
        let sets: [[Float]] = [
            real,
            ImageDegradation.blurred(real, count: samples, sigma: 0.5),
            ImageDegradation.blurred(real, count: samples, sigma: 1),
            ImageDegradation.noisy(real, sigma: 0.1, seed: seed &+ 1),
            ImageDegradation.noisy(real, sigma: 0.3, seed: seed &+ 2),
            single,
        ]
        var rungs: [CalibrationRung] = []
        for (name, pixels) in zip(rungNames, sets) {
            let s = try evaluator.score(images: pixels, count: samples)
            rungs.append(CalibrationRung(name: name, frechet: s.frechet, kid: s.kid))
        }
        if let cacheURL, let data = try? JSONEncoder().encode(rungs) { try? AtomicFile.write(data, to: cacheURL) }
        return rungs
    }

    /// "floor 1.2 | blur σ 0.5 px 40 | …" on one line, Fréchet distances (KID × 10³ in brackets).
    public static func summary(_ rungs: [CalibrationRung]) -> String {
        rungs.map { String(format: "%@ %.1f (KID×10³ %.2f)", $0.name, $0.frechet, $0.kid * 1000) }.joined(separator: " | ")
    }
}
