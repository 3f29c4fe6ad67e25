// The image, idx and cifar fuzz corpora replayed by `swift test`. Building the fuzz targets (scripts/fuzz.sh) takes
// longer than CI allows, so the loaders get every known-bad input under Fuzz/regressions/<target>/ here, each of
// which must come back as a typed error naming the file, and every seed under Fuzz/corpus/<target>/, each of which
// must load (a seed its loader refuses would start the fuzzer outside the format). The engine's checkpoint reader,
// TransGAN's and Paint Transformer's loaders replay theirs in their own test targets.
import Foundation
import Testing
@testable import AtelierMedia
import TestSupport

extension MediaTests {
@Suite("Media.FuzzCorpus")
struct FuzzCorpusTests {
    @Test func imageRegressionsAreRefusedAndSeedsDecode() throws {
        let bad = try FuzzInputs.files("regressions", "images")
        #expect(bad.count >= 13)
        for url in bad {
            #expect(throws: ImageError.self, "\(url.lastPathComponent)") { try RasterImage.load(from: url) }
        }
        for url in try FuzzInputs.files("corpus", "images") {
            #expect(throws: Never.self, "\(url.lastPathComponent)") { try RasterImage.load(from: url) }
        }
    }

    /// The idx target's input layout (see Fuzz/Sources/atelier-fuzz/FuzzTargets.swift): a flags byte, the labels
    /// file's length in 2 bytes, the labels file, then the images file; written as Fashion-MNIST's two files.
    static func loadIDXPair(_ url: URL) throws -> Result<ImageDataset, DatasetError> {
        let raw = [UInt8](try Data(contentsOf: url))
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let labelsLength = min(Int(raw[1]) | Int(raw[2]) << 8, raw.count - 3)
        try Data(raw[3..<(3 + labelsLength)]).write(to: scratch.file("train-labels-idx1-ubyte.gz"))
        try Data(raw[(3 + labelsLength)...]).write(to: scratch.file("train-images-idx3-ubyte.gz"))
        return Result { () throws(DatasetError) in try ImageDataset.fashionMNIST(directory: scratch.url, padTo32: raw[0] & 1 != 0) }
    }

    @Test func idxRegressionsAreRefusedAndSeedsLoad() throws {
        for url in try FuzzInputs.files("regressions", "idx") {
            guard case .failure = try Self.loadIDXPair(url) else { Issue.record("\(url.lastPathComponent) loaded"); continue }
        }
        let seeds = try FuzzInputs.files("corpus", "idx").map { try Self.loadIDXPair($0).get() }
        #expect(seeds.map(\.height) == [32, 4])  // gzip-padded.bin, plain.bin
    }

    @Test func cifarRegressionsAreRefusedAndSeedsLoad() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let batch = scratch.file("test_batch.bin")
        for url in try FuzzInputs.files("regressions", "cifar") {
            try Data(contentsOf: url).write(to: batch)
            #expect(throws: DatasetError.self, "\(url.lastPathComponent)") { try ImageDataset.cifar10(split: .test, directory: scratch.url) }
        }
        for url in try FuzzInputs.files("corpus", "cifar") {
            try Data(contentsOf: url).write(to: batch)
            #expect(try ImageDataset.cifar10(split: .test, directory: scratch.url).labels == [3, 9])
        }
    }
}
}
