/// What a data-parallel run sent: exchanges (one per network and step), their payload and wall time. The time
/// includes waiting for the slowest member, so it bounds the communication cost from above.
public struct CommunicationSummary: Sendable, Equatable {
    public var exchanges = 0
    public var bytes = 0
    public var seconds = 0.0
    public init() {}

    public mutating func add(_ reducer: GradientReducer?) {
        guard let reducer else { return }
        exchanges += reducer.exchanges
        bytes += reducer.exchanges * reducer.bytesPerExchange
        seconds += reducer.exchangeSeconds
    }

    /// "N exchanges, X MB each on average, Y ms each (Z s in all)".
    public var description: String {
        guard exchanges > 0 else { return "no gradient exchanges" }
        let n = Double(exchanges)
        return "\(exchanges) gradient exchanges, " + String(format: "%.2f MB and %.1f ms each on average (%.1f s in all)",
                                                            Double(bytes) / n / 1e6, seconds / n * 1e3, seconds)
    }
}
