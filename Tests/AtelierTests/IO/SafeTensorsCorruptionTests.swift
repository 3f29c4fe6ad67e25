// SafeTensorsFile.read on damaged files: each corruption throws its CheckpointError, whose message names
// the file; truncations and random byte flips never crash or read out of bounds.
import Foundation
import Testing
@testable import Atelier
import TestSupport

extension IOTests {
@Suite("IO.SafeTensors corruption")
struct SafeTensorsCorruptionTests {
    /// A file with the given JSON header and data; `headerLength` overrides the declared length.
    static func bytes(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
        let json = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: json)
        out.append(contentsOf: data)
        return out
    }

    /// Writes `bytes` to a scratch file, reads it, and returns the error thrown (nil if none).
    static func readError(_ bytes: Data, name: String = "broken.safetensors") throws -> CheckpointError? {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let url = scratch.file(name)
        try bytes.write(to: url)
        do {
            _ = try SafeTensorsFile.read(from: url)
            return nil
        } catch {
            #expect(error.path == url.path)
            #expect(error.description.contains(url.path), "message should name the file: \(error)")
            return error
        }
    }

    @Test func missingFile() throws {
        let url = URL(fileURLWithPath: "/nonexistent-atelier/model.safetensors")
        #expect {
            try SafeTensorsFile.read(from: url)
        } throws: { error in
            guard let error = error as? CheckpointError, case .unreadable = error else { return false }
            return error.description.contains("/nonexistent-atelier/model.safetensors")
        }
    }

    @Test func truncatedBeforeHeaderLength() throws {
        let error = try Self.readError(Data([1, 0, 0]))
        guard case .truncated(_, 3) = error else { Issue.record("got \(String(describing: error))"); return }
        guard case .truncated(_, 0) = try Self.readError(Data()) else { Issue.record("empty file"); return }
    }

    @Test(arguments: [UInt64(1000), UInt64.max, UInt64(1) << 40, 0])
    func badHeaderLength(declared: UInt64) throws {
        let error = try Self.readError(Self.bytes(header: "{}", data: [0, 0, 0, 0], headerLength: declared))
        guard case .badHeaderLength(_, declared, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error!.description.contains("bad header length"))
    }

    @Test(arguments: [
        "{not json}", "[1, 2]", "{\"w\": 5}", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}",
        "{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
        "{\"__metadata__\": {\"step\": 3}}", "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 99999999999999999999999]}}",
        "\u{FF}\u{FE}",
    ])
    func invalidHeader(header: String) throws {
        let error = try Self.readError(Self.bytes(header: header, data: [0, 0, 0, 0]))
        guard case .invalidHeader = error else { Issue.record("got \(String(describing: error)) for \(header)"); return }
    }

    @Test func unknownDType() throws {
        let error = try Self.readError(Self.bytes(header: #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}"#, data: [0]))
        #expect(error == .unknownDType(path: error?.path ?? "", key: "w", dtype: "Q4"))
        #expect(error?.description.contains("unknown dtype 'Q4' for 'w'") == true)
    }

    @Test(arguments: [[0, 100], [8, 4], [-4, 4], [0], [0, 4, 8]])
    func offsetsOutOfRange(offsets: [Int]) throws {
        let header = #"{"w":{"dtype":"U8","shape":[4],"data_offsets":\#(offsets)}}"#
        let error = try Self.readError(Self.bytes(header: header, data: [1, 2, 3, 4, 5, 6, 7, 8]))
        guard case .offsetsOutOfRange(_, "w", offsets, 8) = error else { Issue.record("got \(String(describing: error))"); return }
    }

    @Test func overlappingData() throws {
        let header = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let error = try Self.readError(Self.bytes(header: header, data: Array(repeating: 0, count: 12)))
        #expect(error == .overlappingData(path: error?.path ?? "", key: "b", otherKey: "a"))
    }

    @Test func sizeDisagreesWithShape() throws {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        let error = try Self.readError(Self.bytes(header: header, data: Array(repeating: 0, count: 8)))
        #expect(error == .sizeMismatch(path: error?.path ?? "", key: "w", dtype: .f32, shape: [3], byteCount: 8))
        #expect(error?.description.contains("needs 12 bytes, found 8") == true)
    }

    @Test(arguments: [[-1], [Int.max, 2], [1 << 40, 1 << 40]])
    func invalidShape(shape: [Int]) throws {
        let header = #"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#
        let error = try Self.readError(Self.bytes(header: header, data: [0, 0, 0, 0]))
        guard case .invalidShape(_, "w", shape) = error else { Issue.record("got \(String(describing: error))"); return }
    }

    /// A real file cut at every length, and with random bytes flipped: read must throw or succeed, never trap.
    @Test func truncationsAndBitFlipsNeverCrash() throws {
        let valid = try SafeTensorsFile(tensors: [
            "a": SafeTensorsEntry(floats: [1, 2, 3], shape: [3]),
            "b": SafeTensorsEntry(floats: [4, 5], shape: [1, 2], dtype: .bf16),
        ], metadata: ["m": "x"]).encoded()
        #expect(try SafeTensorsFile.decode(valid, source: "valid").floats("a") == [1, 2, 3])
        for length in 0..<valid.count {
            #expect(throws: CheckpointError.self) { try SafeTensorsFile.decode(valid.prefix(length), source: "cut") }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var damaged = valid
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let file = try? SafeTensorsFile.decode(damaged, source: "flipped") {
                for entry in file.tensors.values { _ = entry.doubles() }
            }
        }
    }

    /// Decoding a slice (non-zero start index) must use the slice's own indices.
    @Test func decodesFromDataSlice() throws {
        let valid = try SafeTensorsFile(tensors: ["a": SafeTensorsEntry(floats: [1, 2], shape: [2])]).encoded()
        let padded = Data([9, 9, 9]) + valid
        #expect(try SafeTensorsFile.decode(padded.dropFirst(3), source: "slice").floats("a") == [1, 2])
    }
}
}
