// paint: turn a photo into a Paint Transformer painting, an animation of it being painted and a stroke list.
// A thin shell over `PaintJob`: flags, progress on stderr, one clear error line and a non-zero exit on failure.
import ArgumentParser
import CommandLineSupport
import Atelier
import Foundation
import PaintTransformer

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

struct Paint: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paint",
        abstract: "Paint a photo with strokes predicted by Paint Transformer.",
        discussion: "With no INPUT (or --demo) it paints a built-in generated landscape into ./painting.png.")

    @Argument(help: "Photo to paint (PNG or JPEG, a regular file; sides at most 16:1).") var input: String?
    @Flag(help: "Paint the built-in demo landscape.") var demo = false
    @Option(help: "Painting (PNG).") var output = "painting.png"
    @Option(help: "Animation of the painting process: .gif or .png (APNG).") var animation: String?
    @Option(help: "Stroke list: .json or .svg.") var strokes: String?
    @Option(help: "Weights (safetensors); default: the model shipped with the package.") var model: String?
    @Option(help: "Model configuration (small-proposals, small, paper); default: the one named in the model file.") var config: String?
    @Option(help: "Resize so the longer side is S pixels (at most 2048).") var size: Int?
    @Option(help: "Paint at most K coarse-to-fine layers.") var layers: Int?
    @Option(help: "Grayscale PNG to use as the brush (for every stroke, or for tall ones with --brush-horizontal).") var brush: String?
    @Option(help: "Grayscale PNG for wide strokes (h ≤ w), as the paper's second brush; needs --brush.") var brushHorizontal: String?
    @Option(help: "Also write the picture that was painted (PNG), e.g. the demo landscape.") var saveInput: String?
    @Option(help: "Worker threads (default: ATELIER_THREADS or all cores).") var threads: Int?
    @Option(help: "Canvas before the first stroke: black (the paper's), mean (the photo's mean colour) or white.")
    var ground = "black"
    @Option(help: "Draw a stroke iff its decision logit exceeds this (0: the paper's rule; default: every stroke).")
    var decisionThreshold: Float = PaintJobOptions.defaultDecisionThreshold
    @Option(help: "Stroke colours: fitted (least squares over each stroke's footprint) or sampled (at its centre, as the paper).")
    var colors = "fitted"
    @Option(help: "Extra fine layers beyond the paper's last (0…2): smaller strokes, ≈ 4× the strokes and time each.")
    var detail = PaintJobOptions.defaultDetailLayers
    @Option(help: "Share (0, 1] of each detail layer's patches to paint: those furthest from the photo (1: all).")
    var detailShare = PaintJobOptions.defaultDetailShare
    @Option(help: "Adam steps refining each layer's strokes against the photo (0: off).")
    var refine = PaintJobOptions.defaultRefineSteps
    @Flag(inversion: .prefixedNo, help: "Leave out strokes that do not lower their window's error (fewer strokes, higher PSNR).")
    var prune = true

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "") }

    func run() throws {
        BLASEnvironment.selectFastKernels()  // AVX2 OpenBLAS kernels unless OPENBLAS_CORETYPE is set
        if let threads {
            guard (try? Threading.validatedCount(threads)) != nil else { printError("error: \(ThreadCountError(flag: "--threads", value: threads))"); throw ExitCode.failure }
            Threading.setCount(threads)
        }
        if demo && input != nil { printError("error: give an INPUT or --demo, not both"); throw ExitCode.failure }
        var options = PaintJobOptions(input: input.map { URL(fileURLWithPath: $0) }, output: URL(fileURLWithPath: output))
        options.animation = animation.map { URL(fileURLWithPath: $0) }
        options.strokes = strokes.map { URL(fileURLWithPath: $0) }
        options.model = model.map { URL(fileURLWithPath: $0) }
        options.configuration = config
        options.size = size
        options.layers = layers
        options.brush = brush.map { URL(fileURLWithPath: $0) }
        options.horizontalBrush = brushHorizontal.map { URL(fileURLWithPath: $0) }
        options.saveInput = saveInput.map { URL(fileURLWithPath: $0) }
        options.refineSteps = refine
        options.pruneStrokes = prune
        options.detailLayers = detail
        options.detailShare = detailShare
        guard ["fitted", "sampled"].contains(colors) else {
            printError("error: --colors must be fitted or sampled, got '\(colors)'")
            throw ExitCode.failure
        }
        options.fitColors = colors == "fitted"
        guard let chosenGround = CanvasGround(rawValue: ground) else {
            printError("error: --ground must be mean, black or white, got '\(ground)'")
            throw ExitCode.failure
        }
        options.ground = chosenGround
        guard !decisionThreshold.isNaN else {
            printError("error: --decision-threshold must be a number (or -inf), got nan")
            throw ExitCode.failure
        }
        options.decisionThreshold = decisionThreshold
        do {
            let summary = try PaintJob.run(options) { printError($0) }
            let written = [output, animation, strokes].compactMap { $0 }.joined(separator: ", ")
            printError(String(format: "wrote %@ (%d×%d, %d layers, %d strokes, %d frames, PSNR %.2f dB) in %.2f s",
                              written, summary.width, summary.height, summary.layers, summary.strokes, summary.frames,
                              summary.psnr, summary.seconds))
        } catch {
            printError("error: \(error)")
            throw ExitCode.failure
        }
    }
}

Paint.main()
