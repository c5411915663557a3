// The connection family: `ping`.

extension ClientRequest {
    /// `{"type":"ping","id":…}`.
    public struct Ping: Sendable, Hashable {
        public var id: RequestID?

        public init(id: RequestID? = nil) {
            self.id = id
        }
    }
}
