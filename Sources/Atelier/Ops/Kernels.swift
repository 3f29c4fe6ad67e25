// Shared kernel plumbing: dtype dispatch, shape helpers and the strided copy that movement ops share.

/// Stops at once for programmer misuse, naming the op: `[matmul] inner dimensions differ: [2, 3] × [4, 5]`.
@inline(__always)
public func shapeCheck(_ condition: @autoclosure () -> Bool, _ op: String, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("[\(op)] \(message())") }
}

/// Row-major strides of a contiguous array of `shape`.
public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
    return strides
}

/// Normalises a possibly negative axis.
@inline(__always) func normalizeAxis(_ axis: Int, rank: Int, op: String) -> Int {
    let a = axis < 0 ? axis + rank : axis
    shapeCheck(a >= 0 && a < max(rank, 1), op, "axis \(axis) out of range for rank \(rank)")
    return a
}

/// Merges adjacent dimensions that are contiguous in both layouts, so loops run over as few dims as possible.
func coalesce(shape: [Int], strideSets: [[Int]]) -> ([Int], [[Int]]) {
    var outShape: [Int] = []
    var outStrides: [[Int]] = strideSets.map { _ in [] }
    for d in 0..<shape.count where shape[d] != 1 {
        if let last = outShape.last,
           strideSets.indices.allSatisfy({ outStrides[$0].last! == strideSets[$0][d] * shape[d] }) {
            outShape[outShape.count - 1] = last * shape[d]
            for k in strideSets.indices { outStrides[k][outStrides[k].count - 1] = strideSets[k][d] }
        } else {
            outShape.append(shape[d])
            for k in strideSets.indices { outStrides[k].append(strideSets[k][d]) }
        }
    }
    if outShape.isEmpty { return ([1], strideSets.map { _ in [1] }) }
    return (outShape, outStrides)
}

/// Copies `shape`-many elements from `src` (with strides, possibly 0) to `dst` (with strides).
func stridedCopy<T>(_ dst: UnsafeMutablePointer<T>, dstStrides: [Int], _ src: UnsafePointer<T>, srcStrides: [Int], shape: [Int]) {
    let (dims, strides) = coalesce(shape: shape, strideSets: [dstStrides, srcStrides])
    let ds = strides[0], ss = strides[1]
    let rank = dims.count
    let inner = dims[rank - 1], di = ds[rank - 1], si = ss[rank - 1]
    let outer = dims.dropLast().reduce(1, *)
    let dimsOuter = Array(dims.dropLast()), dsO = Array(ds.dropLast()), ssO = Array(ss.dropLast())
    parallelFor(outer, grain: max(1, 32768 / max(inner, 1))) { range in
        var idx = [Int](repeating: 0, count: dimsOuter.count)
        // Decompose range.lowerBound into a multi-index.
        var rem = range.lowerBound
        for d in stride(from: dimsOuter.count - 1, through: 0, by: -1) { idx[d] = rem % dimsOuter[d]; rem /= dimsOuter[d] }
        var dOff = 0, sOff = 0
        for d in 0..<dimsOuter.count { dOff += idx[d] * dsO[d]; sOff += idx[d] * ssO[d] }
        for _ in range {
            let dp = dst + dOff, sp = src + sOff
            if di == 1 && si == 1 {
                dp.update(from: sp, count: inner)
            } else {
                for i in 0..<inner { dp[i * di] = sp[i * si] }
            }
            var d = dimsOuter.count - 1
            while d >= 0 {
                idx[d] += 1; dOff += dsO[d]; sOff += ssO[d]
                if idx[d] < dimsOuter[d] { break }
                dOff -= dsO[d] * dimsOuter[d]; sOff -= ssO[d] * dimsOuter[d]; idx[d] = 0
                d -= 1
            }
        }
    }
}

/// Fills `count` elements with `value`.
func fill<T: KernelScalar>(_ p: UnsafeMutablePointer<T>, _ count: Int, _ value: T) {
    parallelFor(count, grain: 65536) { r in (p + r.lowerBound).update(repeating: value, count: r.count) }
}

/// Calls `body` with the element type matching `dtype`.
@inline(__always)
func dispatch(_ dtype: DType, _ f32: () -> Void, _ f64: () -> Void) {
    switch dtype {
    case .float32: f32()
    case .float64: f64()
    }
}

// In-place elementwise loops. With distinct pointers LLVM vectorises `y[i] = f(x[i])` behind a runtime overlap
// check; when the executor runs an op in place (y == x) that check fails and the scalar fallback runs, 2–30×
// slower. Writing the in-place case through one pointer removes the check.

/// y[i] = f(x[i]) for i in 0..<n; y may be x.
@inline(__always)
func mapElements<T>(_ y: UnsafeMutablePointer<T>, _ x: UnsafePointer<T>, _ n: Int, _ f: (T) -> T) {
    if UnsafePointer(y) == x {
        for i in 0..<n { y[i] = f(y[i]) }
    } else {
        for i in 0..<n { y[i] = f(x[i]) }
    }
}

/// y[i] = f(a[i], b[i]) for i in 0..<n; y may be a or b.
@inline(__always)
func zipElements<T>(_ y: UnsafeMutablePointer<T>, _ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int, _ f: (T, T) -> T) {
    if UnsafePointer(y) == a {
        for i in 0..<n { y[i] = f(y[i], b[i]) }
    } else if UnsafePointer(y) == b {
        for i in 0..<n { y[i] = f(a[i], y[i]) }
    } else {
        for i in 0..<n { y[i] = f(a[i], b[i]) }
    }
}
