// swift-tools-version: 6.0
// libFuzzer targets for Atelier's file loaders. A package of its own, so the main package's `swift build` and
// `swift test` never build or link them: `scripts/fuzz.sh` builds this one with libFuzzer and AddressSanitizer
// (`-sanitize=fuzzer,address`) into .build-fuzz. One executable holds every target (libFuzzer supplies main); the
// target is picked by ATELIER_FUZZ_TARGET or by the name it runs as (`fuzz-images` → images), see
// Sources/atelier-fuzz/Entry.swift.
import PackageDescription

/// SwiftPM names a path dependency after its directory, so the checkout's folder name is the package to refer to.
let atelier = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "atelier")

let package = Package(
    name: "AtelierFuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "atelier-fuzz",
            dependencies: [
                .product(name: "Atelier", package: atelier),
                .product(name: "AtelierMedia", package: atelier),
                .product(name: "TransGAN", package: atelier),
                .product(name: "PaintTransformer", package: atelier),
            ]
        ),
    ]
)
