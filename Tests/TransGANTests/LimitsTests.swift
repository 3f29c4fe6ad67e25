// Every number a user hands the TransGAN tools has a documented range: the validation functions refuse 0,
// negatives, huge values and NaN with an error naming the flag, before anything traps or allocates.
import Testing
import Atelier
@testable import TransGAN

extension TransGANTests {
@Suite struct LimitsTests {
    /// The flag an `invalidOption` error names, or nil for another error.
    func flag(of body: () throws -> Void) -> String? {
        do { try body() } catch let TrainingError.invalidOption(flag, _, _) { return flag } catch { return "other: \(error)" }
        return nil
    }

    func options(_ change: (inout TrainingOptions) -> Void) -> TrainingOptions {
        var o = TrainingOptions()
        o.batch = 16; o.gBatch = 16
        change(&o)
        return o
    }

    @Test func trainingOptionsOutOfRangeNameTheFlag() {
        let cfg = TransGANConfiguration.tiny.with(channels: 1)
        #expect(flag { try options { _ in }.validate(for: cfg) } == nil)
        let cases: [(String, (inout TrainingOptions) -> Void)] = [
            ("--batch", { $0.batch = 0 }), ("--batch", { $0.batch = -1 }), ("--batch", { $0.batch = 1_000_000_000 }),
            ("--g-batch", { $0.gBatch = 0 }), ("--g-batch", { $0.gBatch = Int.max }),
            ("--gp-batch", { $0.gpBatch = 0 }), ("--gp-batch", { $0.gpBatch = 17 }),
            ("--n-critic", { $0.nCritic = 0 }), ("--gp-every", { $0.gpEvery = -1 }),
            ("--g-lr", { $0.gLearningRate = .nan }), ("--d-lr", { $0.dLearningRate = 0 }),
            ("--ema-kimg", { $0.emaKimg = .nan }), ("--ema-kimg", { $0.emaKimg = .infinity }), ("--ema-kimg", { $0.emaKimg = 0 }),
            ("--ema-warmup", { $0.emaWarmup = .nan }), ("--ema-warmup", { $0.emaWarmup = -0.1 }),
            ("--ema-beta", { $0.emaBeta = .nan }), ("--ema-beta", { $0.emaBeta = 1.5 }),
            ("--r1-gamma", { $0.r1Gamma = .nan }), ("Adam β2", { $0.beta2 = 1 }), ("clip norm", { $0.clipNorm = .nan }),
        ]
        for (expected, change) in cases {
            #expect(flag { try options(change).validate(for: cfg) } == expected)
        }
    }

    @Test func activationBudgetBoundsTheBatch() throws {
        let cfg = TransGANConfiguration.tiny.with(channels: 1)
        // The README recipe and the CLI defaults fit.
        #expect(throws: Never.self) { try options { $0.gpBatch = 8 }.validate(for: cfg) }
        #expect(throws: Never.self) { try options { $0.batch = 32; $0.gBatch = 64 }.validate(for: cfg) }
        do {
            try options { $0.batch = 60_000 }.validate(for: cfg)
            Issue.record("a 60,000-image D batch of tiny should exceed the budget")
        } catch let TrainingError.invalidOption(flag, value, allowed) {
            #expect(flag == "--batch" && value == "60000")
            #expect(allowed.contains("at most") && allowed.contains("16 GiB"), "\(allowed)")
        }
        #expect(flag { try options { $0.gBatch = 60_000 }.validate(for: cfg) } == "--g-batch")
    }

    /// The estimate behind the batch budget follows the executor's own planned peak: per image of batch, within
    /// 0.8–3× for the D and the G step (graphs are planned, not run).
    @Test func activationEstimateFollowsThePlannedPeak() throws {
        for cfg in [TransGANConfiguration.micro.with(channels: 1), .tiny.with(channels: 1)] {
            var peaks: [(d: Int, g: Int)] = []
            for b in [4, 8] {
                let t = try Trainer(config: cfg, options: options { $0.batch = b; $0.gBatch = b },
                                    data: DataSource.synthetic(count: 8, channels: 1, size: 32, seed: 1))
                let fake = t.generator(Tensor.normal([b, cfg.latentDim], rng: t.rng)).detached()
                let loss = t.discriminatorLoss(real: t.realBatch(b), fake: fake).loss
                let dPeak = plan([loss] + gradients(of: loss, wrt: t.discriminator.parameters().map(\.tensor))).peakBytes
                let gLoss = t.generatorLoss(batch: b)
                let gPeak = plan([gLoss] + gradients(of: gLoss, wrt: t.generator.parameters().map(\.tensor))).peakBytes
                peaks.append((dPeak, gPeak))
            }
            let perImage = options { $0.batch = 1; $0.gBatch = 1 }.stepActivationBytes(for: cfg)
            let dRatio = perImage.dStep / (Double(peaks[1].d - peaks[0].d) / 4)
            let gRatio = perImage.gStep / (Double(peaks[1].g - peaks[0].g) / 4)
            #expect(dRatio > 0.8 && dRatio < 3, "\(cfg.name): D estimate ÷ planned = \(dRatio)")
            #expect(gRatio > 0.8 && gRatio < 3, "\(cfg.name): G estimate ÷ planned = \(gRatio)")
        }
    }

    @Test func hugeStoredConfigurationsAreRefused() {
        var c = TransGANConfiguration.micro
        c.latentDim = 1 << 40
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro; c.gfDim = 1 << 40
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro; c.bottomWidth = 1 << 31; c.imageSize = 1 << 33
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro; c.gDepths = [1, 1, Int.max]
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro; c.gWindow = 0; c.gridAttentionFrom = 1024   // no stage windows, but 0 is still meaningless
        #expect(throws: ConfigurationError.self) { try c.validate() }
        // Within every per-field limit but past the parameter budget: 65536 × 8² × 4096 weights in l1.
        c = .micro; c.latentDim = 65_536; c.gfDim = 4_096
        #expect(c.generatorParameterCount > TransGANLimits.parameterBudget)
        #expect(throws: ConfigurationError.self) { try c.validate() }
        // A 32×32 stage attending globally is allowed (tiny); a 128×128 one is not.
        c = .micro; c.bottomWidth = 32; c.imageSize = 128; c.patchSize = 2
        #expect(throws: Never.self) { try c.validate() }                   // its 128×128 stage uses 16×16 windows
        c.gridAttentionFrom = 1024
        #expect(throws: ConfigurationError.self) { try c.validate() }
    }

    @Test func parameterCountsMatchTheBuiltModels() throws {
        #expect(TransGANConfiguration.xl.generatorParameterCount == 83_312_495)
        #expect(TransGANConfiguration.xl.discriminatorParameterCount == 10_210_400)
        let g = RandomGenerator(seed: 1)
        for c in [TransGANConfiguration.micro, .tiny.with(channels: 1), .grid64, .sLite] {
            #expect(try Generator(c, rng: g).parameterCount == c.generatorParameterCount, "\(c.name) G")
            #expect(try Discriminator(c, rng: g).parameterCount == c.discriminatorParameterCount, "\(c.name) D")
        }
    }

    @Test func samplingRangesNameTheFlag() {
        func sampling(_ change: (inout SamplingOptions) -> Void) -> SamplingOptions { var s = SamplingOptions(); change(&s); return s }
        #expect(flag { try sampling { _ in }.validate() } == nil)
        let cases: [(String, (inout SamplingOptions) -> Void)] = [
            ("--grid-count", { $0.gridCount = 0 }), ("--grid-count", { $0.gridCount = -1 }), ("--grid-count", { $0.gridCount = Int.max }),
            ("--columns", { $0.columns = 0 }), ("--scale", { $0.scale = 1000 }), ("--scale", { $0.scale = 0 }),
            ("--count", { $0.count = 1_000_000_000 }), ("--count", { $0.count = -1 }),
            ("--keyframes", { $0.keyframes = 1 }), ("--frames-per-key", { $0.framesPerKey = 0 }),
            ("--keyframes × --frames-per-key", { $0.keyframes = 64; $0.framesPerKey = 240 }),
        ]
        for (expected, change) in cases { #expect(flag { try sampling(change).validate() } == expected) }
        // The grid PNG: 64 images of 32² at scale 2 fit; 4096 images of 64² at scale 16 do not.
        #expect(flag { try sampling { _ in }.validateGrid(imageSize: 32) } == nil)
        #expect(sampling { _ in }.gridSize(imageSize: 32) == (8 * 66 + 2, 8 * 66 + 2))
        #expect(flag { try sampling { $0.gridCount = 4096; $0.columns = 64; $0.scale = 16 }.validateGrid(imageSize: 64) }
                == "--grid-count/--columns/--scale")
    }

    @Test func durationsNeverTrap() {
        #expect(formatDuration(3661) == "1:01:01")
        #expect(formatDuration(59.9) == "0:00:59")
        #expect(formatDuration(-5) == "?")
        #expect(formatDuration(.nan) == "?")
        #expect(formatDuration(.infinity) == "?")
        #expect(formatDuration(Double(Int.max) * 4) == ">1000000 h")
        #expect(formatDuration(9.2e18 / 1e-9) == ">1000000 h")
    }

    @Test func newRunFlagsAreChecked() throws {
        var f = TrainingFlags()
        f.data = "synthetic"
        #expect(flag { _ = try f.newRun() } == nil)
        f.gWindow = 0
        #expect(flag { _ = try f.newRun() } == "--g-window")
        f.gWindow = nil; f.gridFrom = -1
        #expect(flag { _ = try f.newRun() } == "--grid-from")
        f.gridFrom = nil; f.gDims = [256, 128]
        #expect(flag { _ = try f.newRun() } == "--g-dims")
        f.gDims = [256, 0, 64]
        #expect(flag { _ = try f.newRun() } == "--g-dims")
        f.gDims = [256, 128, 62]   // not divisible by the 4 heads
        #expect(flag { _ = try f.newRun() } == "--g-dims")
        f.gDims = [256, 128, 64]
        #expect(flag { _ = try f.newRun() } == nil)
        f.gDims = nil; f.dDim = 66
        #expect(flag { _ = try f.newRun() } == "--d-dim")
        f.dDim = 0
        #expect(flag { _ = try f.newRun() } == "--d-dim")
        f.dDim = nil; f.dDepth = -1
        #expect(flag { _ = try f.newRun() } == "--d-depth")
        f.dDepth = 65
        #expect(flag { _ = try f.newRun() } == "--d-depth")
        f.dDepth = nil; f.dPatch = 3     // 32 is not divisible by 2 × 3
        #expect(flag { _ = try f.newRun() } == "--d-patch")
        f.dPatch = 0
        #expect(flag { _ = try f.newRun() } == "--d-patch")
        f.dPatch = 4
        #expect(flag { _ = try f.newRun() } == nil)
        f.dPatch = nil
        for text in ["256,128", "256,,64", "a,b,c", "256,128,64,16"] { #expect(flag { _ = try TrainingFlags.parseDims(text) } == "--g-dims") }
        #expect(try TrainingFlags.parseDims("256, 128,64") == [256, 128, 64])
        f.lr = .nan
        #expect(flag { _ = try f.newRun() } == "--lr")
        f.lr = nil; f.loss = "wgan"
        #expect(flag { _ = try f.newRun() } == "--loss")
        f.loss = nil; f.emaKimg = .nan
        #expect(flag { _ = try f.newRun() } == "--ema-kimg")
        f.emaKimg = nil; f.batch = 1_000_000_000
        #expect(flag { _ = try f.newRun() } == "--batch")
    }
}
}
