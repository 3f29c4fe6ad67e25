// The engine's ProcessGroup over MPI (Open MPI as Debian ships it). Start the program with
// `mpirun -np N program …`; MPI is only initialised when the environment says mpirun started this process.
import Atelier
import CMPI
import Foundation

/// MPI_COMM_WORLD as a process group. Every call returns MPI's error as a `ProcessGroupError` naming the call
/// (the communicator is switched to MPI_ERRORS_RETURN, so MPI does not abort on its own).
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm
    private var finalized = false

    /// Whether mpirun (or another MPI launcher) started this process.
    public static var launchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"].contains { env[$0] != nil }
    }

    /// Worker threads for each rank so that this machine's ranks share its cores (mpirun tells each process how
    /// many ranks run on its node).
    public static var threadsPerLocalRank: Int {
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        return max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))
    }

    /// Initialises MPI (threads: only the main thread calls MPI; the engine's workers never do).
    public init() throws(ProcessGroupError) {
        var provided: Int32 = 0
        try Self.check(MPI_Init_thread(nil, nil, atelier_mpi_thread_funneled(), &provided), "MPI_Init_thread")
        comm = atelier_mpi_comm_world()
        try Self.check(MPI_Comm_set_errhandler(comm, atelier_mpi_errors_return()), "MPI_Comm_set_errhandler")
        var r: Int32 = 0, s: Int32 = 0
        try Self.check(MPI_Comm_rank(comm, &r), "MPI_Comm_rank")
        try Self.check(MPI_Comm_size(comm, &s), "MPI_Comm_size")
        rank = Int(r)
        size = Int(s)
    }

    /// A group when mpirun started this process, else nil (one process needs no MPI).
    public static func fromEnvironment() throws(ProcessGroupError) -> MPIProcessGroup? {
        launchedByMPI ? try MPIProcessGroup() : nil
    }

    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) throws(ProcessGroupError) {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), values.count, atelier_mpi_float(), "MPI_Allreduce(float)")
    }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) throws(ProcessGroupError) {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), values.count, atelier_mpi_double(), "MPI_Allreduce(double)")
    }
    public func allReduceSum(_ values: UnsafeMutableBufferPointer<UInt64>) throws(ProcessGroupError) {
        try reduce(UnsafeMutableRawPointer(values.baseAddress), values.count, atelier_mpi_uint64(), "MPI_Allreduce(uint64)")
    }

    /// In place, in pieces that fit MPI's 32-bit counts.
    private func reduce(_ base: UnsafeMutableRawPointer?, _ count: Int, _ type: MPI_Datatype, _ call: String) throws(ProcessGroupError) {
        guard let base, count > 0 else { return }
        var elementSize: Int32 = 0
        try Self.check(MPI_Type_size(type, &elementSize), "MPI_Type_size")
        var start = 0
        while start < count {
            let n = min(count - start, Int(Int32.max) / 8)
            try Self.check(MPI_Allreduce(atelier_mpi_in_place(), base + start * Int(elementSize), Int32(n), type,
                                         atelier_mpi_sum(), comm), call)
            start += n
        }
    }

    public func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) throws(ProcessGroupError) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            let n = min(bytes.count - start, 1 << 30)
            try Self.check(MPI_Bcast(base + start, Int32(n), atelier_mpi_byte(), Int32(root), comm), "MPI_Bcast")
            start += n
        }
    }

    public func barrier() throws(ProcessGroupError) {
        try Self.check(MPI_Barrier(comm), "MPI_Barrier")
    }

    /// Ends every process of the job with `code` (after an error on one rank that the others cannot see).
    public func abort(code: Int32) -> Never {
        MPI_Abort(comm, code)
        exit(code)
    }

    /// Call once, after the last collective; a rank that skips it makes mpirun report an abnormal end.
    public func finalize() {
        guard !finalized else { return }
        finalized = true
        MPI_Finalize()
    }

    private static func check(_ code: Int32, _ call: String) throws(ProcessGroupError) {
        guard code != atelier_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(atelier_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        throw ProcessGroupError(call: call, reason: String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self) + " (MPI error \(code))")
    }
}
