// Errors from loading datasets. Every message names the file or directory and what is wrong with it.

/// A problem loading a dataset; `description` names the path and the problem.
public enum DatasetError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The dataset directory does not exist.
    case missingDirectory(path: String)
    /// An expected file is absent.
    case missingFile(path: String)
    /// A file could not be read or decompressed.
    case unreadable(path: String, reason: String)
    /// An IDX file starts with the wrong magic number.
    case wrongMagic(path: String, expected: UInt32, found: UInt32)
    /// A file is shorter than its header or record size says.
    case truncated(path: String, expectedBytes: Int, foundBytes: Int)
    /// A header is inconsistent (dimensions, trailing bytes).
    case invalidHeader(path: String, reason: String)
    /// Image and label files disagree on the number of samples.
    case countMismatch(imagesPath: String, images: Int, labelsPath: String, labels: Int)
    /// A label is outside the dataset's classes.
    case invalidLabel(path: String, index: Int, label: Int, classCount: Int)
    /// A folder holds no images.
    case emptyFolder(path: String)
    /// An image in a folder dataset could not be decoded.
    case unreadableImage(path: String, reason: String)

    public var description: String {
        switch self {
        case .missingDirectory(let path):
            return "dataset directory not found: \(path)"
        case .missingFile(let path):
            return "dataset file not found: \(path)"
        case .unreadable(let path, let reason):
            return "cannot read dataset file \(path): \(reason)"
        case .wrongMagic(let path, let expected, let found):
            return "wrong magic number in \(path): expected 0x\(String(expected, radix: 16)), found 0x\(String(found, radix: 16)); "
                + "not an IDX file of the expected kind"
        case .truncated(let path, let expectedBytes, let foundBytes):
            return "truncated dataset file \(path): expected \(expectedBytes) bytes, found \(foundBytes)"
        case .invalidHeader(let path, let reason):
            return "invalid dataset file \(path): \(reason)"
        case .countMismatch(let imagesPath, let images, let labelsPath, let labels):
            return "\(images) images in \(imagesPath) but \(labels) labels in \(labelsPath)"
        case .invalidLabel(let path, let index, let label, let classCount):
            return "label \(label) of sample \(index) in \(path) is outside 0..<\(classCount)"
        case .emptyFolder(let path):
            return "no images (png, jpg, jpeg, bmp, gif, tga) in \(path)"
        case .unreadableImage(let path, let reason):
            return "cannot decode image \(path): \(reason)"
        }
    }
}
