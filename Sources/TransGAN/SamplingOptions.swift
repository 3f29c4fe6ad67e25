// transgan-sample's counts and sizes with their documented ranges (`TransGANLimits`): checked before any
// latent is drawn, so `--grid-count 0`, `--scale 1000` or `--count 1000000000` end in one error line naming
// the flag instead of a trap or an allocation the machine cannot hold.
import Atelier
import AtelierMedia

public struct SamplingOptions: Sendable, Equatable {
    /// Images in the grid PNG, per row, and the nearest-neighbour upscaling of each.
    public var gridCount = 64
    public var columns = 8
    public var scale = 2
    /// Individual PNGs (0: none).
    public var count = 0
    /// Animation key latents and frames between them.
    public var keyframes = 4
    public var framesPerKey = 12

    public init() {}

    /// Checks every range that does not depend on the model.
    public func validate() throws(TrainingError) {
        try Require.int(gridCount, in: TransGANLimits.gridCount, flag: "--grid-count")
        try Require.int(columns, in: TransGANLimits.columns, flag: "--columns")
        try Require.int(scale, in: TransGANLimits.scale, flag: "--scale")
        try Require.int(count, in: TransGANLimits.count, flag: "--count", " (0: no individual images)")
        try Require.int(keyframes, in: TransGANLimits.keyframes, flag: "--keyframes")
        try Require.int(framesPerKey, in: TransGANLimits.framesPerKey, flag: "--frames-per-key")
        let frames = keyframes * framesPerKey
        try Require.int(frames, in: TransGANLimits.animationFrames, flag: "--keyframes × --frames-per-key",
                        " (every animation frame is held in memory)")
    }

    /// Width and height of the grid PNG for `imageSize`-pixel images (2-pixel padding, as `sampleGrid` draws it).
    public func gridSize(imageSize: Int) -> (width: Int, height: Int) {
        let cell = imageSize * scale + 2
        let rows = (gridCount + columns - 1) / columns
        return (Swift.min(columns, gridCount) * cell + 2, rows * cell + 2)
    }

    /// Checks the grid PNG against the image limits (`RasterImage.maximumSide`, `maximumPixelCount`).
    public func validateGrid(imageSize: Int) throws(TrainingError) {
        let (w, h) = gridSize(imageSize: imageSize)
        guard w <= RasterImage.maximumSide, h <= RasterImage.maximumSide, w * h <= RasterImage.maximumPixelCount else {
            throw .invalidOption(flag: "--grid-count/--columns/--scale", value: "a \(w)×\(h) grid",
                                 allowed: "at most \(RasterImage.maximumSide) pixels a side and \(RasterImage.maximumPixelCount / 1_000_000) Mpx "
                                 + "(\(imageSize)×\(imageSize) images scaled \(scale)×)")
        }
    }
}
