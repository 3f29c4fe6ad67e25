import Testing
@testable import Atelier

@Test func eigenReconstructsMatrix() throws {
    let a: [Double] = [4, 1, 2, 1, 3, 0, 2, 0, 5]
    let (w, v) = try symmetricEigen(a, n: 3)
    #expect(w == w.sorted())
    for i in 0..<3 {
        for j in 0..<3 {
            var s = 0.0
            for k in 0..<3 { s += v[i * 3 + k] * w[k] * v[j * 3 + k] }
            #expect(Swift.abs(s - a[i * 3 + j]) < 1e-12)
        }
    }
}

@Test func frechetDistanceMatchesClosedForms() throws {
    // Same Gaussian: 0. Shifted mean only: ‖Δμ‖². Diagonal covariances: Σ (√a − √b)².
    let cov: [Double] = [2, 0.5, 0.5, 1]
    #expect(Swift.abs(try frechetDistance(mean1: [1, 2], cov1: cov, mean2: [1, 2], cov2: cov)) < 1e-10)
    #expect(Swift.abs(try frechetDistance(mean1: [0, 0], cov1: cov, mean2: [3, 4], cov2: cov) - 25) < 1e-10)
    let d = try frechetDistance(mean1: [0, 0], cov1: [4, 0, 0, 9], mean2: [0, 0], cov2: [1, 0, 0, 16])
    #expect(Swift.abs(d - (1 + 1)) < 1e-10)
}

@Test func frechetDistanceRejectsBadInput() {
    #expect(throws: LinearAlgebraError.self) { try frechetDistance(mean1: [0], cov1: [1, 0], mean2: [0], cov2: [1]) }
    #expect(throws: LinearAlgebraError.self) { try frechetDistance(mean1: [.nan], cov1: [1], mean2: [0], cov2: [1]) }
}
