import Foundation
import LatticeAuth
import Testing

@Suite("TokenRecord: active until its expiry, never once revoked")
struct TokenRecordTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func record(expiresIn: TimeInterval?, revokedAfter: TimeInterval? = nil) -> TokenRecord {
        TokenRecord(id: "t_1", userID: "u_1", kind: .api, secretHash: Data(), scopes: [],
                    createdAt: t0, expiresAt: expiresIn.map { t0.addingTimeInterval($0) },
                    revokedAt: revokedAfter.map { t0.addingTimeInterval($0) })
    }

    @Test("active strictly before expiresAt, inactive at and after it")
    func expiryBoundary() {
        let token = record(expiresIn: 20)
        #expect(token.isActive(at: t0))
        #expect(token.isActive(at: t0.addingTimeInterval(19.999)))
        #expect(!token.isActive(at: t0.addingTimeInterval(20)))
        #expect(!token.isActive(at: t0.addingTimeInterval(3600)))
    }

    @Test("no expiry: active at any time; revoked: inactive at any time")
    func noExpiryAndRevoked() {
        #expect(record(expiresIn: nil).isActive(at: t0.addingTimeInterval(10 * 365 * 86_400)))
        #expect(!record(expiresIn: nil, revokedAfter: 5).isActive(at: t0))
        #expect(!record(expiresIn: 3600, revokedAfter: 5).isActive(at: t0.addingTimeInterval(1)))
    }
}
