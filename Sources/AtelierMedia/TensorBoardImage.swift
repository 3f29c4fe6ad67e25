// Image summaries from a RasterImage. The writer itself lives in the engine and takes encoded bytes only, so that
// logging scalars never links an image codec; encoding to PNG is this library's part.
import Atelier
import Foundation

extension TensorBoardWriter {
    /// `image` encoded as PNG.
    /// - Throws: `TensorBoardError.imageNotEncodable` when libpng refuses it (an empty image).
    public func image(tag: String, _ image: RasterImage, step: Int) throws(TensorBoardError) {
        let png: Data
        do { png = try image.pngData() } catch {
            guard case let .encodingFailed(_, reason) = error else { throw .imageNotEncodable(tag: tag, reason: "\(error)") }
            throw .imageNotEncodable(tag: tag, reason: reason)
        }
        self.image(tag: tag, png: png, width: image.width, height: image.height, channels: image.channels, step: step)
    }
}
