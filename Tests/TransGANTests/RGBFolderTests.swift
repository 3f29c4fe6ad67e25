// RGB `folder:` data at 32×32 and 64×64, as the README's RGB recipe trains: a small set made here (two class
// folders of coloured shapes on coloured grounds, mixed sizes and aspect ratios so loading crops and resizes),
// loaded with its colours in the right channels, and short runs of `micro` at 32×32 and `grid64` (16×16 window
// attention at 64×64) that move, sample RGB images and resume bit-identically from a checkpoint.
import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import TransGAN
import TestSupport

extension TransGANTests {
@Suite struct RGBFolderTests {
    /// Pixel colours of the set: a pure red image first (class folder "a-flat"), then shapes.
    static let red: [UInt8] = [255, 0, 0]

    /// Writes the set under a fresh temporary folder; returns it and the image count.
    static func makeFolder() throws -> (ScratchDirectory, Int) {
        let root = try ScratchDirectory("transgan-rgb")
        let flat = root.file("a-flat"), shapes = root.file("b-shapes")
        try FileManager.default.createDirectory(at: flat, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: shapes, withIntermediateDirectories: true)
        try RasterImage(width: 40, height: 30, channels: 3, pixels: Array(repeating: red, count: 40 * 30).flatMap { $0 })
            .writePNG(to: flat.appendingPathComponent("red.png"))
        let sizes = [(48, 40), (70, 70), (64, 64), (96, 80), (33, 57), (80, 64), (64, 48), (100, 100)]
        for (i, (w, h)) in sizes.enumerated() {
            var pixels = [UInt8](repeating: 0, count: w * h * 3)
            let ground: [UInt8] = [20, UInt8(40 + 20 * i), 120], paint: [UInt8] = [UInt8(200 - 15 * i), 180, UInt8(30 * i)]
            for y in 0..<h {
                for x in 0..<w {
                    let dx = Double(x - w / 2) / Double(w), dy = Double(y - h / 2) / Double(h)
                    let inside = i % 2 == 0 ? dx * dx + dy * dy < 0.08 : max(abs(dx), abs(dy)) < 0.25
                    for c in 0..<3 { pixels[(y * w + x) * 3 + c] = inside ? paint[c] : ground[c] }
                }
            }
            try RasterImage(width: w, height: h, channels: 3, pixels: pixels)
                .writePNG(to: shapes.appendingPathComponent("shape\(i).png"))
        }
        return (root, sizes.count + 1)
    }

    func trainer(_ config: TransGANConfiguration, data: ImageDataset, seed: UInt64) throws -> Trainer {
        var options = TrainingOptions()
        options.batch = 4
        options.gBatch = 4
        options.nCritic = 1
        options.seed = seed
        options.emaKimg = 1
        return try Trainer(config: config, options: options, data: data)
    }

    @Test(arguments: [("micro", 32), ("grid64", 64)])
    func folderRunMovesSamplesRGBAndResumes(name: String, size: Int) throws {
        let (folder, count) = try Self.makeFolder()
        defer { folder.remove() }
        let root = folder.url
        let config = try #require(TransGANConfiguration.named.first { $0.name == name })
        #expect(config.imageSize == size && config.channels == 3)
        let source = try DataSource(parsing: "folder:\(root.path)")
        #expect(source.channels == 3)
        let data = try source.load(size: size, channels: 3)
        #expect(data.count == count && data.channels == 3 && data.height == size && data.width == size)
        // The red image keeps its colour in the right channels, in [−1, 1].
        let plane = size * size
        let red = (0..<data.count).first { n in
            let first = data.pixels[(n * 3 * plane)..<((n * 3 + 1) * plane)]
            return first.allSatisfy { $0 > 0.99 }
        }
        let r = try #require(red, "no image is all red in channel 0")
        for c in 1..<3 { #expect(data.pixels[((r * 3 + c) * plane)..<((r * 3 + c + 1) * plane)].allSatisfy { $0 < -0.99 }) }
        #expect(data.pixels.allSatisfy { $0 >= -1 && $0 <= 1 })

        let a = try trainer(config, data: data, seed: 5)
        var first: [StepStatistics] = []
        for _ in 0..<3 { first.append(try a.trainStep()) }
        #expect(Set(first.map(\.dLoss)).count == 3, "D losses should move: \(first.map(\.dLoss))")
        #expect(first.allSatisfy { $0.dLoss.isFinite && ($0.gLoss?.isFinite ?? false) && $0.gradientPenalty > 0 })
        let z = Tensor.normal([2, config.latentDim], rng: RandomGenerator(seed: 9))
        let images = a.sample(z: z)
        #expect(images.shape == [2, 3, size, size])
        let values = images.floats()
        #expect(values.allSatisfy { $0.isFinite })
        // Three channels that differ: an RGB generator, not one grey plane repeated.
        #expect(values[0..<plane] != values[plane..<(2 * plane)])

        let url = root.appendingPathComponent("checkpoint.safetensors")
        try a.saveCheckpoint(to: url)
        var continued: [StepStatistics] = []
        for _ in 0..<2 { continued.append(try a.trainStep()) }
        let b = try trainer(config, data: data, seed: 77)
        try b.restore(from: SafeTensorsFile.read(from: url))
        var resumed: [StepStatistics] = []
        for _ in 0..<2 { resumed.append(try b.trainStep()) }
        #expect(resumed == continued)
    }
}
}
