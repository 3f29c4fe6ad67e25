// SafeTensorsFile: round trips, exact 16-bit float coding, lookups, and a fixture written by Python.
import Foundation
import Testing
@testable import Atelier
import TestSupport

extension IOTests {
@Suite("IO.SafeTensors")
struct SafeTensorsTests {
    @Test func roundTripKeepsEveryDTypeAndMetadata() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("model.safetensors")
        var file = SafeTensorsFile(metadata: ["step": "1200", "quote\"and\\slash": "line\nbreak é"])
        file.tensors["a.weight"] = SafeTensorsEntry(floats: [1, -2, 3.5, 1e-8, .infinity, -0.0], shape: [2, 3])
        file.tensors["a.bias"] = SafeTensorsEntry(floats: [0.1, 0.2, 0.3], shape: [3], dtype: .f16)
        file.tensors["moments"] = SafeTensorsEntry(doubles: [0.1, -1e300, 0x1p-1074], shape: [3])
        file.tensors["step"] = SafeTensorsEntry(integers: [1200], shape: [])
        file.tensors["rng"] = SafeTensorsEntry(integers: [Int(bitPattern: 0xDEAD_BEEF_0123_4567), 7], shape: [2], dtype: .u64)
        file.tensors["empty"] = SafeTensorsEntry(floats: [], shape: [0, 4])
        try file.write(to: url)

        let back = try SafeTensorsFile.read(from: url)
        #expect(back.tensors == file.tensors)
        #expect(back.metadata == file.metadata)
        #expect(back.source == url.path)
        #expect(try back.floats("a.weight", shape: [2, 3]) == [1, -2, 3.5, 1e-8, .infinity, -0.0])
        #expect(try back.doubles("moments") == [0.1, -1e300, 0x1p-1074])
        #expect(try back.integers("step", shape: []) == [1200])
        #expect(try back.integers("rng").map { UInt64(bitPattern: Int64($0)) } == [0xDEAD_BEEF_0123_4567, 7])
        #expect(try back.floats("empty", shape: [0, 4]) == [])
    }

    @Test func layoutIsSortedAlignedAndPacked() throws {
        let file = SafeTensorsFile(tensors: [
            "b": SafeTensorsEntry(floats: [1, 2, 3], shape: [3], dtype: .f16),  // 6 bytes: next must follow with no gap
            "a": SafeTensorsEntry(floats: [4], shape: [1]),
        ], metadata: ["k": "v"])
        let bytes = try file.encoded()
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect((8 + headerLength) % 8 == 0)
        #expect(bytes.count == 8 + headerLength + 4 + 6)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        #expect(header == #"{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[3],"data_offsets":[4,10]}}"#)
    }

    @Test func writeReplacesAtomicallyWithReadablePermissions() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("ckpt.safetensors")
        try SafeTensorsFile(tensors: ["x": SafeTensorsEntry(floats: [1], shape: [1])]).write(to: url)
        try SafeTensorsFile(tensors: ["x": SafeTensorsEntry(floats: [2], shape: [1])]).write(to: url)
        #expect(try SafeTensorsFile.read(from: url).floats("x") == [2])
        // Only the checkpoint remains: no temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url.path) == ["ckpt.safetensors"])
        let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
        #expect(mode.map { $0 & 0o044 } == 0o044)  // group and others can read
    }

    @Test func writeIntoMissingDirectoryThrowsNamingThePath() {
        let url = URL(fileURLWithPath: "/nonexistent-atelier-dir/ckpt.safetensors")
        #expect {
            try SafeTensorsFile(tensors: ["x": SafeTensorsEntry(floats: [1], shape: [1])]).write(to: url)
        } throws: { error in
            guard let error = error as? CheckpointError, case .writeFailed = error else { return false }
            return error.description.contains(url.path)
        }
    }

    @Test func inconsistentEntryIsRejectedOnWrite() {
        let file = SafeTensorsFile(tensors: ["w": SafeTensorsEntry(dtype: .f32, shape: [2, 2], data: Data(count: 12))])
        #expect(throws: CheckpointError.sizeMismatch(path: "<memory>", key: "w", dtype: .f32, shape: [2, 2], byteCount: 12)) {
            try file.encoded()
        }
        let reserved = SafeTensorsFile(tensors: ["__metadata__": SafeTensorsEntry(floats: [1], shape: [1])])
        #expect(throws: CheckpointError.reservedKey(path: "<memory>", key: "__metadata__")) { try reserved.encoded() }
    }

    @Test func lookupsNameKeyAndFile() throws {
        let file = SafeTensorsFile(tensors: ["w": SafeTensorsEntry(floats: [1, 2], shape: [2])], source: "/ckpt/g.safetensors")
        #expect(throws: CheckpointError.missingKey(path: "/ckpt/g.safetensors", key: "x")) { try file.floats("x") }
        #expect(throws: CheckpointError.shapeMismatch(path: "/ckpt/g.safetensors", key: "w", expected: [1, 2], found: [2])) {
            try file.floats("w", shape: [1, 2])
        }
        #expect(throws: CheckpointError.dtypeMismatch(path: "/ckpt/g.safetensors", key: "w", expected: "an integer dtype", found: .f32)) {
            try file.integers("w")
        }
        #expect(CheckpointError.missingKey(path: "/ckpt/g.safetensors", key: "x").description == "missing key 'x' in /ckpt/g.safetensors")
        #expect(CheckpointError.shapeMismatch(path: "F", key: "w", expected: [1, 2], found: [2]).description
            == "shape mismatch for 'w' in F: expected [1, 2], found [2]")
    }

    // MARK: - 16-bit floats

    @Test func halfDecodingMatchesFloat16ForEveryBitPattern() {
        for bits in UInt16.min...UInt16.max {
            let ours = Float(halfBits: bits)
            let reference = Float(Float16(bitPattern: bits))
            #expect(ours.bitPattern == reference.bitPattern || (ours.isNaN && reference.isNaN), "bits \(bits)")
        }
    }

    @Test(arguments: [
        (Float(1), UInt16(0x3C00)), (-2, 0xC000), (65504, 0x7BFF), (65519.99, 0x7BFF), (65520, 0x7C00),
        (0x1p-14, 0x0400), (0x1p-24, 0x0001), (0x1p-25, 0x0000), (0x1.8p-25, 0x0001),  // ties to even, above half
        (1 + 0x1p-11, 0x3C00), (1 + 0x3p-11, 0x3C02), (0.1, 0x2E66), (-Float.infinity, 0xFC00), (-0.0, 0x8000),
    ] as [(Float, UInt16)])
    func halfEncodingRoundsToNearestEven(value: Float, bits: UInt16) {
        #expect(value.halfBits == bits)
        #expect(value.halfBits == Float16(value).bitPattern)
    }

    @Test func halfEncodingMatchesFloat16OnRandomValues() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            let value = Float(bitPattern: generator.next())
            let expected = Float16(value).bitPattern
            #expect(value.halfBits == expected || (value.isNaN && Float16(value).isNaN), "value \(value)")
        }
        #expect(Float.nan.halfBits & 0x7C00 == 0x7C00 && Float.nan.halfBits & 0x3FF != 0)
    }

    @Test(arguments: [
        (Float(1), UInt16(0x3F80)), (-2, 0xC000), (3.140625, 0x4049), (.infinity, 0x7F80),
        (Float(bitPattern: 0x3F80_8000), 0x3F80),  // tie, even stays
        (Float(bitPattern: 0x3F81_8000), 0x3F82),  // tie, odd rounds up
        (Float(bitPattern: 0x3F80_8001), 0x3F81), (Float(bitPattern: 0x7F7F_FFFF), 0x7F80),
    ] as [(Float, UInt16)])
    func bfloat16RoundsToNearestEven(value: Float, bits: UInt16) {
        #expect(value.bfloat16Bits == bits)
        let decoded = SafeTensorsEntry(floats: [value], shape: [1], dtype: .bf16).floats()[0]
        #expect(decoded.bitPattern == UInt32(bits) << 16)
    }

    @Test func sixteenBitEntriesDecodeExactly() {
        let halves: [Float] = [1, -2, 0.5, 65504, 0x1p-14, 0x1p-24, .infinity, -0.0]
        #expect(SafeTensorsEntry(floats: halves, shape: [8], dtype: .f16).floats() == halves)
        #expect(SafeTensorsEntry(floats: [1, -2, 3.140625, 0x1p-133], shape: [4], dtype: .bf16).floats() == [1, -2, 3.140625, 0x1p-133])
        let nan = SafeTensorsEntry(floats: [.nan], shape: [1], dtype: .bf16).floats()[0]
        #expect(nan.isNaN)
    }

    // MARK: - Interoperability with Python's safetensors

    @Test func loadsFixtureWrittenByPython() throws {
        let file = try SafeTensorsFile.read(from: Fixtures.url("reference.safetensors"))
        #expect(file.metadata == ["format": "pt", "note": "made by make_safetensors_fixture.py"])
        #expect(Set(file.tensors.keys) == ["weights.f32", "weights.f16", "weights.bf16", "stats.f64", "step", "bytes"])
        #expect(try file.floats("weights.f32", shape: [2, 3]) == [0, 1, -2.5, 3.1415927, 1e-30, 65504])
        #expect(try file.floats("weights.f16", shape: [8]) == [1, -2, 0.5, 65504, 0x1p-14, 0x1p-24, .infinity, -0.0])
        #expect(try file.floats("weights.f16").last!.sign == .minus)
        #expect(try file.floats("weights.bf16", shape: [5]) == [1, -2, 3.140625, .infinity, Float(bitPattern: 0x0001_0000)])
        #expect(try file.doubles("stats.f64") == [0.1, -1e300])
        #expect(try file.integers("step") == [-1, 1 << 40])
        #expect(try file.integers("bytes") == [0, 255])
        #expect(try file.entry("weights.bf16").dtype == .bf16)
    }

    @Test(.enabled(if: Python.hasSafeTensors, "needs python3 with safetensors and numpy (pip install safetensors numpy)"))
    func pythonLoadsFileWrittenByAtelier() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file("atelier.safetensors")
        try SafeTensorsFile(tensors: [
            "blocks.0.attn.qkv.weight": SafeTensorsEntry(floats: [0.25, -1.5, 3, 1e-7, 65504, -0.0], shape: [2, 3]),
            "half": SafeTensorsEntry(floats: [0.1, 1, -2, 65504], shape: [2, 2], dtype: .f16),
            "double": SafeTensorsEntry(doubles: [0.1, 1e300], shape: [2]),
            "step": SafeTensorsEntry(integers: [123_456_789_012], shape: []),
        ], metadata: ["step": "7", "format": "pt"]).write(to: url)

        let script = """
        import json, sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        t = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="numpy") as f:
            meta = f.metadata()
        print(json.dumps({"meta": meta, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape),
              "values": [float(x) for x in v.ravel()]} for k, v in t.items()}}))
        """
        let result = try Python.run(script, [url.path])
        try #require(result.status == 0, "python failed: \(result.err)")
        let json = try #require(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        #expect(json["meta"] as? [String: String] == ["step": "7", "format": "pt"])
        let tensors = try #require(json["tensors"] as? [String: [String: Any]])
        func check(_ key: String, _ dtype: String, _ shape: [Int], _ values: [Double]) {
            #expect(tensors[key]?["dtype"] as? String == dtype, "\(key)")
            #expect(tensors[key]?["shape"] as? [Int] == shape, "\(key)")
            #expect(tensors[key]?["values"] as? [Double] == values, "\(key)")
        }
        check("blocks.0.attn.qkv.weight", "float32", [2, 3], [0.25, -1.5, 3, Double(Float(1e-7)), 65504, -0.0])
        check("half", "float16", [2, 2], [Double(Float(halfBits: Float(0.1).halfBits)), 1, -2, 65504])
        check("double", "float64", [2], [0.1, 1e300])
        check("step", "int64", [], [123_456_789_012])
    }
}
}
