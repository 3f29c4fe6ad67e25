// Animated PNG (APNG): full-colour frames, no palette. Each frame is encoded as a PNG by libpng; its
// IDAT payload is reused: frame 0 as ordinary IDAT (so viewers without APNG support show it), later frames as
// fdAT chunks. acTL gives the frame and play counts, one fcTL per frame its size and delay. fcTL and fdAT share
// one sequence number. Decoders ignore acTL/fcTL/fdAT because their lowercase first letter marks them ancillary.
import CMedia
import Foundation

extension Animation {
    /// Writes the animation as an animated PNG, atomically.
    /// - Throws: ``ImageError`` naming `url` if frames disagree in size or encoding or writing fails.
    public func writeAPNG(to url: URL) throws(ImageError) {
        try Self.writeAtomically(encodeAPNG(path: url.path), to: url)
    }

    /// The animation encoded as APNG.
    public func apngData() throws(ImageError) -> Data {
        try encodeAPNG(path: "<memory>")
    }

    private func encodeAPNG(path: String) throws(ImageError) -> Data {
        try validate(path: path)
        let channels = frames.map(\.channels).max()!
        let width = UInt32(frames[0].width), height = UInt32(frames[0].height)
        // Delay as a fraction of seconds: milliseconds while they fit a UInt16, else whole seconds.
        let milliseconds = (frameDuration * 1000).rounded()
        let (delayNumerator, delayDenominator): (UInt16, UInt16) = milliseconds <= 65_535
            ? (UInt16(milliseconds), 1000) : (UInt16(min(frameDuration.rounded(), 65_535)), 1)

        var out = Data(PNGChunks.signature)
        var sequence: UInt32 = 0
        for (index, frame) in frames.enumerated() {
            let png = try frame.converted(channels: channels).encodePNG(source: path)
            guard let parts = PNGChunks.split(png) else {
                throw .encodingFailed(path: path, reason: "frame \(index): unexpected PNG from libpng")
            }
            if index == 0 {
                PNGChunks.append("IHDR", parts.header, to: &out)
                PNGChunks.append("acTL", PNGChunks.bigEndian(UInt32(frames.count), UInt32(loopCount)), to: &out)
            }
            // fcTL: sequence, width, height, x, y, delay num/den, dispose op 0 (none), blend op 0 (source).
            var control = PNGChunks.bigEndian(sequence, width, height, 0, 0)
            control.append(PNGChunks.bigEndian16(delayNumerator, delayDenominator))
            control.append(contentsOf: [0, 0])
            PNGChunks.append("fcTL", control, to: &out)
            sequence += 1
            if index == 0 {
                PNGChunks.append("IDAT", parts.imageData, to: &out)
            } else {
                PNGChunks.append("fdAT", PNGChunks.bigEndian(sequence) + parts.imageData, to: &out)
                sequence += 1
            }
        }
        PNGChunks.append("IEND", Data(), to: &out)
        return out
    }
}

/// Reading and writing PNG chunks: 4-byte big-endian length, 4-byte type, data, CRC-32 of type + data.
enum PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The chunks of a PNG in file order, or nil if the bytes are not a well-formed chunk sequence.
    static func parse(_ png: Data) -> [(type: String, data: Data)]? {
        let bytes = [UInt8](png)
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { return nil }
        var chunks: [(String, Data)] = []
        var offset = 8
        while offset + 12 <= bytes.count {
            let length = Int(bytes[offset..<(offset + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length <= bytes.count - offset - 12 else { return nil }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            chunks.append((type, Data(bytes[(offset + 8)..<(offset + 8 + length)])))
            offset += 12 + length
        }
        return offset == bytes.count ? chunks : nil
    }

    /// IHDR's data and the concatenated IDAT payload (one zlib stream) of a single-frame PNG.
    static func split(_ png: Data) -> (header: Data, imageData: Data)? {
        guard let chunks = parse(png), let header = chunks.first(where: { $0.type == "IHDR" })?.data else { return nil }
        let imageData = chunks.filter { $0.type == "IDAT" }.reduce(into: Data()) { $0.append($1.data) }
        return imageData.isEmpty ? nil : (header, imageData)
    }

    static func append(_ type: String, _ data: Data, to out: inout Data) {
        out.append(bigEndian(UInt32(data.count)))
        var body = Data(type.utf8)
        body.append(data)
        out.append(body)
        out.append(bigEndian(crc(body)))
    }

    /// zlib's CRC-32 (the polynomial PNG specifies).
    static func crc(_ bytes: Data) -> UInt32 {
        bytes.withUnsafeBytes { raw in
            UInt32(crc32(0, raw.bindMemory(to: UInt8.self).baseAddress, UInt32(raw.count)))
        }
    }

    static func bigEndian(_ values: UInt32...) -> Data {
        var out = Data()
        for value in values { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        return out
    }

    static func bigEndian16(_ values: UInt16...) -> Data {
        var out = Data()
        for value in values { withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) } }
        return out
    }
}
