// OpenBLAS chooses its kernels when the library loads. Debian's 0.3.21 does not know recent CPUs and falls
// back to its slowest x86-64 kernels ("Prescott"); OPENBLAS_CORETYPE overrides that, but only if it is in
// the environment before the process starts. Executables therefore re-execute themselves once with it set.
// The same goes for OPENBLAS_THREAD_TIMEOUT: by default OpenBLAS's idle threads spin for 2^28 cycles (~0.1 s)
// after every GEMM, on the very cores the engine's own slices need next; 2^16 (~25 µs) made a TransGAN
// training step 12 % faster on 2 cores. oneDNN (the bf16 GEMM) runs on libgomp, whose idle threads spin the same
// way (GOMP_SPINCOUNT 300,000 by default); OMP_WAIT_POLICY=PASSIVE puts them to sleep at once.
// Restarting a process is an executable's decision, so this lives here and not in the engine.
import Foundation
import COpenBLAS
import CKernels

public enum BLASEnvironment {
    /// The OpenBLAS kernel set in use, e.g. `Haswell`.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    /// The kernel set `selectFastKernels` picks for this CPU: `SkylakeX` (AVX-512) or `Haswell` (AVX2 + FMA),
    /// nil when neither applies.
    public static var fastestCoreType: String? {
        if ck_cpu_has_skylake_avx512() != 0 { return "SkylakeX" }
        return ck_simd_level_supported() >= 1 ? "Haswell" : nil
    }

    /// Idle-spin setting for OpenBLAS's threads (2^N cycles) when the environment has none.
    public static let threadTimeout = "16"

    /// Idle policy for oneDNN's OpenMP threads when neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set.
    public static let openMPWaitPolicy = "PASSIVE"

    /// If `OPENBLAS_CORETYPE`, `OPENBLAS_THREAD_TIMEOUT` or the OpenMP wait policy is unset, restarts this process
    /// with the core type set to `fastestCoreType` (on this project's Zen 5 machine the AVX-512 kernels train
    /// TransGAN-S 1.3× faster than the AVX2 ones), the timeout to `threadTimeout` and `OMP_WAIT_POLICY` to
    /// `openMPWaitPolicy` (spinning OpenMP threads halved both GEMMs' speed on 2 cores when oneDNN and OpenBLAS
    /// calls alternated). Explicit settings are always left alone, and
    /// `ATELIER_KEEP_BLAS_CORE=1` disables the restart. Returns only if no restart happens.
    public static func selectFastKernels() {
        let env = ProcessInfo.processInfo.environment
        guard env["ATELIER_KEEP_BLAS_CORE"] == nil else { return }
        var settings: [(String, String)] = []
        if env["OPENBLAS_CORETYPE"] == nil, let core = fastestCoreType { settings.append(("OPENBLAS_CORETYPE", core)) }
        if env["OPENBLAS_THREAD_TIMEOUT"] == nil { settings.append(("OPENBLAS_THREAD_TIMEOUT", threadTimeout)) }
        if env["OMP_WAIT_POLICY"] == nil && env["GOMP_SPINCOUNT"] == nil { settings.append(("OMP_WAIT_POLICY", openMPWaitPolicy)) }
        guard !settings.isEmpty else { return }
        for (name, value) in settings { setenv(name, value, 1) }
        setenv("ATELIER_KEEP_BLAS_CORE", "1", 1)  // never loop
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: keep running with the kernels we have.
    }
}
