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

    @Test func impossibleConfigurationsThrow() {
        var c = TransGANConfiguration.micro
        c.gfDim = 100
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .grid64
        c.gWindow = 24
        #expect(throws: ConfigurationError.self) { try c.validate() }
        c = .micro
        c.dfDim = 66
        #expect(throws: ConfigurationError.self) { try c.validate() }
        #expect(throws: ConfigurationError.self) { try TransGANConfiguration.named("huge") }
        for named in TransGANConfiguration.named { #expect(throws: Never.self) { try named.validate() } }
    }

}
}
