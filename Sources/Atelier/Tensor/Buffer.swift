// Tensor storage: 64-byte aligned raw memory, recycled through the current context's memory pool so that training
// steps, which allocate the same sizes every step, do not pay for fresh pages each time.
import Foundation

/// Contiguous, 64-byte aligned storage for one tensor value.
public final class Buffer: @unchecked Sendable {
    public let raw: UnsafeMutableRawPointer
    public let byteCount: Int
    /// The pool the memory came from and goes back to, whichever context frees it.
    private let pool: MemoryPool

    init(byteCount: Int) {
        self.byteCount = byteCount
        self.pool = ExecutionContext.current.memoryPool
        self.raw = pool.take(byteCount: byteCount)
    }

    deinit { pool.give(raw, byteCount: byteCount) }

    @inline(__always) public func pointer<T>(as: T.Type) -> UnsafeMutablePointer<T> {
        raw.assumingMemoryBound(to: T.self)
    }
}

/// A cache of freed allocations keyed by exact size. Bounded so an idle process does not hoard memory.
public final class MemoryPool: @unchecked Sendable {
    /// The pool of the default context and of every context given no other: one cache for the process.
    public static let shared = MemoryPool()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Above this, freed blocks go back to the system.
    public let capacityBytes: Int

    public init(capacityBytes: Int = 4 << 30) {
        self.capacityBytes = capacityBytes
    }

    deinit { trim() }

    func take(byteCount: Int) -> UnsafeMutableRawPointer {
        let size = max(byteCount, 1)
        lock.lock()
        if var list = free[size], let p = list.popLast() {
            free[size] = list
            cachedBytes -= size
            lock.unlock()
            return p
        }
        lock.unlock()
        return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    func give(_ p: UnsafeMutableRawPointer, byteCount: Int) {
        let size = max(byteCount, 1)
        lock.lock()
        if cachedBytes + size <= capacityBytes {
            free[size, default: []].append(p)
            cachedBytes += size
            lock.unlock()
        } else {
            lock.unlock()
            p.deallocate()
        }
    }

    /// Bytes held for reuse.
    public var cachedByteCount: Int {
        lock.lock(); defer { lock.unlock() }
        return cachedBytes
    }

    /// Returns every cached block to the system.
    public func trim() {
        lock.lock()
        for (_, list) in free { list.forEach { $0.deallocate() } }
        free = [:]
        cachedBytes = 0
        lock.unlock()
    }
}
