import CKernels

@main
struct BenchAttention {
    static func main() {
        print("simd level \(ck_simd_level())")
    }
}
