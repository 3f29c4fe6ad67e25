// Parameter counts of the official configuration and validation of impossible ones.
import Testing
import Atelier
@testable import TransGAN

extension TransGANTests {
@Suite struct ConfigurationTests {
    @Test func xlParameterCounts() throws {
        let g = RandomGenerator(seed: 1)
        #expect(try Generator(.xl, rng: g).parameterCount == 83_312_495)
        #expect(try Discriminator(.xl, rng: g).parameterCount == 10_210_400)
    }

    @Test func tinyAndMicroParameterCounts() throws {
        let g = RandomGenerator(seed: 1)
        // Reference §6 ladder: tiny G 3.87M / D 0.86M, micro G 0.79M / D 0.15M (RGB).
        let tg = try Generator(.tiny, rng: g).parameterCount, td = try Discriminator(.tiny, rng: g).parameterCount
        #expect(abs(tg - 3_870_000) < 10_000 && abs(td - 860_000) < 10_000, "tiny: G \(tg), D \(td)")
        let mg = try Generator(.micro, rng: g).parameterCount, md = try Discriminator(.micro, rng: g).parameterCount
        #expect(abs(mg - 790_000) < 10_000 && abs(md - 150_000) < 10_000, "micro: G \(mg), D \(md)")
    }

    /// `--image-skips` turns the generator's skip images on and is stored: the configuration says so, and only
    /// the two token → image maps are added.
    @Test func imageSkipsFlagSetsTheConfiguration() throws {
        var f = TrainingFlags()
        let plain = try f.configuration(channels: 1)
        f.imageSkips = true
        let c = try f.configuration(channels: 1)
        #expect(c.hasImageSkips && !plain.hasImageSkips)
        #expect(c.generatorParameterCount == plain.generatorParameterCount + (c.stageDims[0] + c.stageDims[1]) + 2)
        #expect(c.differences(from: plain) == ["image skips true vs false"])
    }

    /// Per-stage generator widths (with projections) and the discriminator overrides: built models have the
    /// counted parameters, and the pixel shuffle's own widths give back the named configuration.
    @Test func overriddenShapesHaveTheirParameterCounts() throws {
        var f = TrainingFlags()
        f.gDims = [256, 128, 64]; f.dDim = 64; f.dDepth = 1; f.dPatch = 4
        let c = try f.configuration(channels: 1)
        #expect(c.stageDims == [256, 128, 64] && c.stageIsProjected(1) && c.stageIsProjected(2))
        #expect(c.dSides == (8, 4) && c.dDims == (48, 16))
        let g = RandomGenerator(seed: 1)
        let gen = try Generator(c, rng: g), dis = try Discriminator(c, rng: g)
        #expect(gen.parameterCount == c.generatorParameterCount && dis.parameterCount == c.discriminatorParameterCount)
        // By hand: tiny's 1-channel G plus the projections (131,584 + 33,024), wider position embeddings (16,384 +
        // 49,152), blocks (2 × 148,096 + 46,560) and output conv (48); D at 48+16 wide, 8×8 and 4×4 grids, one block each.
        #expect(gen.parameterCount == TransGANConfiguration.tiny.with(channels: 1).generatorParameterCount + 572_944)
        #expect(gen.parameterCount == 4_441_813 && dis.parameterCount == 135_020)
        #expect(gen.upsampleProjections.map { $0 != nil } == [true, true])
        #expect(gen(Tensor.normal([2, c.latentDim], rng: g)).shape == [2, 1, 32, 32])
        f = TrainingFlags(); f.gDims = [256, 64, 16]
        #expect(try f.configuration(channels: 1) == TransGANConfiguration.tiny.with(channels: 1))
    }

    @Test func impossibleConfigurationsThrow() {
        var c = TransGANConfiguration.micro
        c.gfDim = 100
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .grid64
        c.gWindow = 24
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro
        c.gDims = [128, 64]
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c.gDims = [64, 64, 64]   // not gf dim first
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro
        c.dfDim = 66
        #expect(throws: ConfigurationError.self) { try c.validate() }
        #expect(throws: ConfigurationError.self) { try TransGANConfiguration.named("huge") }
        for named in TransGANConfiguration.named { #expect(throws: Never.self) { try named.validate() } }
    }

}
}
