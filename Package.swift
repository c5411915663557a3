// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Lattice",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lattice", targets: ["lattice"]),
        .library(name: "LatticeWebSocket", targets: ["LatticeWebSocket"]),
        .library(name: "LatticeClient", targets: ["LatticeClient"]),
        .library(name: "LatticeProtocol", targets: ["LatticeProtocol"]),
        .library(name: "LatticeCRDT", targets: ["LatticeCRDT"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        // zlib from the system (Debian: zlib1g-dev), for permessage-deflate.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // SHA-256 and the CSPRNG from the system's libcrypto (Debian: libssl-dev), for tokens.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", providers: [.apt(["libssl-dev"])]),
        // Users, tokens, workspaces, roles, invitations and the access policy; defines the
        // storage protocol it needs (IdentityStore). No I/O.
        .target(name: "LatticeAuth", dependencies: ["CCrypto"]),
        // The storage adapters: SQLite (GRDB) for identity, durable streams and runs.
        .target(
            name: "LatticeStore",
            dependencies: [
                "LatticeAuth", "LatticeStreams", "LatticeProtocol", "LatticeRuns",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LatticeWebSocket",
            dependencies: [
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LatticeServer",
            dependencies: [
                "LatticeWebSocket",
                "LatticeProtocol",
                "LatticeStreams",
                "LatticeAuth",
                "LatticeRuns",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "LatticeClient",
            dependencies: [
                "LatticeWebSocket", "LatticeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Pure CRDT logic: no I/O, no dependencies.
        .target(name: "LatticeCRDT"),
        // The lattice.v1 messages and their JSON encoding; pure.
        .target(
            name: "LatticeProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // Streams, offsets, history, resume, presence and backpressure policies.
        .target(
            name: "LatticeStreams",
            dependencies: [
                "LatticeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Runs: workflow definitions and their validator, the run state machine, the executor,
        // worker leases; defines the storage it needs (RunStore). Pure but for the executor.
        .target(
            name: "LatticeRuns",
            dependencies: [
                "LatticeCRDT", "LatticeStreams",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Reads editing traces (gzip-compressed JSON) for CRDT tests and benchmarks.
        .target(name: "LatticeTraces", dependencies: ["CZlib"]),
        .executableTarget(
            name: "lattice",
            dependencies: [
                "LatticeServer",
                "LatticeClient",
                "LatticeProtocol",
                "LatticeCRDT",
                "LatticeAuth",
                "LatticeStore",
                "LatticeRuns",
                "LatticeTraces",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "LatticeWebSocketTests",
            dependencies: [
                "LatticeWebSocket",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LatticeProtocolTests",
            dependencies: [
                "LatticeProtocol",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LatticeStreamsTests",
            dependencies: [
                "LatticeStreams",
                "LatticeProtocol",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LatticeAuthTests",
            dependencies: [
                "LatticeAuth",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "LatticeStoreTests",
            dependencies: [
                "LatticeStore", "LatticeAuth", "LatticeStreams", "LatticeProtocol", "LatticeRuns", "LatticeCRDT",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LatticeRunsTests",
            dependencies: [
                "LatticeRuns", "LatticeCRDT", "LatticeStreams",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "LatticeCRDTTests",
            dependencies: [
                "LatticeCRDT",
                "LatticeTraces",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        // In-process tests of the server's handlers, on NIO's testing channels.
        .testTarget(
            name: "LatticeClientTests",
            dependencies: ["LatticeClient", "LatticeProtocol"]
        ),
        .testTarget(
            name: "LatticeServerTests",
            dependencies: [
                "LatticeServer", "LatticeRuns", "LatticeCRDT", "LatticeAuth", "LatticeStore", "LatticeStreams", "LatticeProtocol", "LatticeWebSocket",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "LatticeIntegrationTests",
            dependencies: [
                "CZlib",
                "LatticeWebSocket",
                "LatticeClient",
                "LatticeProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// Every import declared, and said whether it is part of a module's interface; `any` spelled out.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .enableUpcomingFeature("InternalImportsByDefault"),
    ]
}
