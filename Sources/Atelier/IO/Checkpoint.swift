// Bridges modules, optimisers and random generators to safetensors files: names are `namedParameters()`
// keys (PyTorch state_dict style) under a prefix; scalars (steps, RNG state) live in the metadata.

extension SafeTensorsFile {
    /// Adds every parameter and buffer of `module` as `prefix + name`.
    public mutating func store(_ module: Module, prefix: String = "", dtype: SafeTensorsDType = .f32) {
        for (name, p) in module.stateDict() { store(p, key: prefix + name, dtype: dtype) }
    }

    /// Adds one stored tensor's value (a parameter, buffer or optimiser state).
    public mutating func store(_ p: StoredTensor, key: String, dtype: SafeTensorsDType = .f32) {
        switch p.dtype {
        case .float32:
            tensors[key] = SafeTensorsEntry(floats: p.tensor.floats(), shape: p.shape, dtype: dtype == .f64 ? .f32 : dtype)
        case .float64:
            tensors[key] = SafeTensorsEntry(doubles: p.tensor.doubles(), shape: p.shape)
        }
    }

    /// Adds an optimiser's state tensors and step count.
    public mutating func store(_ optimizer: Optimizer, prefix: String) {
        for (name, p) in optimizer.namedState() { store(p, key: prefix + name) }
        metadata[prefix + "step"] = String(optimizer.stepCount)
    }

    /// Adds a random generator's state (seed and counter) to the metadata.
    public mutating func store(_ rng: RandomGenerator, name: String) {
        metadata[name + ".seed"] = String(rng.seed)
        metadata[name + ".offset"] = String(rng.offset)
    }

    /// Loads every parameter and buffer of `module` from `prefix + name`. Missing keys, shape mismatches and
    /// (when `strict`) tensors under the prefix that the module lacks are errors naming the file.
    public func restore(_ module: Module, prefix: String = "", strict: Bool = true) throws(CheckpointError) {
        let state = module.stateDict()
        // Validate everything before changing anything, so a bad file leaves the model untouched.
        var values: [(StoredTensor, [Double])] = []
        for (name, p) in state {
            values.append((p, try doubles(prefix + name, shape: p.shape)))
        }
        if strict {
            let known = Set(state.map { prefix + $0.0 })
            let extra = tensors.keys.filter { $0.hasPrefix(prefix) && !known.contains($0) && !isOptimizerKey($0, prefix) }.sorted()
            if !extra.isEmpty { throw .unexpectedKeys(path: source, keys: extra) }
        }
        for (p, v) in values { p.assignDoubles(v) }
    }

    private func isOptimizerKey(_ key: String, _ prefix: String) -> Bool {
        // Optimiser state stored under the same prefix is not a model tensor.
        let rest = key.dropFirst(prefix.count)
        return rest.hasPrefix("exp_avg.") || rest.hasPrefix("exp_avg_sq.") || rest.hasPrefix("momentum_buffer.")
    }

    /// Loads an optimiser's state tensors and step count.
    public func restore(_ optimizer: Optimizer, prefix: String) throws(CheckpointError) {
        var values: [(StoredTensor, [Double])] = []
        for (name, p) in optimizer.namedState() {
            values.append((p, try doubles(prefix + name, shape: p.shape)))
        }
        let step = try metadataInt(prefix + "step")
        for (p, v) in values { p.assignDoubles(v) }
        optimizer.stepCount = step
    }

    /// A generator restored from the metadata written by `store(_:name:)`.
    public func restoreGenerator(name: String) throws(CheckpointError) -> RandomGenerator {
        guard let s = metadata[name + ".seed"], let seed = UInt64(s) else {
            throw .badMetadata(path: source, key: name + ".seed", reason: "missing or not an unsigned integer")
        }
        guard let o = metadata[name + ".offset"], let offset = UInt64(o) else {
            throw .badMetadata(path: source, key: name + ".offset", reason: "missing or not an unsigned integer")
        }
        return RandomGenerator(seed: seed, offset: offset)
    }

    /// An integer metadata entry.
    public func metadataInt(_ key: String) throws(CheckpointError) -> Int {
        guard let s = metadata[key] else { throw .badMetadata(path: source, key: key, reason: "missing") }
        guard let v = Int(s) else { throw .badMetadata(path: source, key: key, reason: "'\(s)' is not an integer") }
        return v
    }
}

extension StoredTensor {
    /// Replaces the value with `values` (converted to the tensor's dtype).
    public func assignDoubles(_ values: [Double]) {
        precondition(values.count == count, "[stored tensor] \(values.count) values for shape \(shape)")
        switch dtype {
        case .float32: let p = buffer.pointer(as: Float.self); for i in 0..<count { p[i] = Float(values[i]) }
        case .float64: let p = buffer.pointer(as: Double.self); for i in 0..<count { p[i] = values[i] }
        }
    }
}
