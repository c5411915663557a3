import NIOCore
import Testing

@testable import LatticeProtocol

@Suite struct DecodeValidTests {
    @Test func subscribeMinimal() {
        let request = decoded(#"{"type":"subscribe","id":1,"stream":"channel/acme/general"}"#)
        #expect(request == .subscribe(.init(id: RequestID(1), stream: stream("channel/acme/general"))))
        #expect(request?.type == "subscribe")
        #expect(request?.id == RequestID(1))
        #expect(request?.stream == stream("channel/acme/general"))
    }

    @Test func subscribeWithSince() {
        let request = decoded(#"{"type":"subscribe","id":"a","stream":"run/r1","since":{"epoch":"e-7","offset":42}}"#)
        #expect(request == .subscribe(.init(id: RequestID("a"), stream: stream("run/r1"), since: StreamPosition(epoch: "e-7", offset: 42))))
        let zero = decoded(#"{"type":"subscribe","stream":"run/r1","since":{"offset":0,"epoch":""}}"#)
        #expect(zero == .subscribe(.init(stream: stream("run/r1"), since: StreamPosition(epoch: "", offset: 0))))
        let max = decoded(#"{"type":"subscribe","stream":"run/r1","since":{"epoch":"x","offset":9223372036854775807}}"#)
        #expect(max == .subscribe(.init(stream: stream("run/r1"), since: StreamPosition(epoch: "x", offset: UInt64(Int.max)))))
    }

    @Test func subscribeSnapshot() {
        #expect(decoded(#"{"type":"subscribe","stream":"doc/d1","snapshot":true}"#)
            == .subscribe(.init(stream: stream("doc/d1"), snapshot: true)))
        #expect(decoded(#"{"type":"subscribe","stream":"doc/d1","snapshot":false}"#)
            == .subscribe(.init(stream: stream("doc/d1"), snapshot: false)))
        // snapshot false does not conflict with since
        #expect(decoded(#"{"type":"subscribe","stream":"doc/d1","snapshot":false,"since":{"epoch":"e","offset":3}}"#)
            == .subscribe(.init(stream: stream("doc/d1"), since: StreamPosition(epoch: "e", offset: 3))))
    }

    @Test func unsubscribe() {
        #expect(decoded(#"{"type":"unsubscribe","id":2,"stream":"graph/acme"}"#)
            == .unsubscribe(.init(id: RequestID(2), stream: stream("graph/acme"))))
    }

    @Test func publishKeepsDataVerbatim() {
        let text = #"{"type":"publish","id":3,"stream":"channel/acme/general","data":{ "b" : [1, 2.5e3, "x\n\u00e9"],"a":null }}"#
        guard case .publish(let p) = decoded(text) else { Issue.record("not a publish"); return }
        #expect(p.id == RequestID(3))
        #expect(p.stream == stream("channel/acme/general"))
        #expect(p.data.text == #"{ "b" : [1, 2.5e3, "x\n\u00e9"],"a":null }"#)
        #expect(p.key == nil)
    }

    @Test func publishEveryKindOfData() {
        for data in ["null", "true", "false", "0", "-1.5E-7", #""""#, #""text""#, "[]", "{}", #"[{"a":[[]]}]"#] {
            guard case .publish(let p) = decoded(#"{"type":"publish","stream":"channel/w/c","data":"# + data + "}") else {
                Issue.record("\(data)")
                continue
            }
            #expect(p.data.text == data)
        }
    }

    @Test func publishWithKey() {
        guard case .publish(let p) = decoded(#"{"type":"publish","stream":"channel/w/cursors","key":"user\"7","data":1}"#) else {
            Issue.record("not a publish")
            return
        }
        #expect(p.key == "user\"7")
        #expect(p.data.text == "1")
    }

    @Test func presenceSet() {
        guard case .presenceSet(let p) = decoded(#"{"type":"presence.set","id":4,"stream":"doc/d1","state":{"status":"away","cursor":{"line":3}}}"#) else {
            Issue.record("not a presence.set")
            return
        }
        #expect(p.id == RequestID(4))
        #expect(p.stream == stream("doc/d1"))
        #expect(p.state.text == #"{"status":"away","cursor":{"line":3}}"#)
    }

    @Test func ping() {
        #expect(decoded(#"{"type":"ping","id":5}"#) == .ping(.init(id: RequestID(5))))
        #expect(decoded(#"{"type":"ping"}"#) == .ping(.init()))
    }

    @Test func idsAreKeptRaw() {
        for id in ["0", "-3", "1.5", "2e10", #""""#, #""abc""#, #""a\"b\u00e9""#, "123456789012345678901234567890"] {
            let request = decoded(#"{"id":"# + id + #","type":"ping"}"#)
            #expect(request?.id?.raw.text == id)
        }
        #expect(RequestID("x").isString)
        #expect(!RequestID(7).isString)
    }

    @Test func unknownFieldsAndOtherTypesFieldsAreIgnored() {
        #expect(decoded(#"{"type":"ping","id":1,"extra":{"deep":[1,2,{"x":null}]},"data":5,"stream":7,"since":[]}"#)
            == .ping(.init(id: RequestID(1))))
        #expect(decoded(#"{"type":"unsubscribe","stream":"run/r","data":1,"state":2,"key":3,"snapshot":"x"}"#)
            == .unsubscribe(.init(stream: stream("run/r"))))
        // Repeats of fields the request does not use are ignored too.
        #expect(decoded(#"{"type":"ping","data":1,"data":2}"#) == .ping(.init()))
        #expect(decoded(#"{"type":"subscribe","stream":"run/r","since":{"epoch":"e","offset":1,"x":[1]}}"#)
            == .subscribe(.init(stream: stream("run/r"), since: StreamPosition(epoch: "e", offset: 1))))
    }

    @Test func whitespaceAndFieldOrder() {
        #expect(decoded(" \r\n\t{ \"stream\" : \"run/r\" ,\n\"type\"\t:\"unsubscribe\" , \"id\" : 9 } \n")
            == .unsubscribe(.init(id: RequestID(9), stream: stream("run/r"))))
    }

    @Test func escapedKeysAndValues() {
        // "type" and "ping" spelled with escapes are the same strings.
        #expect(decoded(#"{"\u0074ype":"p\u0069ng","\u0069d":1}"#) == .ping(.init(id: RequestID(1))))
        #expect(decoded(#"{"type":"presence\u002eset","stream":"doc\/d","st\u0061te":{}}"#)
            == .presenceSet(.init(stream: stream("doc/d"), state: raw("{}"))))
        #expect(decoded(#"{"type":"subscribe","stream":"run/r","since":{"\u0065poch":"\u00e9\ud83c\udf89","offs\u0065t":2}}"#)
            == .subscribe(.init(stream: stream("run/r"), since: StreamPosition(epoch: "é🎉", offset: 2))))
    }

    @Test func dataIsASliceOfTheMessage() {
        var message = ByteBuffer(string: "xx")
        message.moveReaderIndex(forwardBy: 2)
        message.writeString(#"{"type":"publish","stream":"channel/a/b","data":[1,2]}"#)
        guard case .success(.publish(let p)) = ClientRequest.decode(message) else {
            Issue.record("decode failed")
            return
        }
        #expect(p.data.text == "[1,2]")
        #expect(message.readerIndex == 2, "the message must not be consumed")
    }

    @Test func limitsAreInclusive() {
        let text = #"{"type":"ping"}"#
        #expect(decoded(text, limits: ProtocolLimits(maxMessageBytes: text.utf8.count)) != nil)
        let state = #"{"a":1}"#
        #expect(decoded(#"{"type":"presence.set","stream":"doc/d","state":"# + state + "}", limits: ProtocolLimits(maxPresenceStateBytes: 7)) != nil)
        #expect(decoded(#"{"type":"publish","stream":"channel/w/c","key":"abcd","data":1}"#, limits: ProtocolLimits(maxKeyBytes: 4)) != nil)
        let name = "channel/w/" + String(repeating: "x", count: 246)
        #expect(decoded(#"{"type":"unsubscribe","stream":""# + name + #""}"#) != nil)
        // The request object is depth 1: data nested 63 more levels is allowed at the default 64.
        let deep = String(repeating: "[", count: 63) + String(repeating: "]", count: 63)
        #expect(decoded(#"{"type":"publish","stream":"channel/w/c","data":"# + deep + "}") != nil)
    }
}

@Suite struct DecodeErrorTests {
    @Test func badJSON() {
        let cases = [
            "", " ", "{", "}", #"{"type":"ping""#, #"{"type":"ping",}"#, #"{"type" "ping"}"#, #"{"type":'ping'}"#,
            #"{type:"ping"}"#, #"{"type":"ping"} x"#, #"{"type":"ping"}{}"#, #"{"id":01,"type":"ping"}"#,
            #"{"id":1.,"type":"ping"}"#, #"{"id":.5,"type":"ping"}"#, #"{"id":-,"type":"ping"}"#, #"{"id":1e,"type":"ping"}"#,
            #"{"id":+1,"type":"ping"}"#, #"{"id":NaN,"type":"ping"}"#, #"{"id":Infinity,"type":"ping"}"#,
            #"{"a":tru,"type":"ping"}"#, #"{"a":nul,"type":"ping"}"#, #"{"a":True,"type":"ping"}"#,
            "{\"type\":\"pi\tng\"}", "{\"type\":\"ping\",\"x\":\"a\u{0}b\"}", #"{"type":"ping","x":"\x"}"#,
            #"{"type":"ping","x":"\u12"}"#, #"{"type":"ping","x":"\uZZZZ"}"#, #"{"type":"ping","x":"\ud800"}"#,
            #"{"type":"ping","x":"\udc00\ud800"}"#, #"{"type":"ping","x":"\ud800\u0041"}"#, #"{"type":"ping","x":[1,]}"#,
            #"{"type":"ping","x":[1 2]}"#, #"{"type":"ping","x":{"a"}}"#, #"{"type":"ping","x":{"a":1,}}"#,
            "\u{FEFF}{\"type\":\"ping\"}", "{\"type\":\"ping\"}\u{0}", #"{"type":"ping""x":1}"#, "[1,2", #""abc"#,
        ]
        for text in cases {
            expectError(text, .badJSON, id: nil, mentions: ["invalid JSON"])
        }
    }

    @Test func badUTF8() {
        for bytes: [UInt8] in [[0xFF], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC3], [0xE2, 0x82], [0x80]] {
            var message = ByteBuffer(string: #"{"id":1,"type":"ping","x":""#)
            message.writeBytes(bytes)
            message.writeString(#""}"#)
            guard case .failure(let error) = ClientRequest.decode(message) else {
                Issue.record("\(bytes) accepted")
                continue
            }
            #expect(error.code == .badJSON)
            #expect(error.id == nil)
            #expect(error.message.contains("UTF-8"))
        }
    }

    @Test func notObject() {
        for text in ["[]", "[1,{}]", "1", "-2.5", #""ping""#, "null", "true", " false "] {
            expectError(text, .notObject, id: nil, mentions: ["not a JSON object"])
        }
    }

    @Test func idOfTheWrongType() {
        for id in ["null", "true", "{}", "[1]"] {
            expectError(#"{"type":"ping","id":"# + id + "}", .wrongType, id: nil, mentions: ["'id'"])
        }
        expectError(#"{"type":"ping","id":1,"id":2}"#, .duplicateField, id: nil, mentions: ["'id'"])
    }

    @Test func typeMissingWrongUnknown() {
        expectError(#"{"id":7}"#, .missingField, id: "7", mentions: ["'type'"])
        expectError(#"{}"#, .missingField, id: nil, mentions: ["'type'"])
        for value in ["1", "null", "true", "{}", #"["ping"]"#] {
            expectError(#"{"id":"x","type":"# + value + "}", .wrongType, id: #""x""#, mentions: ["'type'"])
        }
        expectError(#"{"id":7,"type":"ping","type":"ping"}"#, .duplicateField, id: "7", mentions: ["'type'"])
        for type in ["pong", "", "Ping", "presence.get", "doc.ops", "subscribe "] {
            expectError(#"{"id":7,"type":""# + type + #""}"#, .unknownType, id: "7", mentions: ["'\(type)'"])
        }
        // A huge unknown type is cut short in the message.
        let long = String(repeating: "q", count: 1000)
        expectError(#"{"id":7,"type":""# + long + #""}"#, .unknownType, id: "7", mentions: [String(repeating: "q", count: 64) + "…"])
    }

    @Test func streamMissingWrongOrInvalidForEveryType() {
        let types = [
            ("subscribe", ""), ("unsubscribe", ""), ("publish", #","data":1"#), ("presence.set", #","state":{}"#),
        ]
        for (type, rest) in types {
            expectError(#"{"id":1,"type":""# + type + #"""# + rest + "}", .missingField, id: "1", mentions: ["'stream'"])
            for value in ["1", "null", "false", "{}", "[]"] {
                expectError(#"{"id":1,"type":""# + type + #"","stream":"# + value + rest + "}", .wrongType, id: "1", mentions: ["'stream'"])
            }
            expectError(#"{"id":1,"type":""# + type + #"","stream":"nope/x""# + rest + "}", .invalidStream, id: "1", mentions: ["unknown kind"])
            expectError(#"{"id":1,"type":""# + type + #"","stream":"channel/a/b","stream":"channel/a/b""# + rest + "}",
                .duplicateField, id: "1", mentions: ["'stream'"])
        }
    }

    @Test func streamNameTooLong() {
        let name = "channel/w/" + String(repeating: "x", count: 247)
        expectError(#"{"id":1,"type":"subscribe","stream":""# + name + #""}"#, .invalidStream, id: "1", mentions: ["257 bytes", "256"])
        let huge = "channel/w/" + String(repeating: "x", count: 5000)
        expectError(#"{"id":1,"type":"subscribe","stream":""# + huge + #""}"#, .invalidStream, id: "1", mentions: ["256"])
        expectError(#"{"id":1,"type":"subscribe","stream":"run/abcdef"}"#, .invalidStream, id: "1", mentions: ["10 bytes"],
            limits: ProtocolLimits(maxStreamNameBytes: 9))
    }

    @Test func subscribeFields() {
        let base = #"{"id":1,"type":"subscribe","stream":"run/r""#
        for value in ["1", #""yes""#, "null", "{}"] {
            expectError(base + #","snapshot":"# + value + "}", .wrongType, id: "1", mentions: ["'snapshot'"], stream: "run/r")
        }
        for value in ["1", #""e""#, "null", "[]", "true"] {
            expectError(base + #","since":"# + value + "}", .wrongType, id: "1", mentions: ["'since'"], stream: "run/r")
        }
        expectError(base + #","since":{"offset":1}}"#, .missingField, id: "1", mentions: ["'since.epoch'"], stream: "run/r")
        expectError(base + #","since":{"epoch":"e"}}"#, .missingField, id: "1", mentions: ["'since.offset'"], stream: "run/r")
        for value in ["1", "null", "{}", "[]", "false"] {
            expectError(base + #","since":{"epoch":"# + value + #","offset":1}}"#, .wrongType, id: "1", mentions: ["'since.epoch'"], stream: "run/r")
        }
        for value in [#""1""#, "null", "-1", "1.0", "1.5", "1e3", "-0", "9223372036854775808", "99999999999999999999999", "true", "{}"] {
            expectError(base + #","since":{"epoch":"e","offset":"# + value + "}}", .wrongType, id: "1", mentions: ["'since.offset'"], stream: "run/r")
        }
        expectError(base + #","since":{"epoch":"e","epoch":"f","offset":1}}"#, .duplicateField, id: "1", mentions: ["'since.epoch'"], stream: "run/r")
        expectError(base + #","since":{"epoch":"e","offset":1,"offset":1}}"#, .duplicateField, id: "1", mentions: ["'since.offset'"], stream: "run/r")
        expectError(base + #","since":{"epoch":"e","offset":1},"since":{"epoch":"e","offset":1}}"#, .duplicateField, id: "1", mentions: ["'since'"])
        expectError(base + #","snapshot":true,"snapshot":true}"#, .duplicateField, id: "1", mentions: ["'snapshot'"])
        expectError(base + #","since":{"epoch":"e","offset":1},"snapshot":true}"#, .conflictingFields, id: "1", mentions: ["'since'", "'snapshot"], stream: "run/r")
    }

    @Test func publishFields() {
        let base = #"{"id":"p","type":"publish","stream":"channel/w/c""#
        expectError(base + "}", .missingField, id: #""p""#, mentions: ["'data'"], stream: "channel/w/c")
        for value in ["1", "null", "{}", "[]", "true"] {
            expectError(base + #","data":1,"key":"# + value + "}", .wrongType, id: #""p""#, mentions: ["'key'"], stream: "channel/w/c")
        }
        expectError(base + #","data":1,"data":2}"#, .duplicateField, id: #""p""#, mentions: ["'data'"])
        expectError(base + #","data":1,"key":"a","key":"b"}"#, .duplicateField, id: #""p""#, mentions: ["'key'"])
        expectError(base + #","data":1,"key":"abcde"}"#, .tooLarge, id: #""p""#, mentions: ["'key'", "5 bytes"], stream: "channel/w/c",
            limits: ProtocolLimits(maxKeyBytes: 4))
        for name in ["workspace/w", "run/r", "doc/d", "graph/w"] {
            expectError(#"{"id":"p","type":"publish","stream":""# + name + #"","data":1}"#, .notPublishable, id: #""p""#, mentions: [name], stream: name)
        }
    }

    @Test func presenceSetFields() {
        let base = #"{"id":4,"type":"presence.set","stream":"doc/d""#
        expectError(base + "}", .missingField, id: "4", mentions: ["'state'"], stream: "doc/d")
        for value in ["1", "null", "[]", #""s""#, "true"] {
            expectError(base + #","state":"# + value + "}", .wrongType, id: "4", mentions: ["'state'"], stream: "doc/d")
        }
        expectError(base + #","state":{},"state":{}}"#, .duplicateField, id: "4", mentions: ["'state'"])
        expectError(base + #","state":{"a":"12345"}}"#, .tooLarge, id: "4", mentions: ["'state'", "13 bytes", "12"], stream: "doc/d",
            limits: ProtocolLimits(maxPresenceStateBytes: 12))
    }

    @Test func oversizeMessage() {
        let text = #"{"id":1,"type":"ping","pad":""# + String(repeating: "x", count: 100) + #""}"#
        expectError(text, .tooLarge, id: nil, mentions: ["\(text.utf8.count) bytes", "100"], limits: ProtocolLimits(maxMessageBytes: 100))
    }

    @Test func nestingTooDeep() {
        let deep = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        expectError(#"{"id":1,"type":"publish","stream":"channel/w/c","data":"# + deep + "}", .tooLarge, id: nil, mentions: ["64"])
        // Far deeper than any stack would allow with naive recursion.
        let abyss = String(repeating: "[", count: 200_000)
        expectError(abyss, .tooLarge, id: nil, limits: ProtocolLimits(maxMessageBytes: 1 << 20))
        let objects = String(repeating: #"{"a":"#, count: 10) + "1" + String(repeating: "}", count: 10)
        expectError(#"{"type":"ping","x":"# + objects + "}", .tooLarge, id: nil, limits: ProtocolLimits(maxDepth: 10))
        #expect(decoded(#"{"type":"ping","x":"# + objects + "}", limits: ProtocolLimits(maxDepth: 11)) != nil)
    }

    @Test func numbersBeyondADouble() {
        expectError(#"{"id":1,"type":"publish","stream":"channel/w/c","data":[1e400]}"#, .tooLarge, id: nil, mentions: ["byte 56", "64-bit float"])
        expectError(#"{"id":1e999,"type":"ping"}"#, .tooLarge, id: nil)
    }

    @Test func errorCarriesTheIdWhereverItIsInTheObject() {
        expectError(#"{"type":"pong","id":"late"}"#, .unknownType, id: #""late""#)
        expectError(#"{"stream":"x","type":"unsubscribe","id":[1]}"#, .wrongType, id: nil, mentions: ["'id'"])
    }
}
