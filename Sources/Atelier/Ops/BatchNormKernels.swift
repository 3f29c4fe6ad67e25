// The C batch-norm kernels (CKernels/batch_norm.c) on one channel of an NCHW tensor. Work is split by channel:
// a thread takes a channel's sums and then its elementwise pass back to back, so the second pass finds the channel
// (256 KB of float for the Paint Transformer's largest) in cache instead of reading it from memory again. Float and
// Double run the same C bodies, so the Float64 gradient checks exercise the code that Float32 training runs.
import CKernels

/// The C kernels of one element type, as imported (pointer arguments optional, sizes Int64).
struct BatchNormKernels<T> {
    let statistics: (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64) -> Void
    let normalize: (UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64, T, T, T, T) -> Void
    let backwardSums: (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafePointer<T>?, UnsafePointer<T>?,
                       Int64, Int64, Int64, Int64) -> Void
    let backward: (UnsafeMutablePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64, T, T, T) -> Void
}

/// Element types with batch-norm kernels.
protocol BatchNormScalar: KernelScalar {
    static var batchNormKernels: BatchNormKernels<Self> { get }
}

extension Float: BatchNormScalar {
    static var batchNormKernels: BatchNormKernels<Float> {
        .init(statistics: ck_batch_norm_statistics_f32, normalize: ck_batch_norm_normalize_f32,
              backwardSums: ck_batch_norm_backward_sums_f32, backward: ck_batch_norm_backward_f32)
    }
}

extension Double: BatchNormScalar {
    static var batchNormKernels: BatchNormKernels<Double> {
        .init(statistics: ck_batch_norm_statistics_f64, normalize: ck_batch_norm_normalize_f64,
              backwardSums: ck_batch_norm_backward_sums_f64, backward: ck_batch_norm_backward_f64)
    }
}

/// An [N, C, H, W] tensor as channels of N planes: plane n·C + c holds the H·W elements of (n, c).
struct ChannelPlanes {
    let batch: Int, channels: Int, plane: Int

    init(_ shape: [Int]) {
        batch = shape[0]; channels = shape[1]; plane = shape[2] * shape[3]
    }

    /// Elements per channel, N·H·W: the count the statistics are taken over.
    var perChannel: Int { batch * plane }

    /// `body(c)` for every channel, channels split across the worker threads.
    func forEachChannel(_ body: (Int) -> Void) {
        parallelFor(channels, grain: max(1, 32768 / max(perChannel, 1))) { for c in $0 { body(c) } }
    }

    /// The channel's mean and M2 = Σ(x − mean)².
    func statistics<T: BatchNormScalar>(x: UnsafePointer<T>, channel: Int) -> (mean: Double, m2: Double) {
        var mean = 0.0, m2 = 0.0
        T.batchNormKernels.statistics(&mean, &m2, x, Int64(batch), Int64(channels), Int64(plane), Int64(channel))
        return (mean, m2)
    }

    /// y = ((x − mean)·rstd)·weight + bias over the channel, and x̂ = (x − mean)·rstd if `xhat` is given; y may be x.
    func normalize<T: BatchNormScalar>(y: UnsafeMutablePointer<T>, xhat: UnsafeMutablePointer<T>?, x: UnsafePointer<T>, channel: Int,
                                       mean: T, rstd: T, weight: T, bias: T) {
        T.batchNormKernels.normalize(y, xhat, x, Int64(batch), Int64(channels), Int64(plane), Int64(channel), mean, rstd, weight, bias)
    }

    /// The channel's Σ g and Σ g·x̂.
    func backwardSums<T: BatchNormScalar>(g: UnsafePointer<T>, xhat: UnsafePointer<T>, channel: Int) -> (sumG: Double, sumGX: Double) {
        var sumG = 0.0, sumGX = 0.0
        T.batchNormKernels.backwardSums(&sumG, &sumGX, g, xhat, Int64(batch), Int64(channels), Int64(plane), Int64(channel))
        return (sumG, sumGX)
    }

    /// dx = scale·(g − meanG − x̂·meanGX) over the channel; dx may be g.
    func backward<T: BatchNormScalar>(dx: UnsafeMutablePointer<T>, g: UnsafePointer<T>, xhat: UnsafePointer<T>, channel: Int,
                                      scale: T, meanG: T, meanGX: T) {
        T.batchNormKernels.backward(dx, g, xhat, Int64(batch), Int64(channels), Int64(plane), Int64(channel), scale, meanG, meanGX)
    }
}
