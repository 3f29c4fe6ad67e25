// The documented ranges of the numbers the TransGAN tools accept. Each bound keeps one failure out: an Int
// conversion that traps, a loop that never ends, or an allocation far beyond this machine (23 GB, 2 cores).
// The tools' --help texts quote these values.

public enum TransGANLimits {
    /// Total D steps of a run (10⁹: more than 20 years at this engine's fastest `micro` step).
    public static let steps: ClosedRange<Int> = 1...1_000_000_000
    /// Any batch (D, G, penalty); the activation budget below usually binds first.
    public static let batch: ClosedRange<Int> = 1...65_536
    /// Estimated activation memory of one D or G step (`TransGANConfiguration.stepActivationBytes`).
    public static let activationBudgetBytes = 16 << 30
    /// D steps per G step, and the lazy-penalty interval.
    public static let nCritic: ClosedRange<Int> = 1...1_000
    public static let gpEvery: ClosedRange<Int> = 1...1_000
    /// Samples of a Fréchet distance: the covariance needs two; 100,000 hold 0.5 GB of pixels and features.
    public static let evalSamples: ClosedRange<Int> = 2...100_000
    /// Parameters of either network (500 M: 2 GB of float32 before gradients, Adam moments and the EMA copy).
    public static let parameterBudget = 500_000_000

    // MARK: transgan-sample
    /// Images in the grid PNG (also bounded by `RasterImage.maximumSide` and `maximumPixelCount`).
    public static let gridCount: ClosedRange<Int> = 1...4_096
    public static let columns: ClosedRange<Int> = 1...4_096
    /// Nearest-neighbour upscaling of each grid image.
    public static let scale: ClosedRange<Int> = 1...16
    /// Individual PNGs (`--count`; 0 = none). Generated and written 64 at a time, so memory does not grow.
    public static let count: ClosedRange<Int> = 0...1_000_000
    /// Animation key latents, frames between them, and frames in all (all frames are held in memory).
    public static let keyframes: ClosedRange<Int> = 2...64
    public static let framesPerKey: ClosedRange<Int> = 1...240
    public static let animationFrames: ClosedRange<Int> = 1...1_024
}
