import Audit
import Crypto
import Dispatch
import Foundation
import POSIX
import Server
import Support
import TLS
import Webhooks

/// The composition root: configuration in, a running gateway out.
///
/// Owns the services and the HTTP server and wires signals to a graceful shutdown. The command
/// line creates one per `serve` and blocks in `run` until the server has stopped.
public final class Gateway: Sendable {
    public let configuration: Configuration
    public let logger: Logger
    public let readiness = Readiness()
    private let server: HTTPServer
    private let trail: AuditTrail
    private let dispatcher: WebhookDispatcher
    private let background: BackgroundTasks
    private let verification: LogVerification
    /// Held while this gateway runs: a second one on the same data directory refuses to start.
    private let instanceLock: InstanceLock

    /// Opens the stores and the audit log, creates demo data when asked, and binds the
    /// listener; nothing is served until `run`. `rebuildAuditIndex` rebuilds the audit log's
    /// query index before serving (an operator's repair after verification named it).
    public init(configuration: Configuration, logger: Logger, rebuildAuditIndex: Bool = false) throws {
        self.configuration = configuration
        self.logger = logger
        try Self.prepareDataDirectory(configuration.dataDirectory)
        do {
            instanceLock = try InstanceLock(path: configuration.dataDirectory + "/" + Self.lockFileName)
        } catch {
            throw ConfigurationError(
                key: "data_dir",
                message: error.held
                    ? "another phigate is already serving this data directory; stop it first"
                    : error.message)
        }
        let services = try Self.services(configuration)
        let pool = try RecordsPool(
            path: configuration.recordsDatabasePath, size: configuration.storeConnections, services: services)
        if configuration.demo {
            try pool.with { session in
                if let summary = try DemoSetup.populateIfEmpty(session) {
                    let base = DemoSetup.exampleBase(listen: configuration.listen, secure: configuration.tls != nil)
                    DemoSetup.printCredentials(summary, base: base)
                    logger.notice("demo.created", ["patients": .int(summary.patientCount)])
                }
            }
        }

        // With a configured CA, alerts go through phigate's own TLS client, which checks the
        // receiver's chain and name against it; otherwise URLSession and the system store.
        var transport: (any WebhookTransport)?
        if let ca = configuration.alertsCAFile {
            do {
                transport = try TLSSocketTransport(trustedCAPath: ca, timeoutMilliseconds: 10_000)
            } catch {
                throw ConfigurationError(key: "alerts.ca_file", message: error.message)
            }
        }
        dispatcher = try WebhookDispatcher(
            configuration: .init(
                databasePath: configuration.recordsDatabasePath, encryptionKey: services.secretKey,
                policy: configuration.deliveryPolicy),
            transport: transport,
            report: { report in logger.debug("webhooks.report", ["report": .string("\(report)")]) })
        let alerts = Alerts(dispatcher: dispatcher)
        try pool.with { session in
            let sync = try session.subscribers.syncConfigured(configuration.webhooks)
            if !sync.added.isEmpty || !sync.disabled.isEmpty {
                logger.notice(
                    "webhooks.configured", ["added": .int(sync.added.count), "disabled": .int(sync.disabled.count)])
            }
        }

        let readiness = self.readiness
        let checkpointAlerts = CheckpointAlerts(pool: pool, alerts: alerts, logger: logger)
        trail = try AuditTrail(configuration: configuration, readiness: readiness, logger: logger) { checkpoint in
            checkpointAlerts.raise(checkpoint)
        }
        let metrics = ServerMetrics()
        let trail = self.trail
        let clock = WallClock()
        let sessions = SessionCache()
        let denials = DenialMonitor(
            threshold: configuration.deniedBurstThreshold, windowSeconds: configuration.deniedBurstWindowSeconds)
        let authentication = AuthenticationMiddleware(pool: pool, trail: trail, sessions: sessions)
        var routes: [Route] = []
        routes += OperationalRoutes.routes(readiness: readiness) { metrics.render() + trail.metrics() }
        routes += AuthRoutes(
            pool: pool, policy: configuration.authPolicy, trail: trail, sessions: sessions, alerts: alerts,
            logger: logger
        )
        .routes(authentication: authentication)
        routes += FHIRRoutes(pool: pool, clock: clock, trail: trail, alerts: alerts, denials: denials)
            .routes(authentication: authentication)
        let verification = LogVerification(trail: trail, pool: pool, alerts: alerts, logger: logger)
        self.verification = verification
        routes += AuditRoutes(trail: trail, verification: verification)
            .routes(authentication: authentication)
        routes += BreakGlassRoutes(pool: pool, trail: trail, alerts: alerts, logger: logger)
            .routes(authentication: authentication)
        routes += WebhookAdminRoutes(pool: pool, trail: trail).routes(authentication: authentication)
        let router = Router(routes: routes, prefixRenderers: [("/fhir", OperationOutcomeRenderer())])
        var serverConfiguration = configuration.server
        if let tls = configuration.tls {
            do {
                let context = try TLSContext(server: tls)
                serverConfiguration.tls = context
                Self.noteExpiry(of: context, logger)
            } catch {
                let key = error.code == .privateKey || error.code == .keyPermissions ? "tls.key" : "tls.cert"
                throw ConfigurationError(key: key, message: error.message)
            }
        }
        server = try HTTPServer(configuration: serverConfiguration, router: router, metrics: metrics, logger: logger)
        try trail.recordStart(version: GatewayVersion.current, rebuildIndex: rebuildAuditIndex, logger: logger)
        checkpointAlerts.raiseNewest(from: try AuditReader.open(path: trail.path))
        background = BackgroundTasks(pool: pool, trail: trail, alerts: alerts, logger: logger, readiness: readiness)
        background.ingestAdministrativeChanges()
    }

    /// Logs an expired certificate as an error and one about to expire as a warning: the
    /// gateway still starts, since refusing would turn a late renewal into a full outage.
    static func noteExpiry(of context: TLSContext, _ logger: Logger) {
        guard let remaining = context.certificateSecondsRemaining else { return }
        switch CertificateExpiry(secondsRemaining: remaining) {
        case .valid:
            break
        case .expiresSoon(let days):
            logger.warning("tls.certificate_expiring", ["tls.days_left": .int(days)])
        case .expired(let days):
            logger.error("tls.certificate_expired", ["tls.days_ago": .int(days)])
        }
    }

    /// The address actually bound, with port 0 resolved.
    public var address: SocketAddress { server.boundAddress }

    /// The signals that stop the gateway gracefully: a second one cuts the grace short. SIGHUP
    /// is among them because a closed terminal must not kill the server before its audit log
    /// is closed (there is nothing to reload).
    public static let stopSignals = [SIGTERM, SIGINT, SIGHUP]

    /// Serves until one of `stopSignals`, then drains, closes the audit log and returns.
    ///
    /// The command line blocks these signals before anything starts a thread
    /// (`ProcessSignals.block`), so one that arrives at any moment waits for the watcher here.
    public func run() {
        ProcessSignals.waitForSignals(Self.stopSignals) { [server, readiness, logger] signal in
            logger.info("server.signal", ["signal": .int(Int(signal))])
            readiness.set("shutting_down", ready: false)
            server.shutdown()
        }
        dispatcher.start()
        background.start()
        server.start()
        verification.runInBackground()
        server.wait()
        background.stop()
        // No verification may hold the log open while the writer closes it.
        verification.stop()
        do {
            try trail.recordStop()
        } catch {
            logger.error("audit.close_failed", ["error": .string("\(error)")])
        }
        // The final checkpoint's alert goes out now rather than again at the next start.
        dispatcher.settle(timeout: .seconds(2))
        dispatcher.stop()
        logger.info("server.stopped")
    }

    /// The file a serving gateway keeps locked in its data directory.
    static let lockFileName = "serve.lock"

    /// The settings every records session shares, with the secret-sealing key loaded.
    static func services(_ configuration: Configuration) throws -> ServiceSettings {
        try KeyCustody.requireSecretsKey(configuration)
        return ServiceSettings(
            authPolicy: configuration.authPolicy, breakGlassPolicy: configuration.breakGlassPolicy,
            secretKey: try SecretKey.loadOrCreate(directory: configuration.dataDirectory))
    }

    /// Creates the data directory owner-only, or checks an existing one is not open to others:
    /// it holds PHI, password hashes and keys.
    static func prepareDataDirectory(_ path: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ConfigurationError(key: "data_dir", message: "exists and is not a directory")
            }
            let attributes = try manager.attributesOfItem(atPath: path)
            if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
                throw ConfigurationError(
                    key: "data_dir",
                    message: "is accessible to group or others (mode \(String(mode, radix: 8))); chmod 700 it")
            }
            return
        }
        try manager.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
