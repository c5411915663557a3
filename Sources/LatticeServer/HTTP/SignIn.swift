import Foundation
import LatticeAuth
import NIOHTTP1

/// Browser sign-in: `GET /signin?token=…` or `?invite=…&name=…` sets the session cookie and
/// redirects to the app; `POST /signout` revokes the session and clears the cookie.
struct SignIn: Sendable {
    let call: APICall

    init(services: ServerServices, request: HTTPRequest) {
        call = APICall(services: services, request: request)
    }

    var access: AccessControl { call.access }
    var request: HTTPRequest { call.request }

    /// `lattice_session=…; HttpOnly; SameSite=Lax; Path=/` for 30 days.
    static func sessionCookie(_ token: TokenString) -> String {
        "\(Credential.cookieName)=\(token.description); HttpOnly; SameSite=Lax; Path=/; Max-Age=\(Int(IdentityFactory.sessionLifetime))"
    }

    static let clearedCookie = "\(Credential.cookieName)=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"

    func signIn() async -> HTTPResponse {
        let query = request.query
        if let token = query["token"], !token.isEmpty { return await withToken(token) }
        if let invite = query["invite"], !invite.isEmpty { return await withInvitation(invite, name: query["name"]) }
        return Self.page(.ok, title: "Sign in", body: """
            <p>Open the sign-in link you were given, or paste a token:</p>
            <form method="get" action="/signin"><input name="token" size="60" placeholder="lat_t_…" autofocus> <button>Sign in</button></form>
            """)
    }

    /// Exchanges an api or session token for a new browser session of the same user, with
    /// no more scopes than the token had.
    private func withToken(_ token: String) async -> HTTPResponse {
        switch await access.authenticate(token, now: call.now, forSignIn: true) {
        case .failure(let refusal):
            access.audit("signin.failed", actor: nil, target: TokenString(parsing: token)?.id, detail: "signin: \(refusal.rawValue)",
                         address: request.remoteAddress)
            return Self.page(.unauthorized, title: "Sign-in failed",
                             body: "<p>This sign-in link is not valid (unknown, expired or revoked). Ask for a new one.</p>")
        case .success(let principal):
            do {
                guard let record = try await call.store.token(id: principal.tokenID), record.kind != .bot else {
                    access.audit("signin.failed", actor: principal.user.id, target: principal.tokenID, detail: "signin: bot token",
                                 address: request.remoteAddress)
                    return Self.page(.unauthorized, title: "Sign-in failed", body: "<p>Bot tokens cannot sign in to the web app.</p>")
                }
                // A sign-in link works once: of two uses, only the one that revokes it goes on.
                if record.kind == .signin, try await !call.store.consumeToken(id: record.id, at: call.now) {
                    access.audit("signin.failed", actor: principal.user.id, target: record.id, detail: "signin: link already used",
                                 address: request.remoteAddress)
                    return Self.page(.unauthorized, title: "Sign-in failed",
                                     body: "<p>This sign-in link is not valid (unknown, expired or revoked). Ask for a new one.</p>")
                }
                let (session, sessionRecord) = IdentityFactory.session(for: principal.user.id, scopes: principal.scopes,
                                                                       workspaceID: principal.tokenWorkspace, now: call.now)
                try await call.store.insertToken(sessionRecord, by: principal.actor)
                access.audit("signin", actor: principal.user.id, target: sessionRecord.id, detail: "session from token \(record.id)",
                             address: request.remoteAddress)
                return .redirect(to: "/", headers: ["Set-Cookie": Self.sessionCookie(session)])
            } catch {
                return Self.page(.internalServerError, title: "Sign-in failed", body: "<p>The server could not store the session.</p>")
            }
        }
    }

    /// Accepts an invitation for the signed-in user (a valid cookie), or for a new user `name`
    /// (asked for with a form when missing).
    private func withInvitation(_ invite: String, name: String?) async -> HTTPResponse {
        // A stale cookie is no reason to refuse: the invitation then makes a new user.
        var principal: Principal?
        if case .success(let p) = await access.authenticate(Credential.find(in: request.head), now: call.now) { principal = p }
        if principal == nil && (name ?? "").isEmpty {
            return Self.page(.ok, title: "Join Lattice", body: """
                <p>You were invited to a workspace. Choose the name others will see:</p>
                <form method="get" action="/signin"><input type="hidden" name="invite" value="\(Self.escape(invite))">
                <input name="name" maxlength="64" placeholder="Your name" autofocus required> <button>Join</button></form>
                """)
        }
        do {
            let accepted = try await call.accept(invitation: invite, as: principal, name: name)
            return .redirect(to: "/", headers: ["Set-Cookie": Self.sessionCookie(accepted.session)])
        } catch let error as APIError {
            return Self.page(error.status, title: "Invitation refused", body: "<p>\(Self.escape(error.message)).</p>")
        } catch let error as IdentityStoreError {
            let apiError = APICall.apiError(error)
            return Self.page(apiError.status, title: "Invitation refused", body: "<p>\(Self.escape(apiError.message)).</p>")
        } catch {
            return Self.page(.internalServerError, title: "Invitation refused", body: "<p>The server failed.</p>")
        }
    }

    /// Revokes the browser's session token (only session tokens: an api token sent by a
    /// script is not ended by a sign-out) and clears the cookie.
    func signOut() async -> HTTPResponse {
        if case .success(let principal) = await access.authenticate(Credential.find(in: request.head), now: call.now),
           let record = try? await call.store.token(id: principal.tokenID), record.kind == .session {
            _ = try? await call.store.revokeToken(id: record.id, at: call.now, by: principal.actor)
            access.tokenRevoked(record.id)
            access.audit("token.revoke", actor: principal.user.id, target: record.id, detail: "signout",
                         address: request.remoteAddress)
        }
        return .redirect(to: "/", headers: ["Set-Cookie": Self.clearedCookie])
    }

    static func page(_ status: HTTPResponseStatus, title: String, body: String) -> HTTPResponse {
        .html(status, """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(title)) · Lattice</title>
            <meta name="viewport" content="width=device-width, initial-scale=1"></head>
            <body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto; padding: 0 1rem">
            <h1>\(escape(title))</h1>
            \(body)
            </body></html>

            """)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }
}
