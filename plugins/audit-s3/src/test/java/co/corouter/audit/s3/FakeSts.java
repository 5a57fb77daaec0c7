package co.corouter.audit.s3;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * AWS STS on 127.0.0.1 for the one action the sink uses, AssumeRole, spoken as the Query API: a form-encoded POST
 * ({@code Action=AssumeRole&Version=2011-06-15&RoleArn=...&RoleSessionName=...[&ExternalId=...]}) answered with an
 * {@code AssumeRoleResponse/AssumeRoleResult/Credentials} document, failures with an {@code ErrorResponse/Error}
 * document ({@code Type}, {@code Code}, {@code Message}).
 *
 * <p>Like STS it trusts nothing: the request must be SigV4-signed for service {@code sts} in the configured region
 * by the one caller it knows, with that caller's secret (the signature is recomputed), and carry the caller's session
 * token when it has one; the role ARN must be the one it knows and, when the role demands one, the external id must
 * match. Each grant issues new credentials, expiring {@code lifetime} after the fake's clock.
 */
final class FakeSts {

    /** One AssumeRole request as received (whatever was answered). */
    record Seen(MultiMap headers, Map<String, String> form) {

        /** The Authorization header's credential scope: {@code <key id>/<date>/<region>/<service>/aws4_request}. */
        String credentialScope() {
            Matcher m = AUTHORIZATION.matcher(headers.get("Authorization") == null ? "" : headers.get("Authorization"));
            return m.matches() ? m.group(1) + "/" + m.group(2) + "/" + m.group(3) + "/" + m.group(4) + "/aws4_request"
                    : null;
        }
    }

    /** Temporary credentials as issued. */
    record Issued(String accessKeyId, String secretAccessKey, String sessionToken, Instant expiration) {
    }

    /** Real STS messages name the caller and the role; this text must never reach a sink's error message. */
    static final String MESSAGE_MARKER = "said the fake STS";
    static final String NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";

    private static final Pattern AUTHORIZATION = Pattern.compile("AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/"
            + "([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})");

    private final Builder settings;
    private final Queue<Seen> requests = new ConcurrentLinkedQueue<>();
    private final List<Issued> issued = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicReference<Refusal> refusal = new AtomicReference<>();
    private volatile Future<Void> hold = Future.succeededFuture();
    private final SecureRandom random = new SecureRandom();
    private HttpServer server;

    private record Refusal(int status, String code) {
    }

    private FakeSts(Builder settings) {
        this.settings = settings;
    }

    static Builder builder() {
        return new Builder();
    }

    int port() {
        return server.actualPort();
    }

    /** {@code http://127.0.0.1:<port>}, for {@code sts_endpoint}. */
    String endpoint() {
        return "http://127.0.0.1:" + port();
    }

    List<Seen> requests() {
        return List.copyOf(requests);
    }

    List<Issued> issued() {
        return List.copyOf(issued);
    }

    int connections() {
        return connections.get();
    }

    /** From now on a correctly signed AssumeRole is answered {@code status} with error {@code code}. */
    void refuse(int status, String code) {
        refusal.set(new Refusal(status, code));
    }

    /** From now on a correctly signed AssumeRole of the known role is granted again. */
    void grant() {
        refusal.set(null);
    }

    /** Requests arriving from now on are answered only once {@code until} completes. */
    void holdAnswersUntil(Future<Void> until) {
        hold = until;
    }

    /** Stops listening: connections to {@link #port()} are refused from then on. */
    Future<Void> close() {
        return server.close();
    }

    private void handle(HttpServerRequest request) {
        Future<Void> answerWhen = hold;
        request.body().onSuccess(body -> answerWhen.onComplete(released -> answer(request, body)));
    }

    private void answer(HttpServerRequest request, Buffer body) {
        Map<String, String> form = form(body.toString(StandardCharsets.UTF_8));
        requests.add(new Seen(MultiMap.caseInsensitiveMultiMap().addAll(request.headers()), form));
        String authFailure = authenticate(request, body);
        if (authFailure != null) {
            error(request, authFailure.equals("IncompleteSignature") ? 400 : 403, authFailure,
                    "the request's signature is not the caller's");
        } else if (!"POST".equals(request.method().name()) || !"AssumeRole".equals(form.get("Action"))
                || !"2011-06-15".equals(form.get("Version"))) {
            error(request, 400, "InvalidAction", "only AssumeRole of 2011-06-15 is known");
        } else if (form.get("RoleSessionName") == null
                || !form.get("RoleSessionName").matches("[\\w+=,.@-]{2,64}")) {
            error(request, 400, "ValidationError", "roleSessionName failed to satisfy its constraint");
        } else if (refusal.get() != null) {
            error(request, refusal.get().status(), refusal.get().code(), "refused as told");
        } else if (!settings.roleArn.equals(form.get("RoleArn"))
                || (settings.externalId != null && !settings.externalId.equals(form.get("ExternalId")))) {
            error(request, 403, "AccessDenied", "User: arn:aws:iam::999988887777:user/audit is not authorized"
                    + " to perform: sts:AssumeRole on resource: " + form.get("RoleArn"));
        } else {
            grant(request, form.get("RoleSessionName"));
        }
    }

    /** {@code null} when the request is signed by the caller, else the error code STS answers. */
    private String authenticate(HttpServerRequest request, Buffer body) {
        String authorization = request.getHeader("Authorization");
        if (authorization == null) {
            return "MissingAuthenticationToken";
        }
        Matcher m = AUTHORIZATION.matcher(authorization);
        if (!m.matches()) {
            return "IncompleteSignature";
        }
        if (!settings.accessKeyId.equals(m.group(1))) {
            return "InvalidClientTokenId";
        }
        String token = request.getHeader("X-Amz-Security-Token");
        if (settings.sessionToken == null ? token != null : !settings.sessionToken.equals(token)) {
            return "InvalidClientTokenId";
        }
        String amzDate = request.getHeader("X-Amz-Date");
        if (amzDate == null || !amzDate.startsWith(m.group(2)) || !m.group(3).equals(settings.region)
                || !m.group(4).equals("sts")) {
            return "SignatureDoesNotMatch";
        }
        List<String> signed = Arrays.asList(m.group(5).split(";"));
        if (!signed.contains("host") || !signed.contains("x-amz-date")
                || (token != null && !signed.contains("x-amz-security-token"))) {
            return "SignatureDoesNotMatch";
        }
        return signature(request, body, amzDate, m.group(2), signed).equals(m.group(6)) ? null
                : "SignatureDoesNotMatch";
    }

    /** SigV4 as AWS documents it, recomputed from what arrived and the caller's secret. */
    private String signature(HttpServerRequest request, Buffer body, String amzDate, String date,
                             List<String> signedHeaders) {
        StringBuilder canonical = new StringBuilder()
                .append(request.method().name()).append('\n')
                .append(request.path()).append('\n')
                .append(canonicalQuery(request.query())).append('\n');
        for (String name : signedHeaders) {
            String value = String.join(",", request.headers().getAll(name)).strip().replaceAll(" +", " ");
            canonical.append(name).append(':').append(value).append('\n');
        }
        canonical.append('\n').append(String.join(";", signedHeaders)).append('\n').append(sha256Hex(body.getBytes()));
        String scope = date + "/" + settings.region + "/sts/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n"
                + sha256Hex(canonical.toString().getBytes(StandardCharsets.UTF_8));
        byte[] key = ("AWS4" + settings.secretAccessKey).getBytes(StandardCharsets.UTF_8);
        for (String part : List.of(date, settings.region, "sts", "aws4_request")) {
            key = hmac(key, part);
        }
        return HexFormat.of().formatHex(hmac(key, toSign));
    }

    private void grant(HttpServerRequest request, String sessionName) {
        int n = issued.size() + 1;
        byte[] secret = new byte[30];
        random.nextBytes(secret);
        Issued credentials = new Issued(String.format(Locale.ROOT, "ASIAFAKESTS%09d", n),
                Base64.getEncoder().encodeToString(secret),
                "FwoGZXIvYXdzEFAKE" + n + "/" + UUID.randomUUID() + "+session/TOKEN==",
                settings.clock.instant().plus(settings.lifetime).truncatedTo(ChronoUnit.SECONDS));
        issued.add(credentials);
        String account = settings.roleArn.split(":")[4];
        String roleName = settings.roleArn.substring(settings.roleArn.lastIndexOf('/') + 1);
        xml(request, 200, "<AssumeRoleResponse xmlns=\"" + NAMESPACE + "\">\n"
                + "  <AssumeRoleResult>\n"
                + "    <AssumedRoleUser>\n"
                + "      <Arn>arn:aws:sts::" + account + ":assumed-role/" + escape(roleName) + "/"
                + escape(sessionName) + "</Arn>\n"
                + "      <AssumedRoleId>AROAFAKESTS00000000001:" + escape(sessionName) + "</AssumedRoleId>\n"
                + "    </AssumedRoleUser>\n"
                + "    <Credentials>\n"
                + "      <AccessKeyId>" + credentials.accessKeyId() + "</AccessKeyId>\n"
                + "      <SecretAccessKey>" + credentials.secretAccessKey() + "</SecretAccessKey>\n"
                + "      <SessionToken>" + escape(credentials.sessionToken()) + "</SessionToken>\n"
                + "      <Expiration>" + DateTimeFormatter.ISO_INSTANT.format(credentials.expiration())
                + "</Expiration>\n"
                + "    </Credentials>\n"
                + "  </AssumeRoleResult>\n"
                + "  <ResponseMetadata>\n"
                + "    <RequestId>" + UUID.randomUUID() + "</RequestId>\n"
                + "  </ResponseMetadata>\n"
                + "</AssumeRoleResponse>\n");
    }

    private static void error(HttpServerRequest request, int status, String code, String message) {
        xml(request, status, "<ErrorResponse xmlns=\"" + NAMESPACE + "\">\n"
                + "  <Error>\n"
                + "    <Type>" + (status >= 500 ? "Receiver" : "Sender") + "</Type>\n"
                + "    <Code>" + escape(code) + "</Code>\n"
                + "    <Message>" + escape(message) + " (" + MESSAGE_MARKER + ")</Message>\n"
                + "  </Error>\n"
                + "  <RequestId>" + UUID.randomUUID() + "</RequestId>\n"
                + "</ErrorResponse>\n");
    }

    private static void xml(HttpServerRequest request, int status, String document) {
        request.response().setStatusCode(status).putHeader("Content-Type", "text/xml")
                .putHeader("x-amzn-RequestId", UUID.randomUUID().toString()).end(document);
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            if (!pair.isEmpty()) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : pair.substring(eq + 1);
                form.put(URLDecoder.decode(name, StandardCharsets.UTF_8), URLDecoder.decode(value,
                        StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static String canonicalQuery(String query) {
        if (query == null || query.isEmpty()) {
            return "";
        }
        List<String> pairs = new ArrayList<>(Arrays.asList(query.split("&")));
        pairs.replaceAll(pair -> pair.contains("=") ? pair : pair + "=");
        pairs.sort(null);
        return String.join("&", pairs);
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** What the fake knows: its one caller, its one role, its region and clock. */
    static final class Builder {

        private String accessKeyId;
        private String secretAccessKey;
        private String sessionToken;
        private String roleArn;
        private String externalId;
        private String region = "us-east-1";
        private Duration lifetime = Duration.ofHours(1);
        private Clock clock = Clock.systemUTC();

        /** The one identity allowed to call (and to assume the role); {@code sessionToken} may be null. */
        Builder caller(String accessKeyId, String secretAccessKey, String sessionToken) {
            this.accessKeyId = accessKeyId;
            this.secretAccessKey = secretAccessKey;
            this.sessionToken = sessionToken;
            return this;
        }

        /** The one role that exists; its trust policy allows the caller. */
        Builder role(String roleArn) {
            this.roleArn = roleArn;
            return this;
        }

        /** The role's trust policy requires this sts:ExternalId. */
        Builder externalId(String externalId) {
            this.externalId = externalId;
            return this;
        }

        /** The region requests must be signed for (default us-east-1). */
        Builder region(String region) {
            this.region = region;
            return this;
        }

        /** How long issued credentials last (default an hour, as AssumeRole's default DurationSeconds). */
        Builder lifetime(Duration lifetime) {
            this.lifetime = lifetime;
            return this;
        }

        /** The clock expirations are counted from. */
        Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        Future<FakeSts> start(Vertx vertx) {
            FakeSts fake = new FakeSts(this);
            return vertx.createHttpServer()
                    .connectionHandler(connection -> fake.connections.incrementAndGet())
                    .requestHandler(fake::handle)
                    .listen(0, "127.0.0.1")
                    .map(server -> {
                        fake.server = server;
                        return fake;
                    });
        }
    }
}
