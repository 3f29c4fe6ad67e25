import Testing
import CKernels

@Test func simdLevelIsKnown() {
    #expect((0...2).contains(ck_simd_level()))
}
