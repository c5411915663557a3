import LatticeProtocol
import LatticeWebSocket

extension WebSocketCloseCode {
    /// The WebSocket close code of an entry of lattice.v1's table of close codes.
    init(_ code: LatticeCloseCode) {
        self.init(rawValue: code.rawValue)
    }
}
