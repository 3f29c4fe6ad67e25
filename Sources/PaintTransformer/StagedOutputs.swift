import Foundation
import Synchronization
import Atelier
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The outputs of a painting job, checked before any work and published together at the end.
//
// Up front (creating nothing): every target's directory exists and takes a new file (probed by creating and at
// once removing one), no target is a directory, FIFO or device, no two targets are one file, and no target is one
// of the job's inputs (resolved through symlinks and compared by device and inode too, so a hard link counts).
// Temporary files `.<name>.<pid>-<UUID>.partial` exist only while the finished, already encoded outputs are
// written and renamed; any failure removes them, and so does a fatal signal in that window. Leftovers of a killed
// earlier run (their process gone) are removed at the next start.
final class StagedOutputs {
    struct Target {
        var flag: String
        var url: URL
    }

    private let targets: [Target]

    /// - Parameters:
    ///   - targets: (flag, file) per output.
    ///   - inputs: (what, file) per input the job reads, e.g. ("the input photo", photo).
    init(_ targets: [(flag: String, url: URL)], inputs: [(what: String, url: URL)]) throws(PaintJobError) {
        self.targets = targets.map { Target(flag: $0.flag, url: $0.url.standardizedFileURL) }
        var seen: [FileIdentity] = []
        for target in self.targets {
            let label = "\(target.url.path) (\(target.flag))"
            let directory = target.url.deletingLastPathComponent()
            switch FileKind(path: directory.path) {
            case .directory: break
            case .missing: throw .unwritable(path: label, reason: "directory \(directory.path) does not exist")
            case let kind: throw .unwritable(path: label, reason: "\(directory.path) is \(kind.phrase), not a directory")
            }
            switch FileKind(path: target.url.path) {
            case .missing, .regular: break
            case let kind: throw .unwritable(path: label, reason: "it is \(kind.phrase); give a file name")
            }
            let identity = FileIdentity(target.url)
            if let earlier = seen.firstIndex(where: { $0.matches(identity) }) {
                throw .badOption("\(self.targets[earlier].flag) and \(target.flag) name the same file \(target.url.path)")
            }
            seen.append(identity)
            for input in inputs where FileIdentity(input.url).matches(identity) {
                throw .badOption("\(target.flag) \(target.url.path) is \(input.what) (\(input.url.path)); "
                                 + "writing it would destroy it — choose another output path")
            }
            Self.removeStaleTemporaries(of: target.url)
            if let reason = Self.probeWritable(directory) { throw .unwritable(path: label, reason: reason) }
        }
    }

    /// Writes `items` (already encoded, one per target) to temporaries beside their targets, then renames them
    /// onto the targets. On failure no temporary remains; targets renamed before a failed rename stay replaced.
    func publish(_ items: [(url: URL, data: Data)]) throws(PaintJobError) {
        var temporaries: [(target: Target, temporary: String)] = []
        for item in items {
            guard let target = targets.first(where: { $0.url == item.url.standardizedFileURL }) else { continue }
            temporaries.append((target, Self.temporaryPath(for: target.url, pid: getpid())))
        }
        let registration = FatalSignalCleanup.register(temporaries.map(\.temporary))
        defer {
            for (_, temporary) in temporaries { unlink(temporary) }  // no-op once renamed
            FatalSignalCleanup.unregister(registration)
        }
        for (item, (target, temporary)) in zip(items, temporaries) {
            do { try item.data.write(to: URL(fileURLWithPath: temporary)) } catch {
                throw .unwritable(path: "\(target.url.path) (\(target.flag))", reason: error.localizedDescription)
            }
        }
        // Targets may have changed while painting; a rename onto a directory would fail half-way through.
        for (target, _) in temporaries {
            let kind = FileKind(path: target.url.path)
            if kind != .missing, kind != .regular {
                throw .unwritable(path: "\(target.url.path) (\(target.flag))", reason: "it is \(kind.phrase); give a file name")
            }
        }
        for (target, temporary) in temporaries where rename(temporary, target.url.path) != 0 {
            throw .unwritable(path: "\(target.url.path) (\(target.flag))", reason: String(cString: strerror(errno)))
        }
    }

    static func temporaryPath(for target: URL, pid: Int32) -> String {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(pid)-\(UUID().uuidString).partial").path
    }

    /// Creates and removes a file in `directory`; nil when that worked, else why not.
    private static func probeWritable(_ directory: URL) -> String? {
        let path = directory.appendingPathComponent(".atelier-paint-probe.\(getpid())-\(UUID().uuidString).partial").path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot create files in \(directory.path): \(String(cString: strerror(errno)))" }
        close(fd)
        unlink(path)
        return nil
    }

    /// Removes `.<name>.<pid>-<UUID>.partial` beside `target` whose process is gone, and the empty
    /// `.<name>.<UUID>.partial` earlier versions created before painting.
    static func removeStaleTemporaries(of target: URL) {
        let directory = target.deletingLastPathComponent()
        let prefix = ".\(target.lastPathComponent).", suffix = ".partial"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(suffix) && name.count > prefix.count + suffix.count {
            let middle = String(name.dropFirst(prefix.count).dropLast(suffix.count))
            let path = directory.appendingPathComponent(name).path
            let stale: Bool
            if let dash = middle.firstIndex(of: "-"), let pid = Int32(middle[..<dash]), UUID(uuidString: String(middle[middle.index(after: dash)...])) != nil {
                stale = pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH
            } else if UUID(uuidString: middle) != nil {
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
                stale = size == 0
            } else {
                stale = false
            }
            if stale, FileKind(path: path) == .regular { unlink(path) }
        }
    }
}

/// A path resolved through symlinks (of the file, or of its directory when it does not exist yet) and, for an
/// existing file, its device and inode.
struct FileIdentity {
    var path: String
    var device: UInt64?
    var inode: UInt64?

    init(_ url: URL) {
        let raw = url.standardizedFileURL.path
        if let resolved = realpath(raw, nil) {
            path = String(cString: resolved)
            free(resolved)
        } else if let parent = realpath(url.standardizedFileURL.deletingLastPathComponent().path, nil) {
            path = String(cString: parent) + "/" + url.lastPathComponent
            free(parent)
        } else {
            path = raw
        }
        var info = stat()
        if stat(raw, &info) == 0 {
            device = UInt64(info.st_dev)
            inode = UInt64(info.st_ino)
        }
    }

    func matches(_ other: FileIdentity) -> Bool {
        if path == other.path { return true }
        if let device, let inode, device == other.device, inode == other.inode { return true }
        return false
    }
}

/// Temporary files removed if the process dies of a signal while they exist (Ctrl-C, kill, a trap): the handler
/// unlinks them, restores the previous action and re-raises, so the default or the runtime's crash report follows.
enum FatalSignalCleanup {
    static let capacity = 64
    static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV]

    /// What the handler reads. A signal handler may only do async-signal-safe things (no locks, no allocation, no
    /// reference counting), so this is raw memory allocated once and never freed, reached through plain pointers;
    /// writers hold `users`' lock, and the handler sees each slot as one pointer-sized store.
    struct HandlerMemory: @unchecked Sendable {
        /// Registered paths (strdup'ed, never freed: a handler on another thread may still read one).
        let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
        /// The actions the handler replaced, by signal number.
        let previous: UnsafeMutablePointer<sigaction>
    }
    static let memory: HandlerMemory = {
        let slots = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        slots.initialize(repeating: nil, count: capacity)
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: 65)
        previous.initialize(repeating: sigaction(), count: 65)
        return HandlerMemory(slots: slots, previous: previous)
    }()
    /// Registrations alive (the handlers are installed while any is); its lock also orders writes to the slots.
    private static let users = Mutex(0)

    /// Registers `paths`; returns their slots for `unregister`.
    static func register(_ paths: [String]) -> [Int] {
        users.withLock { users in
            let memory = memory  // initialised before any handler can run
            var taken: [Int] = []
            for path in paths {
                guard let slot = (0..<capacity).first(where: { memory.slots[$0] == nil }) else { break }
                memory.slots[slot] = strdup(path)
                taken.append(slot)
            }
            if users == 0 {
                for signal in signals {
                    var action = sigaction()
                    action.__sigaction_handler.sa_handler = fatalSignalHandler
                    sigemptyset(&action.sa_mask)
                    action.sa_flags = 0
                    sigaction(signal, &action, memory.previous + Int(signal))
                }
            }
            users += 1
            return taken
        }
    }

    static func unregister(_ taken: [Int]) {
        users.withLock { users in
            for slot in taken { memory.slots[slot] = nil }
            users -= 1
            if users == 0 {
                for signal in signals { sigaction(signal, memory.previous + Int(signal), nil) }
            }
        }
    }
}

private func fatalSignalHandler(_ signal: Int32) {
    let memory = FatalSignalCleanup.memory
    for i in 0..<FatalSignalCleanup.capacity {
        if let path = memory.slots[i] { unlink(path) }
    }
    sigaction(signal, memory.previous + Int(signal), nil)
    raise(signal)
}
