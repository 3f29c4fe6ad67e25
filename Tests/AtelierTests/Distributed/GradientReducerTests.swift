// The gradient exchange: weighted sums of shards, the buckets it sends, and what a group adds.
import Testing
@testable import Atelier

/// A stand-in for a second process: each sum adds that member's buffer (here a constant per element type) and
/// records the lengths of the calls.
final class SimulatedPeerGroup: ProcessGroup {
    let peerFloat: Float, peerDouble: Double
    var floatCalls: [Int] = [], doubleCalls: [Int] = []
    init(peerFloat: Float, peerDouble: Double) {
        self.peerFloat = peerFloat
        self.peerDouble = peerDouble
    }
    var rank: Int { 0 }
    var size: Int { 2 }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Float>) {
        floatCalls.append(values.count)
        for i in values.indices { values[i] += peerFloat }
    }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<Double>) {
        doubleCalls.append(values.count)
        for i in values.indices { values[i] += peerDouble }
    }
    func allReduceSum(_ values: UnsafeMutableBufferPointer<UInt64>) {}
    func broadcast(_ bytes: UnsafeMutableRawBufferPointer, root: Int) {}
    func barrier() {}
}

@Test func reducerSumsWeightedShardsAndSplitsTheExchangeIntoBuckets() throws {
    let shapes = [[2, 3], [5], [1]]
    let reducer = GradientReducer(shapes: shapes, scalarCount: 2, bucketElements: 5)
    let a = shapes.map { Tensor(shape: $0, floats: (0..<$0.reduce(1, *)).map { Float($0 + 1) }) }
    let b = shapes.map { Tensor(shape: $0, floats: (0..<$0.reduce(1, *)).map { -2 * Float($0) }) }
    reducer.add(gradients: a, scalars: [1, 10], weight: 0.75)
    reducer.add(gradients: b, scalars: [3, 20], weight: 0.25)
    let peer = SimulatedPeerGroup(peerFloat: 100, peerDouble: 1000)
    try reducer.reduce(over: peer)
    #expect(peer.floatCalls == [5, 5, 2])                // 12 elements in buckets of 5
    #expect(peer.doubleCalls == [2])
    #expect(reducer.callsPerExchange == 4)
    for (i, g) in reducer.gradients().enumerated() {
        #expect(g.shape == shapes[i])
        let expected = zip(a[i].floats(), b[i].floats()).map { 0.75 * $0 + 0.25 * $1 + 100 }
        #expect(g.floats() == expected)
    }
    #expect(reducer.scalars == [0.75 + 0.75 + 1000, 7.5 + 5 + 1000])
    reducer.reset()
    #expect(reducer.gradients().allSatisfy { $0.floats().allSatisfy { $0 == 0 } } && reducer.scalars == [0, 0])
}

@Test func oneShardOnOneProcessPassesGradientsThroughUnchanged() throws {
    let g = Tensor(shape: [4], floats: [1.5, -0.0, 3e-38, -7])
    let reducer = GradientReducer(shapes: [[4]], scalarCount: 1)
    reducer.add(gradients: [g], scalars: [0.125], weight: 1)
    try reducer.reduce(over: SingleProcess())
    #expect(reducer.gradients()[0].floats().map(\.magnitude) == g.floats().map(\.magnitude))
    #expect(reducer.scalars == [0.125])
}

@Test func identicalReplicasAreRecognisedOnOneProcess() throws {
    #expect(try SingleProcess().holdIdentical([Parameter(Tensor(shape: [2], floats: [1, 2]))]))
}
