// The planar float image every part of the painter reads and writes (PyTorch's [3, H, W] layout), so that
// patches and canvases move to and from the engine's tensors without reordering.

/// An RGB image with channels stored as three planes.
public struct RGBImage: Sendable, Equatable {
    /// Size in pixels.
    public let width: Int
    public let height: Int
    /// Values (normally in [0, 1]), shape [3, height, width]: all red, then all green, then all blue.
    public var pixels: [Float]

    /// Wraps planar pixels; `pixels.count` must be `3·width·height`.
    public init(width: Int, height: Int, pixels: [Float]) {
        precondition(width >= 0 && height >= 0, "[RGBImage] negative size \(width)×\(height)")
        precondition(
            pixels.count == 3 * width * height,
            "[RGBImage] \(width)×\(height) needs \(3 * width * height) values [3, H, W], got \(pixels.count)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// A black image.
    public init(width: Int, height: Int) {
        self.init(width: width, height: height, pixels: [Float](repeating: 0, count: 3 * width * height))
    }

    /// The value of channel `c` at (`x`, `y`).
    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { pixels[(c * height + y) * width + x] }
        set { pixels[(c * height + y) * width + x] = newValue }
    }
}
