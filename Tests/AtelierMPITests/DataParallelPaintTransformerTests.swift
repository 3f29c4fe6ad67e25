// `mpirun -np 2 train-paint-transformer` against one process computing the same two shards in turn: with two
// ranks the exchange adds two numbers, whose sum does not depend on order, so the checkpoints must be
// identical bit for bit (tolerance 0; with more ranks MPI may associate the sums differently).
import Atelier
import Foundation
import PaintTransformer
import Testing
import TestSupport

@Suite("Data-parallel Paint Transformer training", .serialized)
struct DataParallelPaintTransformerTests {
    /// 12 patches are 3 canvases: the shards take 8 and 4 patches, so uneven shards are covered.
    let common = ["--batch", "12", "--threads", "1", "--validate-every", "0", "--preview-every", "0", "--log-every", "1"]

    @Test func twoRanksEqualOneProcessComputingBothShards() throws {
        let scratchA = try ScratchDirectory("paint-one"), scratchB = try ScratchDirectory("paint-two")
        defer { scratchA.remove(); scratchB.remove() }
        let one = scratchA.url, two = scratchB.url
        try MPIRun.succeed("train-paint-transformer", ["--out", one.path, "--steps", "3", "--shards", "2"] + common)
        let run = try MPIRun.succeed("train-paint-transformer", ["--out", two.path, "--steps", "3"] + common, ranks: 2)
        #expect(run.output.contains("2 shards on 2 processes"))
        // Only rank 0 prints: one progress line per step.
        #expect(run.output.components(separatedBy: "step 3/3").count == 2)
        let a = one.appendingPathComponent("checkpoint.safetensors"), b = two.appendingPathComponent("checkpoint.safetensors")
        #expect(try checkpointDifferences(a, b) == [])
        #expect(try SafeTensorsFile.read(from: b).metadata["shards"] == "2")
    }

    @Test func resumesOnADifferentRankCount() throws {
        let scratchA = try ScratchDirectory("paint-straight"), scratchB = try ScratchDirectory("paint-split")
        defer { scratchA.remove(); scratchB.remove() }
        let straight = scratchA.url, split = scratchB.url
        try MPIRun.succeed("train-paint-transformer", ["--out", straight.path, "--steps", "3", "--shards", "2"] + common)
        try MPIRun.succeed("train-paint-transformer", ["--out", split.path, "--steps", "2", "--schedule-steps", "3"] + common, ranks: 2)
        let resumed = try MPIRun.succeed("train-paint-transformer", ["--out", split.path, "--steps", "3", "--resume"] + common)
        #expect(resumed.output.contains("2 shards on 1 process"))
        #expect(try checkpointDifferences(straight.appendingPathComponent("checkpoint.safetensors"),
                                          split.appendingPathComponent("checkpoint.safetensors")) == [])
    }

    @Test func aKilledRankEndsTheJobAndTheCheckpointStaysLoadable() throws {
        let scratch = try ScratchDirectory("paint-kill")
        defer { scratch.remove() }
        let out = scratch.url
        let checkpoint = out.appendingPathComponent("checkpoint.safetensors")
        var killedAt: Date? = nil
        let outcome = try MPIRun.run("train-paint-transformer", ["--out", out.path, "--steps", "100000", "--checkpoint-every", "1"] + common,
                                     ranks: 2, timeout: 180) { mpirun in
            let start = Date()
            while !FileManager.default.fileExists(atPath: checkpoint.path) {
                guard mpirun.isRunning, Date().timeIntervalSince(start) < 120 else { throw TestFailure("no checkpoint appeared") }
                usleep(50_000)
            }
            usleep(300_000)  // a few more steps, so the kill lands mid-step or mid-write
            let ranks = childProcesses(of: mpirun.processIdentifier)
            guard ranks.count == 2 else { throw TestFailure("expected 2 ranks under mpirun, found \(ranks)") }
            kill(ranks.max()!, SIGKILL)
            killedAt = Date()
        }
        let stopped = Date().timeIntervalSince(try #require(killedAt))
        #expect(outcome.status != 0)
        #expect(stopped < 30, "the surviving rank took \(stopped) s to stop")
        #expect(outcome.output.contains("signal 9"), "mpirun names the killed rank: \(outcome.output.suffix(600))")
        let trainer = try PaintTransformerTrainer.resume(from: checkpoint)
        #expect(trainer.step >= 1)
        #expect(trainer.settings.shards == 2)
    }
}

/// Process IDs whose parent is `parent` (from /proc).
func childProcesses(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        // Fields after "(comm)": state, ppid, …
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 && Int32(fields[1]) == parent
    }
}
