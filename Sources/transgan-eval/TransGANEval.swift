// transgan-eval: Fréchet distance and KID of a TransGAN checkpoint's samples against the Fashion-MNIST test
// split, in the feature space of a small CNN the project trains (cached), printed beside a calibration ladder
// scored with the same classifier and sample count. Several checkpoints give a curve (one line each).
import ArgumentParser
import CommandLineSupport
import Atelier
import Foundation
import TransGAN

@main
struct TransGANEval: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transgan-eval", abstract: "Fréchet distance and KID of TransGAN samples against the Fashion-MNIST test split, with a calibration ladder.")

    @Option(name: .customLong("checkpoint"), help: "Checkpoint(s) or generator snapshot(s); repeat for a curve.") var checkpoints: [String] = []
    @Argument(help: "More checkpoints.") var more: [String] = []
    @Option(help: "Generated samples per score (2…100000: the covariance needs two; below 5000 the Fréchet distance's bias grows).") var samples = FrechetEvaluator.defaultSamples
    @Flag(help: "Skip the calibration ladder (real images, blurred, noisy, one class) beside the scores.") var noCalibration = false
    @Option(help: "Cache directory for the classifier and real statistics.") var cache = "runs/transgan-eval-cache"
    @Option(help: "Fashion-MNIST directory.") var dataDir: String?
    @Option(help: "Latent seed.") var seed: UInt64 = 1234
    @Flag(help: "Use the raw generator instead of the EMA weights.") var raw = false
    @Option(help: "Worker threads (1…1024; default: ATELIER_THREADS or all cores).") var threads: Int?

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "\(configuration.commandName ?? "transgan-eval"): ") }

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set
        do { try evaluateAll() } catch let e as ExitCode { throw e } catch {
            FileHandle.standardError.write(Data("transgan-eval: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    func evaluateAll() throws {
        if let threads { Threading.setCount(try Threading.validatedCount(threads)) }
        guard TransGANLimits.evalSamples.contains(samples) else {
            throw TrainingError.invalidOption(flag: "--samples", value: String(samples), allowed: "between \(TransGANLimits.evalSamples.lowerBound) and "
                                              + "\(TransGANLimits.evalSamples.upperBound) (the covariance needs two samples)")
        }
        let paths = checkpoints + more
        // Every file's configuration and generator weights are checked before the (possibly long) evaluator
        // preparation.
        for path in paths {
            let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: path))
            let config = try file.transGANConfiguration()
            try file.requireFiniteTensors(prefixes: [raw ? "gen." : "gen_ema."])
            guard config.channels == 1 && config.imageSize == 32 else {
                throw TrainingError.badOption("\(path): model makes \(config.channels)×\(config.imageSize)² images; the evaluator needs 1×32²")
            }
        }
        let ev = try FrechetEvaluator.prepared(cacheDirectory: URL(fileURLWithPath: cache), channels: 1, imageSize: 32,
                                               dataDirectory: dataDir.map { URL(fileURLWithPath: $0) },
                                               log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
        print(String(format: "classifier test accuracy %.4f; reference: the 10,000 test images; %d samples per score", ev.testAccuracy, samples))
        if !noCalibration {
            let rungs = try CalibrationLadder.rungs(evaluator: ev, samples: samples, seed: seed &+ 1, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) },
                                                    cacheDirectory: URL(fileURLWithPath: cache),
                                                    log: { FileHandle.standardError.write(Data(($0 + "\n").utf8)) })
            print("calibration (same classifier, \(samples) images each):")
            for r in rungs { print(String(format: "  %-24@ Fréchet %8.2f   KID×10³ %8.3f", r.name as NSString, r.frechet, r.kid * 1000)) }
        }
        if paths.isEmpty { return }
        print("checkpoint,step,frechet,kid,class_entropy (ln 10 = 2.303: classes balanced)")
        for path in paths {
            let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: path))
            let (config, gen, ema) = try Trainer.loadGenerators(from: file)
            guard config.channels == 1 && config.imageSize == 32 else {
                throw TrainingError.badOption("\(path): model makes \(config.channels)×\(config.imageSize)² images; the evaluator needs 1×32²")
            }
            let score = try ev.score(of: raw ? gen : ema, samples: samples, seed: seed)
            print(String(format: "%@,%@,%.4f,%.6f,%.4f", path, file.metadata["step"] ?? "?", score.frechet, score.kid, score.classEntropy))
        }
    }
}
