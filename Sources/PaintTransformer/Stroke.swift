// One brush stroke as the network describes it, and the pixel window it is drawn into.

/// A stroke in window-normalised units (reference §1): the brush image box is centred at (`x`·W, `y`·H) of its
/// window, is `w`·W wide and `h`·H tall, and is rotated clockwise on screen (y down) by π·`theta` radians.
public struct Stroke: Sendable, Equatable, Codable {
    /// Centre as a fraction of the window width and height.
    public var x: Float
    public var y: Float
    /// Brush-box width and height as fractions of the window width and height.
    public var w: Float
    public var h: Float
    /// Rotation in half-turns: 0.5 is 90° clockwise.
    public var theta: Float
    /// RGB colour that multiplies the brush intensity.
    public var color: SIMD3<Float>

    /// Creates a stroke from its window-normalised shape and colour.
    public init(x: Float, y: Float, w: Float, h: Float, theta: Float, color: SIMD3<Float>) {
        self.x = x
        self.y = y
        self.w = w
        self.h = h
        self.theta = theta
        self.color = color
    }
}

/// A rectangle of canvas pixels that normalised stroke coordinates refer to. It may extend beyond the
/// canvas; pixels outside the canvas are clipped when drawing.
public struct PixelWindow: Sendable, Equatable, Codable {
    /// Canvas column and row of the window's top-left pixel (may be negative).
    public var left: Int
    public var top: Int
    /// Size in pixels.
    public var width: Int
    public var height: Int

    /// Creates a window from its top-left pixel and size.
    public init(left: Int, top: Int, width: Int, height: Int) {
        self.left = left
        self.top = top
        self.width = width
        self.height = height
    }
}
