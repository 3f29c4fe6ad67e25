// A network's matrix-product precision: `useMatmulPrecision` reaches every descendant, and each layer that
// multiplies (Linear, Conv2d, MultiheadAttention's projections) builds every GEMM of its forward and of its
// gradients in it; fp32 is the default. The bf16 arithmetic itself is checked in MatmulBF16Tests.
import Testing
@testable import Atelier
import TestSupport

@Suite struct ModuleMatmulPrecisionTests {
    /// The precision of every matmul in the graph below `roots`.
    func matmulPrecisions(_ roots: [Tensor]) -> [MatmulPrecision] {
        var seen = Set<ObjectIdentifier>(), stack = roots.map(\.node), found: [MatmulPrecision] = []
        while let node = stack.popLast() {
            guard seen.insert(ObjectIdentifier(node)).inserted else { continue }
            if let m = node.op as? MatmulOp { found.append(m.precision) }
            stack += node.inputs.map(\.node)
        }
        return found
    }

    func descendants(_ m: Module) -> [Module] { [m] + m.children.flatMap { descendants($0.1) } }

    @Test(arguments: MatmulPrecision.allCases)
    func everyProductOfTheLayersRunsInTheNetworksPrecision(_ precision: MatmulPrecision) {
        let rng = RandomGenerator(seed: 5)
        let encoder = TransformerEncoderLayer(dModel: 12, heads: 3, feedForward: 20, dropout: 0, rng: rng)
        let conv = Conv2d(3, 5, kernel: 3, padding: 1, rng: rng)
        let net = ModuleList<Module>([encoder, conv])
        #expect(descendants(net).allSatisfy { $0.matmulPrecision == .fp32 })
        if precision != .fp32 { net.useMatmulPrecision(precision) }
        #expect(descendants(net).allSatisfy { $0.matmulPrecision == precision })

        var values = TestRNG(6)
        let tokens = Tensor(shape: [2, 7, 12], values: values.values(2 * 7 * 12))
        let image = Tensor(shape: [2, 3, 5, 5], values: values.values(2 * 3 * 25))
        let y = encoder(tokens), z = conv(image)
        let grads = gradients(of: y.square().sum() + z.square().sum(), wrt: net.parameters().map(\.tensor) + [tokens, image])
        let found = matmulPrecisions([y, z] + grads)
        // Forward: the packed QKV and output projections, two feed-forward layers, the convolution; then their gradients.
        #expect(found.count >= 10)
        #expect(found.allSatisfy { $0 == precision }, "\(found)")
    }
}
