/// max |a − b| over two equally long sequences (0 when they are empty).
public func maxAbsDifference<A: Collection, B: Collection>(_ a: A, _ b: B) -> Double
where A.Element: BinaryFloatingPoint, B.Element: BinaryFloatingPoint {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}
