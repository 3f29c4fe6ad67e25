/// How a batch is split into shards, and which shards each member of a process group computes. Each shard
/// has its own random streams, so a run's numbers depend on the shard count, never on how many processes share
/// the shards: 2 shards on one process (computed one after the other) equal 2 shards on 2 processes.
public struct ShardPlan: Sendable, Equatable {
    public let batch: Int
    public let shards: Int
    /// Shard sizes are multiples of this (Paint Transformer's synthesis makes patches 4 at a time).
    public let granule: Int

    /// Nil unless the batch is a multiple of the granule and holds at least one granule per shard.
    public init?(batch: Int, shards: Int, granule: Int = 1) {
        guard granule >= 1, shards >= 1, batch % granule == 0, batch / granule >= shards else { return nil }
        self.batch = batch
        self.shards = shards
        self.granule = granule
    }

    /// Granules are dealt evenly; when the shard count does not divide them, the first shards take one more.
    public func size(of shard: Int) -> Int {
        let units = batch / granule
        return granule * (units / shards + (shard < units % shards ? 1 : 0))
    }

    /// A shard's share of the batch: its loss is a mean over its own samples, so shares make the global mean.
    public func weight(of shard: Int) -> Double { Double(size(of: shard)) / Double(batch) }

    /// Round-robin: rank r computes shards r, r + ranks, …; ranks beyond the shard count compute none.
    public func shards(ofRank rank: Int, ranks: Int) -> [Int] { Array(stride(from: rank, to: shards, by: max(ranks, 1))) }
}
