// Resizing a RasterImage: separable resampling, one axis at a time, with a list of (source index, weight)
// contributions per output pixel. Pixel centres sit at i + 0.5 (PyTorch align_corners=false, OpenCV, PIL).

/// How ``RasterImage/resized(width:height:filter:)`` samples the source.
public enum ResizeFilter: Sendable {
    /// The source pixel under the output pixel's centre: blocky, exact for integer upscaling.
    case nearest
    /// Linear interpolation between the two nearest source pixels on each axis; aliases when shrinking by
    /// more than 2×.
    case bilinear
    /// Each output pixel averages the source area it covers (box filter); the right choice for downscaling.
    case area
}

extension RasterImage {
    /// The image resampled to `width × height`.
    /// - Precondition: `width` and `height` are positive and the image is not empty.
    public func resized(width newWidth: Int, height newHeight: Int, filter: ResizeFilter = .bilinear) -> RasterImage {
        precondition(newWidth > 0 && newHeight > 0, "[resized] target size must be positive, got \(newWidth)×\(newHeight)")
        precondition(width > 0 && height > 0, "[resized] cannot resize an empty \(width)×\(height) image")
        if newWidth == width && newHeight == height { return self }
        let columns = Self.contributions(from: width, to: newWidth, filter: filter)
        let rows = Self.contributions(from: height, to: newHeight, filter: filter)
        let c = channels

        // Horizontal pass into floats: [height, newWidth, c]
        var horizontal = [Float](repeating: 0, count: height * newWidth * c)
        horizontal.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for y in 0..<height {
                    for x in 0..<newWidth {
                        for (sx, weight) in columns[x] {
                            for k in 0..<c { dst[(y * newWidth + x) * c + k] += weight * Float(src[(y * width + sx) * c + k]) }
                        }
                    }
                }
            }
        }
        // Vertical pass: [newHeight, newWidth, c]
        var out = [UInt8](repeating: 0, count: newHeight * newWidth * c)
        out.withUnsafeMutableBufferPointer { dst in
            horizontal.withUnsafeBufferPointer { src in
                let rowLength = newWidth * c
                for y in 0..<newHeight {
                    for i in 0..<rowLength {
                        var sum: Float = 0
                        for (sy, weight) in rows[y] { sum += weight * src[sy * rowLength + i] }
                        dst[y * rowLength + i] = Self.quantize(sum)
                    }
                }
            }
        }
        return RasterImage(width: newWidth, height: newHeight, channels: c, pixels: out)
    }

    /// For each output index, the source indices it reads and their weights (summing to 1).
    static func contributions(from source: Int, to target: Int, filter: ResizeFilter) -> [[(Int, Float)]] {
        let scale = Double(source) / Double(target)
        return (0..<target).map { i -> [(Int, Float)] in
            switch filter {
            case .nearest:
                return [(Swift.min(Int((Double(i) + 0.5) * scale), source - 1), Float(1))]
            case .bilinear:
                let position = Swift.max((Double(i) + 0.5) * scale - 0.5, 0)
                let left = Swift.min(Int(position), source - 1)
                let right = Swift.min(left + 1, source - 1)
                let t = Float(position - Double(left))
                return left == right ? [(left, Float(1))] : [(left, 1 - t), (right, t)]
            case .area:
                // Output pixel i covers [i·scale, (i+1)·scale) of the source; weight each overlap by its length.
                let begin = Double(i) * scale, end = Double(i + 1) * scale
                var weights: [(Int, Float)] = []
                var s = Int(begin)
                while s < source && Double(s) < end {
                    let overlap = Swift.min(end, Double(s + 1)) - Swift.max(begin, Double(s))
                    if overlap > 1e-9 { weights.append((s, Float(overlap / scale))) }
                    s += 1
                }
                return weights
            }
        }
    }
}
