// train-paint-transformer: self-supervised training of the Paint Transformer stroke predictor on synthetic strokes.
// A thin shell over `PaintTransformerTrainingRun`: flags, progress on stderr, Ctrl-C as a stop request (the run
// saves a checkpoint, exit 130), one error line and exit 1 on failure (a bad flag: exit 64, before any work).
// Started by `mpirun -np N`, the N processes train one model data-parallel; only rank 0 prints and writes.
import ArgumentParser
import AtelierMPI
import CommandLineSupport
import Atelier
import Foundation
import PaintTransformer

private let defaults = PaintTransformerTrainingRunOptions()

@main
struct TrainPaintTransformer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-paint-transformer",
        abstract: "Train the Paint Transformer stroke predictor on synthetic strokes (self-supervised).")

    @Option(help: "Network configuration: small-proposals (the shipped design), small (the reference design at the same size), paper.") var config = defaults.config
    @Option(help: "Train until this many steps are done in total, 1…10⁹ (also the schedule length unless --schedule-steps).")
    var steps = defaults.steps
    @Option(help: "Length of the learning-rate schedule, 1…10⁹ (default: --steps).") var scheduleSteps: Int?
    @Option(help: "Patches per step (a multiple of 4 up to 4096; default 64, or the checkpoint's when resuming).") var batch: Int?
    @Option(help: "Adam learning rate (β = 0.5, 0.999; default 1e-4, or the checkpoint's when resuming).") var lr: Double?
    @Option(help: "Seed for weights, data and dropout.") var seed: UInt64 = defaults.seed
    @Option(help: "Worker threads per process (default: ATELIER_THREADS, or all cores shared among this machine's MPI ranks).") var threads: Int?
    @Option(help: "Split each batch into N parts with their own random streams, spread over the MPI ranks (default: the number of ranks, or the checkpoint's if larger). The results depend on N, not on the rank count.")
    var shards: Int?
    @Option(help: "Directory for checkpoints, previews and the exported weights.") var out = defaults.out
    @Option(help: "Write preview.png (target | canvas | prediction) every N steps (0: never).") var previewEvery = defaults.previewEvery
    @Option(help: "Write checkpoint.safetensors every N steps.") var checkpointEvery = defaults.checkpointEvery
    @Option(help: "Print a progress line every N steps.") var logEvery = defaults.logEvery
    @Option(help: "Score the fixed synthetic validation set every N steps (0: never), appending to OUT/validation.csv.")
    var validateEvery = defaults.validateEvery
    @Option(help: "Loss weights NAME=VALUE,… over the reference's (pixel=10, parameters=1, wasserstein=10, decision=10, recall=10, proposal-parameters=1, proposal-wasserstein=10, objectness=10); stored in checkpoints.")
    var lossWeights: String?
    @Option(help: "Also write TensorBoard event files to this folder: every loss term, the learning rate, it/s, the validation figures and the previews; view with `tensorboard --logdir DIR`. A resumed run adds a file whose steps continue.")
    var logdir: String?
    @Flag(help: "Continue from OUT/checkpoint.safetensors.") var resume = false
    @Option(help: "fp32 | bf16: mixed precision, the network's matrix products on bf16 inputs with fp32 accumulation; weights, Adam and every other op fp32 (default fp32, or the checkpoint's when resuming; stored in checkpoints).")
    var precision: String?

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "") }

    /// Bad flags are usage errors, reported before MPI starts.
    func validate() throws {
        do { try runOptions(threadsIfUnset: nil).validate() } catch { throw ValidationError(error.description) }
    }

    func run() throws {
        BLASEnvironment.selectFastKernels()  // AVX2 OpenBLAS kernels unless OPENBLAS_CORETYPE is set (may re-execute: before MPI)
        let outcome = TrainingJob.run(report: { StandardError.error($0) }) { try train(group: $0) }
        if outcome != .finished { throw ExitCode(outcome.rawValue) }
    }

    /// MPI ranks on one machine share its cores unless `--threads` says otherwise.
    func runOptions(threadsIfUnset: Int?) -> PaintTransformerTrainingRunOptions {
        var o = PaintTransformerTrainingRunOptions()
        o.config = config; o.steps = steps; o.scheduleSteps = scheduleSteps; o.batch = batch; o.learningRate = lr; o.seed = seed
        o.threads = threads ?? threadsIfUnset; o.shards = shards; o.out = out
        o.previewEvery = previewEvery; o.checkpointEvery = checkpointEvery; o.logEvery = logEvery; o.validateEvery = validateEvery
        o.lossWeights = lossWeights; o.logdir = logdir; o.resume = resume; o.precision = precision
        return o
    }

    /// Whether the run stopped on request.
    func train(group: ProcessGroup) throws -> Bool {
        let options = runOptions(threadsIfUnset: group.size > 1 ? MPIProcessGroup.threadsPerLocalRank : nil)
        let run = try PaintTransformerTrainingRun(options, group: group, log: StandardError.line)
        // Ctrl-C, SIGTERM or SIGUSR1: finish the current step, save, stop. (Under mpirun, send SIGUSR1 to mpirun,
        // which forwards it; on Ctrl-C mpirun itself ends the ranks within a second or two.)
        StopRequest.installSignalHandlers()
        return try run.train(stopRequested: { StopRequest.isRequested }).stoppedOnRequest
    }
}
