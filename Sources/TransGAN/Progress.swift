// Progress-line formatting that cannot trap: an ETA is a Double that may be negative, NaN, infinite or far
// beyond Int's range (e.g. 9.2e18 steps at a slow rate); `Int(seconds)` would trap on the last three.

/// `H:MM:SS` for a duration in seconds; `?` for a negative or non-finite one, `>1000000 h` past a million hours.
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    guard seconds < 3.6e9 else { return ">1000000 h" }
    let s = Int(seconds)
    return "\(s / 3600):" + String(repeating: "0", count: (s / 60) % 60 < 10 ? 1 : 0) + "\((s / 60) % 60):"
        + String(repeating: "0", count: s % 60 < 10 ? 1 : 0) + "\(s % 60)"
}
