import Testing

@testable import LatticeWebSocket

typealias Offer = WebSocketExtensionOffer

func offer(_ name: String, _ parameters: [(String, String?)] = []) -> Offer {
    Offer(name: name, parameters: parameters.map { (name: $0.0, value: $0.1) })
}

@Suite struct ExtensionOfferParseTests {
    @Test func plainOffer() {
        #expect(Offer.parse(["permessage-deflate"]) == [offer("permessage-deflate")])
        #expect(Offer.parse(["permessage-deflate; client_max_window_bits"])
                == [offer("permessage-deflate", [("client_max_window_bits", nil)])])
    }

    @Test func spacesTabsAndCase() {
        #expect(Offer.parse(["  Permessage-Deflate ;\tServer_No_Context_Takeover ;  server_max_window_bits = 10  "])
                == [offer("permessage-deflate", [("server_no_context_takeover", nil), ("server_max_window_bits", "10")])])
    }

    @Test func quotedValues() {
        #expect(Offer.parse(["permessage-deflate; client_max_window_bits=\"10\""])
                == [offer("permessage-deflate", [("client_max_window_bits", "10")])])
        // A separator inside quotes does not split, and makes the value a non-token: the offer is dropped.
        #expect(Offer.parse(["permessage-deflate; x=\"1,2\", other"]) == [offer("other")])
        #expect(Offer.parse(["permessage-deflate; x=\"a;b\""]) == [])
        // Empty quoted value, lone quote, quote inside a token.
        #expect(Offer.parse(["permessage-deflate; x=\"\""]) == [])
        #expect(Offer.parse(["permessage-deflate; x=\""]) == [])
        #expect(Offer.parse(["permessage-deflate; x=a\"b"]) == [])
    }

    @Test func multipleOffersAndHeaders() {
        let parsed = Offer.parse([
            "permessage-deflate; client_max_window_bits=10; server_no_context_takeover, permessage-deflate",
            "x-webkit-deflate-frame, foo; bar=baz",
        ])
        #expect(parsed == [
            offer("permessage-deflate", [("client_max_window_bits", "10"), ("server_no_context_takeover", nil)]),
            offer("permessage-deflate"),
            offer("x-webkit-deflate-frame"),
            offer("foo", [("bar", "baz")]),
        ])
        // Values keep their case, names are lowercased.
        #expect(Offer.parse(["foo; Bar=BaZ"]) == [offer("foo", [("bar", "BaZ")])])
    }

    @Test func malformedElementsAreSkipped() {
        #expect(Offer.parse([""]) == [])
        #expect(Offer.parse([",,  ,"]) == [])
        #expect(Offer.parse(["; server_no_context_takeover"]) == [])
        #expect(Offer.parse(["permessage deflate"]) == [])
        #expect(Offer.parse(["permessage-deflate; x="]) == [])
        #expect(Offer.parse(["permessage-deflate; =1"]) == [])
        #expect(Offer.parse(["permessage-deflate; a b"]) == [])
        #expect(Offer.parse(["permessage-deflate; x=1=2"]) == [])
        #expect(Offer.parse(["bad@name, permessage-deflate"]) == [offer("permessage-deflate")])
        // Empty parameters between semicolons are ignored.
        #expect(Offer.parse(["permessage-deflate;;"]) == [offer("permessage-deflate")])
    }
}

@Suite struct PerMessageDeflateNegotiationTests {
    static let parameterNames = ["server_no_context_takeover", "client_no_context_takeover",
                                 "server_max_window_bits", "client_max_window_bits"]

    /// Every combination of the four parameters, each absent or present with a valid value
    /// (window bits 8, 12 and 15, with and without quotes; client_max_window_bits also bare),
    /// against servers that force or require nothing, everything, and a smaller window.
    @Test func everyParameterCombination() throws {
        let windowValues: [String?] = ["8", "12", "15", "\"9\""]
        var count = 0
        for snct in [false, true] {
            for cnct in [false, true] {
                for smwb in [nil] + windowValues {
                    for cmwb in [nil, .some(nil)] + windowValues.map(Optional.some) {
                        var header = "permessage-deflate"
                        if snct { header += "; server_no_context_takeover" }
                        if cnct { header += "; client_no_context_takeover" }
                        if let smwb { header += "; server_max_window_bits=\(smwb)" }
                        if let cmwb { header += cmwb.map { "; client_max_window_bits=\($0)" } ?? "; client_max_window_bits" }
                        let offers = Offer.parse([header])
                        try #require(offers.count == 1, "\(header)")
                        let requested = smwb.map { Int($0.filter(\.isNumber))! } ?? 15
                        for config in [
                            PerMessageDeflateConfiguration(),
                            PerMessageDeflateConfiguration(serverMaxWindowBits: 10, requireClientNoContextTakeover: true,
                                                           forceServerNoContextTakeover: true),
                            PerMessageDeflateConfiguration(serverMaxWindowBits: 3),
                        ] {
                            let result = try #require(PerMessageDeflateParameters.negotiate(offers: offers, configuration: config),
                                                      "\(header)")
                            #expect(result.serverNoContextTakeover == (snct || config.forceServerNoContextTakeover), "\(header)")
                            #expect(result.clientNoContextTakeover == (cnct || config.requireClientNoContextTakeover), "\(header)")
                            #expect(result.serverMaxWindowBits == min(requested, max(8, config.serverMaxWindowBits)), "\(header)")
                            #expect(result.clientMaxWindowBits == 15, "\(header)")
                            // What we answer is what the client will read back.
                            let answer = try #require(Offer.parse([result.headerValue]).first)
                            #expect(PerMessageDeflateParameters.fromServerResponse(answer) == result, "\(result.headerValue)")
                            count += 1
                        }
                    }
                }
            }
        }
        #expect(count == 2 * 2 * 5 * 6 * 3)
    }

    @Test(arguments: [
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=0",
        "permessage-deflate; server_max_window_bits=-9",
        "permessage-deflate; server_max_window_bits=9a",
        "permessage-deflate; server_max_window_bits=010",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=\"16\"",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=100",
        "permessage-deflate; client_max_window_bits=09",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; unknown_parameter",
        "permessage-deflate; mux",
        "x-webkit-deflate-frame",
        "",
    ])
    func invalidOffersAreDeclined(_ header: String) {
        #expect(PerMessageDeflateParameters.negotiate(offers: Offer.parse([header]), configuration: .init()) == nil)
    }

    @Test func firstAcceptableOfferWins() throws {
        let offers = Offer.parse(["permessage-deflate; bogus, permessage-deflate; server_max_window_bits=9, permessage-deflate"])
        let result = try #require(PerMessageDeflateParameters.negotiate(offers: offers, configuration: .init()))
        #expect(result.serverMaxWindowBits == 9)
        #expect(result.headerValue == "permessage-deflate; server_max_window_bits=9")
    }

    @Test func disabledConfigurationDeclines() {
        #expect(PerMessageDeflateParameters.negotiate(offers: Offer.parse(["permessage-deflate"]), configuration: .disabled) == nil)
    }

    @Test func headerValue() {
        #expect(PerMessageDeflateParameters().headerValue == "permessage-deflate")
        #expect(PerMessageDeflateParameters(serverNoContextTakeover: true, clientNoContextTakeover: true,
                                            serverMaxWindowBits: 10, clientMaxWindowBits: 8).headerValue
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=8")
    }

    @Test func fromServerResponse() throws {
        let full = try #require(Offer.parse([
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=\"12\"",
        ]).first)
        #expect(PerMessageDeflateParameters.fromServerResponse(full) == PerMessageDeflateParameters(
            serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 12))
        #expect(PerMessageDeflateParameters.fromServerResponse(offer("permessage-deflate")) == PerMessageDeflateParameters())
        for bad in [
            offer("x-other"),
            offer("permessage-deflate", [("client_max_window_bits", nil)]),  // a server must give a value
            offer("permessage-deflate", [("server_max_window_bits", "16")]),
            offer("permessage-deflate", [("client_max_window_bits", "7")]),
            offer("permessage-deflate", [("server_no_context_takeover", "x")]),
            offer("permessage-deflate", [("server_no_context_takeover", nil), ("server_no_context_takeover", nil)]),
            offer("permessage-deflate", [("something_else", nil)]),
        ] {
            #expect(PerMessageDeflateParameters.fromServerResponse(bad) == nil, "\(bad)")
        }
    }
}
