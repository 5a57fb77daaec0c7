package co.corouter.server.config;

import co.corouter.server.common.Money;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * The whole node configuration, parsed and validated once at boot. Each verticle receives the record it needs.
 */
public record ServerOptions(
        Path confDir,
        Path dataDir,
        HttpOptions http,
        DatabaseOptions database,
        String adminToken,
        Path pluginsDir,
        BillingOptions billing,
        MeteringOptions metering,
        RoutingOptions routing,
        ConsoleOptions console,
        MailOptions mail,
        RetentionOptions retention,
        JsonObject providers,
        PaymentOptions payments,
        AuditOptions audit) {

    /**
     * {@code eventLoops}: threads serving network I/O, each with its own HTTP verticle instance; one per core by default
     * (Vert.x would take two per core, which on a small box only adds cross-thread wake-ups between the loops).
     */
    public record HttpOptions(String host, int port, int bodyLimitBytes, long upstreamTimeoutMillis, int eventLoops,
            EdgeOptions edge) {

        /** How long a request may live: the provider's budget plus a guard, after which the host stops the call. */
        public long requestDeadlineMillis() {
            return upstreamTimeoutMillis + 2_000;
        }
    }

    /**
     * The HTTP edge's limits against clients that hold resources. {@code headerTimeoutMillis}: a new connection must
     * deliver a complete request head within it. {@code idleTimeoutMillis}: a kept-alive connection with no request in
     * flight is closed after it (the next request's head must be complete by then). A body must arrive within
     * {@code bodyTimeoutMillis}, extended by one second for every {@code bodyMinRateBytesPerSecond} bytes received, and
     * never beyond {@code bodyMaxMillis}. {@code maxConnections} open connections per node; {@code
     * maxBufferedBodyBytes} of request bodies held in memory per node at once (503 beyond). {@code h2c}: HTTP/2 over
     * clear text, off unless configured. {@code sseKeepAliveMillis}: a stream waiting for its first upstream event gets
     * an SSE comment this often (0: never).
     */
    public record EdgeOptions(long headerTimeoutMillis, long idleTimeoutMillis, long bodyTimeoutMillis,
            long bodyMaxMillis, int bodyMinRateBytesPerSecond, int maxConnections, int maxHeaderBytes,
            int maxInitialLineBytes, long maxBufferedBodyBytes, boolean h2c, long sseKeepAliveMillis) {
    }

    /** {@code url} is null when the node should run an embedded PostgreSQL under {@code dataDir/pg}. */
    public record DatabaseOptions(String url, String password, int poolSize) {
    }

    public record BillingOptions(long leaseSliceNanos, int leaseTtlSeconds) {
    }

    /**
     * How endpoints are called and protected. The breaker of an endpoint opens after {@code breakerMaxFailures}
     * failures in a row (within {@code breakerWindowMillis}), or when at least {@code breakerMinRequests} calls in the
     * window failed at {@code breakerErrorRate} or more; after {@code breakerResetMillis} one probe call may close it
     * again. {@code maxInFlight}: the default bulkhead per endpoint. {@code firstByteTimeoutMillis} and
     * {@code idleTimeoutMillis} bound an attempt's wait for its first byte and the silence between stream reads;
     * {@code retries} more tries per endpoint (with jittered back-off from {@code retryBackoffMillis}) before the next
     * endpoint, all within the request's deadline.
     */
    public record RoutingOptions(int breakerMaxFailures, long breakerWindowMillis, double breakerErrorRate,
            int breakerMinRequests, long breakerResetMillis, int maxInFlight, long firstByteTimeoutMillis,
            long idleTimeoutMillis, int retries, long retryBackoffMillis) {
    }

    /**
     * {@code enabled = false} is for benchmarks only (the S4 comparison): requests are served with authentication but
     * without reserving credit, settling, or writing usage rows — nothing is billed.
     */
    public record MeteringOptions(int batchSize, long flushIntervalMillis, long maxBacklog, boolean enabled) {

        public MeteringOptions(int batchSize, long flushIntervalMillis, long maxBacklog) {
            this(batchSize, flushIntervalMillis, maxBacklog, true);
        }
    }

    /**
     * The console's sign-in. A session ends after {@code sessionIdleMinutes} without a request and at the latest
     * {@code sessionAbsoluteHours} after sign-in. {@code trustForwardedProto}: a TLS-terminating proxy in front sets
     * {@code X-Forwarded-Proto} (and {@code X-Forwarded-For}, whose last entry is then taken as the client's address).
     * Sign-in is refused for {@code loginWindowMinutes} after {@code loginFailuresPerAccount} failures for one email
     * or {@code loginFailuresPerIp} from one address. {@code publicUrl}: the origin the mailed links point at.
     */
    public record ConsoleOptions(int sessionIdleMinutes, int sessionAbsoluteHours, boolean trustForwardedProto,
            String publicUrl, int loginFailuresPerAccount, int loginFailuresPerIp, int loginWindowMinutes) {
    }

    /**
     * Outgoing mail (the console's links). {@code host} empty: no SMTP, each mail is written as an {@code .eml} file
     * under {@code <node.data_dir>/mail}. {@code starttls}: DISABLED, OPTIONAL or REQUIRED.
     */
    public record MailOptions(String host, int port, String from, String starttls, String username, String password) {

        public boolean smtp() {
            return !host.isBlank();
        }
    }

    /**
     * How long personal data is kept (privacy policy §5): usage rows ({@code generations}) for {@code usageDays}, sign-in
     * history for {@code loginDays}; the purge runs every {@code intervalMinutes}. The daily usage rollup is a billing
     * record and is kept.
     */
    /**
     * Top-ups ({@code payments:} in corouter.yaml): {@code instances} maps an instance name (its webhook path
     * {@code /webhooks/payments/<name>}) to {@code {type, config}} for a {@code PaymentProcessor} plugin; the first one
     * sells top-ups in the console. A pending order is asked about (reconciled) after {@code reconcileAfterSeconds},
     * every {@code reconcileIntervalSeconds}, and given up as expired after {@code expireAfterHours}. One checkout
     * buys at most {@code maxTopUpNanos}; an account may open at most {@code maxPendingOrders} that are still pending.
     */
    public record PaymentOptions(JsonObject instances, int reconcileIntervalSeconds, int reconcileAfterSeconds,
            int expireAfterHours, long maxTopUpNanos, int maxPendingOrders) {
    }

    public record RetentionOptions(int usageDays, int loginDays, int intervalMinutes) {
    }

    /**
     * Opt-in audit logging ({@code audit:}). {@code spoolDir}: the node's encrypted spool; {@code fileRoot}: the only
     * directory the file sink may write under (one subdirectory per account). The key-encryption key that seals sink
     * credentials and spooled batches comes from {@code kekEnv} (base64 of 32 bytes) or else {@code kekFile} (created,
     * mode 0600, on first start); {@code previousKekEnv} / {@code previousKekFiles} still open what older keys sealed
     * (README "Rotating the audit key"). {@code guard}: the SSRF guard's section ({@code allow_http},
     * {@code allow_plaintext_tcp}, {@code allow_list}, {@code deny_list}).
     */
    public record AuditOptions(Path spoolDir, Path fileRoot, String kekEnv, Path kekFile, String previousKekEnv,
            java.util.List<Path> previousKekFiles, int batchMaxRecords, long batchMaxBytes, long flushIntervalMillis,
            long spoolMaxBytes, long writeTimeoutMillis, long retryMaxMillis, long testTimeoutMillis,
            JsonObject guard) {
    }

    public static ServerOptions parse(Path confDir, JsonObject root, Secrets secrets) {
        Path base = confDir.toAbsolutePath().getParent() == null ? Path.of(".") : confDir.toAbsolutePath().getParent();
        Settings node = Settings.of(root, "node");
        Path dataDir = base.resolve(node.string("data_dir", "var")).normalize();

        Settings http = Settings.of(root, "http");
        EdgeOptions edge = new EdgeOptions(
                http.longValue("header_timeout_ms", 10_000, 100, 600_000),
                http.longValue("idle_timeout_ms", 60_000, 100, 3_600_000),
                http.longValue("body_timeout_ms", 10_000, 100, 600_000),
                http.longValue("body_max_ms", 60_000, 100, 3_600_000),
                http.intValue("body_min_rate_bytes_per_second", 8 * 1024, 1, 1 << 30),
                http.intValue("max_connections", 10_000, 1, 1_000_000),
                http.intValue("max_header_bytes", 8 * 1024, 1024, 1 << 20),
                http.intValue("max_initial_line_bytes", 4 * 1024, 256, 1 << 20),
                http.longValue("max_buffered_body_bytes",
                        Math.max(64L << 20, Runtime.getRuntime().maxMemory() / 4), 1 << 20, Long.MAX_VALUE),
                http.bool("h2c", false),
                http.longValue("sse_keepalive_ms", 3_000, 0, 600_000));
        if (edge.bodyMaxMillis() < edge.bodyTimeoutMillis()) {
            throw new IllegalArgumentException("configuration http.body_max_ms must be at least http.body_timeout_ms");
        }
        HttpOptions httpOptions = new HttpOptions(
                http.string("host", "127.0.0.1"),
                http.intValue("port", 8080, 0, 65535),
                http.intValue("body_limit_bytes", 4 * 1024 * 1024, 1024, 512 * 1024 * 1024),
                http.longValue("upstream_timeout_ms", 120_000, 100, 3_600_000),
                http.intValue("event_loops", Runtime.getRuntime().availableProcessors(), 1, 1024),
                edge);

        Settings db = Settings.of(root, "database");
        String url = db.string("url", "");
        String password = secrets.resolve(db.string("password_env", "COROUTER_DB_PASSWORD"));
        String passwordFile = db.string("password_file", "");
        if (password == null && !passwordFile.isBlank()) {
            password = Secrets.readFile(base.resolve(passwordFile), "database.password_file");
        }
        DatabaseOptions databaseOptions = new DatabaseOptions(url.isBlank() ? null : url, password,
                db.intValue("pool_size", 8, 1, 256));

        Settings admin = Settings.of(root, "admin");
        String tokenEnv = admin.string("token_env", "COROUTER_ADMIN_TOKEN");
        String adminToken = secrets.resolve(tokenEnv);
        String tokenFile = admin.string("token_file", "");
        if (adminToken == null && !tokenFile.isBlank()) {
            adminToken = Secrets.readFile(base.resolve(tokenFile), "admin.token_file");
        }
        if (adminToken != null && adminToken.length() < 16) {
            throw new IllegalArgumentException("the admin token (" + tokenEnv + " or admin.token_file) must be at least "
                    + "16 characters long");
        }

        Settings plugins = Settings.of(root, "plugins");
        Path pluginsDir = base.resolve(plugins.string("dir", "var/plugins")).normalize();

        Settings billing = Settings.of(root, "billing");
        long slice = Money.parseUsd(billing.string("lease_slice_usd", "1.00"), "billing.lease_slice_usd");
        if (slice <= 0) {
            throw new IllegalArgumentException("configuration billing.lease_slice_usd must be positive");
        }
        BillingOptions billingOptions = new BillingOptions(slice, billing.intValue("lease_ttl_seconds", 60, 5, 3600));

        Settings metering = Settings.of(root, "metering");
        MeteringOptions meteringOptions = new MeteringOptions(
                metering.intValue("batch_size", 500, 1, 10_000),
                metering.longValue("flush_interval_ms", 100, 1, 60_000),
                metering.longValue("max_backlog", 200_000, 1_000, 100_000_000),
                metering.bool("enabled", true));

        Settings routing = Settings.of(root, "routing");
        long errorRatePercent = routing.longValue("breaker_error_rate_percent", 50, 1, 100);
        RoutingOptions routingOptions = new RoutingOptions(
                routing.intValue("breaker_max_failures", 5, 1, 10_000),
                routing.longValue("breaker_window_ms", 30_000, 1_000, 3_600_000),
                errorRatePercent / 100.0,
                routing.intValue("breaker_min_requests", 20, 1, 1_000_000),
                routing.longValue("breaker_reset_ms", 30_000, 100, 3_600_000),
                routing.intValue("max_in_flight", 1_000, 1, 1_000_000),
                routing.longValue("first_byte_timeout_ms", 60_000, 100, 3_600_000),
                routing.longValue("idle_timeout_ms", 60_000, 100, 3_600_000),
                routing.intValue("retries", 1, 0, 10),
                routing.longValue("retry_backoff_ms", 200, 1, 60_000));

        Settings console = Settings.of(root, "console");
        String publicUrl = console.string("public_url", "");
        ConsoleOptions consoleOptions = new ConsoleOptions(
                console.intValue("session_idle_minutes", 30, 1, 24 * 60),
                console.intValue("session_absolute_hours", 12, 1, 24 * 30),
                console.bool("trust_forwarded_proto", false),
                publicUrl.isBlank() ? "http://" + httpOptions.host() + ":" + httpOptions.port()
                        : publicUrl.replaceAll("/+$", ""),
                console.intValue("login_failures_per_account", 10, 1, 1_000_000),
                console.intValue("login_failures_per_ip", 50, 1, 1_000_000),
                console.intValue("login_window_minutes", 15, 1, 24 * 60));
        if (!consoleOptions.publicUrl().matches("https?://[^/\\s]+(/\\S*)?")) {
            throw new IllegalArgumentException("configuration console.public_url must be an http(s) URL, was '"
                    + publicUrl + "'");
        }

        Settings mail = Settings.of(root, "mail");
        String starttls = mail.string("starttls", "OPTIONAL").trim().toUpperCase(java.util.Locale.ROOT);
        if (!java.util.Set.of("DISABLED", "OPTIONAL", "REQUIRED").contains(starttls)) {
            throw new IllegalArgumentException("configuration mail.starttls must be DISABLED, OPTIONAL or REQUIRED, was '"
                    + starttls + "'");
        }
        String mailPasswordEnv = mail.string("password_env", "COROUTER_SMTP_PASSWORD");
        MailOptions mailOptions = new MailOptions(
                mail.string("host", "").trim(),
                mail.intValue("port", 587, 1, 65535),
                mail.string("from", "corouter <no-reply@corouter.local>"),
                starttls,
                mail.string("username", ""),
                secrets.resolve(mailPasswordEnv));

        Settings retention = Settings.of(root, "retention");
        RetentionOptions retentionOptions = new RetentionOptions(
                retention.intValue("usage_days", 90, 1, 3650),
                retention.intValue("login_days", 90, 1, 3650),
                retention.intValue("interval_minutes", 60, 1, 24 * 60));

        JsonObject providers = root.getJsonObject("providers", new JsonObject());
        Settings payments = Settings.of(root, "payments");
        JsonObject instances = new JsonObject();
        payments.raw().forEach(entry -> {
            if (entry.getValue() instanceof JsonObject instance) {
                instances.put(entry.getKey(), instance);
            }
        });
        long maxTopUp = Money.parseUsd(billing.string("max_top_up_usd", "1000.00"), "billing.max_top_up_usd");
        PaymentOptions paymentOptions = new PaymentOptions(instances,
                billing.intValue("reconcile_interval_seconds", 60, 1, 86_400),
                billing.intValue("reconcile_after_seconds", 60, 0, 86_400),
                billing.intValue("order_expire_hours", 24, 1, 24 * 90),
                maxTopUp, billing.intValue("max_pending_orders", 10, 1, 1000));
        Settings audit = Settings.of(root, "audit");
        java.util.List<Path> previousKekFiles = new java.util.ArrayList<>();
        for (String file : audit.string("kek_previous_files", "").split(",")) {
            if (!file.isBlank()) {
                previousKekFiles.add(base.resolve(file.trim()).normalize());
            }
        }
        AuditOptions auditOptions = new AuditOptions(
                base.resolve(audit.string("spool_dir", dataDir.resolve("audit-spool").toString())).normalize(),
                base.resolve(audit.string("file_root", dataDir.resolve("audit-files").toString())).normalize(),
                secrets.resolve(audit.string("kek_env", "COROUTER_AUDIT_KEK")),
                base.resolve(audit.string("kek_file", dataDir.resolve("audit.kek").toString())).normalize(),
                secrets.resolve(audit.string("kek_previous_env", "COROUTER_AUDIT_KEK_PREVIOUS")),
                java.util.List.copyOf(previousKekFiles),
                audit.intValue("batch_max_records", 500, 1, 100_000),
                audit.longValue("batch_max_bytes", 4L << 20, 1024, 256L << 20),
                audit.longValue("flush_interval_ms", 2_000, 10, 3_600_000),
                audit.longValue("spool_max_bytes", 256L << 20, 1024, Long.MAX_VALUE),
                audit.longValue("write_timeout_ms", 30_000, 100, 3_600_000),
                audit.longValue("retry_max_ms", 60_000, 100, 3_600_000),
                audit.longValue("test_timeout_ms", 15_000, 100, 600_000),
                root.getJsonObject("audit", new JsonObject()).getJsonObject("guard", new JsonObject()));
        return new ServerOptions(confDir, dataDir, httpOptions, databaseOptions, adminToken, pluginsDir,
                billingOptions, meteringOptions, routingOptions, consoleOptions, mailOptions, retentionOptions,
                providers, paymentOptions, auditOptions);
    }
}
