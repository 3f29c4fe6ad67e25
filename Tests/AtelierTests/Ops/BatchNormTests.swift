// Batch norm's plain composite form (the engine-op expressions the fused ops replaced, which the ops keep as their
// `composite`) as the reference the fused kernels are tested against (CKernels/BatchNormKernelTests.swift), and
// the misuse the public calls stop at.
import Testing
@testable import Atelier

/// Batch norm with batch statistics from engine ops: (y, batch mean, unbiased batch variance).
func referenceBatchNormTraining(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> (y: Tensor, mean: Tensor, variance: Tensor) {
    let outputs = BatchNormOp(eps: eps, hasWeight: weight != nil, hasBias: bias != nil).composite([x] + [weight, bias].compactMap { $0 })
    return (outputs[0], outputs[2], outputs[4])
}

/// Batch norm with given statistics from engine ops.
func referenceBatchNormInference(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?, eps: Double = 1e-5) -> Tensor {
    BatchNormInferenceOp(eps: eps, hasWeight: weight != nil, hasBias: bias != nil).composite([x, mean, variance] + [weight, bias].compactMap { $0 })[0]
}

// Exit-test bodies capture nothing, so each misuse is written out in its own.
@Suite struct BatchNormMisuse {
    @Test func trainingStopsNamingTheOpAndShapes() async throws {
        let rank3 = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4]).batchNormTraining(weight: nil, bias: nil)
        }
        #expect(text(rank3).contains("[batchNorm] expects [N, C, H, W] with elements in every channel, got [2, 3, 4]"), "\(text(rank3))")
        let weight = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4, 4]).batchNormTraining(weight: Tensor.ones([4]), bias: nil)
        }
        #expect(text(weight).contains("[batchNorm] weight [4] (float32) for input [2, 3, 4, 4] (float32)"), "\(text(weight))")
        let empty = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([0, 3, 4, 4]).batchNormTraining(weight: nil, bias: nil)
        }
        #expect(text(empty).contains("got [0, 3, 4, 4]"), "\(text(empty))")
    }

    @Test func inferenceStopsNamingTheOpAndShapes() async throws {
        let stats = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([2, 3, 4, 4]).batchNormInference(mean: Tensor.zeros([3]), variance: Tensor.ones([2]), weight: nil, bias: nil)
        }
        #expect(text(stats).contains("[batchNormInference] variance [2] (float32) for input [2, 3, 4, 4] (float32)"), "\(text(stats))")
    }

    @Test func backwardStopsNamingTheOpAndShapes() async throws {
        let shapes = try await #require(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = batchNormBackward(g: Tensor.zeros([2, 3, 4, 4]), xhat: Tensor.zeros([2, 3, 4, 5]), rstd: Tensor.ones([3]), weight: nil)
        }
        #expect(text(shapes).contains("[batchNormBackward] g [2, 3, 4, 4], x̂ [2, 3, 4, 5], r [3], weight none"), "\(text(shapes))")
    }

    private func text(_ result: ExitTest.Result) -> String { String(decoding: result.standardErrorContent, as: UTF8.self) }
}
