// `--threads` validation shared by the tools: the documented range 1…1024, and an error naming the flag for
// 0, negatives and counts past Int32 (which used to trap in `Threading.setCount`).
import Testing
@testable import Atelier

@Suite struct ThreadCountTests {
    @Test func countsInRangeAreReturned() throws {
        #expect(try Threading.validatedCount(1) == 1)
        #expect(try Threading.validatedCount(2) == 2)
        #expect(try Threading.validatedCount(1024) == 1024)
    }

    @Test func countsOutOfRangeNameTheFlag() {
        for bad in [0, -1, 1025, 4_294_967_296, Int.max, Int.min] {
            #expect(throws: ThreadCountError(flag: "--threads", value: bad)) { try Threading.validatedCount(bad) }
        }
        #expect(throws: ThreadCountError(flag: "--workers", value: 0)) { try Threading.validatedCount(0, flag: "--workers") }
        #expect(ThreadCountError(flag: "--threads", value: 0).description == "--threads must be between 1 and 1024 worker threads, got 0")
    }
}
