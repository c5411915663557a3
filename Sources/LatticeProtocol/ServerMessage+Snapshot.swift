public import NIOCore

extension ServerMessage {
    /// `{"type":"snapshot","stream":…,"epoch":…,"offset":N,"data":…}`: the stream's state after
    /// every event up to and including `offset` (a subscribe with `snapshot: true`); live events
    /// follow from `offset + 1`.
    public static func snapshot(stream: StreamName, epoch: StreamEpoch, offset: UInt64, data: RawJSON, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("{\"type\":\"snapshot\",\"stream\":")
        buffer.writeJSONString(stream.name)
        buffer.writeStaticString(",\"epoch\":")
        buffer.writeJSONString(epoch.rawValue)
        buffer.writeStaticString(",\"offset\":")
        buffer.writeJSONInteger(offset)
        buffer.writeStaticString(",\"data\":")
        buffer.writeRawJSON(data)
        buffer.writeStaticString("}")
    }
}
