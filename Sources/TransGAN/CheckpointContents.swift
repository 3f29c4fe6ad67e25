// What a TransGAN checkpoint or generator snapshot stores besides tensors — the configuration and training
// options as JSON — read back with the same validation as a configuration built in code, plus a finiteness
// check of the stored tensors. A file is trusted for nothing just because it parses: a stored latent dim of
// 2^40 must be refused, not allocated, and a NaN weight must not be sampled from or trained on.
import Foundation
import Atelier

extension SafeTensorsFile {
    /// The stored configuration, validated (`TransGANConfiguration.validate()`).
    public func transGANConfiguration() throws(TrainingError) -> TransGANConfiguration {
        guard let c = metadata["config"], let config = try? JSONDecoder().decode(TransGANConfiguration.self, from: Data(c.utf8)) else {
            throw .incompatibleCheckpoint(path: source, reason: "no TransGAN configuration in its metadata")
        }
        do { try config.validate() } catch {
            throw .invalidCheckpoint(path: source, reason: "its stored \(error)")
        }
        return config
    }

    /// The stored training options (nil in generator snapshots), validated for `config`.
    public func transGANOptions(for config: TransGANConfiguration) throws(TrainingError) -> TrainingOptions? {
        guard let o = metadata["options"] else { return nil }
        guard let options = try? JSONDecoder().decode(TrainingOptions.self, from: Data(o.utf8)) else {
            throw .invalidCheckpoint(path: source, reason: "its stored training options are not valid JSON of TrainingOptions")
        }
        do { try options.validate(for: config) } catch {
            throw .invalidCheckpoint(path: source, reason: "its stored training options are invalid: \(error)")
        }
        return options
    }

    /// The stored step count, in 0…`TransGANLimits.steps.upperBound`.
    public func transGANStep() throws(TrainingError) -> Int {
        guard let s = metadata["step"], let step = Int(s), (0...TransGANLimits.steps.upperBound).contains(step) else {
            throw .invalidCheckpoint(path: source, reason: "its step '\(metadata["step"] ?? "")' is not an integer in 0…\(TransGANLimits.steps.upperBound)")
        }
        return step
    }

    /// The number of shards whose streams the checkpoint holds (1 when it does not say).
    public func transGANShards() throws(TrainingError) -> Int {
        guard let text = metadata["shards"] else { return 1 }
        guard let n = Int(text), (1...TransGANLimits.batch.upperBound).contains(n) else {
            throw .invalidCheckpoint(path: source, reason: "its shard count '\(text)' is not an integer in 1…\(TransGANLimits.batch.upperBound)")
        }
        return n
    }

    /// Throws for the first floating-point tensor under one of `prefixes` (all tensors when empty) that holds
    /// NaN or infinity, naming the file and the tensor.
    public func requireFiniteTensors(prefixes: [String] = []) throws(TrainingError) {
        for key in tensors.keys.sorted() where prefixes.isEmpty || prefixes.contains(where: { key.hasPrefix($0) }) {
            guard let entry = tensors[key], entry.dtype.isFloatingPoint else { continue }
            if !entry.doubles().allSatisfy(\.isFinite) { throw .nonFiniteTensor(path: source, tensor: key) }
        }
    }
}
