// `--eval-every`: the EMA generator scored during training exactly as transgan-eval scores a checkpoint (the same
// classifier, sample count and latent seed), appended to frechet.csv, with the calibration ladder for the same
// sample count written once to calibration.json so the scores can be read against it.
import Foundation
import Atelier

struct ScheduledEvaluation {
    let evaluator: FrechetEvaluator
    let samples: Int
    /// Latents of every score: the same images' worth of noise at every step, so scores differ by the generator only.
    let seed: UInt64
    let csvURL: URL
    /// Wall time spent scoring so far.
    private(set) var seconds = 0.0

    /// Loads (or trains, which can take minutes) the classifier and scores the calibration ladder, both cached in
    /// `evalCache`; writes `calibration.json` in `directory`.
    init(options: TrainingRunOptions, config: TransGANConfiguration, trainingSeed: UInt64, directory: URL,
         log: (String) -> Void) throws {
        let cache = URL(fileURLWithPath: options.evalCache)
        evaluator = try FrechetEvaluator.prepared(cacheDirectory: cache, channels: config.channels, imageSize: config.imageSize, log: log)
        samples = options.evalSamples
        seed = trainingSeed &+ 1234
        csvURL = directory.appendingPathComponent("frechet.csv")
        let rungs = try CalibrationLadder.rungs(evaluator: evaluator, samples: samples, seed: 1235,
                                                dataDirectory: options.dataDir.map { URL(fileURLWithPath: $0) },
                                                cacheDirectory: cache, log: log)
        log("calibration at \(samples) samples: " + CalibrationLadder.summary(rungs))
        if let data = try? JSONEncoder().encode(rungs) { try AtomicFile.write(data, to: directory.appendingPathComponent("calibration.json")) }
    }

    /// Scores the trainer's EMA generator into frechet.csv, the progress log and `board`; the csv's training time
    /// is the wall time since `runStart` without the time spent scoring.
    mutating func score(_ trainer: Trainer, runStart: Date, board: TensorBoardWriter?, log: (String) -> Void) throws {
        let start = Date()
        let score = try evaluator.score(of: trainer, samples: samples, seed: seed)
        seconds += Date().timeIntervalSince(start)
        log("step \(trainer.step)  " + String(format: "Fréchet distance %.2f  KID×10³ %.3f  class entropy %.3f  (%d samples vs test split; %.0f s)",
                                              score.frechet, score.kid * 1000, score.classEntropy, samples, Date().timeIntervalSince(start)))
        board?.scalar(tag: "eval/frechet", value: score.frechet, step: trainer.step)
        board?.scalar(tag: "eval/kid", value: score.kid, step: trainer.step)
        let header = FileManager.default.fileExists(atPath: csvURL.path) ? "" : FrechetCSV.header
        let row = header + FrechetCSV.row(step: trainer.step, score, samples: samples, trainingSeconds: Date().timeIntervalSince(runStart) - seconds)
        // Appended in place; a new file is written whole (temporary file, then rename).
        if let h = try? FileHandle(forWritingTo: csvURL) { h.seekToEndOfFile(); h.write(Data(row.utf8)); try? h.close() }
        else { try row.write(to: csvURL, atomically: true, encoding: .utf8) }
    }
}
