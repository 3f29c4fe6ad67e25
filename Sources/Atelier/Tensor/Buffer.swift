// Tensor storage: 64-byte aligned raw memory, recycled through a process-wide pool so that training
// steps, which allocate the same sizes every step, do not pay for fresh pages each time.
import Foundation

/// Contiguous, 64-byte aligned storage for one tensor value.
public final class Buffer: @unchecked Sendable {
    public let raw: UnsafeMutableRawPointer
    public let byteCount: Int

    init(byteCount: Int) {
        self.byteCount = byteCount
        self.raw = MemoryPool.shared.take(byteCount: byteCount)
    }

    deinit { MemoryPool.shared.give(raw, byteCount: byteCount) }

    @inline(__always) public func pointer<T>(as: T.Type) -> UnsafeMutablePointer<T> {
        raw.assumingMemoryBound(to: T.self)
    }
}

/// A cache of freed allocations keyed by exact size. Bounded so an idle process does not hoard memory.
final class MemoryPool: @unchecked Sendable {
    static let shared = MemoryPool()
    private var free: [Int: [UnsafeMutableRawPointer]] = [:]
    private var cachedBytes = 0
    private let lock = NSLock()
    /// Above this, freed blocks go back to the system.
    var capacityBytes = 4 << 30

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

    /// Returns every cached block to the system.
    func trim() {
        lock.lock()
        for (_, list) in free { list.forEach { $0.deallocate() } }
        free = [:]
        cachedBytes = 0
        lock.unlock()
    }
}
