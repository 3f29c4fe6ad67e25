// The shipped model's batch norms (evaluation mode, running statistics) give, on the activations its encoders
// really see, the bits of the composite engine-op form it was trained and published with: a difference of one
// rounding would already move a few of the demo painting's strokes.
import Testing
import Atelier
@testable import PaintTransformer
import TestSupport

@Test func shippedEncoderBatchNormsMatchTheCompositeForm() throws {
    let network = try PaintTransformerModel.loadShipped()
    network.eval()
    var rng = TestRNG(21)
    for encoder in [network.encImg, network.encCanvas] {
        var h = Tensor(shape: [4, 3, 32, 32], values: rng.values(4 * 3 * 32 * 32, low: 0, high: 1))
        for (conv, norm) in zip(encoder.convs, encoder.norms) {
            let z = conv(h.reflectionPadded2d(1))
            let fused = norm(z)
            let c = z.shape[1], perChannel = [1, c, 1, 1]
            let composite = (z - norm.runningMean.tensor.reshaped(perChannel)) * (norm.runningVar.tensor.reshaped(perChannel) + norm.eps).rsqrt()
                * norm.weight.tensor.reshaped(perChannel) + norm.bias.tensor.reshaped(perChannel)
            evaluate([fused, composite])
            let worst = maxAbsDifference(fused.floats(), composite.floats())
            #expect(worst == 0, "\(z.shape): fused and composite differ by \(worst)")
            h = fused.relu()
        }
    }
}
