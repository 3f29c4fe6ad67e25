// Training data for TransGAN (`--data`): Fashion-MNIST (padded to 32×32), CIFAR-10 binary batches, a folder
// of images, or procedural `synthetic` images for tests; and helpers turning generator output into images.
import Foundation
import Atelier
import AtelierMedia

/// Where training images come from.
public enum DataSource: Sendable, Equatable {
    case fashionMNIST(directory: String?)
    case cifar10(path: String)
    case folder(path: String)
    case synthetic(count: Int)

    /// Parses `fashion-mnist`, `cifar10:PATH`, `folder:PATH` or `synthetic`.
    public init(parsing spec: String, dataDir: String? = nil) throws {
        if spec == "fashion-mnist" { self = .fashionMNIST(directory: dataDir); return }
        if spec == "synthetic" { self = .synthetic(count: 512); return }
        if spec.hasPrefix("cifar10:") { self = .cifar10(path: String(spec.dropFirst(8))); return }
        if spec == "cifar10", let d = dataDir { self = .cifar10(path: d); return }
        if spec.hasPrefix("folder:") { self = .folder(path: String(spec.dropFirst(7))); return }
        throw TrainingError.unknownValue(flag: "--data", value: spec, known: ["fashion-mnist", "cifar10:PATH", "folder:PATH", "synthetic"])
    }

    /// Image channels this source yields.
    public var channels: Int {
        switch self {
        case .fashionMNIST: return 1
        case .cifar10, .folder, .synthetic: return 3
        }
    }

    /// Loads the images as `[N, C, size, size]` in [−1, 1].
    public func load(size: Int, channels: Int, split: DatasetSplit = .train, seed: UInt64 = 7) throws -> ImageDataset {
        switch self {
        case .fashionMNIST(let dir):
            let directory = dir.map { URL(fileURLWithPath: $0) } ?? ImageDataset.fashionMNISTDirectory
            let d = try ImageDataset.fashionMNIST(split: split, directory: directory, padTo32: size == 32)
            guard d.height == size else { throw TrainingError.badOption("Fashion-MNIST is 28×28 (32×32 padded); this configuration needs \(size)×\(size)") }
            return d
        case .cifar10(let path):
            let d = try ImageDataset.cifar10(split: split, directory: URL(fileURLWithPath: path))
            guard d.height == size else { throw TrainingError.badOption("CIFAR-10 is 32×32; this configuration needs \(size)×\(size)") }
            return d
        case .folder(let path):
            return try ImageDataset.imageFolder(URL(fileURLWithPath: path), width: size, height: size, grayscale: channels == 1)
        case .synthetic(let count):
            return Self.synthetic(count: count, channels: channels, size: size, seed: seed)
        }
    }

    /// Procedural images: a bright disc or square of random size, position and colour on a dark background.
    public static func synthetic(count: Int, channels: Int, size: Int, seed: UInt64) -> ImageDataset {
        let g = RandomGenerator(seed: seed)
        var pixels = [Float](repeating: -1, count: count * channels * size * size)
        var labels = [Int]()
        for n in 0..<count {
            let square = g.nextUniform() < 0.5
            let r = Double(size) * (0.15 + 0.2 * g.nextUniform())
            let cy = Double(size) * (0.3 + 0.4 * g.nextUniform()), cx = Double(size) * (0.3 + 0.4 * g.nextUniform())
            let colour = (0..<channels).map { _ in Float(0.2 + 0.8 * g.nextUniform()) }
            for y in 0..<size {
                for x in 0..<size {
                    let dy = Double(y) + 0.5 - cy, dx = Double(x) + 0.5 - cx
                    let inside = square ? (Swift.abs(dy) < r && Swift.abs(dx) < r) : (dy * dy + dx * dx < r * r)
                    guard inside else { continue }
                    for c in 0..<channels { pixels[((n * channels + c) * size + y) * size + x] = colour[c] }
                }
            }
            labels.append(square ? 1 : 0)
        }
        return ImageDataset(channels: channels, height: size, width: size, pixels: pixels, labels: labels, classNames: ["disc", "square"])
    }
}

/// Generator output `[N, C, S, S]` (nominally [−1, 1]) as 8-bit images: x·127.5 + 127.5, clamped.
public func rasterImages(_ images: Tensor) -> [RasterImage] {
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let v = images.floats()
    return (0..<n).map { i in
        let planar = v[(i * c * h * w)..<((i + 1) * c * h * w)].map { Swift.min(1, Swift.max(0, ($0 + 1) / 2)) }
        return RasterImage(planar: Array(planar), channels: c, height: h, width: w)
    }
}

/// A grid PNG-ready image of generator output, `columns` per row, scaled up by `scale` (nearest).
public func sampleGrid(_ images: Tensor, columns: Int, scale: Int = 2) -> RasterImage {
    let imgs = rasterImages(images).map { scale > 1 ? $0.resized(width: $0.width * scale, height: $0.height * scale, filter: .nearest) : $0 }
    return RasterImage.grid(imgs, columns: columns, padding: 2, background: 32)
}
