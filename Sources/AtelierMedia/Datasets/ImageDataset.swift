// A labelled image dataset held in memory as one NCHW Float array scaled to [-1, 1] (the range GAN generators
// emit through tanh), independent of the tensor type; loaders live in FashionMNIST.swift, CIFAR10.swift and
// ImageFolder.swift.

/// Which part of a dataset to load.
public enum DatasetSplit: String, Sendable {
    case train, test
}

/// Images with integer labels, stored as `pixels [count, channels, height, width]` (NCHW) in [-1, 1].
///
/// A byte `b` maps to `b / 127.5 − 1`, so 0 → −1 and 255 → 1.
public struct ImageDataset: Sendable {
    /// Number of images, N.
    public let count: Int
    /// C: 1 (gray) or 3 (RGB).
    public let channels: Int
    /// H.
    public let height: Int
    /// W.
    public let width: Int
    /// `count × channels × height × width` values in [-1, 1], NCHW.
    public var pixels: [Float]
    /// One label per image, in `0..<classNames.count`.
    public var labels: [Int]
    /// Class names indexed by label.
    public var classNames: [String]

    /// Wraps NCHW pixels and labels.
    /// - Precondition: `pixels.count == labels.count × channels × height × width`.
    public init(channels: Int, height: Int, width: Int, pixels: [Float], labels: [Int], classNames: [String]) {
        precondition(pixels.count == labels.count * channels * height * width,
                     "[ImageDataset] \(pixels.count) values for \(labels.count) images of [\(channels), \(height), \(width)]")
        self.count = labels.count
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// Values per image, C·H·W.
    public var imageSize: Int { channels * height * width }

    /// Image `index` as CHW values in [-1, 1].
    public func image(at index: Int) -> ArraySlice<Float> {
        pixels[(index * imageSize)..<((index + 1) * imageSize)]
    }

    /// The images at `indices` gathered into one NCHW array (a mini-batch), with their labels.
    public func batch(_ indices: [Int]) -> (pixels: [Float], labels: [Int]) {
        var out = [Float]()
        out.reserveCapacity(indices.count * imageSize)
        for index in indices { out.append(contentsOf: image(at: index)) }
        return (out, indices.map { labels[$0] })
    }

    /// Image `index` as an 8-bit image, for looking at samples.
    public func rasterImage(at index: Int) -> RasterImage {
        RasterImage(planar: image(at: index).map { ($0 + 1) / 2 }, channels: channels, height: height, width: width)
    }

    /// Scales bytes to [-1, 1].
    @inline(__always)
    static func scale(_ byte: UInt8) -> Float {
        Float(byte) / 127.5 - 1
    }
}
