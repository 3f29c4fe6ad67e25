// What one input exercises, per loader: the same calls the tools make on a user's file.
import Atelier
import AtelierMedia
@testable import PaintTransformer
import Foundation
import TransGAN

enum FuzzTargets {
    /// RasterImage.decode on the bytes (PNG, JPEG, GIF, BMP by signature). A small decoded image must also survive
    /// a PNG round trip and every channel conversion: a decoder that returns an inconsistent image fails here.
    @Sendable static func images(_ bytes: Data) {
        guard let image = try? RasterImage.decode(bytes, source: "fuzz") else { return }
        guard image.width * image.height <= 1 << 16 else { return }
        for channels in [1, 3, 4] { _ = image.converted(channels: channels) }
        guard let png = try? image.pngData(), let again = try? RasterImage.decode(png, source: "fuzz-png"), again == image else {
            fatalError("a \(image.width)×\(image.height)×\(image.channels) image does not survive a PNG round trip")
        }
    }

    /// A safetensors file, then what resuming and sampling validate in it: every entry's values, TransGAN's stored
    /// configuration, options and step (train-transgan --resume, transgan-sample), and Paint Transformer's trainer
    /// resume and weight loading, which take a path. Building a TransGAN generator is left out: a valid stored `xl`
    /// configuration would allocate 83 M parameters per input.
    @Sendable static func checkpoints(_ bytes: Data) {
        guard let file = try? SafeTensorsFile.decode(bytes, source: "fuzz.safetensors") else { return }
        for entry in file.tensors.values { _ = entry.doubles(); _ = entry.integers() }
        if let config = try? file.transGANConfiguration() { _ = try? file.transGANOptions(for: config) }
        _ = try? file.transGANStep()
        _ = try? file.requireFiniteTensors()
        _ = try? TrainingFlags().resumedRun(from: file)
        let url = ScratchFiles.write(bytes, name: "checkpoint.safetensors")
        _ = try? PaintTransformerTrainer.resume(from: url)
        _ = try? PaintTransformerModel.load(from: url)
    }

    /// Fashion-MNIST's pair of IDX files, gzip-compressed or not: byte 0 bit 0 asks for 32×32 padding, bytes 1–2
    /// (little-endian) give the labels file's length, the labels file follows, the rest is the images file.
    @Sendable static func idx(_ bytes: Data) {
        let raw = [UInt8](bytes)
        guard raw.count >= 3 else { return }
        let labelsLength = min(Int(raw[1]) | Int(raw[2]) << 8, raw.count - 3)
        ScratchFiles.write(Data(raw[3..<(3 + labelsLength)]), name: "train-labels-idx1-ubyte.gz")
        ScratchFiles.write(Data(raw[(3 + labelsLength)...]), name: "train-images-idx3-ubyte.gz")
        _ = try? ImageDataset.fashionMNIST(split: .train, directory: ScratchFiles.directory, padTo32: raw[0] & 1 != 0)
    }

    /// A CIFAR-10 binary batch (test_batch.bin).
    @Sendable static func cifar(_ bytes: Data) {
        ScratchFiles.write(bytes, name: "test_batch.bin")
        _ = try? ImageDataset.cifar10(split: .test, directory: ScratchFiles.directory)
    }

    /// A user's brush image, as `paint --brush` loads it.
    @Sendable static func brushes(_ bytes: Data) {
        _ = try? PaintJob.loadBrush(ScratchFiles.write(bytes, name: "brush.png"))
    }
}
