// CIFAR-10's binary version: data_batch_1.bin … data_batch_5.bin (training, 50 000 images) and test_batch.bin
// (10 000). Each record is 1 label byte followed by 3072 bytes: the 32×32 red plane, then green, then blue,
// each row-major, which is already CHW.
import Atelier
import Foundation

extension ImageDataset {
    /// CIFAR-10's class names, indexed by label.
    public static let cifar10ClassNames = [
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
    ]

    /// Loads a CIFAR-10 split from the binary batches.
    /// - Parameters:
    ///   - split: training (`data_batch_1…5.bin`) or test (`test_batch.bin`).
    ///   - directory: the folder holding the `.bin` files, or its parent holding `cifar-10-batches-bin`.
    /// - Returns: N×3×32×32 pixels in [-1, 1] and labels in 0…9.
    /// - Throws: ``DatasetError`` naming the file: missing, truncated (size not a multiple of 3073), bad label.
    public static func cifar10(split: DatasetSplit = .train, directory: URL) throws(DatasetError) -> ImageDataset {
        var folder = directory
        let nested = directory.appendingPathComponent("cifar-10-batches-bin")
        if FileManager.default.fileExists(atPath: nested.path) { folder = nested }
        guard FileManager.default.fileExists(atPath: folder.path) else { throw .missingDirectory(path: directory.path) }
        let names = split == .train ? (1...5).map { "data_batch_\($0).bin" } : ["test_batch.bin"]

        let recordSize = 1 + 3 * 32 * 32
        var pixels = [Float]()
        var labels = [Int]()
        for name in names {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { throw .missingFile(path: url.path) }
            let bytes: Data
            do {
                bytes = try Data(readingFileAt: url)
            } catch {
                throw .unreadable(path: url.path, reason: error.reason)
            }
            guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
                let whole = max(1, (bytes.count + recordSize - 1) / recordSize)
                throw .truncated(path: url.path, expectedBytes: whole * recordSize, foundBytes: bytes.count)
            }
            let records = bytes.count / recordSize
            pixels.reserveCapacity(pixels.count + records * (recordSize - 1))
            // Returns the first bad record (label ≥ 10), checked before any of its pixels are used.
            let badRecord: (index: Int, label: Int)? = bytes.withUnsafeBytes { raw in
                let src = raw.bindMemory(to: UInt8.self)
                for r in 0..<records {
                    let label = Int(src[r * recordSize])
                    if label >= 10 { return (r, label) }
                    labels.append(label)
                    for i in 1..<recordSize { pixels.append(scale(src[r * recordSize + i])) }
                }
                return nil
            }
            if let badRecord { throw .invalidLabel(path: url.path, index: badRecord.index, label: badRecord.label, classCount: 10) }
        }
        return ImageDataset(channels: 3, height: 32, width: 32, pixels: pixels, labels: labels, classNames: cifar10ClassNames)
    }
}
