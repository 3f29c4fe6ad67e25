// OpenBLAS chooses its kernels when the library loads. Debian's 0.3.21 does not know recent CPUs and falls
// back to its slowest x86-64 kernels ("Prescott"); OPENBLAS_CORETYPE overrides that, but only if it is in
// the environment before the process starts. Executables therefore re-execute themselves once with it set.
import Foundation
import COpenBLAS
import CKernels

public enum BLASEnvironment {
    /// The OpenBLAS kernel set in use, e.g. `Haswell`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// If `OPENBLAS_CORETYPE` is unset and the CPU has AVX2 and FMA, restarts this process with
    /// `OPENBLAS_CORETYPE=Haswell` (the AVX2 kernels). An explicit setting is always left alone, and
    /// `ATELIER_KEEP_BLAS_CORE=1` disables the restart. Returns only if no restart happens.
    public static func selectFastKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["OPENBLAS_CORETYPE"] == nil, env["ATELIER_KEEP_BLAS_CORE"] == nil, ck_simd_level_supported() >= 1 else { return }
        setenv("OPENBLAS_CORETYPE", "Haswell", 1)
        setenv("ATELIER_KEEP_BLAS_CORE", "1", 1)  // never loop
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: keep running with the kernels we have.
    }
}
