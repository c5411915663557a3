import NIOCore
import Testing

@testable import LatticeProtocol

/// `run.start`, `run.cancel` and `run.approve`: what decodes, what is refused (with the field
/// named), and the encoder's text reading back as the same request.
@Suite struct RunRequestTests {
    // MARK: run.start

    @Test func runStartMinimal() {
        let request = decoded(#"{"type":"run.start","id":1,"workspace":"demo","definition":"d_x"}"#)
        #expect(request == .runStart(.init(id: RequestID(1), workspace: "demo", definition: "d_x")))
        #expect(request?.type == "run.start")
        #expect(request?.id == RequestID(1))
        #expect(request?.stream == nil)
    }

    @Test func runStartWithEverything() {
        let text = #"{"type":"run.start","id":"s","workspace":"demo","definition":"d_x","version":3,"inputs":{ "url" : "https://x", "n":[1,2] },"key":"client-key"}"#
        guard case .runStart(let r) = decoded(text) else { Issue.record("not a run.start"); return }
        #expect(r.id == RequestID("s"))
        #expect(r.workspace == "demo")
        #expect(r.definition == "d_x")
        #expect(r.version == 3)
        // Kept verbatim: a slice of the message, not a parsed tree.
        #expect(r.inputs?.text == #"{ "url" : "https://x", "n":[1,2] }"#)
        #expect(r.key == "client-key")
    }

    @Test func runStartWithoutIdAndWithEscapes() {
        #expect(decoded(#"{"type":"run\u002estart","w\u006frkspace":"d\u00e9mo","definition":"d\/x"}"#)
            == .runStart(.init(workspace: "démo", definition: "d/x")))
    }

    @Test func runStartRefusals() {
        let base = #""type":"run.start","id":7"#
        expectError("{\(base),\"definition\":\"d\"}", .missingField, id: "7", mentions: ["'workspace'", "string"])
        expectError("{\(base),\"workspace\":\"w\"}", .missingField, id: "7", mentions: ["'definition'"])
        expectError("{\(base),\"workspace\":5,\"definition\":\"d\"}", .wrongType, id: "7", mentions: ["'workspace'", "a string", "a number"])
        expectError("{\(base),\"workspace\":\"\",\"definition\":\"d\"}", .wrongType, id: "7", mentions: ["'workspace'", "non-empty"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":null}", .wrongType, id: "7", mentions: ["'definition'", "null"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"" + String(repeating: "d", count: 257) + "\"}",
                    .tooLarge, id: "7", mentions: ["'definition'", "257", "256"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"" + String(repeating: "d", count: 2_000) + "\"}",
                    .tooLarge, id: "7", mentions: ["'definition'", "256"])
        expectError("{\(base),\"workspace\":\"w\",\"workspace\":\"v\",\"definition\":\"d\"}", .duplicateField, id: "7", mentions: ["'workspace'"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"inputs\":{},\"inputs\":{}}", .duplicateField, id: "7", mentions: ["'inputs'"])
        for version in ["0", "-1", "1.5", "1e2", "\"3\"", "true", "99999999999999999999"] {
            expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"version\":\(version)}", .wrongType, id: "7",
                        mentions: ["'version'", "integer from 1"])
        }
        for inputs in ["[]", "\"x\"", "1", "null"] {
            expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"inputs\":\(inputs)}", .wrongType, id: "7",
                        mentions: ["'inputs'", "an object"])
        }
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"key\":1}", .wrongType, id: "7", mentions: ["'key'", "a string"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"key\":\"\"}", .wrongType, id: "7", mentions: ["'key'", "non-empty"])
        expectError("{\(base),\"workspace\":\"w\",\"definition\":\"d\",\"key\":\"" + String(repeating: "k", count: 257) + "\"}",
                    .tooLarge, id: "7", mentions: ["'key'", "256"])
    }

    @Test func runStartVersionBounds() {
        guard case .runStart(let one) = decoded(#"{"type":"run.start","workspace":"w","definition":"d","version":1}"#),
              case .runStart(let max) = decoded(#"{"type":"run.start","workspace":"w","definition":"d","version":9223372036854775807}"#)
        else { Issue.record("not decoded"); return }
        #expect(one.version == 1)
        #expect(max.version == Int.max)
    }

    // MARK: run.cancel

    @Test func runCancel() {
        #expect(decoded(#"{"type":"run.cancel","id":2,"run":"r_x"}"#) == .runCancel(.init(id: RequestID(2), run: "r_x")))
        #expect(decoded(#"{"type":"run.cancel","id":2,"run":"r_x","reason":"no longer needed"}"#)
            == .runCancel(.init(id: RequestID(2), run: "r_x", reason: "no longer needed")))
        #expect(decoded(#"{"type":"run.cancel","run":"r_x","reason":""}"#) == .runCancel(.init(run: "r_x", reason: "")))
    }

    @Test func runCancelRefusals() {
        expectError(#"{"type":"run.cancel","id":2}"#, .missingField, id: "2", mentions: ["'run'", "string"])
        expectError(#"{"type":"run.cancel","id":2,"run":["r"]}"#, .wrongType, id: "2", mentions: ["'run'", "an array"])
        expectError(#"{"type":"run.cancel","id":2,"run":""}"#, .wrongType, id: "2", mentions: ["'run'"])
        expectError(#"{"type":"run.cancel","id":2,"run":"r","reason":false}"#, .wrongType, id: "2", mentions: ["'reason'", "a boolean"])
        expectError(#"{"type":"run.cancel","id":2,"run":"r","run":"s"}"#, .duplicateField, id: "2", mentions: ["'run'"])
        expectError(#"{"type":"run.cancel","id":2,"run":"r","reason":""# + String(repeating: "x", count: 4_097) + #""}"#,
                    .tooLarge, id: "2", mentions: ["'reason'", "4096"])
    }

    // MARK: run.approve

    @Test func runApprove() {
        #expect(decoded(#"{"type":"run.approve","id":3,"run":"r_x","approved":true}"#)
            == .runApprove(.init(id: RequestID(3), run: "r_x", approved: true)))
        #expect(decoded(#"{"type":"run.approve","id":3,"run":"r_x","node":"review","approved":false,"comment":"too short"}"#)
            == .runApprove(.init(id: RequestID(3), run: "r_x", node: "review", approved: false, comment: "too short")))
    }

    @Test func runApproveRefusals() {
        expectError(#"{"type":"run.approve","id":3,"approved":true}"#, .missingField, id: "3", mentions: ["'run'"])
        expectError(#"{"type":"run.approve","id":3,"run":"r"}"#, .missingField, id: "3", mentions: ["'approved'", "boolean"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":"yes"}"#, .wrongType, id: "3", mentions: ["'approved'", "a boolean", "a string"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":1}"#, .wrongType, id: "3", mentions: ["'approved'"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":true,"node":7}"#, .wrongType, id: "3", mentions: ["'node'", "a string"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":true,"node":""}"#, .wrongType, id: "3", mentions: ["'node'"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":true,"comment":{}}"#, .wrongType, id: "3", mentions: ["'comment'", "an object"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":true,"approved":false}"#, .duplicateField, id: "3", mentions: ["'approved'"])
        expectError(#"{"type":"run.approve","id":3,"run":"r","approved":true,"node":"a","node":"b"}"#, .duplicateField, id: "3", mentions: ["'node'"])
    }

    // MARK: Shared

    @Test func fieldsOfOtherRequestsAreIgnored() {
        #expect(decoded(#"{"type":"run.cancel","run":"r","stream":5,"lease":[],"approved":"x","data":1,"data":2}"#)
            == .runCancel(.init(run: "r")))
        // And run fields do not disturb the stream requests.
        #expect(decoded(#"{"type":"ping","run":1,"workspace":[],"capabilities":{}}"#) == .ping(.init()))
    }

    @Test func withIdRenumbers() {
        let request = ClientRequest.runApprove(.init(run: "r", approved: true))
        #expect(request.with(id: RequestID(9)).id == RequestID(9))
        #expect(request.with(id: RequestID(9)).with(id: nil) == request)
    }

    @Test func requestsEncodeAndReadBack() {
        let cases: [(ClientRequest, String)] = [
            (.runStart(.init(id: RequestID(1), workspace: "demo", definition: "d_x")),
             #"{"type":"run.start","id":1,"workspace":"demo","definition":"d_x"}"#),
            (.runStart(.init(id: RequestID(1), workspace: "demo", definition: "d_x", version: 3, inputs: raw(#"{"a":[1]}"#), key: "k\"1")),
             #"{"type":"run.start","id":1,"workspace":"demo","definition":"d_x","version":3,"inputs":{"a":[1]},"key":"k\"1"}"#),
            (.runCancel(.init(id: RequestID(2), run: "r_x")), #"{"type":"run.cancel","id":2,"run":"r_x"}"#),
            (.runCancel(.init(run: "r_x", reason: "stop\n")), #"{"type":"run.cancel","run":"r_x","reason":"stop\n"}"#),
            (.runApprove(.init(id: RequestID("a"), run: "r_x", approved: true)), #"{"type":"run.approve","id":"a","run":"r_x","approved":true}"#),
            (.runApprove(.init(run: "r_x", node: "n", approved: false, comment: "no")),
             #"{"type":"run.approve","run":"r_x","node":"n","approved":false,"comment":"no"}"#),
        ]
        for (request, text) in cases {
            #expect(String(buffer: request.encoded) == text)
            #expect(decoded(text) == request)
        }
    }

    @Test func randomRunRequestsRoundTrip() {
        var rng = SplitMix(seed: 0x52_55_4E)
        for _ in 0..<500 {
            let request: ClientRequest
            func name() -> String {
                var s = randomString(maxLength: 10, using: &rng)
                if s.isEmpty { s = "x" }
                return s
            }
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                request = .runStart(.init(
                    id: randomRequestID(using: &rng), workspace: name(), definition: name(),
                    version: Bool.random(using: &rng) ? Int.random(in: 1...Int.max, using: &rng) : nil,
                    inputs: Bool.random(using: &rng) ? randomObject(using: &rng) : nil,
                    key: Bool.random(using: &rng) ? name() : nil))
            case 1:
                request = .runCancel(.init(id: randomRequestID(using: &rng), run: name(),
                                           reason: Bool.random(using: &rng) ? randomString(maxLength: 40, using: &rng) : nil))
            default:
                request = .runApprove(.init(id: randomRequestID(using: &rng), run: name(), node: Bool.random(using: &rng) ? name() : nil,
                                            approved: Bool.random(using: &rng),
                                            comment: Bool.random(using: &rng) ? randomString(maxLength: 40, using: &rng) : nil))
            }
            #expect(ClientRequest.decode(request.encoded) == .success(request))
        }
    }
}
