import Foundation
import Testing
import Atelier
import AtelierMedia
@testable import PaintTransformer
#if canImport(Glibc)
import Glibc
import TestSupport
#endif

// Issue 11 for Paint Transformer: nothing a user hands `paint` or the trainer crashes, hangs or corrupts. Outputs
// that would overwrite an input, directories or FIFOs given as files, extreme aspect ratios, impossible numbers in
// checkpoint metadata and NaN weights each fail with one line naming the file (and flag or key) — before any
// output or temporary file exists.

private func photo(in directory: URL, width: Int = 40, height: Int = 40, name: String = "photo.png") throws -> URL {
    let url = directory.appendingPathComponent(name)
    try RasterImage(width: width, height: height, channels: 3, fill: 128).writePNG(to: url)
    return url
}

private func failure(_ options: PaintJobOptions) -> String? {
    do { _ = try PaintJob.run(options); return nil } catch { return error.description }
}

private func partials(in directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".partial") }
}

@Test func outputThatIsAnInputIsRefused() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let input = try photo(in: directory)
    let model = try tinyModel(in: directory)
    let before = try Data(contentsOf: input)
    let link = directory.appendingPathComponent("link.png")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: input)
    let hard = directory.appendingPathComponent("hard.png")
    try FileManager.default.linkItem(at: input, to: hard)
    let subdirectory = directory.appendingPathComponent("sub")
    try FileManager.default.createDirectory(at: subdirectory, withIntermediateDirectories: true)
    let dotted = URL(fileURLWithPath: subdirectory.path + "/../photo.png")
    for output in [input, link, hard, dotted] {
        var options = PaintJobOptions(input: input, output: output)
        options.model = model
        let message = failure(options)
        #expect(message?.contains("--output") == true && message?.contains("is the input photo") == true, "\(message ?? "no error")")
    }
    var saveOverPhoto = PaintJobOptions(input: input, output: directory.appendingPathComponent("out.png"))
    saveOverPhoto.model = model
    saveOverPhoto.saveInput = link
    #expect(failure(saveOverPhoto)?.contains("--save-input") == true)
    var overModel = PaintJobOptions(input: input, output: directory.appendingPathComponent("out.png"))
    overModel.model = model
    overModel.strokes = model.deletingPathExtension().appendingPathExtension("json")
    try Data().write(to: overModel.strokes!)
    try FileManager.default.removeItem(at: overModel.strokes!)
    try FileManager.default.createSymbolicLink(at: overModel.strokes!, withDestinationURL: model)
    #expect(failure(overModel)?.contains("the --model file") == true)
    #expect(try Data(contentsOf: input) == before)
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out.png").path))
    #expect(try partials(in: directory).isEmpty)
}

@Test func directoryAsStrokesIsRefusedBeforeAnyOutput() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let strokes = directory.appendingPathComponent("strokes.json")
    try FileManager.default.createDirectory(at: strokes, withIntermediateDirectories: true)
    var options = PaintJobOptions(input: try photo(in: directory), output: directory.appendingPathComponent("out.png"))
    options.model = try tinyModel(in: directory)
    options.strokes = strokes
    options.animation = directory.appendingPathComponent("out.gif")
    let message = failure(options)
    #expect(message == "cannot write \(strokes.path) (--strokes): it is a directory; give a file name")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
    #expect(files == ["photo.png", "strokes.json", "tiny.safetensors"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: strokes.path).isEmpty)
}

@Test func fifoAndDeviceInputsAreRefusedWithoutBlocking() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let fifo = directory.appendingPathComponent("pipe.png")
    #expect(mkfifo(fifo.path, 0o644) == 0)
    let model = try tinyModel(in: directory)
    let good = try photo(in: directory)
    let output = directory.appendingPathComponent("out.png")

    var photoIsFIFO = PaintJobOptions(input: fifo, output: output)
    photoIsFIFO.model = model
    #expect(failure(photoIsFIFO) == "cannot read image \(fifo.path): it is a FIFO (named pipe), not a regular file")
    var modelIsFIFO = PaintJobOptions(input: good, output: output)
    modelIsFIFO.model = fifo
    #expect(failure(modelIsFIFO) == "cannot read checkpoint \(fifo.path): it is a FIFO (named pipe), not a regular file")
    var brushIsFIFO = PaintJobOptions(input: good, output: output)
    brushIsFIFO.model = model
    brushIsFIFO.brush = fifo
    #expect(failure(brushIsFIFO)?.contains("it is a FIFO (named pipe), not a regular file") == true)
    var device = PaintJobOptions(input: URL(fileURLWithPath: "/dev/null"), output: output)
    device.model = model
    #expect(failure(device) == "cannot read image /dev/null: it is a character device, not a regular file")
    var folder = PaintJobOptions(input: directory, output: output)
    folder.model = model
    #expect(failure(folder) == "cannot read image \(directory.path): it is a directory, not a regular file")
    #expect(!FileManager.default.fileExists(atPath: output.path))
    #expect(try partials(in: directory).isEmpty)
}

@Test func staleTemporariesOfDeadRunsAreRemoved() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let output = directory.appendingPathComponent("out.png")
    let dead = directory.appendingPathComponent(".out.png.\(Int32.max)-\(UUID().uuidString).partial")
    let legacy = directory.appendingPathComponent(".out.png.\(UUID().uuidString).partial")
    let foreign = directory.appendingPathComponent(".out.png.notes.partial")
    for url in [dead, legacy, foreign] { try Data().write(to: url) }
    var options = PaintJobOptions(input: directory.appendingPathComponent("missing.png"), output: output)
    options.model = try tinyModel(in: directory)
    #expect(failure(options)?.contains("missing.png") == true)
    #expect(try partials(in: directory) == [".out.png.notes.partial"])
}

@Test func extremeAspectRatiosAreRefused() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let strip = try photo(in: directory, width: 1, height: 200, name: "strip.png")
    var options = PaintJobOptions(input: strip, output: directory.appendingPathComponent("out.png"))
    options.model = try tinyModel(in: directory)
    #expect(failure(options) == "\(strip.path) is 1×200; paint needs the longer side at most 16× the shorter "
            + "(it paints a square canvas of the longer side) — crop it nearer to square")
    #expect(try partials(in: directory).isEmpty)
}

@Test func nonFiniteWeightsAreRefusedNamingTheTensor() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let url = try tinyModel(in: directory)
    var file = try SafeTensorsFile.read(from: url)
    let key = file.tensors.keys.sorted()[1]
    let entry = file.tensors[key]!
    var values = entry.floats()
    values[values.count / 2] = .nan
    file.tensors[key] = SafeTensorsEntry(floats: values, shape: entry.shape, dtype: entry.dtype)
    try file.write(to: url)
    #expect(throws: ModelError.self) { try PaintTransformerModel.load(from: url) }
    do { _ = try PaintTransformerModel.load(from: url) } catch {
        #expect(error.description == "model \(url.path) cannot be used: tensor '\(key)' contains NaN or infinity")
    }
}

private func checkpoint(in directory: URL) throws -> URL {
    let trainer = try PaintTransformerTrainer(settings: TrainerSettings(configuration: .tiny, batchSize: 8, totalSteps: 100),
                                              brushes: .oilPaint(size: 64))
    let url = directory.appendingPathComponent("checkpoint.safetensors")
    try trainer.saveCheckpoint(to: url)
    return url
}

@Test func impossibleCheckpointMetadataIsRefusedNamingTheKey() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let url = try checkpoint(in: directory)
    let original = try SafeTensorsFile.read(from: url)
    #expect((try? PaintTransformerTrainer.resume(from: url, brushes: .oilPaint(size: 64))) != nil)
    let cases: [(key: String, value: String)] = [
        ("batch", "0"), ("batch", "-4"), ("batch", "3"), ("batch", "8192"), ("total_steps", "50000000000000000"),
        ("total_steps", "0"), ("step", "50000000000000000"), ("step", "-1"), ("learning_rate", "nan"),
        ("learning_rate", "inf"), ("learning_rate", "-1e-4"), ("learning_rate", "fast"), ("seed", "garbage"), ("seed", "-1"),
    ]
    for (key, value) in cases {
        var file = original
        file.metadata[key] = value
        try file.write(to: url)
        do {
            _ = try PaintTransformerTrainer.resume(from: url, brushes: .oilPaint(size: 64))
            Issue.record("\(key)=\(value) was accepted")
        } catch {
            #expect(error.description.hasPrefix("metadata '\(key)' in \(url.path): "), "\(key)=\(value): \(error)")
        }
    }
    // Overriding a bad stored value does not make the file trustworthy, and overrides are checked too.
    var file = original
    file.metadata["batch"] = "3"
    try file.write(to: url)
    #expect(throws: TrainerError.self) { try PaintTransformerTrainer.resume(from: url, batchSize: 8, brushes: .oilPaint(size: 64)) }
    try original.write(to: url)
    #expect(throws: TrainerError.self) { try PaintTransformerTrainer.resume(from: url, totalSteps: 2_000_000_000, brushes: .oilPaint(size: 64)) }
    #expect(throws: TrainerError.self) { try PaintTransformerTrainer.resume(from: url, learningRate: .nan, brushes: .oilPaint(size: 64)) }
    #expect(throws: TrainerError.self) { try PaintTransformerTrainer.resume(from: url, batchSize: 4100, brushes: .oilPaint(size: 64)) }
}

@Test func nonFiniteCheckpointTensorsAreRefusedNamingTheTensor() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let url = try checkpoint(in: directory)
    var file = try SafeTensorsFile.read(from: url)
    let key = file.tensors.keys.sorted().first { $0.hasPrefix("exp_avg_sq.") }!
    let entry = file.tensors[key]!
    file.tensors[key] = SafeTensorsEntry(floats: Array(repeating: .infinity, count: entry.elementCount), shape: entry.shape)
    try file.write(to: url)
    do {
        _ = try PaintTransformerTrainer.resume(from: url, brushes: .oilPaint(size: 64))
        Issue.record("accepted")
    } catch {
        #expect(error.description == "checkpoint \(url.path) cannot be used: tensor '\(key)' contains NaN or infinity")
    }
}

@Test func aNonFiniteStepIsNeitherAppliedNorSaved() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let trainer = try PaintTransformerTrainer(settings: TrainerSettings(configuration: .tiny, batchSize: 4, totalSteps: 10),
                                              brushes: .oilPaint(size: 64))
    let (name, parameter) = trainer.network.namedParameters()[0]
    parameter.assignDoubles(Array(repeating: .nan, count: parameter.count))
    #expect(throws: TrainerError.self) { try trainer.trainStep() }
    #expect(trainer.step == 0 && trainer.failedStep == 1, "\(name)")
    let url = directory.appendingPathComponent("checkpoint.safetensors")
    do { try trainer.saveCheckpoint(to: url); Issue.record("saved") } catch {
        #expect(error.description.contains("nothing more is trained or saved"))
    }
    #expect(throws: TrainerError.self) { try trainer.exportWeights(to: directory.appendingPathComponent("w.safetensors")) }
    #expect(throws: TrainerError.self) { try trainer.trainStep() }
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
}

@Test func trainingLimitsAndDurations() throws {
    typealias L = PaintTransformerTrainingLimits
    for bad in [0, -4, 3, 4100, 8192, Int.max] { #expect(L.batchProblem(bad) != nil) }
    for good in [4, 64, 4096] { #expect(L.batchProblem(good) == nil) }
    for bad in [0, -1, 1_000_000_001, Int.max] { #expect(L.stepsProblem(bad) != nil) }
    #expect(L.stepsProblem(1) == nil && L.stepsProblem(1_000_000_000) == nil && L.completedStepProblem(0) == nil)
    for bad in [0, -1e-4, .nan, .infinity] { #expect(L.learningRateProblem(bad) != nil) }
    #expect(L.formatDuration(65) == "1m05s" && L.formatDuration(3725) == "1h02m")
    #expect(L.formatDuration(.nan) == "?" && L.formatDuration(-1) == "?" && L.formatDuration(.infinity) == "?")
    #expect(L.formatDuration(1e300) == ">1000000h" && L.formatDuration(9.3e18) == ">1000000h")
    #expect(throws: TrainerError.self) {
        try PaintTransformerTrainer(settings: TrainerSettings(configuration: .tiny, batchSize: 8192), brushes: .oilPaint(size: 64))
    }
    #expect(throws: TrainerError.self) {
        try PaintTransformerTrainer(settings: TrainerSettings(configuration: .tiny, totalSteps: 50_000_000_000_000_000), brushes: .oilPaint(size: 64))
    }
}

@Test func divergedWeightsAreNotExportedAsInfinityInF16() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let trainer = try PaintTransformerTrainer(settings: TrainerSettings(configuration: .tiny, batchSize: 4, totalSteps: 10),
                                              brushes: .oilPaint(size: 64))
    let (name, parameter) = trainer.network.namedParameters()[0]
    parameter.assignDoubles(Array(repeating: 1e6, count: parameter.count))
    let url = directory.appendingPathComponent("weights-f16.safetensors")
    do { try trainer.exportWeights(to: url); Issue.record("exported") } catch {
        #expect(error.description == "not writing \(url.path): tensor '\(name)' has values that are not finite in F16; the weights have diverged")
    }
    try trainer.exportWeights(to: url, dtype: .f32)  // representable in F32
    #expect(FileManager.default.fileExists(atPath: url.path))
}

@Test func detailSharesOutsideTheUnitIntervalAreRefusedNamingTheFlag() throws {
    let scratch = try ScratchDirectory("paint-safety")
    defer { scratch.remove() }
    let directory = scratch.url
    let input = try photo(in: directory, width: 40, height: 30, name: "in.png")
    for share in [0, -0.5, 1.5, Double.nan, Double.infinity] {
        var options = PaintJobOptions(input: input, output: directory.appendingPathComponent("out.png"))
        options.model = try tinyModel(in: directory)
        options.detailShare = share
        #expect(failure(options) == "--detail-share must be in (0, 1], got \(share)")
    }
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("out.png").path))
}
