// The C batch-norm kernels (CKernels/batch_norm.c) as whole parallel passes over an NCHW tensor. Float and Double
// run the same C bodies, so the Float64 gradient checks exercise the code that Float32 training runs.
import CKernels

/// The C kernels of one element type, as imported (pointer arguments optional, sizes Int64).
struct BatchNormKernels<T> {
    let statistics: (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64, Int64) -> Void
    let normalize: (UnsafeMutablePointer<T>?, UnsafeMutablePointer<T>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64,
                    UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?) -> Void
    let backwardSums: (UnsafeMutablePointer<Double>?, UnsafeMutablePointer<Double>?, UnsafePointer<T>?, UnsafePointer<T>?,
                       Int64, Int64, Int64, Int64, Int64) -> Void
    let backward: (UnsafeMutablePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?, Int64, Int64, Int64, Int64,
                   UnsafePointer<T>?, UnsafePointer<T>?, UnsafePointer<T>?) -> Void
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

/// An [N, C, H, W] tensor as channels of N planes: plane n·C + c holds the H·W elements of (n, c). Reductions
/// split the channels across threads (each channel's sums are one thread's, in a fixed order); elementwise passes
/// split the planes.
struct ChannelPlanes {
    let batch: Int, channels: Int, plane: Int

    init(_ shape: [Int]) {
        batch = shape[0]; channels = shape[1]; plane = shape[2] * shape[3]
    }

    /// Elements per channel, N·H·W: the count the statistics are taken over.
    var perChannel: Int { batch * plane }

    private func forChannels(_ body: (_ first: Int64, _ count: Int64) -> Void) {
        parallelFor(channels, grain: max(1, 32768 / max(perChannel, 1))) { body(Int64($0.lowerBound), Int64($0.count)) }
    }

    private func forPlanes(_ body: (_ first: Int64, _ count: Int64) -> Void) {
        parallelFor(batch * channels, grain: max(1, 32768 / max(plane, 1))) { body(Int64($0.lowerBound), Int64($0.count)) }
    }

    /// Per channel: the mean and M2 = Σ(x − mean)², into arrays of `channels` doubles.
    func statistics<T: BatchNormScalar>(mean: UnsafeMutablePointer<Double>, m2: UnsafeMutablePointer<Double>, x: UnsafePointer<T>) {
        forChannels { T.batchNormKernels.statistics(mean, m2, x, Int64(batch), Int64(channels), Int64(plane), $0, $1) }
    }

    /// y = ((x − mean)·rstd)·weight + bias per channel, and x̂ = (x − mean)·rstd if `xhat` is given; y may be x.
    /// A missing weight is 1, a missing bias 0.
    func normalize<T: BatchNormScalar>(y: UnsafeMutablePointer<T>, xhat: UnsafeMutablePointer<T>?, x: UnsafePointer<T>, mean: UnsafePointer<T>,
                                       rstd: UnsafePointer<T>, weight: Buffer?, bias: Buffer?) {
        withChannelValues(weight, fill: 1) { (w: UnsafePointer<T>) in
            withChannelValues(bias, fill: 0) { b in
                forPlanes { T.batchNormKernels.normalize(y, xhat, x, Int64(channels), Int64(plane), $0, $1, mean, rstd, w, b) }
            }
        }
    }

    /// Per channel: Σ g and Σ g·x̂, into arrays of `channels` doubles.
    func backwardSums<T: BatchNormScalar>(sumG: UnsafeMutablePointer<Double>, sumGX: UnsafeMutablePointer<Double>, g: UnsafePointer<T>,
                                          xhat: UnsafePointer<T>) {
        forChannels { T.batchNormKernels.backwardSums(sumG, sumGX, g, xhat, Int64(batch), Int64(channels), Int64(plane), $0, $1) }
    }

    /// dx = scale·(g − meanG − x̂·meanGX) per channel; dx may be g.
    func backward<T: BatchNormScalar>(dx: UnsafeMutablePointer<T>, g: UnsafePointer<T>, xhat: UnsafePointer<T>, scale: UnsafePointer<T>,
                                      meanG: UnsafePointer<T>, meanGX: UnsafePointer<T>) {
        forPlanes { T.batchNormKernels.backward(dx, g, xhat, Int64(channels), Int64(plane), $0, $1, scale, meanG, meanGX) }
    }

    /// The per-channel values in `input`, or `fill` for each channel where there is none.
    private func withChannelValues<T: KernelScalar>(_ input: Buffer?, fill: T, _ body: (UnsafePointer<T>) -> Void) {
        if let input { return body(input.pointer(as: T.self)) }
        [T](repeating: fill, count: channels).withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
