// swift-tools-version:6.0
import PackageDescription

/// phigate: an access gateway for protected health information.
///
/// Only Crypto, Compression and Store import the C libraries; every other module sees
/// Swift types. The module graph mirrors the architecture in Docs/ARCHITECTURE.md.
let package = Package(
    name: "phigate",
    products: [
        .executable(name: "phigate", targets: ["phigate"])
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        .systemLibrary(name: "CPOSIX", path: "Sources/CPOSIX"),

        .target(name: "Support"),
        .target(name: "POSIX", dependencies: ["CPOSIX"]),
        .target(name: "HTTP"),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        .target(name: "Compression", dependencies: ["CZlib"]),
        .target(name: "TLS", dependencies: ["COpenSSL"]),
        .target(name: "Store", dependencies: ["CSQLite", "Support"]),
        .target(name: "Policy"),
        .target(name: "Auth", dependencies: ["Store", "Crypto", "Policy", "Support"]),
        .target(name: "Audit", dependencies: ["Store", "Crypto", "Support", "POSIX"]),
        .target(name: "Webhooks", dependencies: ["Store", "Crypto", "Support", "TLS", "POSIX"]),
        .target(name: "BreakGlass", dependencies: ["Store", "Crypto", "Auth", "Policy", "Support"]),
        .target(
            name: "Server",
            dependencies: ["Support", "POSIX", "HTTP", "Crypto", "Compression", "TLS"]),
        .target(
            name: "App",
            dependencies: [
                "Support", "Server", "HTTP", "Crypto", "Store", "Policy", "Auth", "Audit", "Webhooks", "BreakGlass",
            ]),
        .executableTarget(name: "phigate", dependencies: ["App", "Support", "POSIX", "Crypto", "Policy"]),

        .testTarget(name: "HTTPTests", dependencies: ["HTTP"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto", "Compression"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS"]),
        .testTarget(name: "StoreTests", dependencies: ["Store"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "Store", "Crypto", "Policy"]),
        .testTarget(name: "AuditTests", dependencies: ["Audit", "Store", "Crypto"]),
        .testTarget(name: "WebhooksTests", dependencies: ["Webhooks", "Store", "Crypto", "TLS"]),
        .testTarget(name: "BreakGlassTests", dependencies: ["BreakGlass", "Auth", "Store", "Crypto", "Policy"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "HTTP", "POSIX", "Support"]),
        .testTarget(name: "AppTests", dependencies: ["App", "Audit", "HTTP", "Server", "Support", "Store"]),
    ]
)
