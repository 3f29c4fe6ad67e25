// train-transgan: trains TransGAN from the command line. A thin shell over `TransGANTrainingRun`: flags, progress
// on stderr, Ctrl-C as a stop request (the run saves a checkpoint, exit 130), one error line and exit 1 on failure.
// Started by `mpirun -np N`, the N processes train one model data-parallel; only rank 0 prints and writes.
import ArgumentParser
import AtelierMPI
import CommandLineSupport
import Atelier
import Foundation
import TransGAN

private let defaults = TrainingRunOptions()

@main
struct TrainTransGAN: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-transgan", abstract: "Train TransGAN (WGAN-GP, hinge or logistic with R1) on a CPU.",
        discussion: """
        Checkpoints store the configuration and every training option. `--resume CHECKPOINT` alone continues the run \
        with them; the flags marked "stored" may be repeated only with the stored value (a different one is an error \
        naming both). Flags marked "may change on resume" (steps, time limit, output, schedules, threads, data \
        directory) apply to the resumed run.
        """)

    @Option(help: "Model configuration: xl, s, m, l, s-lite, tiny, micro, grid64 (default tiny; stored).") var config: String?
    @Option(help: "Override: generator grid-attention window side (1…1024; stored).") var gWindow: Int?
    @Option(help: "Override: grid side from which generator stages use window attention, e.g. 32 to window the 32×32 stage (1…1024; stored).") var gridFrom: Int?
    @Option(help: "Override: generator width per stage, e.g. 256,128,64 (three values of 1…65536 divisible by the heads; a stage wider than ¼ of the previous one starts with a projection; stored).") var gDims: String?
    @Option(help: "Override: discriminator width (4…65536, divisible by 4 and the heads; stored).") var dDim: Int?
    @Option(help: "Override: discriminator blocks per scale (0…64; stored).") var dDepth: Int?
    @Option(help: "Override: discriminator patch side; the second scale uses 2× (1…1024, the image divisible by 2×, an even first grid; stored).") var dPatch: Int?
    @Flag(help: "Override: skip images in the generator — stages 1 and 2 also map tokens to an image, upsampled and added to the next (StyleGAN2's skip generator; stored).") var imageSkips = false
    @Option(help: "fashion-mnist | cifar10:PATH | folder:PATH | synthetic (default fashion-mnist; stored).") var data: String?
    @Option(help: "Directory of the Fashion-MNIST files (default: /usr/share/datasets/fashion-mnist; may change on resume).") var dataDir: String?
    @Option(help: "Total D steps: the run stops when it reaches this step (1…1000000000; may change on resume).") var steps = defaults.steps
    @Option(help: "D batch size (default 32; 1…65536 and an estimated 16 GiB of activations per step; stored).") var batch: Int?
    @Option(help: "G batch size (default 2 × batch; same limits; stored).") var gBatch: Int?
    @Option(help: "D steps per G step (default 4; 1…1000; stored).") var nCritic: Int?
    @Option(help: "wgangp-eps (official, default) | hinge | logistic-r1 (non-saturating with an R1 penalty, StyleGAN2's; stored)") var loss: String?
    @Option(help: "R1 weight γ for --loss logistic-r1, penalty (γ/2)·E‖∇D(x_real)‖² (default 0.1; finite ≥ 0; stored).") var r1Gamma: Double?
    @Option(help: "Learning rate of both networks (default 1e-4; finite > 0; stored).") var lr: Double?
    @Option(help: "Generator learning rate (default: --lr; stored).") var gLr: Double?
    @Option(help: "Discriminator learning rate (default: --lr; e.g. 4 × the generator's for a two-time-scale update; stored).") var dLr: Double?
    @Option(help: "START:END — decay both learning rates linearly from their value at D step START to 0 at END (default: constant; stored; may be added when resuming a run that has none).") var lrDecay: String?
    @Option(help: "Compute the gradient penalty (or R1) every N D steps with N times its weight (default 1, official; 1…1000; stored).") var gpEvery: Int?
    @Option(help: "Compute the gradient penalty on the first N samples of each D batch (default: all, official; 1…batch; stored).") var gpBatch: Int?
    @Option(help: "EMA half-life in thousands of images (default 500; finite > 0; stored).") var emaKimg: Double?
    @Option(help: "EMA warm-up ratio (default 0.1; finite ≥ 0; 0: fixed --ema-beta; stored).") var emaWarmup: Double?
    @Option(help: "Fixed EMA beta when --ema-warmup is 0 (default 0.9999; 0…1; stored).") var emaBeta: Double?
    @Option(help: "DiffAugment policy (default translation,cutout,color; stored).") var augment: String?
    @Option(help: "Random seed (default 12345; stored).") var seed: UInt64?
    @Option(help: "fp32 (default) | bf16: mixed precision, the networks' matrix products on bf16 inputs with fp32 accumulation; weights, optimiser and every other op fp32 (stored).") var precision: String?
    @Option(help: "Worker threads per process (1…1024; default: ATELIER_THREADS, or all cores shared among this machine's MPI ranks; may change on resume).") var threads: Int?
    @Option(help: "Split each batch into N parts with their own random streams, spread over the MPI ranks (default: the number of ranks, or the checkpoint's if larger; may change on resume). The results depend on N, not on the rank count.") var shards: Int?
    @Option(help: "Output directory (may change on resume).") var out = defaults.out
    @Option(help: "Write a sample grid every N steps (0: never; may change on resume).") var sampleEvery = defaults.sampleEvery
    @Option(help: "Save the EMA generator alone (gen_ema_STEP.safetensors, for Fréchet curves) every N steps (0: never; may change on resume).") var snapshotEvery = defaults.snapshotEvery
    @Option(help: "Write a checkpoint every N steps (0: only at the end; may change on resume).") var checkpointEvery = defaults.checkpointEvery
    @Option(help: "Score the EMA generator (Fréchet distance and KID against the test split, as transgan-eval) every N steps into frechet.csv (0: never; Fashion-MNIST only; may change on resume).") var evalEvery = defaults.evalEvery
    @Option(help: "Samples for each score (2…100000; default 5000, as transgan-eval; may change on resume).") var evalSamples = defaults.evalSamples
    @Option(help: "Directory caching the evaluation classifier and real statistics (may change on resume).") var evalCache = defaults.evalCache
    @Option(help: "Stop after this many minutes of wall time, writing a checkpoint (finite > 0; may change on resume).") var maxMinutes: Double?
    @Option(help: "Resume from this checkpoint, with its stored configuration and options.") var resume: String?
    @Option(help: "Also write TensorBoard event files to this folder: losses, gradient penalty, D scores, gradient norms, EMA β, learning rates, it/s, Fréchet/KID and the sample grids; view with `tensorboard --logdir DIR`. A resumed run adds a file whose steps continue (may change on resume).")
    var logdir: String?
    @Flag(help: "Print the configuration and parameter counts, then exit.") var info = false

    /// Every error in one line, parse errors included (CommandLineSupport).
    static func main() { mainWithOneLineErrors(prefix: "\(configuration.commandName ?? "train-transgan"): ") }

    func run() throws {
        BLASEnvironment.selectFastKernels()   // once: re-exec with OPENBLAS_CORETYPE set (before MPI starts)
        let outcome = TrainingJob.run(report: { StandardError.error($0, prefix: "train-transgan: ") }) { try train(group: $0) }
        if outcome != .finished { throw ExitCode(outcome.rawValue) }
    }

    func runOptions(group: ProcessGroup) throws -> TrainingRunOptions {
        var f = TrainingFlags()
        f.config = config; f.gWindow = gWindow; f.gridFrom = gridFrom; f.data = data
        f.gDims = try gDims.map(TrainingFlags.parseDims); f.dDim = dDim; f.dDepth = dDepth; f.dPatch = dPatch; f.imageSkips = imageSkips ? true : nil
        f.batch = batch; f.gBatch = gBatch; f.nCritic = nCritic; f.loss = loss; f.r1Gamma = r1Gamma
        f.lr = lr; f.gLr = gLr; f.dLr = dLr; f.lrDecay = lrDecay; f.gpEvery = gpEvery; f.gpBatch = gpBatch
        f.emaKimg = emaKimg; f.emaWarmup = emaWarmup; f.emaBeta = emaBeta; f.augment = augment; f.seed = seed
        f.precision = precision
        var o = TrainingRunOptions()
        o.stored = f; o.resume = resume; o.dataDir = dataDir; o.steps = steps; o.out = out
        o.sampleEvery = sampleEvery; o.snapshotEvery = snapshotEvery; o.checkpointEvery = checkpointEvery
        o.evalEvery = evalEvery; o.evalSamples = evalSamples; o.evalCache = evalCache; o.maxMinutes = maxMinutes
        o.logdir = logdir; o.shards = shards
        // MPI ranks on one machine share its cores unless told otherwise.
        o.threads = threads ?? (group.size > 1 ? MPIProcessGroup.threadsPerLocalRank : nil)
        return o
    }

    /// Whether the run stopped on request.
    func train(group: ProcessGroup) throws -> Bool {
        let options = try runOptions(group: group)
        if info {
            let config = try options.resolved(group: group).run.config
            print(config.summary)
            print("generator parameters: \(config.generatorParameterCount)")
            print("discriminator parameters: \(config.discriminatorParameterCount)")
            return false
        }
        let run = try TransGANTrainingRun(options, group: group, log: StandardError.line)
        // Ctrl-C, SIGTERM or SIGUSR1 save and stop (under mpirun, send SIGUSR1 to mpirun, which forwards it).
        StopRequest.installSignalHandlers()
        return try run.train(stopRequested: { StopRequest.isRequested }).stoppedOnRequest
    }
}
