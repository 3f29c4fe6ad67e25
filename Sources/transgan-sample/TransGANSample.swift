// transgan-sample: images from a TransGAN checkpoint (EMA weights by default): a grid PNG, individual PNGs
// (--count N --out-dir D) and a latent-interpolation animation (GIF or APNG by extension).
import ArgumentParser
import CommandLineSupport
import Atelier
import AtelierMedia
import Foundation
import TransGAN

@main
struct TransGANSample: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "transgan-sample", abstract: "Sample images from a TransGAN checkpoint.")

    @Option(help: "Checkpoint (training checkpoint or generator snapshot).") var checkpoint: String
    @Option(help: "Grid PNG to write.") var grid: String?
    @Option(help: "Images in the grid (1…4096; the grid PNG is at most 16384 pixels a side and 100 Mpx).") var gridCount = 64
    @Option(help: "Grid columns (1…4096).") var columns = 8
    @Option(help: "Nearest-neighbour upscaling of each image (1…16).") var scale = 2
    @Option(help: "Write this many individual PNGs to --out-dir (0…1000000; generated 64 at a time).") var count = 0
    @Option(help: "Directory for individual PNGs.") var outDir: String?
    @Option(help: "Latent-interpolation animation (.gif or .png for APNG).") var animation: String?
    @Option(help: "Key latents in the animation; it loops back to the first (2…64).") var keyframes = 4
    @Option(help: "Frames between key latents (1…240; keyframes × frames at most 1024, all held in memory).") var framesPerKey = 12
    @Option(help: "Random seed for the latents.") var seed: UInt64 = 0
    @Flag(help: "Use the raw generator instead of the EMA weights.") var raw = false
    @Option(help: "Worker threads (1…1024; default: ATELIER_THREADS or all cores).") var threads: Int?

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "\(configuration.commandName ?? "transgan-sample"): ") }

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set
        do { try sample() } catch let e as ExitCode { throw e } catch {
            FileHandle.standardError.write(Data("transgan-sample: error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    func sample() throws {
        if let threads { Threading.setCount(try Threading.validatedCount(threads)) }
        var limits = SamplingOptions()
        limits.gridCount = gridCount; limits.columns = columns; limits.scale = scale; limits.count = count
        limits.keyframes = keyframes; limits.framesPerKey = framesPerKey
        try limits.validate()
        guard grid != nil || count > 0 || animation != nil else {
            throw TrainingError.badOption("nothing to do: pass --grid FILE, --count N --out-dir DIR, or --animation FILE")
        }
        for path in [grid, animation].compactMap({ $0 }) {
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: checkpoint))
        let (config, gen, ema) = try Trainer.loadGenerators(from: file)
        if grid != nil { try limits.validateGrid(imageSize: config.imageSize) }
        if count > 0 && outDir == nil { throw TrainingError.badOption("--count needs --out-dir") }
        let g = raw ? gen : ema
        let rng = RandomGenerator(seed: seed)
        func generate(_ z: Tensor) -> Tensor {
            // In chunks, to bound memory.
            var parts: [Tensor] = []
            for start in stride(from: 0, to: z.shape[0], by: 64) {
                parts.append(g(z.sliced(axis: 0, start, min(start + 64, z.shape[0]))).materialized())
            }
            return Tensor.concat(parts, axis: 0)
        }
        if let grid {
            let z = Tensor.normal([gridCount, config.latentDim], rng: rng)
            try sampleGrid(generate(z), columns: columns, scale: scale).writePNG(to: URL(fileURLWithPath: grid))
            print("wrote \(grid)")
        }
        if count > 0 {
            guard let outDir else { throw TrainingError.badOption("--count needs --out-dir") }
            let dir = URL(fileURLWithPath: outDir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            // 64 at a time: memory stays that of one chunk for any --count.
            for start in stride(from: 0, to: count, by: 64) {
                let n = min(64, count - start)
                for (i, image) in rasterImages(generate(Tensor.normal([n, config.latentDim], rng: rng))).enumerated() {
                    try image.writePNG(to: dir.appendingPathComponent("sample_" + String(format: "%05d", start + i) + ".png"))
                }
            }
            print("wrote \(count) images to \(outDir)")
        }
        if let animation {
            let keys = Tensor.normal([keyframes, config.latentDim], rng: rng).doubles()
            let d = config.latentDim
            var zs: [Double] = []
            for k in 0..<keyframes {
                let a = Array(keys[(k * d)..<((k + 1) * d)]), b = Array(keys[(((k + 1) % keyframes) * d)..<(((k + 1) % keyframes + 1) * d)])
                for f in 0..<framesPerKey {
                    // Spherical interpolation keeps the latent norm typical of N(0, I).
                    zs += slerp(a, b, Double(f) / Double(framesPerKey))
                }
            }
            let n = keyframes * framesPerKey
            let frames = rasterImages(generate(Tensor(shape: [n, d], values: zs))).map {
                $0.resized(width: $0.width * 4, height: $0.height * 4, filter: .nearest)
            }
            let anim = Animation(frames: frames, frameDuration: 0.08)
            let url = URL(fileURLWithPath: animation)
            if url.pathExtension.lowercased() == "png" || url.pathExtension.lowercased() == "apng" { try anim.writeAPNG(to: url) }
            else { try anim.writeGIF(to: url) }
            print("wrote \(animation) (\(n) frames)")
        }
    }
}

func slerp(_ a: [Double], _ b: [Double], _ t: Double) -> [Double] {
    let na = a.reduce(0) { $0 + $1 * $1 }.squareRoot(), nb = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
    var cosine = zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } / max(na * nb, 1e-12)
    cosine = min(1, max(-1, cosine))
    let omega = acos(cosine)
    if omega < 1e-6 { return zip(a, b).map { $0 + t * ($1 - $0) } }
    let s = sin(omega)
    let wa = sin((1 - t) * omega) / s, wb = sin(t * omega) / s
    return zip(a, b).map { wa * $0 + wb * $1 }
}
