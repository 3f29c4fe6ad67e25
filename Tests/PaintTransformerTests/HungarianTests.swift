import Testing
@testable import PaintTransformer

/// Minimum total cost over all injections of the smaller side into the larger one (exhaustive).
private func bruteForceMinimum(_ cost: [Double], rows: Int, columns: Int) -> Double {
    let transposed = rows > columns
    let n = min(rows, columns), m = max(rows, columns)
    func at(_ i: Int, _ j: Int) -> Double { transposed ? cost[j * columns + i] : cost[i * columns + j] }
    var used = [Bool](repeating: false, count: m)
    var best = Double.infinity
    func search(_ i: Int, _ total: Double) {
        if i == n {
            best = min(best, total)
            return
        }
        for j in 0..<m where !used[j] {
            used[j] = true
            search(i + 1, total + at(i, j))
            used[j] = false
        }
    }
    search(0, 0)
    return best
}

@Test(arguments: [false, true])
func assignmentMatchesBruteForce(integerTies: Bool) {
    var rng = SplitMix64(seed: integerTies ? 7 : 3)
    for rows in 1...7 {
        for columns in 1...7 {
            for _ in 0..<6 {
                // Small integer costs force many ties; real costs straddle zero to cover negatives.
                let cost: [Double] = (0..<(rows * columns)).map { _ in
                    integerTies
                        ? Double(Int(rng.next() % 4) - 1)
                        : Double(rng.nextUnitFloat()) * 20 - 10
                }
                let (r, c) = linearSumAssignment(cost, rows: rows, columns: columns)
                #expect(r.count == min(rows, columns))
                #expect(c.count == r.count)
                #expect(Set(r).count == r.count && Set(c).count == c.count)
                #expect(r == r.sorted())
                #expect(r.allSatisfy { (0..<rows).contains($0) } && c.allSatisfy { (0..<columns).contains($0) })
                let total = zip(r, c).reduce(0.0) { $0 + cost[$1.0 * columns + $1.1] }
                let best = bruteForceMinimum(cost, rows: rows, columns: columns)
                #expect(abs(total - best) <= 1e-9 * max(1, abs(best)), "\(rows)×\(columns): \(total) vs \(best)")
            }
        }
    }
}

@Test func assignmentKnownCase() {
    // scipy.optimize.linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]]) → rows [0 1 2], cols [1 0 2].
    let (r, c) = linearSumAssignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
    #expect(r == [0, 1, 2])
    #expect(c == [1, 0, 2])
}

@Test func assignmentTallMatrixMatchesEightPredictionsToFewerTargets() {
    // 8 predictions × 2 targets: the two cheapest disjoint cells are (5, 1) and (2, 0).
    var cost = [Double](repeating: 10, count: 16)
    cost[5 * 2 + 1] = -1
    cost[2 * 2 + 0] = 0.5
    let (r, c) = linearSumAssignment(cost, rows: 8, columns: 2)
    #expect(r == [2, 5])
    #expect(c == [0, 1])
}

@Test func assignmentEmpty() {
    #expect(linearSumAssignment([], rows: 0, columns: 5).rows.isEmpty)
    #expect(linearSumAssignment([], rows: 3, columns: 0).columns.isEmpty)
}

@Test func assignmentRejectsNonFiniteCosts() async {
    await #expect(processExitsWith: .failure) {
        _ = linearSumAssignment([0, .nan, 1, 2], rows: 2, columns: 2)
    }
    await #expect(processExitsWith: .failure) {
        _ = linearSumAssignment([0, 1, .infinity], rows: 1, columns: 3)
    }
}
