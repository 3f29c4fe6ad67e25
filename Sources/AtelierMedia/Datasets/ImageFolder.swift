// A dataset from a folder of image files: either one folder of images (one class), or one subfolder per class
// (labels follow the sorted subfolder names, as in torchvision's ImageFolder). Every image is brought to one
// size so that the set stacks into a single NCHW array.
import Foundation

extension ImageDataset {
    /// How an image of another aspect ratio is brought to the target size.
    public enum FitMode: Sendable {
        /// Scale so the image covers the target, then cut the centre: no distortion, loses the margins.
        case centerCrop
        /// Scale each axis independently: keeps everything, distorts the aspect ratio.
        case stretch
    }

    /// File extensions read by ``imageFolder(_:width:height:grayscale:fit:)`` (case-insensitive).
    public static let imageFileExtensions: Set<String> = ["png", "jpg", "jpeg", "bmp", "gif", "tga"]

    /// Loads every image under `directory`, resized to `width × height`.
    ///
    /// If `directory` has subfolders holding images, each such subfolder is a class (sorted by name) and files
    /// directly in `directory` are ignored; otherwise the images in `directory` form one class named after it.
    /// Hidden files are skipped; images are ordered by path. Shrinking uses area averaging, enlarging bilinear.
    /// - Parameters:
    ///   - directory: the folder.
    ///   - width: output width W.
    ///   - height: output height H.
    ///   - grayscale: one channel (ITU-R 601 luma) instead of RGB.
    ///   - fit: how to handle another aspect ratio.
    /// - Returns: N×C×H×W pixels in [-1, 1], C = 1 or 3.
    /// - Throws: ``DatasetError`` naming the folder (missing, no images) or the image that cannot be decoded.
    public static func imageFolder(_ directory: URL, width: Int, height: Int, grayscale: Bool = false,
                                   fit: FitMode = .centerCrop) throws(DatasetError) -> ImageDataset {
        precondition(width > 0 && height > 0, "[imageFolder] size must be positive, got \(width)×\(height)")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw .missingDirectory(path: directory.path)
        }
        let entries = try contents(of: directory)
        var classes: [(name: String, files: [URL])] = []
        for entry in entries where isFolder(entry) {
            let files = try contents(of: entry).filter(isImageFile)
            if !files.isEmpty { classes.append((entry.lastPathComponent, files)) }
        }
        if classes.isEmpty {
            classes = [(directory.lastPathComponent, entries.filter(isImageFile))]
        }
        guard classes.contains(where: { !$0.files.isEmpty }) else { throw .emptyFolder(path: directory.path) }

        let channels = grayscale ? 1 : 3
        var pixels = [Float]()
        var labels = [Int]()
        for (label, entry) in classes.enumerated() {
            for file in entry.files {
                let image: RasterImage
                do {
                    image = try RasterImage.load(from: file, channels: channels)
                } catch {
                    throw .unreadableImage(path: file.path, reason: "\(error)")
                }
                let fitted = fitted(image, width: width, height: height, mode: fit)
                pixels.append(contentsOf: fitted.planarFloats().map { $0 * 2 - 1 })
                labels.append(label)
            }
        }
        return ImageDataset(channels: channels, height: height, width: width, pixels: pixels, labels: labels,
                            classNames: classes.map(\.name))
    }

    static func fitted(_ image: RasterImage, width: Int, height: Int, mode: FitMode) -> RasterImage {
        func resize(_ image: RasterImage, _ w: Int, _ h: Int) -> RasterImage {
            image.resized(width: w, height: h, filter: w <= image.width && h <= image.height ? .area : .bilinear)
        }
        switch mode {
        case .stretch:
            return resize(image, width, height)
        case .centerCrop:
            // Scale by the larger ratio so both sides cover the target, then crop the overflow.
            let scale = max(Double(width) / Double(image.width), Double(height) / Double(image.height))
            let w = max(width, Int((Double(image.width) * scale).rounded()))
            let h = max(height, Int((Double(image.height) * scale).rounded()))
            return resize(image, w, h).centerCropped(width: width, height: height)
        }
    }

    private static func contents(of directory: URL) throws(DatasetError) -> [URL] {
        do {
            return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.isDirectoryKey],
                                                               options: [.skipsHiddenFiles])
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            throw .unreadable(path: directory.path, reason: error.localizedDescription)
        }
    }

    private static func isFolder(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func isImageFile(_ url: URL) -> Bool {
        imageFileExtensions.contains(url.pathExtension.lowercased()) && !isFolder(url)
    }
}
