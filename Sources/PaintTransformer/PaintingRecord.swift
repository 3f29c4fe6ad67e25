import Foundation

// The painting process as data: every drawn stroke in output pixels, exportable as JSON (Codable) and SVG, so a
// painting can be re-rendered, edited or animated elsewhere. The reference writes only raster frames.

/// One stroke as it was drawn, in the pixel coordinates of the output image (origin top-left, y down).
public struct PaintedStroke: Sendable, Equatable, Codable {
    /// Centre of the brush box. Strokes of border patches may lie partly or wholly outside the image.
    public var centerX: Float
    public var centerY: Float
    /// Size of the whole brush box in pixels (the dab itself fills about 75 % × 90 % of it).
    public var width: Float
    public var height: Float
    /// Clockwise rotation on screen, degrees (θ·180).
    public var angle: Float
    /// Stroke colour before the brush intensity multiplies it (sampled or fitted; fitted colours may exceed 1 up to
    /// `BrushSet.colorCeiling`, and the canvas clips colour × intensity at 1).
    public var red: Float
    public var green: Float
    public var blue: Float
    /// Coarse-to-fine layer: 0 is the coarsest (one patch); the shifted pass reports the last layer.
    public var layer: Int
    /// True for the final half-patch-shifted pass that hides seams.
    public var shifted: Bool
    /// Interleaved window group 0…3: (even, even), (odd, odd), (odd, even), (even, odd) as (row, column) parity.
    public var group: Int
    /// Patch grid position within the pass (the shifted grid has one more row and column).
    public var patchRow: Int
    public var patchColumn: Int
    /// Query index 0…7 of the stroke within its patch (drawing order inside a window).
    public var index: Int
    /// True if the vertical-grain brush was used (h > w).
    public var verticalBrush: Bool
}

/// Every stroke of one painting, in drawing order.
public struct PaintingRecord: Sendable, Equatable, Codable {
    /// Output image size in pixels.
    public var width: Int
    public var height: Int
    /// Number of coarse-to-fine layers painted (excluding the shifted pass).
    public var layers: Int
    public var strokes: [PaintedStroke]

    /// Creates a record (normally made by `Painter`).
    public init(width: Int, height: Int, layers: Int, strokes: [PaintedStroke]) {
        self.width = width
        self.height = height
        self.layers = layers
        self.strokes = strokes
    }

    /// Number of strokes drawn in each layer (index `layers` counts the shifted pass).
    public var strokesPerPass: [Int] {
        var counts = [Int](repeating: 0, count: layers + 1)
        for s in strokes { counts[s.shifted ? layers : s.layer] += 1 }
        return counts
    }

    /// Pretty-printed JSON of the whole record.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    /// Decodes a record written by `jsonData()`.
    public static func decode(json: Data) throws -> PaintingRecord {
        try JSONDecoder().decode(PaintingRecord.self, from: json)
    }

    /// How strokes are drawn in SVG.
    public enum SVGShape: Sendable {
        /// An ellipse with the dab's extent (`coverage` of the brush box), the closest vector stand-in for the
        /// rounded textured dab.
        case ellipse(coverage: (width: Float, height: Float) = (0.75, 0.90))
        /// The whole brush box as a rectangle.
        case rectangle
    }

    /// A vector rendition: black background, each stroke a rotated shape filled with its colour, in drawing
    /// order. No texture, so it approximates the raster painting.
    /// - Parameters:
    ///   - shape: ellipse (default) or rectangle.
    ///   - intensity: multiplies colours, standing in for the brush's mean grey level (0.905 for the procedural
    ///     and reference brushes); 1 gives the raw stroke colours.
    public func svg(shape: SVGShape = .ellipse(), intensity: Float = 0.905) -> String {
        func number(_ v: Float) -> String { String(format: "%.2f", Double(v)) }
        func channel(_ v: Float) -> Int { Int(min(max(v * intensity, 0), 1) * 255) }  // truncation, as the reference
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" \
            viewBox="0 0 \(width) \(height)">
            <rect width="\(width)" height="\(height)" fill="black"/>

            """
        out.reserveCapacity(out.utf8.count + strokes.count * 120)
        for s in strokes {
            let fill = "rgb(\(channel(s.red)),\(channel(s.green)),\(channel(s.blue)))"
            let rotate = "rotate(\(number(s.angle)) \(number(s.centerX)) \(number(s.centerY)))"
            switch shape {
            case .ellipse(let coverage):
                let rx = abs(s.width) * coverage.width / 2, ry = abs(s.height) * coverage.height / 2
                out += "<ellipse cx=\"\(number(s.centerX))\" cy=\"\(number(s.centerY))\" rx=\"\(number(rx))\" "
                    + "ry=\"\(number(ry))\" fill=\"\(fill)\" transform=\"\(rotate)\"/>\n"
            case .rectangle:
                let w = abs(s.width), h = abs(s.height)
                out += "<rect x=\"\(number(s.centerX - w / 2))\" y=\"\(number(s.centerY - h / 2))\" "
                    + "width=\"\(number(w))\" height=\"\(number(h))\" fill=\"\(fill)\" transform=\"\(rotate)\"/>\n"
            }
        }
        out += "</svg>\n"
        return out
    }
}
