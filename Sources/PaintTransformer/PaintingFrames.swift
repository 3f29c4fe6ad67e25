// What the painter reports while it works: progress events and canvas snapshots for animations.

/// Where the painter is, reported through the optional progress closure.
public struct PaintProgress: Sendable, Equatable {
    /// What the painter is about to do (or has done, for `finished`).
    public enum Phase: Sendable, Equatable { case predicting, refining, rendering, finished }
    /// 0-based pass: layers 0…L−1, then the shifted pass (index L).
    public var pass: Int
    /// Layers plus the shifted pass.
    public var passCount: Int
    public var phase: Phase
    /// Patches in this pass.
    public var patches: Int
    /// Strokes drawn so far in the whole painting.
    public var strokesDrawn: Int
}

/// A snapshot of the painting in progress, cropped to the output size.
public struct PaintingFrame: Sendable {
    /// The canvas, H×W like the input.
    public var image: RGBImage
    /// 0-based frame number.
    public var sequence: Int
    /// Pass the frame belongs to (see `PaintProgress.pass`).
    public var pass: Int
    /// Window group just finished (nil for per-layer frames).
    public var group: Int?
    /// Stroke query index just finished in every window of the group (per-stroke frames only).
    public var strokeIndex: Int?
}

/// How often the frame closure is called.
public enum FrameGranularity: Sendable, Equatable {
    /// After every pass (layers + the shifted pass).
    case perPass
    /// After each window group of each pass (up to 4 per pass).
    case perGroup
    /// After each stroke index of each group (up to 32 per pass): the reference's serial animation frames.
    case perStrokeIndex
}
