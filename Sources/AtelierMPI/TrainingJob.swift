// What both training executables do around their run: start the process group the environment asks for (MPI ranks
// under mpirun, else one process), end the whole job on an error, finalise MPI, and turn the outcome into one exit
// status convention.
import Atelier

public enum TrainingJob {
    /// How a job ends, as its exit status.
    public enum Outcome: Int32, Sendable {
        case finished = 0
        /// An error on any rank (reported by the root, or by the failing process before MPI started).
        case failed = 1
        /// Stopped on request after writing a checkpoint: 130, the status of an interrupted program.
        case stopped = 130
    }

    /// Runs `body` (true: stopped on request) on the environment's process group.
    ///
    /// An error that `body` throws on any rank is reported by the root and aborts every rank: a rank that stopped
    /// alone would leave the others waiting in a collective. `report` prints an error (the group could not start,
    /// or `body` failed).
    public static func run(report: (any Error) -> Void, _ body: (ProcessGroup) throws -> Bool) -> Outcome {
        let group: ProcessGroup
        do { group = try MPIProcessGroup.fromEnvironment() ?? SingleProcess() } catch {
            report(error)
            return .failed
        }
        let mpi = group as? MPIProcessGroup
        let stopped: Bool
        do { stopped = try body(group) } catch {
            if group.isRoot { report(error) }
            mpi?.abort(code: Outcome.failed.rawValue)
            return .failed
        }
        mpi?.finalize()
        return stopped ? .stopped : .finished
    }
}
