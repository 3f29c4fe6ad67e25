// JPEG reading through libjpeg-turbo's TurboJPEG API: the header is read first so its size is checked before the
// pixel buffer exists; decoding stops at the first warning (corrupt or truncated data is an error, not a grey
// smear) and at 500 scans (TJFLAG_LIMITSCANS), which bounds the time a progressive file can take. Grayscale
// files decode to 1 channel, YCbCr and RGB ones to 3; CMYK and YCCK (Adobe print files, whose ink values may be
// stored inverted) are refused rather than guessed.
import CMedia
import Foundation

enum JPEGDecoder {
    static func decode(_ bytes: Data, source: String) throws(ImageError) -> RasterImage {
        guard let handle = tjInitDecompress() else {
            throw .notAnImage(path: source, reason: "TurboJPEG: \(String(cString: tjGetErrorStr2(nil)))")
        }
        defer { tjDestroy(handle) }
        func failure() -> ImageError { .notAnImage(path: source, reason: "JPEG: \(String(cString: tjGetErrorStr2(handle)))") }

        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let header = bytes.withUnsafeBytes { raw in
            tjDecompressHeader3(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count),
                                &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw failure() }
        try RasterImage.checkSize(width: Int(width), height: Int(height), source: source)
        if colorspace == Int32(TJCS_CMYK.rawValue) || colorspace == Int32(TJCS_YCCK.rawValue) {
            throw .unsupported(path: source, reason: "CMYK JPEG")
        }

        let channels = colorspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3
        let pixelFormat = channels == 1 ? TJPF_GRAY : TJPF_RGB
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let status = bytes.withUnsafeBytes { raw in
            pixels.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(raw.count), out.baseAddress,
                              width, 0, height, Int32(pixelFormat.rawValue), TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS)
            }
        }
        guard status == 0 else { throw failure() }
        return RasterImage(width: Int(width), height: Int(height), channels: channels, pixels: pixels)
    }
}
