// Fashion-MNIST from its four gzip-compressed IDX files (Debian's dataset-fashion-mnist installs them under
// /usr/share/datasets/fashion-mnist): 60 000 training and 10 000 test images, 28×28 gray, labels 0…9.
import Foundation

extension ImageDataset {
    /// Where Debian's `dataset-fashion-mnist` package puts the files.
    public static let fashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    /// Fashion-MNIST's class names, indexed by label.
    public static let fashionMNISTClassNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    /// Loads a Fashion-MNIST split (or MNIST, which uses the same file names and format).
    ///
    /// Reads `train-images-idx3-ubyte.gz` + `train-labels-idx1-ubyte.gz` (or `t10k-…` for `.test`); the
    /// uncompressed names without `.gz` work too.
    /// - Parameters:
    ///   - split: training (60 000 images) or test (10 000).
    ///   - directory: the folder holding the files.
    ///   - padTo32: centre the images in 32×32 with background (−1) borders (2 pixels per side for 28×28), for
    ///     architectures that halve the resolution several times.
    /// - Returns: N×1×28×28 (or N×1×32×32) pixels in [-1, 1] and labels in 0…9.
    /// - Throws: ``DatasetError`` naming the file: missing, wrong magic, truncated, or mismatched counts.
    /// Largest image side and image count accepted from an IDX header.
    public static let maximumIDXSide = 256
    public static let maximumIDXCount = 1_000_000

    public static func fashionMNIST(split: DatasetSplit = .train, directory: URL = fashionMNISTDirectory,
                                    padTo32: Bool = false) throws(DatasetError) -> ImageDataset {
        guard FileManager.default.fileExists(atPath: directory.path) else { throw .missingDirectory(path: directory.path) }
        let prefix = split == .train ? "train" : "t10k"
        let imagesURL = locate(directory, "\(prefix)-images-idx3-ubyte")
        let labelsURL = locate(directory, "\(prefix)-labels-idx1-ubyte")

        let images = try IDXFile(GzipFile.read(imagesURL), rank: 3, path: imagesURL.path)
        let labels = try IDXFile(GzipFile.read(labelsURL), rank: 1, path: labelsURL.path)
        let count = images.dimensions[0], height = images.dimensions[1], width = images.dimensions[2]
        // The header is trusted for nothing: Fashion-MNIST holds 28×28 images, and a header claiming 40 M-pixel
        // rows or 10 M empty images would otherwise size a multi-gigabyte padded array.
        guard (1...Self.maximumIDXSide).contains(height), (1...Self.maximumIDXSide).contains(width),
              (1...Self.maximumIDXCount).contains(count) else {
            throw .invalidHeader(path: imagesURL.path, reason: "\(count) images of \(height)×\(width); expected 1…\(Self.maximumIDXCount) "
                                 + "images of at most \(Self.maximumIDXSide)×\(Self.maximumIDXSide) (Fashion-MNIST is 28×28)")
        }
        guard labels.dimensions[0] == count else {
            throw .countMismatch(imagesPath: imagesURL.path, images: count, labelsPath: labelsURL.path, labels: labels.dimensions[0])
        }
        let labelValues = labels.bytes.map(Int.init)
        if let bad = labelValues.firstIndex(where: { $0 >= 10 }) {
            throw .invalidLabel(path: labelsURL.path, index: bad, label: labelValues[bad], classCount: 10)
        }

        // Centre in 32×32 with background (−1) borders; images already 32 or larger are left as they are.
        let padTop = padTo32 ? max(0, (32 - height) / 2) : 0, padLeft = padTo32 ? max(0, (32 - width) / 2) : 0
        let outHeight = padTo32 ? max(32, height) : height, outWidth = padTo32 ? max(32, width) : width
        var pixels = [Float](repeating: -1, count: count * outHeight * outWidth)
        pixels.withUnsafeMutableBufferPointer { out in
            images.bytes.withUnsafeBufferPointer { src in
                for n in 0..<count {
                    for y in 0..<height {
                        let source = (n * height + y) * width
                        let target = (n * outHeight + y + padTop) * outWidth + padLeft
                        for x in 0..<width { out[target + x] = scale(src[source + x]) }
                    }
                }
            }
        }
        return ImageDataset(channels: 1, height: outHeight, width: outWidth, pixels: pixels, labels: labelValues,
                            classNames: fashionMNISTClassNames)
    }

    /// `name.gz` if present, else the uncompressed `name`, else `name.gz` (so the error names the usual file).
    private static func locate(_ directory: URL, _ name: String) -> URL {
        let compressed = directory.appendingPathComponent(name + ".gz")
        let plain = directory.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: compressed.path) && FileManager.default.fileExists(atPath: plain.path) {
            return plain
        }
        return compressed
    }
}
