// Ctrl-C, SIGTERM and SIGUSR1 as a request to stop, which a long run polls between steps (the training tools then
// save a checkpoint and exit 130). Under mpirun, SIGUSR1 goes to mpirun, which forwards it to every rank.
import Foundation
import Synchronization

public enum StopRequest {
    /// Lock-free, so the signal handler may set it.
    private static let requested = Atomic<Bool>(false)

    /// From now on SIGINT, SIGTERM and SIGUSR1 request a stop instead of ending the process.
    public static func installSignalHandlers() {
        for number in [SIGINT, SIGTERM, SIGUSR1] { signal(number) { _ in StopRequest.requested.store(true, ordering: .relaxed) } }
    }

    /// Whether a stop was requested since the handlers were installed.
    public static var isRequested: Bool { requested.load(ordering: .relaxed) }
}
