// `mpirun -np 2 train-transgan` against one process computing the same two shards in turn (exact: see the
// Paint Transformer suite), with uneven shards for D (5 = 3 + 2) and G (7 = 4 + 3) and a G step every D step.
import Atelier
import Foundation
import Testing
import TestSupport

@Suite("Data-parallel TransGAN training", .serialized)
struct DataParallelTransGANTests {
    let common = ["--config", "micro", "--data", "synthetic", "--batch", "5", "--g-batch", "7", "--n-critic", "1",
                  "--threads", "1", "--sample-every", "0", "--checkpoint-every", "0"]

    @Test func twoRanksEqualOneProcessComputingBothShards() throws {
        let scratchA = try ScratchDirectory("gan-one"), scratchB = try ScratchDirectory("gan-two")
        defer { scratchA.remove(); scratchB.remove() }
        let one = scratchA.url, two = scratchB.url
        try MPIRun.succeed("train-transgan", ["--out", one.path, "--steps", "3", "--shards", "2"] + common)
        let run = try MPIRun.succeed("train-transgan", ["--out", two.path, "--steps", "3"] + common, ranks: 2)
        #expect(run.output.contains("2 shards on 2 processes"))
        #expect(try checkpointDifferences(one.appendingPathComponent("checkpoint.safetensors"),
                                          two.appendingPathComponent("checkpoint.safetensors")) == [])
        // Rank 0 alone writes the loss log: a header and one row per step.
        let rows = try String(contentsOf: two.appendingPathComponent("losses.csv"), encoding: .utf8).split(separator: "\n")
        #expect(rows.count == 4)
    }

    @Test func resumesOnADifferentRankCount() throws {
        let scratchA = try ScratchDirectory("gan-straight"), scratchB = try ScratchDirectory("gan-split")
        defer { scratchA.remove(); scratchB.remove() }
        let straight = scratchA.url, split = scratchB.url
        try MPIRun.succeed("train-transgan", ["--out", straight.path, "--steps", "3", "--shards", "2"] + common)
        try MPIRun.succeed("train-transgan", ["--out", split.path, "--steps", "2", "--shards", "2"] + common)
        let checkpoint = split.appendingPathComponent("checkpoint.safetensors").path
        let resumed = try MPIRun.succeed("train-transgan", ["--resume", checkpoint, "--out", split.path, "--steps", "3",
                                                            "--threads", "1", "--sample-every", "0", "--checkpoint-every", "0"], ranks: 2)
        #expect(resumed.output.contains("2 shards on 2 processes"))
        #expect(try checkpointDifferences(straight.appendingPathComponent("checkpoint.safetensors"), URL(fileURLWithPath: checkpoint)) == [])
    }
}
