// One tensor of a safetensors file: dtype, shape (outermost first) and raw little-endian bytes, plus the
// conversions to and from Swift arrays. Conversions never read past `data`, whatever its size.
import Foundation

/// A tensor as stored in a safetensors file.
///
/// `data` holds `shape.reduce(1, *) × dtype.byteSize` little-endian bytes, row-major. Entries read from a file
/// are validated; entries built with ``init(dtype:shape:data:)`` are validated when the file is written.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The element type.
    public var dtype: SafeTensorsDType
    /// Dimensions, outermost first (PyTorch order); `[]` is a scalar.
    public var shape: [Int]
    /// Raw little-endian element bytes.
    public var data: Data

    /// Wraps raw bytes; their count is checked when the file is written.
    public init(dtype: SafeTensorsDType, shape: [Int], data: Data) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// Encodes `values` as a floating-point dtype (`.f32`, `.f16`, `.bf16` or `.f64`).
    ///
    /// F16 and BF16 round to nearest, ties to even; values beyond their range become ±infinity.
    /// - Parameters:
    ///   - values: `shape.reduce(1, *)` elements, row-major.
    ///   - shape: the dimensions, outermost first.
    ///   - dtype: the stored type; F32 by default, F16 to ship small models.
    public init(floats values: [Float], shape: [Int], dtype: SafeTensorsDType = .f32) {
        precondition(dtype.isFloatingPoint, "[SafeTensorsEntry] init(floats:) needs a floating-point dtype, got \(dtype.rawValue)")
        precondition(values.count == Self.checkedCount(shape), "[SafeTensorsEntry] \(values.count) values for shape \(shape)")
        self.init(dtype: dtype, shape: shape, data: Self.encode(values, dtype: dtype))
    }

    /// Encodes `values` as a floating-point dtype, F64 by default (gradient checks, optimizer statistics).
    public init(doubles values: [Double], shape: [Int], dtype: SafeTensorsDType = .f64) {
        precondition(dtype.isFloatingPoint, "[SafeTensorsEntry] init(doubles:) needs a floating-point dtype, got \(dtype.rawValue)")
        precondition(values.count == Self.checkedCount(shape), "[SafeTensorsEntry] \(values.count) values for shape \(shape)")
        self.init(dtype: dtype, shape: shape, data: Self.encode(values, dtype: dtype))
    }

    /// Encodes `values` as an integer dtype, I64 by default (step counters, RNG state).
    ///
    /// Values are truncated to the dtype's width; `.u64` stores an `Int`'s bit pattern, so a UInt64 RNG
    /// state passed as `Int(bitPattern:)` round-trips through ``integers()``.
    public init(integers values: [Int], shape: [Int], dtype: SafeTensorsDType = .i64) {
        precondition(!dtype.isFloatingPoint, "[SafeTensorsEntry] init(integers:) needs an integer dtype, got \(dtype.rawValue)")
        precondition(values.count == Self.checkedCount(shape), "[SafeTensorsEntry] \(values.count) values for shape \(shape)")
        let size = dtype.byteSize
        var bytes = Data(count: values.count * size)
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() {
                let bits = UInt64(bitPattern: Int64(value)).littleEndian
                // Little-endian: the low `size` bytes of the 64-bit pattern are the truncated value.
                withUnsafeBytes(of: bits) { source in
                    raw.baseAddress!.advanced(by: i * size).copyMemory(from: source.baseAddress!, byteCount: size)
                }
            }
        }
        self.init(dtype: dtype, shape: shape, data: bytes)
    }

    /// Number of elements, `shape.reduce(1, *)`.
    public var elementCount: Int { shape.reduce(1, *) }

    /// The elements converted to `Float` (F64 and 64-bit integers round to nearest).
    public func floats() -> [Float] { decodeFloating(as: Float.self) }

    /// The elements converted to `Double` (exact for every dtype except 64-bit integers beyond 2⁵³).
    public func doubles() -> [Double] { decodeFloating(as: Double.self) }

    /// The elements of an integer or BOOL entry as `Int` (U64 as its bit pattern); nil for floating point.
    public func integers() -> [Int]? {
        switch dtype {
        case .bool, .u8: return decode { raw, i in Int(raw.load(fromByteOffset: i, as: UInt8.self)) }
        case .i8: return decode { raw, i in Int(raw.load(fromByteOffset: i, as: Int8.self)) }
        case .u16: return decode { raw, i in Int(Self.uint16(raw, i)) }
        case .i16: return decode { raw, i in Int(Int16(bitPattern: Self.uint16(raw, i))) }
        case .u32: return decode { raw, i in Int(Self.uint32(raw, i)) }
        case .i32: return decode { raw, i in Int(Int32(bitPattern: Self.uint32(raw, i))) }
        case .u64: return decode { raw, i in Int(truncatingIfNeeded: Self.uint64(raw, i)) }
        case .i64: return decode { raw, i in Int(truncatingIfNeeded: Int64(bitPattern: Self.uint64(raw, i))) }
        case .f16, .bf16, .f32, .f64: return nil
        }
    }

    // MARK: - Decoding

    private func decodeFloating<T: BinaryFloatingPoint>(as: T.Type) -> [T] {
        switch dtype {
        case .f32: return decode { raw, i in T(Float(bitPattern: Self.uint32(raw, i))) }
        case .f64: return decode { raw, i in T(Double(bitPattern: Self.uint64(raw, i))) }
        case .f16: return decode { raw, i in T(Float(halfBits: Self.uint16(raw, i))) }
        case .bf16: return decode { raw, i in T(Float(bfloat16Bits: Self.uint16(raw, i))) }
        case .bool, .u8: return decode { raw, i in T(raw.load(fromByteOffset: i, as: UInt8.self)) }
        case .i8: return decode { raw, i in T(raw.load(fromByteOffset: i, as: Int8.self)) }
        case .u16: return decode { raw, i in T(Self.uint16(raw, i)) }
        case .i16: return decode { raw, i in T(Int16(bitPattern: Self.uint16(raw, i))) }
        case .u32: return decode { raw, i in T(Self.uint32(raw, i)) }
        case .i32: return decode { raw, i in T(Int32(bitPattern: Self.uint32(raw, i))) }
        case .u64: return decode { raw, i in T(Self.uint64(raw, i)) }
        case .i64: return decode { raw, i in T(Int64(bitPattern: Self.uint64(raw, i))) }
        }
    }

    /// Maps element `i` for every element that `data` really holds: an inconsistent hand-built entry yields
    /// fewer values instead of an out-of-bounds read.
    private func decode<T>(_ element: (UnsafeRawBufferPointer, Int) -> T) -> [T] {
        let count = Swift.min(Swift.max(elementCount, 0), data.count / dtype.byteSize)
        return data.withUnsafeBytes { raw in
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                for i in 0..<count { (buffer.baseAddress! + i).initialize(to: element(raw, i)) }
                initialized = count
            }
        }
    }

    private static func uint16(_ raw: UnsafeRawBufferPointer, _ i: Int) -> UInt16 {
        UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))
    }

    private static func uint32(_ raw: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
    }

    private static func uint64(_ raw: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
    }

    // MARK: - Encoding

    private static func checkedCount(_ shape: [Int]) -> Int {
        guard let bytes = SafeTensorsDType.byteCount(of: shape, dtype: .u8) else {
            preconditionFailure("[SafeTensorsEntry] invalid shape \(shape)")
        }
        return bytes
    }

    private static func encode<T: BinaryFloatingPoint>(_ values: [T], dtype: SafeTensorsDType) -> Data {
        var bytes = Data(count: values.count * dtype.byteSize)
        bytes.withUnsafeMutableBytes { raw in
            for (i, value) in values.enumerated() {
                switch dtype {
                case .f32: raw.storeBytes(of: Float(value).bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
                case .f64: raw.storeBytes(of: Double(value).bitPattern.littleEndian, toByteOffset: i * 8, as: UInt64.self)
                case .f16: raw.storeBytes(of: Float(value).halfBits.littleEndian, toByteOffset: i * 2, as: UInt16.self)
                case .bf16: raw.storeBytes(of: Float(value).bfloat16Bits.littleEndian, toByteOffset: i * 2, as: UInt16.self)
                default: preconditionFailure("unreachable: checked by the initializers")
                }
            }
        }
        return bytes
    }
}
