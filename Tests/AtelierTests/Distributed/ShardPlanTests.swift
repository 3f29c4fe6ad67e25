// How batches split into shards and shards onto ranks.
import Testing
@testable import Atelier

@Test func shardSizesCoverTheBatchAndDifferByAtMostOneGranule() {
    for (batch, shards, granule) in [(64, 1, 1), (5, 2, 1), (7, 3, 1), (12, 2, 4), (44, 3, 4), (9, 9, 1)] {
        let plan = ShardPlan(batch: batch, shards: shards, granule: granule)!
        let sizes = (0..<shards).map(plan.size(of:))
        #expect(sizes.reduce(0, +) == batch)
        #expect(sizes.allSatisfy { $0 % granule == 0 && $0 >= granule })
        #expect(sizes.max()! - sizes.min()! <= granule)
        #expect(sizes == sizes.sorted(by: >), "the first shards take the remainder")
        let weights = (0..<shards).map(plan.weight(of:))
        #expect(Swift.abs(weights.reduce(0, +) - 1) < 1e-12)
    }
    #expect(ShardPlan(batch: 5, shards: 2)!.size(of: 0) == 3)
    #expect(ShardPlan(batch: 12, shards: 2, granule: 4).map { [$0.size(of: 0), $0.size(of: 1)] } == [8, 4])
}

@Test func impossiblePlansAreRefused() {
    #expect(ShardPlan(batch: 4, shards: 5) == nil)            // a shard would be empty
    #expect(ShardPlan(batch: 8, shards: 3, granule: 4) == nil) // only two canvases
    #expect(ShardPlan(batch: 10, shards: 1, granule: 4) == nil)
    #expect(ShardPlan(batch: 8, shards: 0) == nil)
}

@Test func shardsAreDealtRoundRobinOverRanks() {
    let plan = ShardPlan(batch: 16, shards: 5)!
    #expect(plan.shards(ofRank: 0, ranks: 2) == [0, 2, 4])
    #expect(plan.shards(ofRank: 1, ranks: 2) == [1, 3])
    #expect(plan.shards(ofRank: 0, ranks: 1) == [0, 1, 2, 3, 4])
    let all = (0..<3).flatMap { plan.shards(ofRank: $0, ranks: 3) }.sorted()
    #expect(all == Array(0..<5))
}
