// swift-tools-version: 6.0
// Atelier: a CPU deep-learning engine in Swift for TransGAN and Paint Transformer.
// Layers (arrows point down only): executables → models → media/data (AtelierMedia) → engine (Atelier) → native
// (COpenBLAS, CDNNL, CKernels; CMedia, which only AtelierMedia uses).
import PackageDescription

// No `platforms:`: the package targets Linux (Debian 12) only, which SwiftPM cannot state; its system libraries
// come from apt. No `unsafeFlags` either, so that other packages can depend on it by version: the engine is fast
// only when built with `-c release` (tests too: `swift test -c release`).

let package = Package(
    name: "Atelier",
    products: [
        .library(name: "Atelier", targets: ["Atelier"]),
        .library(name: "AtelierMPI", targets: ["AtelierMPI"]),
        .library(name: "AtelierMedia", targets: ["AtelierMedia"]),
        .library(name: "PaintTransformer", targets: ["PaintTransformer"]),
        .library(name: "TransGAN", targets: ["TransGAN"]),
        .executable(name: "paint", targets: ["paint"]),
        .executable(name: "paint-eval", targets: ["paint-eval"]),
        .executable(name: "train-paint-transformer", targets: ["train-paint-transformer"]),
        .executable(name: "train-transgan", targets: ["train-transgan"]),
        .executable(name: "transgan-sample", targets: ["transgan-sample"]),
        .executable(name: "transgan-eval", targets: ["transgan-eval"]),
        .executable(name: "bench-attention", targets: ["bench-attention"]),
        .executable(name: "bench-ops", targets: ["bench-ops"]),
        .executable(name: "bench-train", targets: ["bench-train"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: - Native layer
        .systemLibrary(
            name: "COpenBLAS",
            path: "Sources/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        // oneDNN: the bf16 GEMM on AMX / AVX512-BF16 (its own run-time dispatch). No pkg-config file on Debian.
        .systemLibrary(
            name: "CDNNL",
            path: "Sources/CDNNL",
            providers: [.apt(["libdnnl-dev"])]
        ),
        .systemLibrary(
            name: "CMedia",
            path: "Sources/CMedia",
            providers: [.apt(["libpng-dev", "libturbojpeg0-dev", "libgif-dev", "zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "CMPI",
            path: "Sources/CMPI",
            pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]
        ),
        // Vector paths are chosen per function with `target` attributes and runtime dispatch, never a global -march.
        .target(
            name: "CKernels",
            path: "CKernels",
            linkerSettings: [.linkedLibrary("m")]
        ),

        // MARK: - Engine
        .target(
            name: "Atelier",
            dependencies: ["COpenBLAS", "CDNNL", "CKernels"]
        ),
        // Data-parallel training over MPI: the engine's ProcessGroup for `mpirun` (kept out of the engine so
        // that linking Atelier never links MPI).
        .target(
            name: "AtelierMPI",
            dependencies: ["Atelier", "CMPI"]
        ),

        // MARK: - Media/Data
        // Images (codecs, resizing), animations and datasets, apart from the engine so that linking Atelier never
        // links libpng, TurboJPEG or giflib.
        .target(
            name: "AtelierMedia",
            dependencies: ["Atelier", "CMedia"]
        ),

        // MARK: - Models
        .target(
            name: "PaintTransformer",
            dependencies: ["Atelier", "AtelierMedia", "CKernels"],
            // The shipped model (F16 safetensors) and its note; read through Bundle.module.
            resources: [.copy("Resources")]
        ),
        .target(
            name: "TransGAN",
            dependencies: ["Atelier", "AtelierMedia"]
        ),

        // MARK: - Executables
        // What the command-line tools share: one-line errors, progress on stderr, stop requests from signals, and
        // the restart that selects OpenBLAS's fast kernels.
        .target(
            name: "CommandLineSupport",
            dependencies: ["COpenBLAS", "CKernels", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "paint",
            dependencies: ["Atelier", "PaintTransformer", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "paint-eval",
            dependencies: ["Atelier", "AtelierMedia", "PaintTransformer", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "train-paint-transformer",
            dependencies: ["Atelier", "AtelierMPI", "PaintTransformer", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "train-transgan",
            dependencies: ["Atelier", "AtelierMPI", "TransGAN", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "transgan-sample",
            dependencies: ["Atelier", "AtelierMedia", "TransGAN", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "transgan-eval",
            dependencies: ["Atelier", "TransGAN", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: - Benchmarks
        .executableTarget(
            name: "bench-attention",
            dependencies: ["Atelier", "CKernels", "COpenBLAS", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/bench-attention"
        ),
        .executableTarget(
            name: "bench-ops",
            dependencies: ["Atelier", "PaintTransformer", "CKernels", "COpenBLAS", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/bench-ops"
        ),
        // bench-train: one full training iteration per model (`--model transgan`; more models plug into its switch).
        .executableTarget(
            name: "bench-train",
            dependencies: ["Atelier", "PaintTransformer", "TransGAN", "COpenBLAS", "CommandLineSupport", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Benchmarks/bench-train"
        ),

        // MARK: - Tests
        // Helpers every test target shares: deterministic inputs, comparisons, scratch folders, SIMD levels, Python,
        // the fuzz corpora.
        .target(
            name: "TestSupport",
            dependencies: ["Atelier", "CKernels"],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "AtelierTests",
            dependencies: ["Atelier", "CKernels", "TestSupport"],
            // Reference files made by other implementations (and the scripts that made them).
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            // CMedia for the tests' own encoders: they build image files that the library's writers cannot.
            name: "AtelierMediaTests",
            dependencies: ["Atelier", "AtelierMedia", "CMedia", "TestSupport"]
        ),
        .testTarget(
            // Runs the training executables (which `swift test` builds) under `mpirun -np 2` (Open MPI from
            // openmpi-bin) on loopback.
            name: "AtelierMPITests",
            dependencies: ["Atelier", "PaintTransformer", "TestSupport"]
        ),
        .testTarget(
            name: "PaintTransformerTests",
            dependencies: ["Atelier", "AtelierMedia", "PaintTransformer", "CKernels", "TestSupport"]
        ),
        .testTarget(
            name: "TransGANTests",
            dependencies: ["Atelier", "AtelierMedia", "TransGAN", "TestSupport"]
        ),
    ]
)
