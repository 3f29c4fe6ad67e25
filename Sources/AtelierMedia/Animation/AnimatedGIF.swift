// Animated GIF through giflib: each frame is quantised to a 256-colour palette (its own, or one shared by all
// frames), the NETSCAPE2.0 application extension sets the loop count, and a graphics control extension per
// frame sets its delay. giflib writes into memory through EGifOpen's callback, and the bytes then go to disk
// atomically (EGifOpenFileName would create a 0600 file in place).
import CMedia
import Foundation

extension Animation {
    /// Where GIF palettes come from.
    public enum GIFPalette: Sendable {
        /// Each frame gets its own 256 colours: best colour, but palettes can flicker between frames.
        case perFrame
        /// One 256-colour palette for all frames: stable colours, more banding on varied content.
        case global
    }

    /// Writes the animation as a looping GIF, atomically.
    /// - Throws: ``ImageError`` naming `url` if frames disagree in size or encoding or writing fails.
    public func writeGIF(to url: URL, palette: GIFPalette = .perFrame) throws(ImageError) {
        try Self.writeAtomically(encodeGIF(palette: palette, path: url.path), to: url)
    }

    /// The animation encoded as GIF.
    public func gifData(palette: GIFPalette = .perFrame) throws(ImageError) -> Data {
        try encodeGIF(palette: palette, path: "<memory>")
    }

    private func encodeGIF(palette: GIFPalette, path: String) throws(ImageError) -> Data {
        try validate(path: path)
        let width = frames[0].width, height = frames[0].height
        let quantized: [(indices: [UInt8], colors: [GifColorType])]
        switch palette {
        case .perFrame:
            quantized = try frames.map { frame throws(ImageError) in try Self.quantize([frame], path: path) }
        case .global:
            // Quantise all frames stacked as one tall image, so one palette serves them all.
            let shared = try Self.quantize(frames, path: path)
            let frameSize = width * height
            quantized = frames.indices.map { i in
                (Array(shared.indices[(i * frameSize)..<((i + 1) * frameSize)]), shared.colors)
            }
        }

        let sink = ByteSink()
        var status: Int32 = 0
        guard let gif = sink.openGIFEncoder(&status) else {
            throw .encodingFailed(path: path, reason: "EGifOpen: \(Self.gifError(status))")
        }
        // giflib reports failures as GIF_ERROR with the code in gif.Error; close (and free) on every path.
        func check(_ result: Int32, _ step: String) throws(ImageError) {
            guard result == GIF_OK else {
                let reason = "\(step): \(Self.gifError(gif.pointee.Error))"
                EGifCloseFile(gif, nil)
                throw .encodingFailed(path: path, reason: reason)
            }
        }

        let globalMap = palette == .global ? quantized[0].colors.withUnsafeBufferPointer { GifMakeMapObject(256, $0.baseAddress) } : nil
        defer { if let globalMap { GifFreeMapObject(globalMap) } }
        EGifSetGifVersion(gif, true)  // extensions need GIF89a
        try check(EGifPutScreenDesc(gif, Int32(width), Int32(height), 8, 0, globalMap), "screen descriptor")

        // NETSCAPE2.0 sub-block: 1, then the loop count as little-endian UInt16 (0 = forever).
        try check(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), "loop extension")
        try check(Array("NETSCAPE2.0".utf8).withUnsafeBytes { EGifPutExtensionBlock(gif, 11, $0.baseAddress) }, "loop extension")
        let loop: [UInt8] = [1, UInt8(loopCount & 0xFF), UInt8(loopCount >> 8)]
        try check(loop.withUnsafeBytes { EGifPutExtensionBlock(gif, 3, $0.baseAddress) }, "loop extension")
        try check(EGifPutExtensionTrailer(gif), "loop extension")

        let centiseconds = Int32(min((frameDuration * 100).rounded(), 65_535))
        for (index, frame) in quantized.enumerated() {
            var control = GraphicsControlBlock(DisposalMode: DISPOSE_DO_NOT, UserInputFlag: false,
                                               DelayTime: centiseconds, TransparentColor: NO_TRANSPARENT_COLOR)
            var extensionBytes = [UInt8](repeating: 0, count: 4)
            let length = EGifGCBToExtension(&control, &extensionBytes)
            try check(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, Int32(length), extensionBytes), "frame \(index) delay")

            let localMap = palette == .perFrame ? frame.colors.withUnsafeBufferPointer { GifMakeMapObject(256, $0.baseAddress) } : nil
            defer { if let localMap { GifFreeMapObject(localMap) } }
            try check(EGifPutImageDesc(gif, 0, 0, Int32(width), Int32(height), false, localMap), "frame \(index) descriptor")
            var indices = frame.indices
            for row in 0..<height {
                let result = indices.withUnsafeMutableBufferPointer { EGifPutLine(gif, $0.baseAddress! + row * width, Int32(width)) }
                try check(result, "frame \(index) pixels")
            }
        }
        guard EGifCloseFile(gif, &status) == GIF_OK else {
            throw .encodingFailed(path: path, reason: "closing: \(Self.gifError(status))")
        }
        return sink.bytes
    }

    /// Median-cut quantisation (giflib) of the frames stacked vertically: palette indices and 256 colours.
    private static func quantize(_ frames: [RasterImage], path: String) throws(ImageError) -> (indices: [UInt8], colors: [GifColorType]) {
        let pixelCount = frames.reduce(0) { $0 + $1.width * $1.height }
        guard pixelCount <= Int(UInt32.max) else {
            throw .invalidAnimation(path: path, reason: "\(pixelCount) pixels are too many for one GIF palette")
        }
        var red = [UInt8](), green = [UInt8](), blue = [UInt8]()
        red.reserveCapacity(pixelCount); green.reserveCapacity(pixelCount); blue.reserveCapacity(pixelCount)
        for frame in frames {
            let rgb = frame.converted(channels: 3).pixels
            for p in 0..<(frame.width * frame.height) {
                red.append(rgb[p * 3]); green.append(rgb[p * 3 + 1]); blue.append(rgb[p * 3 + 2])
            }
        }
        var indices = [UInt8](repeating: 0, count: pixelCount)
        var colors = [GifColorType](repeating: GifColorType(Red: 0, Green: 0, Blue: 0), count: 256)
        var colorCount: Int32 = 256
        let result = GifQuantizeBuffer(UInt32(frames[0].width), UInt32(pixelCount / frames[0].width), &colorCount,
                                       &red, &green, &blue, &indices, &colors)
        guard result == GIF_OK else { throw .encodingFailed(path: path, reason: "palette quantisation failed") }
        return (indices, colors)
    }

    /// giflib's message for an error code.
    static func gifError(_ code: Int32) -> String {
        GifErrorString(code).map { String(cString: $0) } ?? "giflib error \(code)"
    }
}

/// Collects the bytes giflib's encoder hands to its write callback.
final class ByteSink {
    var bytes = Data()

    /// A giflib encoder writing into this sink, which must outlive it; nil with `status` set on failure.
    func openGIFEncoder(_ status: inout Int32) -> UnsafeMutablePointer<GifFileType>? {
        EGifOpen(Unmanaged.passUnretained(self).toOpaque(), { gif, bytes, count in
            guard let gif, let context = gif.pointee.UserData, let bytes, count >= 0 else { return 0 }
            Unmanaged<ByteSink>.fromOpaque(context).takeUnretainedValue().bytes.append(bytes, count: Int(count))
            return count
        }, &status)
    }
}
