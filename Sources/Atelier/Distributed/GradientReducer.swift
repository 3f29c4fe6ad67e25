// Data-parallel gradient exchange: each shard's gradients are added, weighted by its share of the batch, into
// one flat float32 buffer, which is summed over the group in a few large buckets rather than one call per
// parameter (collective calls have a fixed cost each; the TransGAN models have hundreds of parameters).
import Dispatch

/// Sums weighted float32 gradients (and a few float64 scalars, such as losses and batch statistics) over the
/// local shards and then over a process group.
public final class GradientReducer {
    /// Elements per collective call: 4 Mi floats, 16 MiB.
    public static let defaultBucketElements = 1 << 22
    public let shapes: [[Int]]
    let offsets: [Int]
    let bucketElements: Int
    private var flat: [Float]
    /// The summed scalars, after `reduce`.
    public private(set) var scalars: [Double]
    /// Exchanges made, and their total wall time and payload (for the trainers' communication summary).
    public private(set) var exchanges = 0
    public private(set) var exchangeSeconds = 0.0
    public var bytesPerExchange: Int { 4 * flat.count + 8 * scalars.count }

    public init(shapes: [[Int]], scalarCount: Int, bucketElements: Int = GradientReducer.defaultBucketElements) {
        precondition(bucketElements > 0, "[GradientReducer] bucket size \(bucketElements)")
        self.shapes = shapes
        var offsets = [0]
        for s in shapes { offsets.append(offsets.last! + s.reduce(1, *)) }
        self.offsets = offsets
        self.bucketElements = bucketElements
        flat = [Float](repeating: 0, count: offsets.last!)
        scalars = [Double](repeating: 0, count: scalarCount)
    }

    /// Total gradient elements (the float32 payload of one exchange).
    public var elementCount: Int { flat.count }
    /// Collective calls per exchange: the float buckets and one for the scalars.
    public var callsPerExchange: Int { (flat.count + bucketElements - 1) / bucketElements + 1 }

    public func reset() {
        for i in flat.indices { flat[i] = 0 }
        for i in scalars.indices { scalars[i] = 0 }
    }

    /// Adds `weight ×` one shard's evaluated float32 gradients and scalars.
    public func add(gradients: [Tensor], scalars values: [Double], weight: Double) {
        precondition(gradients.count == shapes.count && values.count == scalars.count,
                     "[GradientReducer.add] \(gradients.count) gradients and \(values.count) scalars for \(shapes.count) and \(scalars.count)")
        let w = Float(weight)
        flat.withUnsafeMutableBufferPointer { dst in
            for (i, g) in gradients.enumerated() {
                precondition(g.shape == shapes[i] && g.dtype == .float32,
                             "[GradientReducer.add] gradient \(i) is \(g.dtype) \(g.shape), expected float32 \(shapes[i])")
                if g.value == nil { evaluate([g]) }
                let src = g.value!.pointer(as: Float.self), base = dst.baseAddress! + offsets[i]
                for j in 0..<(offsets[i + 1] - offsets[i]) { base[j] += w * src[j] }
            }
        }
        for (i, v) in values.enumerated() { scalars[i] += weight * v }
    }

    /// Sums the buffers over the group (every member calls this once per exchange).
    public func reduce(over group: ProcessGroup) throws(ProcessGroupError) {
        guard group.size > 1 else { return }
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            exchanges += 1
            exchangeSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        }
        let n = flat.count, chunk = bucketElements
        try flat.withUnsafeMutableBufferPointer { (all) throws(ProcessGroupError) in
            var start = 0
            while start < n {
                let end = min(n, start + chunk)
                try group.allReduceSum(UnsafeMutableBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
        try group.allReduceSum(&scalars)
    }

    /// The summed gradients as tensors, in the order of `shapes`.
    public func gradients() -> [Tensor] {
        shapes.indices.map { Tensor(shape: shapes[$0], floats: Array(flat[offsets[$0]..<offsets[$0 + 1]])) }
    }
}
