import Foundation
import LatticeAuth
import LatticeCRDT
import LatticeProtocol
import LatticeRuns
import LatticeStreams
import LatticeWebSocket
import NIOCore

/// Runs and bot workers over lattice.v1 (docs/protocol.md, "Runs and workers"): the same
/// commands and checks as the REST API, answered in request order like every other request.
extension SessionHandler {
    func handleRunRequest(_ request: ClientRequest) {
        guard let runs else {
            return answerNow(ProtocolError(.notFound, "this server runs no workflows", id: request.id))
        }
        let principal = self.principal
        switch request {
        case .runStart(let start):
            guard Policy.can(principal, .write, in: start.workspace) else {
                return answerNow(forbidden("start runs in '\(start.workspace)'", in: start.workspace, id: start.id))
            }
            guard let inputs = start.inputs.map(Self.value) ?? .object([:]) else {
                return answerNow(ProtocolError(.wrongType, "field 'inputs' must be a JSON object", id: start.id))
            }
            let command = RunStartRequest(workspace: start.workspace, definitionID: start.definition, version: start.version,
                                          inputs: inputs, actor: principal.user.id, key: start.key,
                                          actorName: principal.actor.name, actorKind: principal.actor.kind.rawValue)
            let access = self.access
            answerLater(start.id) { () throws(RunCommandError) -> RunRecord in
                let started = try await runs.start(command)
                if started.isNew {
                    access.audit("run.start", actor: command.actor, workspace: command.workspace, target: started.record.id,
                                 detail: command.definitionID)
                }
                return started.record
            }

        case .runCancel(let cancel):
            guard let workspace = runWorkspace(cancel.run, .write, "cancel", id: cancel.id) else { return }
            let actor = principal.user.id, reason = cancel.reason ?? "no reason given", access = self.access
            answerLater(cancel.id) { () throws(RunCommandError) -> RunRecord in
                let record = try await runs.executor.cancel(run: cancel.run, reason: reason, by: actor)
                access.audit("run.cancel", actor: actor, workspace: workspace, target: cancel.run, detail: reason)
                return record
            }

        case .runApprove(let approve):
            guard let workspace = runWorkspace(approve.run, .write, "decide on", id: approve.id) else { return }
            let actor = principal.user.id, access = self.access
            answerLater(approve.id) { () throws(RunCommandError) -> RunRecord in
                let record = try await runs.executor.decide(run: approve.run, node: approve.node, approved: approve.approved,
                                                            by: actor, comment: approve.comment)
                access.audit("run.decide", actor: actor, workspace: workspace, target: approve.run,
                             detail: approve.approved ? "approved" : "rejected")
                return record
            }

        case .workerRegister(let register):
            guard Policy.can(principal, .write, in: register.workspace) else {
                return answerNow(forbidden("work in '\(register.workspace)'", in: register.workspace, id: register.id))
            }
            guard Policy.canServe(principal, register.capabilities, in: register.workspace) else {
                let allowed = principal.tokenCapabilities.joined(separator: ", ")
                return answerNow(forbidden("serve \(register.capabilities.joined(separator: ", ")) (this token serves \(allowed))",
                                           in: register.workspace, id: register.id))
            }
            guard let loop = eventLoop else { return }
            let worker = workerID ?? WorkerID("w_\(session)")
            workerID = worker
            let bound = NIOLoopBound(self, eventLoop: loop)
            runs.workers.register(worker, workspace: register.workspace, capabilities: Set(register.capabilities),
                                  concurrency: register.concurrency) { delivery in
                loop.execute { bound.value.deliverTask(delivery) }
            }
            answerNow(ServerFrames.ok(id: register.id))

        case .taskProgress(let progress):
            guard let worker = registeredWorker(id: progress.id) else { return }
            let data = progress.data.map(Self.value)
            if case .some(.none) = data {
                return answerNow(ProtocolError(.wrongType, "field 'data' must be JSON", id: progress.id))
            }
            answerReport(progress.id) { () throws(WorkerReportError) in
                try await runs.workers.progress(lease: progress.lease, worker: worker, data: data ?? nil)
            }

        case .taskComplete(let complete):
            guard let worker = registeredWorker(id: complete.id) else { return }
            guard let output = complete.output.map(Self.value) ?? .null else {
                return answerNow(ProtocolError(.wrongType, "field 'output' must be JSON", id: complete.id))
            }
            answerReport(complete.id) { () throws(WorkerReportError) in
                _ = try await runs.workers.complete(lease: complete.lease, worker: worker, output: output)
            }

        case .taskFail(let fail):
            guard let worker = registeredWorker(id: fail.id) else { return }
            answerReport(fail.id) { () throws(WorkerReportError) in
                _ = try await runs.workers.fail(lease: fail.lease, worker: worker, error: fail.error, retryable: fail.retryable)
            }

        case .subscribe, .unsubscribe, .publish, .presenceSet, .ping:
            break
        }
    }

    /// A request's JSON field as a value tree; nil when it does not read as one.
    private static func value(_ raw: RawJSON) -> Value? {
        try? Value.parseJSON(raw.text)
    }

    /// The run's workspace when the principal may act on it with `permission`; otherwise the
    /// refusal is answered (`not_found` for a run it cannot read) and nil returned.
    private func runWorkspace(_ run: String, _ permission: Permission, _ verb: String, id: RequestID?) -> String? {
        guard let runs, let workspace = runs.workspace(ofRun: run), Policy.can(principal, .read, in: workspace) else {
            answerNow(ProtocolError(.notFound, "no run '\(run)' exists", id: id))
            return nil
        }
        guard Policy.can(principal, permission, in: workspace) else {
            answerNow(forbidden("\(verb) run '\(run)'", in: workspace, target: run, id: id))
            return nil
        }
        return workspace
    }

    private func registeredWorker(id: RequestID?) -> WorkerID? {
        guard let workerID else {
            answerNow(ProtocolError(.notAWorker, "send worker.register before task reports", id: id))
            return nil
        }
        return workerID
    }

    /// A `task.assign` or `task.cancel` from the dispatcher, on this session's loop.
    func deliverTask(_ delivery: WorkerDelivery) {
        guard isOpen else { return }
        let frame: ByteBuffer
        switch delivery {
        case .assign(let lease, let capability):
            frame = ServerFrames.text(capacity: 256) {
                ServerMessage.taskAssign(lease: lease.id, run: lease.run, node: lease.node, attempt: lease.attempt,
                                         capability: capability, input: RawJSON(trusted: ByteBuffer(string: lease.input.json)),
                                         expiresAt: lease.expiresAt, into: &$0)
            }
        case .cancel(let lease, let reason):
            frame = ServerFrames.text { ServerMessage.taskCancel(lease: lease.id, run: lease.run, node: lease.node, reason: reason, into: &$0) }
        }
        // Not a reply: it goes out now, between answers if need be (a worker reads it by type).
        write(.encodedFrames(frame))
        markDirty()
    }

    // MARK: answers computed elsewhere

    /// Reserves this request's answer slot and fills it when `work` ends: `ok` with the run's row
    /// and the position to replay its stream from, or the command's refusal.
    private func answerLater(_ id: RequestID?, _ work: @escaping @Sendable () async throws(RunCommandError) -> RunRecord) {
        guard let runs else { return }
        answerAsync { () -> ByteBuffer in
            do throws(RunCommandError) {
                let record = try await work()
                let head = runs.head(ofRun: record.id)
                let stream = try? StreamName.parse("run/\(record.id)").get()
                return ServerFrames.text(capacity: 512) {
                    ServerMessage.ok(id: id, stream: stream, epoch: head.epoch, offset: head.newestOffset,
                                     run: RawJSON(trusted: ByteBuffer(string: record.json)), into: &$0)
                }
            } catch {
                return ServerFrames.error(Self.protocolError(error, id: id))
            }
        }
    }

    private func answerReport(_ id: RequestID?, _ work: @escaping @Sendable () async throws(WorkerReportError) -> Void) {
        answerAsync { () -> ByteBuffer in
            do throws(WorkerReportError) {
                try await work()
                return ServerFrames.ok(id: id)
            } catch {
                switch error {
                case .lease(let refusal): return ServerFrames.error(Self.protocolError(refusal, id: id))
                case .run(let refused): return ServerFrames.error(Self.protocolError(refused, id: id))
                }
            }
        }
    }

    private func answerAsync(_ work: @escaping @Sendable () async -> ByteBuffer) {
        guard let loop = eventLoop else { return }
        let seq = replies.reserve()
        let bound = NIOLoopBound(self, eventLoop: loop)
        Task {
            let frame = await work()
            loop.execute { bound.value.hubReply(seq: seq, HubReply(frames: [frame])) }
        }
    }

    static func protocolError(_ error: RunCommandError, id: RequestID?) -> ProtocolError {
        ProtocolError(ErrorCode(rawValue: error.code), error.message, id: id)
    }

    static func protocolError(_ refusal: LeaseRefusal, id: RequestID?) -> ProtocolError {
        switch refusal {
        case .unknownLease: ProtocolError(.unknownLease, refusal.description, id: id)
        case .notYourLease: ProtocolError(.notYourLease, refusal.description, id: id)
        case .leaseEnded: ProtocolError(.leaseEnded, refusal.description, id: id)
        }
    }
}
