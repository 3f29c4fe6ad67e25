// Gather and scatter-add against direct loops, on the element-wise path (inner size 1) that the
// relative-position bias uses and on the row path.
import Testing
@testable import Atelier
import TestSupport

@Test(arguments: [(axis: 1, rows: 3, cols: 7, size: 5, count: 11), (axis: 0, rows: 7, cols: 4, size: 6, count: 7)])
func indexSelectAndAddMatchLoops(_ c: (axis: Int, rows: Int, cols: Int, size: Int, count: Int)) {
    var rng = TestRNG(7)
    let indices = (0..<c.count).map { _ in rng.index(below: c.size - 1) }       // the last destination gets no source
    // Gather from a table with `size` entries along `axis`.
    let tableShape = c.axis == 1 ? [c.rows, c.size] : [c.size, c.cols]
    let table = (0..<tableShape.reduce(1, *)).map { Double($0) * 0.5 - 3 }
    let gathered = Tensor(shape: tableShape, values: table, dtype: .float64).indexSelect(axis: c.axis, indices).doubles()
    // Scatter-add a source with `count` entries along `axis`.
    let sourceShape = c.axis == 1 ? [c.rows, c.count] : [c.count, c.cols]
    let source = (0..<sourceShape.reduce(1, *)).map { _ in Double(rng.index(below: 1000)) / 7 }
    let scattered = Tensor(shape: sourceShape, values: source, dtype: .float64).indexAdd(axis: c.axis, indices, size: c.size).doubles()
    var expectGather = [Double](), expectScatter = [Double](repeating: 0, count: tableShape.reduce(1, *))
    if c.axis == 1 {
        for r in 0..<c.rows { for i in indices { expectGather.append(table[r * c.size + i]) } }
        for r in 0..<c.rows { for (k, i) in indices.enumerated() { expectScatter[r * c.size + i] += source[r * c.count + k] } }
    } else {
        for i in indices { for j in 0..<c.cols { expectGather.append(table[i * c.cols + j]) } }
        for (k, i) in indices.enumerated() { for j in 0..<c.cols { expectScatter[i * c.cols + j] += source[k * c.cols + j] } }
    }
    #expect(gathered == expectGather)
    #expect(scattered == expectScatter)
}
