// Running statistics of batch normalisation, and their data-parallel update from shards' averaged statistics.
import Testing
@testable import Atelier

@Test func runningStatisticsFollowTheAveragedShardStatistics() {
    // Two shards of one channel: each forward leaves its own batch mean and variance pending; the trainer sums
    // them with the shards' weights and the running values move once, towards that average.
    let bn = BatchNorm2d(1)
    bn.train()
    let shards: [[Float]] = [[1, 3, 5, 7], [10, 14]]         // weights 4/6 and 2/6
    var summed = [0.0, 0.0]
    for values in shards {
        _ = bn(Tensor(shape: [values.count, 1, 1, 1], floats: values))
        let pending = bn.pendingStatistics()
        evaluate(pending)
        let weight = Double(values.count) / 6
        summed[0] += weight * pending[0].doubles()[0]
        summed[1] += weight * pending[1].doubles()[0]
    }
    let mean = (4.0 * 4 + 2 * 12) / 6                         // shard means 4 and 12
    #expect(Swift.abs(summed[0] - mean) < 1e-6)
    var remaining = summed[...]
    bn.replacePendingStatistics(&remaining)
    #expect(remaining.isEmpty)
    bn.applyStatisticUpdates()
    #expect(Swift.abs(bn.runningMean.tensor.doubles()[0] - 0.1 * mean) < 1e-6)
    #expect(Swift.abs(bn.runningVar.tensor.doubles()[0] - (0.9 + 0.1 * summed[1])) < 1e-6)
    #expect(bn.pendingStatistics().isEmpty)
}
