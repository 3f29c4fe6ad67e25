// Trainable parameters and the state beside them (module buffers, optimiser moments) are distinct types that
// checkpoints store alike.
import Testing
@testable import Atelier

@Test func batchNormKeepsRunningStatisticsOutOfItsParameters() {
    let bn = BatchNorm2d(3)
    #expect(bn.namedParameters().map(\.0) == ["weight", "bias"])
    #expect(bn.namedBuffers().map(\.0) == ["running_mean", "running_var"])
    #expect(bn.stateDict().map(\.0) == ["weight", "bias", "running_mean", "running_var"])
    #expect(bn.stateDict()[2].1 === bn.runningMean)
}

@Test func optimiserStateRoundTripsThroughACheckpointExactly() throws {
    let w = Parameter(Tensor(shape: [2, 3], floats: [0.5, -1, 2, 0.25, 3, -0.75]))
    let adam = Adam(parameters: [("w", w)], learningRate: 0.1, betas: (0.5, 0.9))
    let loss = (w.tensor * w.tensor).sum()
    adam.step(gradients: gradients(of: loss, wrt: [w.tensor]))
    let state = adam.namedState()
    #expect(state.map(\.0) == ["exp_avg.w", "exp_avg_sq.w"])
    #expect(state.allSatisfy { $0.1.shape == [2, 3] })
    #expect(state[0].1.tensor.floats().allSatisfy { $0 != 0 })

    var file = SafeTensorsFile()
    file.store(adam, prefix: "opt.")
    let restored = Adam(parameters: [("w", Parameter(Tensor.zeros([2, 3])))], learningRate: 0.1, betas: (0.5, 0.9))
    try file.restore(restored, prefix: "opt.")
    #expect(restored.stepCount == 1)
    for (a, b) in zip(state, restored.namedState()) { #expect(a.1.tensor.floats() == b.1.tensor.floats()) }
}
