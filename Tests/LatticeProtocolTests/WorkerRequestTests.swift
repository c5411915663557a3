import NIOCore
import Testing

@testable import LatticeProtocol

/// `worker.register`, `task.progress`, `task.complete`, `task.fail`, and the frames a worker
/// reads: `task.assign`, `task.cancel` (and the `ok` that carries a run row).
@Suite struct WorkerRequestTests {
    // MARK: worker.register

    @Test func workerRegister() {
        let request = decoded(#"{"type":"worker.register","id":4,"workspace":"demo","capabilities":["shell"]}"#)
        #expect(request == .workerRegister(.init(id: RequestID(4), workspace: "demo", capabilities: ["shell"], concurrency: 1)))
        #expect(request?.type == "worker.register")
        #expect(request?.stream == nil)
        #expect(decoded(#"{"type":"worker.register","workspace":"demo","capabilities":["shell","fetch.v2","GPU_a-1"],"concurrency":2}"#)
            == .workerRegister(.init(workspace: "demo", capabilities: ["shell", "fetch.v2", "GPU_a-1"], concurrency: 2)))
    }

    @Test func workerRegisterBounds() {
        let names = (0..<32).map { "c\($0)" }
        let list = names.map { "\"\($0)\"" }.joined(separator: ",")
        let long = String(repeating: "a", count: 64)
        #expect(decoded(#"{"type":"worker.register","workspace":"w","capabilities":["# + list + #"],"concurrency":64}"#)
            == .workerRegister(.init(workspace: "w", capabilities: names, concurrency: 64)))
        #expect(decoded(#"{"type":"worker.register","workspace":"w","capabilities":[""# + long + #""],"concurrency":1}"#)
            == .workerRegister(.init(workspace: "w", capabilities: [long])))
        // Escaped characters of the allowed set are the same names.
        #expect(decoded(#"{"type":"worker.register","workspace":"w","capabilities":["sh\u0065ll"]}"#)
            == .workerRegister(.init(workspace: "w", capabilities: ["shell"])))
    }

    @Test func workerRegisterRefusals() {
        let head = #""type":"worker.register","id":4"#
        expectError("{\(head),\"capabilities\":[\"a\"]}", .missingField, id: "4", mentions: ["'workspace'"])
        expectError("{\(head),\"workspace\":\"w\"}", .missingField, id: "4", mentions: ["'capabilities'", "array of strings"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":\"shell\"}", .wrongType, id: "4", mentions: ["'capabilities'", "array", "a string"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":{}}", .wrongType, id: "4", mentions: ["'capabilities'", "an object"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[]}", .wrongType, id: "4", mentions: ["'capabilities'", "1 to 32", "not 0"])
        let many = (0..<33).map { "\"c\($0)\"" }.joined(separator: ",")
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\(many)]}", .wrongType, id: "4", mentions: ["'capabilities'", "not 33"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\",1]}", .wrongType, id: "4", mentions: ["'capabilities[1]'", "a string", "a number"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\",null]}", .wrongType, id: "4", mentions: ["'capabilities[1]'", "null"])
        for bad in ["", "has space", "slash/", "é", "a\\u0000", "semi;colon", String(repeating: "a", count: 65)] {
            expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"ok\",\"\(bad)\"]}", .wrongType, id: "4",
                        mentions: ["'capabilities[1]'", "1 to 64 characters"])
        }
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\",\"b\",\"a\"]}", .wrongType, id: "4", mentions: ["'capabilities[2]'", "repeats 'a'"])
        for concurrency in ["0", "65", "-1", "1.0", "2e1", "\"2\"", "null", "true"] {
            expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\"],\"concurrency\":\(concurrency)}", .wrongType, id: "4",
                        mentions: ["'concurrency'", "integer from 1 to 64"])
        }
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\"],\"capabilities\":[\"b\"]}", .duplicateField, id: "4", mentions: ["'capabilities'"])
        expectError("{\(head),\"workspace\":\"w\",\"capabilities\":[\"a\"],\"concurrency\":1,\"concurrency\":2}", .duplicateField, id: "4", mentions: ["'concurrency'"])
    }

    @Test func capabilityNames() {
        #expect(ClientRequest.WorkerRegister.isCapabilityName("a.b_c-D9"))
        #expect(!ClientRequest.WorkerRegister.isCapabilityName(""))
        #expect(!ClientRequest.WorkerRegister.isCapabilityName("a b"))
        #expect(!ClientRequest.WorkerRegister.isCapabilityName(String(repeating: "x", count: 65)))
    }

    // MARK: task.progress, task.complete, task.fail

    @Test func taskProgress() {
        #expect(decoded(#"{"type":"task.progress","id":5,"lease":"l_1"}"#) == .taskProgress(.init(id: RequestID(5), lease: "l_1")))
        guard case .taskProgress(let p) = decoded(#"{"type":"task.progress","id":5,"lease":"l_1","data":{"done": 3, "of":10}}"#) else {
            Issue.record("not a task.progress")
            return
        }
        #expect(p.data?.text == #"{"done": 3, "of":10}"#)
    }

    @Test func taskComplete() {
        #expect(decoded(#"{"type":"task.complete","id":6,"lease":"l_1"}"#) == .taskComplete(.init(id: RequestID(6), lease: "l_1")))
        for output in [#"{"words":120}"#, "[1,2]", #""text""#, "42", "null", "true"] {
            guard case .taskComplete(let c) = decoded(#"{"type":"task.complete","lease":"l_1","output":"# + output + "}") else {
                Issue.record("\(output)")
                continue
            }
            #expect(c.output?.text == output)
        }
    }

    @Test func taskFail() {
        #expect(decoded(#"{"type":"task.fail","id":7,"lease":"l_1","error":"exit 3"}"#)
            == .taskFail(.init(id: RequestID(7), lease: "l_1", error: "exit 3", retryable: true)))
        #expect(decoded(#"{"type":"task.fail","id":7,"lease":"l_1","error":"bad input","retryable":false}"#)
            == .taskFail(.init(id: RequestID(7), lease: "l_1", error: "bad input", retryable: false)))
        #expect(decoded(#"{"type":"task.fail","lease":"l_1","error":"","retryable":true}"#)
            == .taskFail(.init(lease: "l_1", error: "")))
    }

    @Test func taskReportRefusals() {
        for type in ["task.progress", "task.complete", "task.fail"] {
            let extra = type == "task.fail" ? #","error":"e""# : ""
            expectError(#"{"type":""# + type + #"","id":8"# + extra + "}", .missingField, id: "8", mentions: ["'lease'", "string"])
            expectError(#"{"type":""# + type + #"","id":8,"lease":1"# + extra + "}", .wrongType, id: "8", mentions: ["'lease'", "a number"])
            expectError(#"{"type":""# + type + #"","id":8,"lease":"""# + extra + "}", .wrongType, id: "8", mentions: ["'lease'", "non-empty"])
            expectError(#"{"type":""# + type + #"","id":8,"lease":"a","lease":"b""# + extra + "}", .duplicateField, id: "8", mentions: ["'lease'"])
        }
        expectError(#"{"type":"task.progress","id":8,"lease":"l","data":1,"data":2}"#, .duplicateField, id: "8", mentions: ["'data'"])
        expectError(#"{"type":"task.complete","id":8,"lease":"l","output":1,"output":2}"#, .duplicateField, id: "8", mentions: ["'output'"])
        expectError(#"{"type":"task.fail","id":8,"lease":"l"}"#, .missingField, id: "8", mentions: ["'error'", "string"])
        expectError(#"{"type":"task.fail","id":8,"lease":"l","error":{"m":1}}"#, .wrongType, id: "8", mentions: ["'error'", "an object"])
        expectError(#"{"type":"task.fail","id":8,"lease":"l","error":"e","retryable":"no"}"#, .wrongType, id: "8", mentions: ["'retryable'", "a boolean"])
        expectError(#"{"type":"task.fail","id":8,"lease":"l","error":"e","retryable":true,"retryable":false}"#, .duplicateField, id: "8", mentions: ["'retryable'"])
        expectError(#"{"type":"task.fail","id":8,"lease":"l","error":""# + String(repeating: "e", count: 4_097) + #""}"#,
                    .tooLarge, id: "8", mentions: ["'error'", "4097", "4096"])
    }

    @Test func aRequestIdIsKeptInEveryRefusal() {
        expectError(#"{"type":"task.fail","id":"x\"y","lease":"l"}"#, .missingField, id: #""x\"y""#)
        expectError(#"{"type":"worker.register","capabilities":["a"]}"#, .missingField, id: nil, mentions: ["'workspace'"])
    }

    @Test func requestsEncodeAndReadBack() {
        let cases: [(ClientRequest, String)] = [
            (.workerRegister(.init(id: RequestID(4), workspace: "demo", capabilities: ["shell", "fetch"], concurrency: 2)),
             #"{"type":"worker.register","id":4,"workspace":"demo","capabilities":["shell","fetch"],"concurrency":2}"#),
            (.taskProgress(.init(id: RequestID(5), lease: "l_1")), #"{"type":"task.progress","id":5,"lease":"l_1"}"#),
            (.taskProgress(.init(id: RequestID(5), lease: "l_1", data: raw(#"{"p":0.5}"#))), #"{"type":"task.progress","id":5,"lease":"l_1","data":{"p":0.5}}"#),
            (.taskComplete(.init(id: RequestID(6), lease: "l_1", output: raw("[1]"))), #"{"type":"task.complete","id":6,"lease":"l_1","output":[1]}"#),
            (.taskComplete(.init(lease: "l_1")), #"{"type":"task.complete","lease":"l_1"}"#),
            (.taskFail(.init(id: RequestID(7), lease: "l_1", error: "boom \"x\"", retryable: false)),
             #"{"type":"task.fail","id":7,"lease":"l_1","error":"boom \"x\"","retryable":false}"#),
        ]
        for (request, text) in cases {
            #expect(String(buffer: request.encoded) == text)
            #expect(decoded(text) == request)
        }
    }

    @Test func randomWorkerRequestsRoundTrip() {
        var rng = SplitMix(seed: 0x57_4B)
        let alphabet = Array("abcXYZ019._-")
        for _ in 0..<500 {
            var lease = randomString(maxLength: 10, using: &rng)
            if lease.isEmpty { lease = "l" }
            let request: ClientRequest
            switch Int.random(in: 0..<4, using: &rng) {
            case 0:
                var names: [String] = []
                for _ in 0..<Int.random(in: 1...32, using: &rng) {
                    let name = String((0..<Int.random(in: 1...64, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                    if !names.contains(name) { names.append(name) }
                }
                request = .workerRegister(.init(id: randomRequestID(using: &rng), workspace: lease, capabilities: names,
                                                concurrency: Int.random(in: 1...64, using: &rng)))
            case 1:
                request = .taskProgress(.init(id: randomRequestID(using: &rng), lease: lease,
                                              data: Bool.random(using: &rng) ? RawJSON(validating: randomJSON(using: &rng)) : nil))
            case 2:
                request = .taskComplete(.init(id: randomRequestID(using: &rng), lease: lease,
                                              output: Bool.random(using: &rng) ? RawJSON(validating: randomJSON(using: &rng)) : nil))
            default:
                request = .taskFail(.init(id: randomRequestID(using: &rng), lease: lease, error: randomString(maxLength: 40, using: &rng),
                                          retryable: Bool.random(using: &rng)))
            }
            #expect(ClientRequest.decode(request.encoded) == .success(request))
        }
    }

    // MARK: task.assign, task.cancel, ok with a run

    @Test func taskAssignEncodesAsDocumentedAndDecodes() {
        let out = encoded {
            ServerMessage.taskAssign(lease: "l_1", run: "r_x", node: "n", attempt: 1, capability: "shell",
                                     input: raw(#"{"cmd":"ls"}"#), expiresAt: 1_767_225_600_000, into: &$0)
        }
        let text = #"{"type":"task.assign","lease":"l_1","run":"r_x","node":"n","attempt":1,"capability":"shell","input":{"cmd":"ls"},"expiresAt":1767225600000}"#
        #expect(String(buffer: out) == text)
        let message = ServerMessage.taskAssign(.init(lease: "l_1", run: "r_x", node: "n", attempt: 1, capability: "shell",
                                                     input: raw(#"{"cmd":"ls"}"#), expiresAt: 1_767_225_600_000))
        #expect(ServerMessage.decode(text) == .success(message))
        #expect(String(buffer: message.encoded) == text)
        #expect(message.type == "task.assign")
    }

    @Test func taskCancelEncodesAsDocumentedAndDecodes() {
        let text = #"{"type":"task.cancel","lease":"l_1","run":"r_x","node":"n","reason":"the run was cancelled"}"#
        #expect(String(buffer: encoded { ServerMessage.taskCancel(lease: "l_1", run: "r_x", node: "n", reason: "the run was cancelled", into: &$0) })
            == text)
        let message = ServerMessage.taskCancel(.init(lease: "l_1", run: "r_x", node: "n", reason: "the run was cancelled"))
        #expect(ServerMessage.decode(text) == .success(message))
        #expect(String(buffer: message.encoded) == text)
        #expect(message.type == "task.cancel")
    }

    @Test func okCarriesARunRow() {
        let row = #"{"id":"r_x","status":"queued","nodes":{}}"#
        let text = #"{"type":"ok","id":1,"run":"# + row + "}"
        #expect(String(buffer: encoded { ServerMessage.ok(id: RequestID(1), run: raw(row), into: &$0) }) == text)
        guard case .success(.ok(let ok)) = ServerMessage.decode(text) else { Issue.record("not an ok"); return }
        #expect(ok.run?.text == row)
        #expect(ok.id == RequestID(1))
        #expect(String(buffer: ServerMessage.ok(ok).encoded) == text)
        // Without a run, an ok is as before.
        #expect(String(buffer: encoded { ServerMessage.ok(id: RequestID(1), into: &$0) }) == #"{"type":"ok","id":1}"#)
    }

    @Test func malformedTaskFramesAreRefusedWithTheirField() {
        let cases: [(String, ErrorCode, String)] = [
            (#"{"type":"task.assign","run":"r","node":"n","attempt":1,"capability":"c","input":{},"expiresAt":1}"#, .missingField, "'lease'"),
            (#"{"type":"task.assign","lease":"l","run":"r","node":"n","attempt":-1,"capability":"c","input":{},"expiresAt":1}"#, .wrongType, "'attempt'"),
            (#"{"type":"task.assign","lease":"l","run":"r","node":"n","attempt":1,"capability":"c","expiresAt":1}"#, .missingField, "'input'"),
            (#"{"type":"task.assign","lease":"l","run":"r","node":"n","attempt":1,"capability":"c","input":{},"expiresAt":"soon"}"#, .wrongType, "'expiresAt'"),
            (#"{"type":"task.cancel","lease":"l","run":"r","node":"n"}"#, .missingField, "'reason'"),
            (#"{"type":"task.cancel","lease":5,"run":"r","node":"n","reason":"x"}"#, .wrongType, "'lease'"),
            (#"{"type":"ok","id":1,"run":"r_x"}"#, .wrongType, "'run'"),
        ]
        for (text, code, field) in cases {
            guard case .failure(let error) = ServerMessage.decode(text) else { Issue.record("\(text) decoded"); continue }
            #expect(error.code == code, "\(text): \(error)")
            #expect(error.message.contains(field), "\(text): \(error)")
        }
    }
}
