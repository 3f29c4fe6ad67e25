import Testing

/// Groups the media and dataset suites so that `swift test --filter MediaTests` runs exactly them.
@Suite("Media") enum MediaTests {}
