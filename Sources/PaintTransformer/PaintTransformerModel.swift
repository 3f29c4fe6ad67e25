import Foundation
import Atelier

// Trained weights as files: saving and loading a predictor (with clear errors for a file of another
// configuration), the model shipped inside the package, and the `StrokePredictor` closure the painter calls.

/// Why a model file could not be used.
public enum ModelError: Error, CustomStringConvertible {
    case noShippedModel
    case unreadable(CheckpointError)
    case wrongConfiguration(path: String, configuration: String, detail: String)
    /// A weight or buffer holds NaN or infinity (it would paint a black picture).
    case nonFiniteTensor(path: String, tensor: String)

    public var description: String {
        switch self {
        case .noShippedModel: "this build has no shipped model; pass --model PATH"
        case let .unreadable(e): e.description
        case let .wrongConfiguration(path, configuration, detail):
            "model \(path) does not fit the '\(configuration)' configuration (\(detail)); pass the matching --config"
        case let .nonFiniteTensor(path, tensor): "model \(path) cannot be used: tensor '\(tensor)' contains NaN or infinity"
        }
    }
}

public enum PaintTransformerModel {
    /// Resource name of the shipped weights (`Sources/PaintTransformer/Resources/<name>.safetensors`).
    public static let shippedName = "paint-transformer-small-proposals"

    /// The shipped weights, if this build carries them.
    public static var shippedModelURL: URL? {
        Bundle.module.url(forResource: shippedName, withExtension: "safetensors", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: shippedName, withExtension: "safetensors")
    }

    /// Writes a network's weights and buffers (PyTorch state_dict names) with its configuration name.
    public static func save(_ network: StrokePredictorNetwork, to url: URL, dtype: SafeTensorsDType = .f16,
                            metadata: [String: String] = [:]) throws(CheckpointError) {
        var file = SafeTensorsFile()
        file.store(network, dtype: dtype)
        file.metadata = metadata
        file.metadata["config"] = network.configuration.name
        file.metadata["format"] = "atelier.paint-transformer.weights"
        try file.write(to: url)
    }

    /// Loads weights into a new network in eval mode.
    /// - Parameters:
    ///   - configuration: the expected configuration; nil takes the one named in the file's metadata (files
    ///     converted from PyTorch carry none and need it).
    /// - Throws: `ModelError.wrongConfiguration` if the file names another configuration or its tensors do not
    ///   fit (missing keys, other shapes, extra keys); `ModelError.nonFiniteTensor` for NaN or infinite values;
    ///   `ModelError.unreadable` for a bad file.
    public static func load(from url: URL, configuration: PaintTransformerConfiguration? = nil) throws(ModelError) -> StrokePredictorNetwork {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile.read(from: url) } catch { throw .unreadable(error) }
        for key in file.tensors.keys.sorted() {
            guard let entry = file.tensors[key], entry.dtype.isFloatingPoint else { continue }
            if !entry.floats().allSatisfy(\.isFinite) { throw .nonFiniteTensor(path: url.path, tensor: key) }
        }
        let stored = file.metadata["config"]
        let chosen: PaintTransformerConfiguration
        if let configuration {
            if let stored, stored != configuration.name {
                throw .wrongConfiguration(path: url.path, configuration: configuration.name, detail: "it was saved as '\(stored)'")
            }
            chosen = configuration
        } else if let stored, let named = PaintTransformerConfiguration.named[stored] {
            chosen = named
        } else {
            throw .wrongConfiguration(path: url.path, configuration: stored ?? "unknown",
                                      detail: "the file names no known configuration")
        }
        let network = StrokePredictorNetwork(configuration: chosen, rng: RandomGenerator(seed: 0))
        do { try file.restore(network) } catch {
            switch error {
            case .missingKey, .shapeMismatch, .unexpectedKeys:
                throw .wrongConfiguration(path: url.path, configuration: chosen.name, detail: Self.shortDetail(error))
            default: throw .unreadable(error)
            }
        }
        network.eval()
        return network
    }

    private static func shortDetail(_ error: CheckpointError) -> String {
        switch error {
        case let .missingKey(_, key): "no tensor '\(key)'"
        case let .shapeMismatch(_, key, expected, found): "'\(key)' is \(found), expected \(expected)"
        case let .unexpectedKeys(_, keys): "\(keys.count) unexpected tensors such as '\(keys[0])'"
        default: error.description
        }
    }

    /// The shipped network.
    public static func loadShipped() throws(ModelError) -> StrokePredictorNetwork {
        guard let url = shippedModelURL else { throw .noShippedModel }
        return try load(from: url)
    }

    /// The painter's predictor backed by `network` in eval mode.
    public static func predictor(_ network: StrokePredictorNetwork) -> StrokePredictor {
        network.eval()
        let p = PaintTransformerConfiguration.patchSize
        return { targets, canvases, count in
            let image = Tensor(shape: [count, 3, p, p], floats: targets)
            let canvas = Tensor(shape: [count, 3, p, p], floats: canvases)
            let (shapes, logits) = network(image: image, canvas: canvas)
            evaluate([shapes, logits])
            return PredictedStroke.strokes(shapes: shapes.floats(), logits: logits.floats())
        }
    }
}
