import Foundation

extension SafeTensorsFile {
    /// The file as the group's root reads it, on every member: only the root opens `url` (on several machines
    /// the file need not exist elsewhere) and sends the validated bytes. Every member must call this.
    public static func read(from url: URL, sharedBy group: ProcessGroup) throws(CheckpointError) -> SafeTensorsFile {
        guard group.size > 1 else { return try read(from: url) }
        var rootFile: SafeTensorsFile? = nil, rootError: CheckpointError? = nil, bytes: [UInt8]? = nil
        if group.isRoot {
            do {
                let file = try read(from: url)
                bytes = [UInt8](try file.encoded())
                rootFile = file
            } catch { rootError = error }
        }
        let received: [UInt8]?
        do { received = try group.broadcast(bytes) } catch {
            throw .unreadable(path: url.path, reason: "it could not be shared among the MPI ranks: \(error)")
        }
        if let rootError { throw rootError }
        if let rootFile { return rootFile }
        guard let received else { throw .unreadable(path: url.path, reason: "rank 0 could not read it") }
        return try decode(Data(received), source: url.path)
    }
}
