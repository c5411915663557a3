import ArgumentParser
import Foundation
import LatticeAuth
import LatticeServer
import LatticeStore

/// `lattice admin signin-link`: a fresh one-time link to sign a person in to the web app —
/// the way back in once the first start's link has expired.
struct AdminSignInLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signin-link",
        abstract: "Print a one-time sign-in link for a person (default: the oldest enabled server administrator).",
        discussion: """
            The link's token is accepted only by /signin, once: opening it sets a browser session \
            (30 days) and uses the link up. It expires after --expires-in seconds (default 900) and \
            is audited as token.create; bots cannot sign in to the web app.
            """)

    @OptionGroup var store: StoreOptions
    @Option(help: "The user to sign in (an id from `lattice admin user list`).") var user: String?
    @Option(help: "Base URL printed in the link.") var baseURL = "http://127.0.0.1:8080"
    @Option(help: "Seconds the link stays valid (60 … 86400).") var expiresIn = Int(IdentityFactory.signInLinkLifetime)

    func run() async throws {
        guard (60...86_400).contains(expiresIn) else { throw ValidationError("--expires-in must be between 60 and 86400 seconds") }
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        let link = try await store.withStore("signin-link") { store -> String in
            let target: User
            if let user {
                target = try await requireUser(store, user)
            } else {
                guard let admin = try await store.users().filter({ $0.isAdmin && !$0.isDisabled }).min(by: { $0.createdAt < $1.createdAt }) else {
                    throw AdminError("no server administrator; give --user ID")
                }
                target = admin
            }
            guard target.kind == .user else { throw AdminError("\(target.id) is a bot; bots cannot sign in to the web app") }
            guard !target.isDisabled else { throw AdminError("\(target.id) is disabled; `lattice admin user enable \(target.id)` first") }
            let (token, record) = IdentityFactory.signInLink(for: target.id, expiresIn: TimeInterval(expiresIn))
            try await store.insertToken(record, by: .local)
            await adminAudit(store, "token.create", target: record.id, detail: "sign-in link for \(target.id)")
            return "\(base)/signin?token=\(token)"
        }
        printLine(link)
    }
}
