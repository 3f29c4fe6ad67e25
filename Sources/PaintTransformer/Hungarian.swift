// Optimal assignment (Hungarian matching) for rectangular cost matrices.
//
// Paint Transformer matches its 8 predicted strokes to the m ≤ 8 valid ground-truth strokes of a patch
// (reference §4, scipy's `linear_sum_assignment`). The solver is the shortest-augmenting-path form of the
// Hungarian method with row/column potentials (Jonker–Volgenant style): one Dijkstra-like search per row over
// reduced costs, O(n²·m) for n ≤ m. Reduced costs stay ≥ 0, so negative inputs need no shift.

/// Solves the linear sum assignment problem: picks `min(rows, columns)` cells, no two in the same row or
/// column, with the smallest total cost — the same contract as scipy's `linear_sum_assignment`.
///
/// - Parameters:
///   - cost: row-major costs, shape `[rows, columns]`. Every value must be finite (precondition).
///   - rows: number of rows (e.g. predicted strokes).
///   - columns: number of columns (e.g. valid target strokes).
/// - Returns: the matched pairs as parallel arrays, sorted by row index; `rows[k]` is matched to `columns[k]`.
public func linearSumAssignment(
    _ cost: [Double], rows: Int, columns: Int
) -> (rows: [Int], columns: [Int]) {
    precondition(rows >= 0 && columns >= 0, "[linearSumAssignment] negative size \(rows) × \(columns)")
    precondition(
        cost.count == rows * columns,
        "[linearSumAssignment] cost has \(cost.count) values, expected \(rows) × \(columns) = \(rows * columns)")
    if let bad = cost.firstIndex(where: { !$0.isFinite }) {
        preconditionFailure(
            "[linearSumAssignment] cost[\(bad / columns), \(bad % columns)] = \(cost[bad]) is not finite")
    }
    if rows == 0 || columns == 0 { return ([], []) }

    // The search below needs n ≤ m; solve the transpose otherwise and swap the answer back.
    if rows > columns {
        var transposed = [Double](repeating: 0, count: cost.count)  // [columns, rows]
        for r in 0..<rows {
            for c in 0..<columns { transposed[c * rows + r] = cost[r * columns + c] }
        }
        let (tr, tc) = assignWide(transposed, n: columns, m: rows)
        let pairs = zip(tc, tr).sorted { $0.0 < $1.0 }
        return (pairs.map(\.0), pairs.map(\.1))
    }
    return assignWide(cost, n: rows, m: columns)
}

/// Convenience overload for a nested `[[Double]]` cost matrix (all rows equally long).
public func linearSumAssignment(_ cost: [[Double]]) -> (rows: [Int], columns: [Int]) {
    let columns = cost.first?.count ?? 0
    precondition(
        cost.allSatisfy { $0.count == columns }, "[linearSumAssignment] rows of the cost matrix differ in length")
    return linearSumAssignment(cost.flatMap { $0 }, rows: cost.count, columns: columns)
}

/// Shortest augmenting paths for an `[n, m]` matrix with n ≤ m. Index 0 of the 1-based arrays is a virtual
/// column that anchors each search; `rowOf[j]` is the row (1-based, 0 = free) matched to column j.
private func assignWide(_ cost: [Double], n: Int, m: Int) -> (rows: [Int], columns: [Int]) {
    var u = [Double](repeating: 0, count: n + 1)  // row potentials
    var v = [Double](repeating: 0, count: m + 1)  // column potentials
    var rowOf = [Int](repeating: 0, count: m + 1)
    var previous = [Int](repeating: 0, count: m + 1)  // the column before j on the current path
    var minReduced = [Double](repeating: 0, count: m + 1)
    var visited = [Bool](repeating: false, count: m + 1)

    for i in 1...n {
        rowOf[0] = i
        var column = 0
        for j in 0...m {
            minReduced[j] = .infinity
            visited[j] = false
        }
        // Grow a tree of tight edges until it reaches a free column.
        repeat {
            visited[column] = true
            let row = rowOf[column]
            var delta = Double.infinity
            var next = 0
            for j in 1...m where !visited[j] {
                let reduced = cost[(row - 1) * m + (j - 1)] - u[row] - v[j]
                if reduced < minReduced[j] {
                    minReduced[j] = reduced
                    previous[j] = column
                }
                if minReduced[j] < delta {
                    delta = minReduced[j]
                    next = j
                }
            }
            // n ≤ m guarantees an unvisited column, and finite costs a finite delta.
            for j in 0...m {
                if visited[j] {
                    u[rowOf[j]] += delta
                    v[j] -= delta
                } else {
                    minReduced[j] -= delta
                }
            }
            column = next
        } while rowOf[column] != 0
        // Flip the matching along the path back to the virtual column.
        repeat {
            let before = previous[column]
            rowOf[column] = rowOf[before]
            column = before
        } while column != 0
    }

    var pairs: [(Int, Int)] = []
    pairs.reserveCapacity(n)
    for j in 1...m where rowOf[j] != 0 { pairs.append((rowOf[j] - 1, j - 1)) }
    pairs.sort { $0.0 < $1.0 }
    return (pairs.map(\.0), pairs.map(\.1))
}
