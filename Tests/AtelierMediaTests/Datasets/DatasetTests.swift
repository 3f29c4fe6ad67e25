// ImageDataset loaders: IDX.gz and CIFAR-10 files written in a scratch directory, folders of images, their
// errors, and the real Fashion-MNIST files when installed.
import CMedia
import Foundation
import Testing
@testable import AtelierMedia
import TestSupport

extension MediaTests {
@Suite("Media.Datasets")
struct DatasetTests {
    // MARK: - Writers for test files

    static func idx(rank: Int, dimensions: [Int], payload: [UInt8], magic: UInt32? = nil) -> [UInt8] {
        var out = [UInt8]()
        for value in [magic ?? (0x0800 | UInt32(rank))] + dimensions.map(UInt32.init) {
            withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
        }
        return out + payload
    }

    /// Writes `bytes` gzip-compressed with zlib.
    static func writeGzip(_ bytes: [UInt8], to url: URL) throws {
        let file = try #require(gzopen(url.path, "wb"))
        let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
        #expect(gzclose(file) == Z_OK)
        try #require(Int(written) == bytes.count)
    }

    /// Fashion-MNIST-style files for `split` with `count` images of `height × width`; image n has pixel value
    /// `(n * 10 + y * width + x) % 256`, label `labels[n]`.
    static func writeIDXPair(in directory: URL, split: String = "train", count: Int, height: Int, width: Int, labels: [UInt8]) throws {
        let pixels = (0..<(count * height * width)).map { i -> UInt8 in
            let n = i / (height * width), p = i % (height * width)
            return UInt8((n * 10 + p) % 256)
        }
        try writeGzip(idx(rank: 3, dimensions: [count, height, width], payload: pixels),
                      to: directory.appendingPathComponent("\(split)-images-idx3-ubyte.gz"))
        try writeGzip(idx(rank: 1, dimensions: [labels.count], payload: labels),
                      to: directory.appendingPathComponent("\(split)-labels-idx1-ubyte.gz"))
    }

    /// Expects `body` to throw a DatasetError whose message names `path`.
    static func expectError(naming path: String, _ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> DatasetError? {
        do {
            try body()
            Issue.record("expected a DatasetError naming \(path)", sourceLocation: sourceLocation)
            return nil
        } catch let error as DatasetError {
            #expect(error.description.contains(path), "\(error)", sourceLocation: sourceLocation)
            return error
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    // MARK: - IDX / Fashion-MNIST

    @Test func readsIDXGzipAndScalesToMinusOneOne() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.writeIDXPair(in: scratch.url, count: 3, height: 4, width: 5, labels: [0, 9, 3])
        let data = try ImageDataset.fashionMNIST(split: .train, directory: scratch.url)
        #expect(data.count == 3 && data.channels == 1 && data.height == 4 && data.width == 5)
        #expect(data.labels == [0, 9, 3])
        #expect(data.pixels.count == 3 * 20)
        #expect(data.image(at: 1).first == Float(10) / 127.5 - 1)
        #expect(data.pixels[0] == -1)
        #expect(data.classNames[9] == "Ankle boot")
        let batch = data.batch([2, 0])
        #expect(batch.labels == [3, 0] && Array(batch.pixels[20..<40]) == Array(data.image(at: 0)))
        #expect(data.rasterImage(at: 1)[0, 0, 0] == 10)
    }

    @Test func padTo32CentresTheImages() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Self.writeIDXPair(in: scratch.url, split: "t10k", count: 2, height: 28, width: 28, labels: [1, 2])
        let data = try ImageDataset.fashionMNIST(split: .test, directory: scratch.url, padTo32: true)
        #expect(data.height == 32 && data.width == 32)
        let second = Array(data.image(at: 1))
        #expect(second[0] == -1 && second[2 * 32 + 1] == -1)
        #expect(second[2 * 32 + 2] == Float(10) / 127.5 - 1)  // first real pixel of image 1
        #expect(second[29 * 32 + 29] == Float((10 + 27 * 28 + 27) % 256) / 127.5 - 1)
        #expect(second[30 * 32 + 30] == -1)
    }

    @Test func readsUncompressedIDX() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try Data(Self.idx(rank: 3, dimensions: [1, 2, 2], payload: [0, 255, 0, 255])).write(to: scratch.file("train-images-idx3-ubyte"))
        try Data(Self.idx(rank: 1, dimensions: [1], payload: [7])).write(to: scratch.file("train-labels-idx1-ubyte"))
        let data = try ImageDataset.fashionMNIST(directory: scratch.url)
        #expect(data.pixels == [-1, 1, -1, 1] && data.labels == [7])
    }

    /// Issue 11: headers claiming huge or empty images are refused before any array is sized, and a FIFO named
    /// like a Fashion-MNIST file is refused instead of blocking.
    @Test func idxHeadersAreBoundedAndFIFOsRefused() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let images = scratch.file("train-images-idx3-ubyte.gz")
        try Self.writeGzip(Self.idx(rank: 1, dimensions: [1], payload: [0]), to: scratch.file("train-labels-idx1-ubyte.gz"))
        for dimensions in [[1, 1, 40_000_000], [10_000_000, 0, 0], [2_000_000, 1, 1]] {
            let payload = [UInt8](repeating: 0, count: dimensions.reduce(1, *))
            try Self.writeGzip(Self.idx(rank: 3, dimensions: dimensions, payload: payload), to: images)
            let error = Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url, padTo32: true) }
            guard case .invalidHeader = error else { Issue.record("\(dimensions): \(String(describing: error))"); continue }
        }
        try FileManager.default.removeItem(at: images)
        try #require(mkfifo(images.path, 0o644) == 0)
        let error = Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
        #expect(error.map { "\($0)".contains("FIFO") } == true, "\(String(describing: error))")
    }

    @Test func idxErrorsNameTheFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let images = scratch.file("train-images-idx3-ubyte.gz"), labels = scratch.file("train-labels-idx1-ubyte.gz")

        let missingDirectory = scratch.file("nowhere")
        #expect(Self.expectError(naming: missingDirectory.path) { _ = try ImageDataset.fashionMNIST(directory: missingDirectory) }
            == .missingDirectory(path: missingDirectory.path))
        #expect(Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
            == .missingFile(path: images.path))

        // Labels where images belong: wrong magic.
        try Self.writeGzip(Self.idx(rank: 1, dimensions: [2], payload: [1, 2]), to: images)
        try Self.writeGzip(Self.idx(rank: 1, dimensions: [2], payload: [1, 2]), to: labels)
        #expect(Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
            == .wrongMagic(path: images.path, expected: 0x803, found: 0x801))

        // Header promises 2 images of 3×3, payload holds 10 bytes.
        try Self.writeGzip(Self.idx(rank: 3, dimensions: [2, 3, 3], payload: Array(repeating: 1, count: 10)), to: images)
        #expect(Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
            == .truncated(path: images.path, expectedBytes: 16 + 18, foundBytes: 16 + 10))

        // Counts disagree, then a label out of range.
        try Self.writeGzip(Self.idx(rank: 3, dimensions: [3, 1, 1], payload: [1, 2, 3]), to: images)
        #expect(Self.expectError(naming: labels.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
            == .countMismatch(imagesPath: images.path, images: 3, labelsPath: labels.path, labels: 2))
        try Self.writeGzip(Self.idx(rank: 1, dimensions: [3], payload: [1, 10, 2]), to: labels)
        #expect(Self.expectError(naming: labels.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
            == .invalidLabel(path: labels.path, index: 1, label: 10, classCount: 10))

        // A gzip stream cut in half: zlib reports it, the loader names the file.
        try Self.writeGzip(Self.idx(rank: 3, dimensions: [3, 30, 30], payload: (0..<2700).map { UInt8(truncatingIfNeeded: $0 &* 7919) }), to: images)
        let compressed = try Data(contentsOf: images)
        try compressed.prefix(compressed.count / 2).write(to: images)
        let cut = Self.expectError(naming: images.path) { _ = try ImageDataset.fashionMNIST(directory: scratch.url) }
        if case .unreadable = cut {} else if case .truncated = cut {} else { Issue.record("cut gzip gave \(String(describing: cut))") }
    }

    static let fashionMNISTInstalled = FileManager.default.fileExists(
        atPath: ImageDataset.fashionMNISTDirectory.appendingPathComponent("train-images-idx3-ubyte.gz").path)

    @Test(.enabled(if: fashionMNISTInstalled, "needs Debian's dataset-fashion-mnist"))
    func realFashionMNIST() throws {
        let clock = ContinuousClock()
        let start = clock.now
        let train = try ImageDataset.fashionMNIST(split: .train)
        print("Fashion-MNIST train loaded in \(clock.now - start)")
        #expect(train.count == 60_000 && train.channels == 1 && train.height == 28 && train.width == 28)
        #expect(train.pixels.count == 60_000 * 784)
        #expect(train.labels.allSatisfy { (0...9).contains($0) })
        // The training set is balanced: 6000 per class.
        #expect(Dictionary(grouping: train.labels, by: { $0 }).mapValues(\.count) == Dictionary(uniqueKeysWithValues: (0...9).map { ($0, 6000) }))
        let firstImages = train.pixels.prefix(1000 * 784)  // the test target is unoptimised: keep scans short
        #expect(firstImages.min() == -1 && firstImages.max() == 1)
        let test = try ImageDataset.fashionMNIST(split: .test, padTo32: true)
        #expect(test.count == 10_000 && test.height == 32 && test.width == 32)
    }

    // MARK: - CIFAR-10

    /// A CIFAR record: label, then R, G, B planes; channel c of pixel p holds (seed + c * 50 + p) % 256.
    static func cifarRecord(label: UInt8, seed: Int) -> [UInt8] {
        [label] + (0..<3072).map { i in UInt8((seed + (i / 1024) * 50 + i % 1024) % 256) }
    }

    @Test func readsCIFARBatches() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let folder = scratch.file("cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for batch in 1...5 {
            let records = Self.cifarRecord(label: UInt8(batch), seed: batch) + Self.cifarRecord(label: 0, seed: 100 + batch)
            try Data(records).write(to: folder.appendingPathComponent("data_batch_\(batch).bin"))
        }
        try Data(Self.cifarRecord(label: 9, seed: 7)).write(to: folder.appendingPathComponent("test_batch.bin"))

        let train = try ImageDataset.cifar10(split: .train, directory: scratch.url)  // finds the nested folder
        #expect(train.count == 10 && train.channels == 3 && train.height == 32 && train.width == 32)
        #expect(train.labels == [1, 0, 2, 0, 3, 0, 4, 0, 5, 0])
        let third = Array(train.image(at: 2))  // batch 2, first record, seed 2
        #expect(third[0] == Float(2) / 127.5 - 1)           // R plane, pixel 0
        #expect(third[1024 + 5] == Float(57) / 127.5 - 1)   // G plane, pixel 5
        #expect(third[2048 + 1023] == Float((2 + 100 + 1023) % 256) / 127.5 - 1)  // B plane, last pixel
        let test = try ImageDataset.cifar10(split: .test, directory: folder)
        #expect(test.count == 1 && test.labels == [9] && test.classNames[9] == "truck")
    }

    @Test func cifarErrorsNameTheFile() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let testFile = scratch.file("test_batch.bin")
        #expect(Self.expectError(naming: testFile.path) { _ = try ImageDataset.cifar10(split: .test, directory: scratch.url) }
            == .missingFile(path: testFile.path))
        try Data(Self.cifarRecord(label: 1, seed: 0) + Array(repeating: 0, count: 100)).write(to: testFile)
        #expect(Self.expectError(naming: testFile.path) { _ = try ImageDataset.cifar10(split: .test, directory: scratch.url) }
            == .truncated(path: testFile.path, expectedBytes: 2 * 3073, foundBytes: 3073 + 100))
        try Data(Self.cifarRecord(label: 1, seed: 0) + Self.cifarRecord(label: 12, seed: 0)).write(to: testFile)
        #expect(Self.expectError(naming: testFile.path) { _ = try ImageDataset.cifar10(split: .test, directory: scratch.url) }
            == .invalidLabel(path: testFile.path, index: 1, label: 12, classCount: 10))
        try Data().write(to: testFile)
        #expect(Self.expectError(naming: testFile.path) { _ = try ImageDataset.cifar10(split: .test, directory: scratch.url) } != nil)
        let nowhere = scratch.file("nowhere")
        #expect(Self.expectError(naming: nowhere.path) { _ = try ImageDataset.cifar10(directory: nowhere) } == .missingDirectory(path: nowhere.path))
    }

    // MARK: - Image folders

    @Test func imageFolderWithClassSubfolders() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        for (name, value, size) in [("dogs", UInt8(200), (12, 6)), ("cats", UInt8(40), (3, 3))] {
            let folder = scratch.file(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for i in 0..<2 {
                try RasterImage(width: size.0, height: size.1, channels: 3, fill: value).writePNG(to: folder.appendingPathComponent("\(i).png"))
            }
            try Data("notes".utf8).write(to: folder.appendingPathComponent("README.txt"))  // not an image: skipped
        }
        try RasterImage(width: 2, height: 2, channels: 1).writePNG(to: scratch.file("top-level.png"))  // ignored

        let rgb = try ImageDataset.imageFolder(scratch.url, width: 8, height: 4)
        #expect(rgb.count == 4 && rgb.channels == 3 && rgb.height == 4 && rgb.width == 8)
        #expect(rgb.classNames == ["cats", "dogs"] && rgb.labels == [0, 0, 1, 1])
        #expect(rgb.image(at: 0).allSatisfy { $0 == Float(40) / 255 * 2 - 1 })
        #expect(rgb.image(at: 3).allSatisfy { $0 == Float(200) / 255 * 2 - 1 })

        let gray = try ImageDataset.imageFolder(scratch.url, width: 5, height: 5, grayscale: true, fit: .stretch)
        #expect(gray.channels == 1 && gray.pixels.count == 4 * 25)
    }

    @Test func flatImageFolderIsOneClass() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try RasterImage(width: 4, height: 4, channels: 1, fill: 255).writePNG(to: scratch.file("a.PNG"))
        try RasterImage(width: 4, height: 4, channels: 4, fill: 0).writePNG(to: scratch.file("b.png"))
        let data = try ImageDataset.imageFolder(scratch.url, width: 2, height: 2)
        #expect(data.count == 2 && data.labels == [0, 0] && data.classNames == [scratch.url.lastPathComponent])
        #expect(data.pixels == [Float](repeating: 1, count: 12) + [Float](repeating: -1, count: 12))
    }

    @Test func imageFolderErrorsNameThePath() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let missing = scratch.file("missing")
        #expect(Self.expectError(naming: missing.path) { _ = try ImageDataset.imageFolder(missing, width: 2, height: 2) }
            == .missingDirectory(path: missing.path))
        #expect(Self.expectError(naming: scratch.url.path) { _ = try ImageDataset.imageFolder(scratch.url, width: 2, height: 2) }
            == .emptyFolder(path: scratch.url.path))
        try RasterImage(width: 4, height: 4, channels: 3).writePNG(to: scratch.file("good.png"))
        let broken = scratch.file("broken.jpg")
        try Data("definitely not a jpeg".utf8).write(to: broken)
        let error = Self.expectError(naming: broken.path) { _ = try ImageDataset.imageFolder(scratch.url, width: 2, height: 2) }
        if case .unreadableImage = error {} else { Issue.record("got \(String(describing: error))") }
    }
}
}
