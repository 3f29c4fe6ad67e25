// An animation: equally sized frames shown for a fixed time each, written as an animated GIF (AnimatedGIF.swift)
// or an animated PNG (AnimatedPNG.swift). Used for TransGAN latent walks and Paint Transformer's
// stroke-by-stroke paintings.
import Atelier
import Foundation

/// Frames of one size, each shown for ``frameDuration`` seconds, looping ``loopCount`` times (0 = forever).
public struct Animation: Sendable {
    /// The frames, all of one width and height; channel counts may differ (they are unified on write).
    public var frames: [RasterImage]
    /// Seconds each frame stays on screen. GIF stores centiseconds, APNG milliseconds.
    public var frameDuration: Double
    /// How many times to play; 0 loops forever.
    public var loopCount: Int

    /// Creates an animation.
    /// - Parameters:
    ///   - frames: at least one frame, all of one size.
    ///   - frameDuration: seconds per frame (default 0.1 s, 10 frames per second).
    ///   - loopCount: plays, 0 for forever (the default).
    public init(frames: [RasterImage], frameDuration: Double = 0.1, loopCount: Int = 0) {
        self.frames = frames
        self.frameDuration = frameDuration
        self.loopCount = loopCount
    }

    /// Checks that the frames can be encoded; `path` names the target in errors.
    func validate(path: String) throws(ImageError) {
        guard let first = frames.first else { throw .invalidAnimation(path: path, reason: "no frames") }
        guard first.width > 0, first.height > 0, first.width <= 65_535, first.height <= 65_535 else {
            throw .invalidAnimation(path: path, reason: "frame size \(first.width)×\(first.height) must be 1…65535 per side")
        }
        if let index = frames.firstIndex(where: { $0.width != first.width || $0.height != first.height }) {
            throw .invalidAnimation(path: path, reason: "frame \(index) is \(frames[index].width)×\(frames[index].height), "
                + "frame 0 is \(first.width)×\(first.height)")
        }
        guard frameDuration.isFinite, frameDuration >= 0 else {
            throw .invalidAnimation(path: path, reason: "frame duration \(frameDuration) s must be finite and non-negative")
        }
        guard (0...65_535).contains(loopCount) else {
            throw .invalidAnimation(path: path, reason: "loop count \(loopCount) must be 0…65535")
        }
    }

    /// Writes `data` atomically (temporary file + rename; mode 0644).
    static func writeAtomically(_ data: Data, to url: URL) throws(ImageError) {
        do {
            try AtomicFile.write(data, to: url)
        } catch {
            throw .writeFailed(path: url.path, reason: error.reason)
        }
    }
}
