// The processes that train one model together (data parallelism). The engine only needs a few collective
// calls; an MPI implementation lives in the AtelierMPI target, so linking the engine never links MPI.

/// A failed collective call: the call's name and the transport's message.
public struct ProcessGroupError: Error, CustomStringConvertible {
    public let call: String
    public let reason: String
    public init(call: String, reason: String) {
        self.call = call
        self.reason = reason
    }
    public var description: String { "\(call) failed: \(reason)" }
}

/// Collective operations over a fixed set of processes. Every member makes the same calls in the same order
/// with buffers of the same length; the calls block until all members have joined.
public protocol ProcessGroup: AnyObject {
    /// This process's index, 0 ..< size.
    var rank: Int { get }
    var size: Int { get }
    /// Replaces every element by its sum over all members.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError)
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError)
    /// Sums unsigned integers (with wrap-around); with all members but one contributing zeros, this gathers.
    func allReduceSum(_ values: UnsafeMutableBufferPointer<UInt64>) throws(ProcessGroupError)
    /// Copies `root`'s bytes into every member's buffer.
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(ProcessGroupError)
    func barrier() throws(ProcessGroupError)
}

extension ProcessGroup {
    public var isRoot: Bool { rank == 0 }

    public func allReduceSum(_ values: inout [Float]) throws(ProcessGroupError) {
        try values.withUnsafeMutableBufferPointer { (p) throws(ProcessGroupError) in try allReduceSum(p) }
    }
    public func allReduceSum(_ values: inout [Double]) throws(ProcessGroupError) {
        try values.withUnsafeMutableBufferPointer { (p) throws(ProcessGroupError) in try allReduceSum(p) }
    }
    public func allReduceSum(_ values: inout [UInt64]) throws(ProcessGroupError) {
        try values.withUnsafeMutableBufferPointer { (p) throws(ProcessGroupError) in try allReduceSum(p) }
    }

    /// `root`'s bytes on every member (the others' `bytes` are ignored): the length goes first, so members need
    /// not know it. A root that has nothing to send passes nil and every member receives nil.
    public func broadcast(_ bytes: [UInt8]?, root: Int = 0) throws(ProcessGroupError) -> [UInt8]? {
        // Raw allocations: the standard library's byte-access closures do not carry typed throws.
        let length = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { length.deallocate() }
        length.storeBytes(of: rank == root ? Int64(bytes.map(\.count) ?? -1) : 0, as: Int64.self)
        try broadcast(length, root: root)
        let count = length.load(as: Int64.self)
        guard count >= 0 else { return nil }
        let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(count), alignment: 16)
        defer { payload.deallocate() }
        if rank == root { payload.copyBytes(from: bytes!) }
        try broadcast(payload, root: root)
        return [UInt8](payload)
    }

    /// Whether any member passed true (a vote every member learns at the same point).
    public func any(_ flag: Bool) throws(ProcessGroupError) -> Bool {
        var value: [UInt64] = [flag ? 1 : 0]
        try allReduceSum(&value)
        return value[0] > 0
    }
}

/// One process on its own: every collective is the identity.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {}
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {}
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<UInt64>) {}
    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    public func barrier() {}
}

extension ProcessGroup {
    /// Copies `root`'s values of every parameter (weights, buffers or optimiser state) to all members, so that a
    /// run starts from one state whatever each process computed or read.
    public func broadcast(_ parameters: [StoredTensor], root: Int = 0) throws(ProcessGroupError) {
        guard size > 1 else { return }
        for p in parameters {
            try broadcast(UnsafeMutableRawBufferPointer(start: p.buffer.raw, count: p.count * p.dtype.byteSize), root: root)
        }
    }
}

extension ProcessGroup {
    /// Whether every member holds bit-identical values: each member's 64-bit FNV-1a hash of the bytes, gathered.
    /// Data-parallel trainers check this at each checkpoint, so replicas that drifted apart (a rank that drew
    /// different data or ran different code) stop the run instead of training silently apart.
    public func holdIdentical(_ parameters: [StoredTensor]) throws(ProcessGroupError) -> Bool {
        guard size > 1 else { return true }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for p in parameters {
            // Whole 8-byte words (FNV-1a over words): every dtype's storage is a multiple of 4 bytes.
            let bytes = UnsafeRawBufferPointer(start: p.buffer.raw, count: p.count * p.dtype.byteSize)
            var i = 0
            while i + 8 <= bytes.count {
                hash = (hash ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                i += 8
            }
            while i < bytes.count { hash = (hash ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3; i += 1 }
        }
        var all = [UInt64](repeating: 0, count: size)
        all[rank] = hash
        try allReduceSum(&all)
        return all.allSatisfy { $0 == hash }
    }

    /// Every shard's state words on every member: `states[shard]` holds each shard's words (all shards the same
    /// length); a member's own shards (`owned`) are current, the others' are filled in from their owners.
    public func gatherShardStates(_ states: inout [[UInt64]], owned: [Int]) throws(ProcessGroupError) {
        guard size > 1, let width = states.first?.count else { return }
        var packed = [UInt64](repeating: 0, count: states.count * width)
        for shard in owned { for k in 0..<width { packed[shard * width + k] = states[shard][k] } }
        try allReduceSum(&packed)
        for shard in states.indices { states[shard] = Array(packed[(shard * width)..<((shard + 1) * width)]) }
    }

    /// Runs `body` on the root only (writing a file, say) and tells every member whether it threw: the root
    /// rethrows its error, the others throw a `ProcessGroupError` naming `what`.
    public func runOnRoot(_ what: String, _ body: () throws -> Void) throws {
        var failure: Error? = nil
        if isRoot {
            do { try body() } catch { failure = error }
        }
        if size > 1, try any(failure != nil), failure == nil {
            throw ProcessGroupError(call: what, reason: "it failed on rank 0")
        }
        if let failure { throw failure }
    }
}
