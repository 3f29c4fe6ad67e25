// paint-eval: how good a Paint Transformer model is, on a calibrated scale. Synthetic validation beside the
// content-independent baseline, then PSNR/SSIM of `paint` on a folder of photos beside their 8-px and 16-px block
// averages, and the per-query spread of the finest layer's strokes. Prints tables; --csv and --json write them.
import ArgumentParser
import CommandLineSupport
import Atelier
import AtelierMedia
import Foundation
import PaintTransformer

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

struct PaintEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paint-eval",
        abstract: "Score a Paint Transformer model: synthetic validation and paintings of real photos.")

    @Option(help: "Weights (safetensors); default: the shipped model.") var model: String?
    @Option(help: "Folder of photos (PNG/JPEG) to paint and score.") var photos: String?
    @Option(help: "Resize photos so the longer side is S pixels.") var size = 512
    @Option(help: "Stroke refinement steps per layer (0: off).") var refine = PaintJobOptions.defaultRefineSteps
    @Option(help: "Extra fine layers beyond the paper's last (0…2).") var detail = PaintJobOptions.defaultDetailLayers
    @Option(help: "Share (0, 1] of each detail layer's patches to paint: those furthest from the photo.")
    var detailShare = PaintJobOptions.defaultDetailShare
    @Option(help: "Draw a stroke iff its decision logit exceeds this (0: the paper's; -inf: every stroke).")
    var decisionThreshold: Float = PaintJobOptions.defaultDecisionThreshold
    @Option(help: "Refinement learning rates SHAPE,COLOR (default: the painter's).") var refineRates: String?
    @Flag(inversion: .prefixedNo, help: "Leave out strokes that do not lower their window's error.")
    var prune = true
    @Option(help: "Stroke colours: fitted (least squares over each stroke) or sampled (at its centre, the paper's).")
    var colors = "fitted"
    @Option(help: "Canvas before the first stroke: black (the paper's), mean or white.") var ground = "black"
    @Option(help: "Patches in the synthetic validation set (a multiple of 4; 0: skip it).") var syntheticPatches = 512
    @Option(help: "Write the paintings here (input | painting pairs as NAME.png).") var paintings: String?
    @Option(help: "Per-photo figures as CSV.") var csv: String?
    @Flag(help: "Print everything as one JSON object on stdout.") var json = false
    @Option(help: "Worker threads (default: ATELIER_THREADS or all cores).") var threads: Int?

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors() }

    func validate() throws {
        guard (16...PaintJobError.maximumSide).contains(size) else { throw ValidationError("--size must be 16…\(PaintJobError.maximumSide)") }
        guard (0...PaintJobOptions.maximumRefineSteps).contains(refine) else {
            throw ValidationError("--refine must be 0…\(PaintJobOptions.maximumRefineSteps)")
        }
        guard syntheticPatches >= 0, syntheticPatches % 4 == 0, syntheticPatches <= 65536 else {
            throw ValidationError("--synthetic-patches must be a multiple of 4 in 0…65536")
        }
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be 1…1024") }
        if let refineRates {
            let parts = refineRates.split(separator: ",").compactMap { Double($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
                throw ValidationError("--refine-rates must be SHAPE,COLOR with both in 0…1, got '\(refineRates)'")
            }
        }
        guard CanvasGround(rawValue: ground) != nil else { throw ValidationError("--ground must be mean, black or white, got '\(ground)'") }
        guard ["fitted", "sampled"].contains(colors) else { throw ValidationError("--colors must be fitted or sampled, got '\(colors)'") }
        guard (0...Painter.maximumDetailLayers).contains(detail) else { throw ValidationError("--detail must be 0…\(Painter.maximumDetailLayers)") }
        guard detailShare.isFinite, detailShare > 0, detailShare <= 1 else { throw ValidationError("--detail-share must be in (0, 1], got \(detailShare)") }
    }

    struct Report: Encodable {
        var model: String
        var configuration: String
        var synthetic: SyntheticValidationReport?
        var photos: [PhotoScore]
    }

    func run() throws {
        BLASEnvironment.selectFastKernels()
        if let threads { Threading.setCount(threads) }
        let network: StrokePredictorNetwork
        do {
            network = try model.map { try PaintTransformerModel.load(from: URL(fileURLWithPath: $0)) } ?? PaintTransformerModel.loadShipped()
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
        var report = Report(model: model ?? "shipped", configuration: network.configuration.name, synthetic: nil, photos: [])
        if syntheticPatches > 0 {
            let set = SyntheticValidation(patches: syntheticPatches, strokesPerPatch: network.configuration.strokesPerPatch)
            let synthetic = set.evaluate(network)
            report.synthetic = synthetic
            if !json { print(synthetic.table) }
        }
        if let photos {
            let folder = URL(fileURLWithPath: photos, isDirectory: true)
            let names: [String]
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
                    .filter { ["png", "jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            } catch {
                printError("error: cannot list --photos \(folder.path): \(error.localizedDescription)")
                throw ExitCode.failure
            }
            guard !names.isEmpty else {
                printError("error: --photos \(folder.path) holds no PNG or JPEG files")
                throw ExitCode.failure
            }
            // Made before the first (slow) painting, so a bad --paintings path fails at once, not after it.
            if let paintings {
                do {
                    try FileManager.default.createDirectory(at: URL(fileURLWithPath: paintings, isDirectory: true),
                                                            withIntermediateDirectories: true)
                } catch {
                    printError("error: cannot create --paintings folder \(paintings) (a file in the way, or no permission)")
                    throw ExitCode.failure
                }
            }
            if !json {
                print(String(format: "%-16@ %7@ %6@ %7@ %6@ %7@ %6@ %7@ %6@ %7@", "photo" as NSString, "strokes" as NSString,
                             "sec" as NSString, "PSNR" as NSString, "SSIM" as NSString, "blk8" as NSString, "SSIM" as NSString,
                             "blk16" as NSString, "SSIM" as NSString, "spread" as NSString))
            }
            let rates: (shape: Double, color: Double)? = refineRates.flatMap { text in
                let parts = text.split(separator: ",").compactMap { Double($0) }
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            }
            for name in names {
                let url = folder.appendingPathComponent(name)
                let image: RGBImage
                do {
                    var raster = try RasterImage.load(from: url, channels: 3)
                    if max(raster.width, raster.height) != size {
                        let scale = Double(size) / Double(max(raster.width, raster.height))
                        raster = raster.resized(width: max(1, Int((Double(raster.width) * scale).rounded())),
                                                height: max(1, Int((Double(raster.height) * scale).rounded())),
                                                filter: scale < 1 ? .area : .bilinear)
                    }
                    image = RGBImage(width: raster.width, height: raster.height, pixels: raster.planarFloats())
                } catch {
                    printError("error: \(error)")
                    throw ExitCode.failure
                }
                let (score, painting) = try PhotoEvaluation.evaluate(image, name: name, network: network, refineSteps: refine, detailLayers: detail, detailShare: detailShare, fitColors: colors == "fitted",
                                                                  ground: CanvasGround(rawValue: ground)!,
                                                                  refineLearningRates: rates, decisionThreshold: decisionThreshold,
                                                                  pruneStrokes: prune)
                report.photos.append(score)
                if !json {
                    print(String(format: "%-16@ %7d %6.2f %7.2f %6.3f %7.2f %6.3f %7.2f %6.3f %7.3f", name as NSString, score.strokes,
                                 score.seconds, score.psnr, score.ssim, score.block8PSNR, score.block8SSIM, score.block16PSNR,
                                 score.block16SSIM, score.spread.mean))
                }
                if let paintings {
                    let pair = RasterImage.grid(
                        [RasterImage(planar: image.pixels, channels: 3, height: image.height, width: image.width),
                         RasterImage(planar: painting.image.pixels, channels: 3, height: image.height, width: image.width)],
                        columns: 2, padding: 4, background: 255)
                    let out = URL(fileURLWithPath: paintings, isDirectory: true)
                        .appendingPathComponent((name as NSString).deletingPathExtension + ".png")
                    do { try pair.writePNG(to: out) } catch {
                        printError("error: \(error)")
                        throw ExitCode.failure
                    }
                }
            }
            let count = Double(report.photos.count)
            let mean = { (f: (PhotoScore) -> Double) in report.photos.map(f).reduce(0, +) / count }
            if !json {
                print(String(format: "%-16@ %7.0f %6.2f %7.2f %6.3f %7.2f %6.3f %7.2f %6.3f %7.3f", "mean" as NSString,
                             mean { Double($0.strokes) }, mean(\.seconds), mean(\.psnr), mean(\.ssim), mean(\.block8PSNR),
                             mean(\.block8SSIM), mean(\.block16PSNR), mean(\.block16SSIM), mean(\.spread.mean)))
            }
            if let csv {
                var lines = ["photo,width,height,strokes,seconds,psnr,ssim,block8_psnr,block8_ssim,block16_psnr,block16_ssim,spread"]
                for s in report.photos {
                    lines.append([s.name, String(s.width), String(s.height), String(s.strokes)].joined(separator: ",") + ","
                                 + [s.seconds, s.psnr, s.ssim, s.block8PSNR, s.block8SSIM, s.block16PSNR, s.block16SSIM, s.spread.mean]
                                    .map { String(format: "%.4f", $0) }.joined(separator: ","))
                }
                do { try writeFileAtomically(Data((lines.joined(separator: "\n") + "\n").utf8), to: URL(fileURLWithPath: csv)) } catch {
                    printError("error: \(error)")
                    throw ExitCode.failure
                }
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        }
    }
}

PaintEval.main()
