// Broadcasting binary ops (NumPy rules) and `where`. Gradients sum back over broadcast dimensions.

public enum BinaryKind: String, Sendable {
    case add, sub, mul, div, maximum, minimum, greater, greaterEqual, less, lessEqual, equal
}

/// The broadcast shape of two shapes, or nil if they are incompatible.
public func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
}

/// Strides for reading an array of `shape` as if it had `outShape` (0 on broadcast dimensions).
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let base = contiguousStrides(shape)
    let offset = outShape.count - shape.count
    return (0..<outShape.count).map { i in
        i < offset ? 0 : (shape[i - offset] == 1 && outShape[i] != 1 ? 0 : base[i - offset])
    }
}

/// A binary elementwise function as a type, so that generic specialisation puts it inline in every parallel
/// slice (a closure value handed to the worker threads was called per element through a thunk).
protocol BinaryFunction {
    static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T
}

enum AddFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a + b } }
enum SubFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a - b } }
enum MulFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a * b } }
enum DivFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a / b } }
enum MaximumFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a >= b ? a : b } }
enum MinimumFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a <= b ? a : b } }
enum GreaterFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a > b ? 1 : 0 } }
enum GreaterEqualFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a >= b ? 1 : 0 } }
enum LessFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a < b ? 1 : 0 } }
enum LessEqualFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a <= b ? 1 : 0 } }
enum EqualFunction: BinaryFunction { @inline(__always) static func apply<T: KernelScalar>(_ a: T, _ b: T) -> T { a == b ? 1 : 0 } }

/// Runs `F` over the broadcast of two inputs into a contiguous output.
func broadcastMap<T: KernelScalar, F: BinaryFunction>(_: F.Type, _ a: UnsafePointer<T>, _ aShape: [Int], _ b: UnsafePointer<T>, _ bShape: [Int],
                                                      _ y: UnsafeMutablePointer<T>, _ outShape: [Int]) {
    let n = outShape.reduce(1, *)
    if aShape == bShape {
        parallelFor(n, grain: 32768) { r in
            let o = r.lowerBound
            zipElements(y + o, a + o, b + o, r.count) { F.apply($0, $1) }
        }
        return
    }
    // A scalar operand (constants such as `x * 0.5`): hoisted, so the loop vectorises.
    if bShape.reduce(1, *) == 1 && aShape.reduce(1, *) == n {
        let vb = b[0]
        parallelFor(n, grain: 32768) { r in mapElements(y + r.lowerBound, a + r.lowerBound, r.count) { F.apply($0, vb) } }
        return
    }
    if aShape.reduce(1, *) == 1 && bShape.reduce(1, *) == n {
        let va = a[0]
        parallelFor(n, grain: 32768) { r in mapElements(y + r.lowerBound, b + r.lowerBound, r.count) { F.apply(va, $0) } }
        return
    }
    let (dims, st) = coalesce(shape: outShape, strideSets: [broadcastStrides(aShape, to: outShape), broadcastStrides(bShape, to: outShape)])
    let rank = dims.count, inner = dims[rank - 1]
    let sa = st[0], sb = st[1]
    let ia = sa[rank - 1], ib = sb[rank - 1]
    let outerDims = Array(dims.dropLast())
    let outer = outerDims.reduce(1, *)
    parallelFor(outer, grain: max(1, 32768 / inner)) { r in
        for o in r {
            var rem = o, offA = 0, offB = 0
            for d in stride(from: outerDims.count - 1, through: 0, by: -1) {
                let i = rem % outerDims[d]; rem /= outerDims[d]
                offA += i * sa[d]; offB += i * sb[d]
            }
            let pa = a + offA, pb = b + offB, py = y + o * inner
            switch (ia, ib) {
            case (1, 1): zipElements(py, pa, pb, inner) { F.apply($0, $1) }
            case (1, 0): let vb = pb[0]; mapElements(py, pa, inner) { F.apply($0, vb) }
            case (0, 1): let va = pa[0]; mapElements(py, pb, inner) { F.apply(va, $0) }
            default: for i in 0..<inner { py[i] = F.apply(pa[i * ia], pb[i * ib]) }
            }
        }
    }
}

struct BinaryOp: Op {
    let kind: BinaryKind
    var name: String { kind.rawValue }
    var inPlaceCandidates: [Int] { [0, 1] }

    func execute(_ c: KernelContext) {
        dispatch(c.dtype, { run(Float.self, c) }, { run(Double.self, c) })
    }

    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext) {
        let a = UnsafePointer(c.inputs[0].pointer(as: T.self)), b = UnsafePointer(c.inputs[1].pointer(as: T.self))
        let y = c.outputs[0].pointer(as: T.self)
        let sa = c.inputShapes[0], sb = c.inputShapes[1], so = c.outputShapes[0]
        switch kind {
        case .add: broadcastMap(AddFunction.self, a, sa, b, sb, y, so)
        case .sub: broadcastMap(SubFunction.self, a, sa, b, sb, y, so)
        case .mul: broadcastMap(MulFunction.self, a, sa, b, sb, y, so)
        case .div: broadcastMap(DivFunction.self, a, sa, b, sb, y, so)
        case .maximum: broadcastMap(MaximumFunction.self, a, sa, b, sb, y, so)
        case .minimum: broadcastMap(MinimumFunction.self, a, sa, b, sb, y, so)
        case .greater: broadcastMap(GreaterFunction.self, a, sa, b, sb, y, so)
        case .greaterEqual: broadcastMap(GreaterEqualFunction.self, a, sa, b, sb, y, so)
        case .less: broadcastMap(LessFunction.self, a, sa, b, sb, y, so)
        case .lessEqual: broadcastMap(LessEqualFunction.self, a, sa, b, sb, y, so)
        case .equal: broadcastMap(EqualFunction.self, a, sa, b, sb, y, so)
        }
    }

    func gradient(_ c: GradientContext) -> [Tensor?] {
        let a = c.inputs[0], b = c.inputs[1], g = c.grad
        switch kind {
        case .add: return [g.sum(toShape: a.shape), g.sum(toShape: b.shape)]
        case .sub: return [g.sum(toShape: a.shape), (-g).sum(toShape: b.shape)]
        case .mul: return [(g * b).sum(toShape: a.shape), (g * a).sum(toShape: b.shape)]
        case .div:
            // d(a/b) = da/b − a·db/b²
            return [(g / b).sum(toShape: a.shape), (-(g * a) / b.square()).sum(toShape: b.shape)]
        case .maximum, .minimum:
            // Ties send the gradient to `a`, matching the forward's choice.
            let pickA = kind == .maximum ? a.greaterEqual(b) : a.lessEqual(b)
            return [(g * pickA).sum(toShape: a.shape), (g * (1 - pickA)).sum(toShape: b.shape)]
        default: return [nil, nil]
        }
    }
}

extension Tensor {
    func binary(_ kind: BinaryKind, _ other: Tensor) -> Tensor {
        shapeCheck(dtype == other.dtype, kind.rawValue, "dtypes differ: \(dtype) \(shape) vs \(other.dtype) \(other.shape)")
        guard let out = broadcastShape(shape, other.shape) else {
            fatalError("[\(kind.rawValue)] shapes do not broadcast: \(shape) vs \(other.shape)")
        }
        return Tensor.make(BinaryOp(kind: kind), [self, other], shape: out, dtype: dtype)
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor { a.binary(.add, b) }
    public static func - (a: Tensor, b: Tensor) -> Tensor { a.binary(.sub, b) }
    public static func * (a: Tensor, b: Tensor) -> Tensor { a.binary(.mul, b) }
    public static func / (a: Tensor, b: Tensor) -> Tensor { a.binary(.div, b) }
    public static func + (a: Tensor, b: Double) -> Tensor { a.binary(.add, a.constant(b)) }
    public static func - (a: Tensor, b: Double) -> Tensor { a.binary(.sub, a.constant(b)) }
    public static func * (a: Tensor, b: Double) -> Tensor { a.binary(.mul, a.constant(b)) }
    public static func / (a: Tensor, b: Double) -> Tensor { a.binary(.mul, a.constant(1 / b)) }
    public static func + (a: Double, b: Tensor) -> Tensor { b.constant(a).binary(.add, b) }
    public static func - (a: Double, b: Tensor) -> Tensor { b.constant(a).binary(.sub, b) }
    public static func * (a: Double, b: Tensor) -> Tensor { b.constant(a).binary(.mul, b) }
    public static func / (a: Double, b: Tensor) -> Tensor { b.constant(a).binary(.div, b) }

    public func maximum(_ other: Tensor) -> Tensor { binary(.maximum, other) }
    public func minimum(_ other: Tensor) -> Tensor { binary(.minimum, other) }
    public func maximum(_ v: Double) -> Tensor { binary(.maximum, constant(v)) }
    public func minimum(_ v: Double) -> Tensor { binary(.minimum, constant(v)) }
    /// Elementwise comparisons give 1 or 0 in this tensor's dtype; no gradient.
    public func greater(_ other: Tensor) -> Tensor { binary(.greater, other) }
    public func greaterEqual(_ other: Tensor) -> Tensor { binary(.greaterEqual, other) }
    public func less(_ other: Tensor) -> Tensor { binary(.less, other) }
    public func lessEqual(_ other: Tensor) -> Tensor { binary(.lessEqual, other) }
    public func equal(_ other: Tensor) -> Tensor { binary(.equal, other) }
    public func greater(_ v: Double) -> Tensor { binary(.greater, constant(v)) }
    public func less(_ v: Double) -> Tensor { binary(.less, constant(v)) }

    /// `condition ? a : b` elementwise (condition non-zero picks `a`), broadcasting all three. Unlike
    /// arithmetic blends it keeps infinities in the unselected branch out of the result.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        guard let ab = broadcastShape(a.shape, b.shape), let out = broadcastShape(condition.shape, ab) else {
            fatalError("[where] shapes do not broadcast: \(condition.shape), \(a.shape), \(b.shape)")
        }
        shapeCheck(a.dtype == b.dtype && condition.dtype == a.dtype, "where", "dtypes differ: \(condition.dtype), \(a.dtype), \(b.dtype)")
        return Tensor.make(WhereOp(), [condition.expanded(to: out), a.expanded(to: out), b.expanded(to: out)], shape: out, dtype: a.dtype)
    }

    /// Clamps to `[lo, hi]`.
    public func clamped(_ lo: Double, _ hi: Double) -> Tensor { maximum(lo).minimum(hi) }
}

/// Elementwise select over three same-shaped inputs (condition, a, b).
struct WhereOp: Op {
    var name: String { "where" }
    var inPlaceCandidates: [Int] { [1, 2] }
    func execute(_ c: KernelContext) {
        let n = c.outputShapes[0].reduce(1, *)
        dispatch(c.dtype, { run(Float.self, c, n) }, { run(Double.self, c, n) })
    }
    private func run<T: KernelScalar>(_: T.Type, _ c: KernelContext, _ n: Int) {
        let m = c.inputs[0].pointer(as: T.self), a = c.inputs[1].pointer(as: T.self), b = c.inputs[2].pointer(as: T.self)
        let y = c.outputs[0].pointer(as: T.self)
        parallelFor(n, grain: 32768) { r in for i in r { y[i] = m[i] != 0 ? a[i] : b[i] } }
    }
    func gradient(_ c: GradientContext) -> [Tensor?] {
        let (m, g) = (c.inputs[0], c.grad)
        let zero = Tensor.zeros(like: g)
        return [nil, Tensor.where(m, g, zero), Tensor.where(m, zero, g)]
    }
}
