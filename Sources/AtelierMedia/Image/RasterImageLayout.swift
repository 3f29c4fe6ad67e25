// Geometric layout of RasterImages: cropping, padding, and tiling many samples into one contact sheet.

extension RasterImage {
    /// The `width × height` region whose top-left corner is `(x, y)`.
    /// - Precondition: the region lies inside the image.
    public func cropped(x: Int, y: Int, width cropWidth: Int, height cropHeight: Int) -> RasterImage {
        precondition(x >= 0 && y >= 0 && cropWidth >= 0 && cropHeight >= 0 && x + cropWidth <= width && y + cropHeight <= height,
                     "[cropped] region (\(x), \(y)) \(cropWidth)×\(cropHeight) is outside the \(width)×\(height) image")
        var out = [UInt8]()
        out.reserveCapacity(cropWidth * cropHeight * channels)
        for row in y..<(y + cropHeight) {
            let start = (row * width + x) * channels
            out.append(contentsOf: pixels[start..<(start + cropWidth * channels)])
        }
        return RasterImage(width: cropWidth, height: cropHeight, channels: channels, pixels: out)
    }

    /// The central `width × height` region (rounding the offset down).
    public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> RasterImage {
        cropped(x: (width - cropWidth) / 2, y: (height - cropHeight) / 2, width: cropWidth, height: cropHeight)
    }

    /// The image with borders of `value` added on each side.
    /// - Precondition: all amounts are non-negative.
    public func padded(top: Int, left: Int, bottom: Int, right: Int, value: UInt8 = 0) -> RasterImage {
        precondition(top >= 0 && left >= 0 && bottom >= 0 && right >= 0, "[padded] padding must be non-negative")
        var out = RasterImage(width: width + left + right, height: height + top + bottom, channels: channels, fill: value)
        out.paste(self, x: left, y: top)
        return out
    }

    /// The image with the same border of `value` on every side.
    public func padded(_ amount: Int, value: UInt8 = 0) -> RasterImage {
        padded(top: amount, left: amount, bottom: amount, right: amount, value: value)
    }

    /// Copies `image` (same channel count) with its top-left corner at `(x, y)`, clipped to this image.
    public mutating func paste(_ image: RasterImage, x: Int, y: Int) {
        precondition(image.channels == channels, "[paste] channel counts differ: \(image.channels) into \(channels)")
        let x0 = Swift.max(x, 0), x1 = Swift.min(x + image.width, width)
        let y0 = Swift.max(y, 0), y1 = Swift.min(y + image.height, height)
        guard x0 < x1, y0 < y1 else { return }
        let rowBytes = (x1 - x0) * channels
        for row in y0..<y1 {
            let src = ((row - y) * image.width + (x0 - x)) * channels
            let dst = (row * width + x0) * channels
            pixels.replaceSubrange(dst..<(dst + rowBytes), with: image.pixels[src..<(src + rowBytes)])
        }
    }

    /// Tiles images into one sheet, row by row, like torchvision's `make_grid`.
    ///
    /// Cells are as large as the largest image; smaller images sit in their cell's top-left corner. All images
    /// are converted to the largest channel count. `padding` pixels of `background` separate cells and frame
    /// the sheet.
    /// - Parameters:
    ///   - images: at least one image.
    ///   - columns: cells per row (positive); rows are added as needed.
    ///   - padding: gap between cells and around the sheet.
    ///   - background: the gap's value in every channel.
    public static func grid(_ images: [RasterImage], columns: Int, padding: Int = 2, background: UInt8 = 0) -> RasterImage {
        precondition(!images.isEmpty, "[grid] needs at least one image")
        precondition(columns > 0 && padding >= 0, "[grid] columns must be positive and padding non-negative")
        let cellWidth = images.map(\.width).max()!, cellHeight = images.map(\.height).max()!
        let channels = images.map(\.channels).max()!
        let columnCount = Swift.min(columns, images.count)
        let rowCount = (images.count + columns - 1) / columns
        var sheet = RasterImage(width: columnCount * (cellWidth + padding) + padding,
                                height: rowCount * (cellHeight + padding) + padding,
                                channels: channels, fill: background)
        for (i, image) in images.enumerated() {
            sheet.paste(image.converted(channels: channels),
                        x: padding + (i % columns) * (cellWidth + padding),
                        y: padding + (i / columns) * (cellHeight + padding))
        }
        return sheet
    }
}
