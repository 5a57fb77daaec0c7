package co.corouter.testkit.s3;

import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real S3-compatible server for tests: Adobe S3Mock ({@code com.adobe.testing:s3mock:<version>:jar:exec}) run as a
 * separate JVM, so Spring Boot stays off the test's class path. Plain HTTP on 127.0.0.1 and a random free port, a
 * fresh store directory, the given buckets created at start-up. S3Mock checks neither signatures nor credentials and
 * takes any Host header with path-style requests.
 *
 * <pre>
 * try (S3MockServer s3 = S3MockServer.builder().bucket("audit").start()) {
 *     s3.endpoint();                     // http://127.0.0.1:PORT, any region, any static credentials, path style
 *     s3.stopForOutage();                // the sink is down: connections are refused
 *     s3.restart();                      // back on the same port with the same objects
 *     s3.keys("audit");  s3.object("audit", key);   // read back without an S3 client
 * }
 * </pre>
 *
 * <p>The jar comes from the local Maven repository ({@code maven.repo.local} or {@code ~/.m2/repository}); when it is
 * not there, {@code mvn dependency:get} fetches it first (CI starts with an empty repository). Start-up waits until
 * S3Mock answers ListBuckets, polling at most every 100 ms until a deadline, and fails at once if the JVM exits.
 * Nothing here needs a library beyond the JDK.
 */
public final class S3MockServer implements AutoCloseable {

    public static final String DEFAULT_VERSION = "5.2.0";
    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration STOP_GRACE = Duration.ofSeconds(10);

    private final Builder settings;
    private final Path workDir;
    private final Path storeDir;
    private final Path logFile;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process process;

    private S3MockServer(Builder settings) throws IOException {
        this.settings = settings;
        this.workDir = Files.createTempDirectory("s3mock-");
        this.storeDir = Files.createDirectories(workDir.resolve("store"));
        this.logFile = workDir.resolve("s3mock.log");
        this.port = freePort();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** {@code http://127.0.0.1:PORT}: use with path-style addressing. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /** S3Mock's output, for diagnosing a failed start. */
    public Path logFile() {
        return logFile;
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    /**
     * Stops S3Mock (SIGTERM, then a kill after 10 s) but keeps its port and store: connections are refused until
     * {@link #restart}, and the objects are back afterwards.
     */
    public synchronized void stopForOutage() {
        if (process == null) {
            return;
        }
        Process stopping = process;
        process = null;
        stopping.destroy();
        try {
            if (!stopping.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                stopping.destroyForcibly().waitFor();
            }
        } catch (InterruptedException e) {
            stopping.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Starts S3Mock again after {@link #stopForOutage}, on the same port and store, and waits until it answers. */
    public synchronized S3MockServer restart() {
        if (running()) {
            throw new IllegalStateException("S3Mock is running");
        }
        launch();
        return this;
    }

    /** Stops S3Mock for good and deletes its store. */
    public synchronized void stop() {
        stopForOutage();
        deleteTree(workDir);
    }

    @Override
    public void close() {
        stop();
    }

    /** Every key in the bucket, in S3's (lexicographic) order. */
    public List<String> keys(String bucket) {
        List<String> keys = new ArrayList<>();
        String token = null;
        do {
            String query = "?list-type=2" + (token == null ? "" : "&continuation-token=" + encode(token));
            HttpResponse<byte[]> answer = get("/" + bucket + query);
            if (answer.statusCode() != 200) {
                throw new IllegalStateException("ListObjectsV2 " + bucket + " answered " + answer.statusCode() + ": "
                        + new String(answer.body(), StandardCharsets.UTF_8));
            }
            Document list = xml(answer.body());
            NodeList contents = list.getElementsByTagName("Contents");
            for (int i = 0; i < contents.getLength(); i++) {
                keys.add(text((Element) contents.item(i), "Key"));
            }
            token = "true".equals(text(list.getDocumentElement(), "IsTruncated"))
                    ? text(list.getDocumentElement(), "NextContinuationToken") : null;
        } while (token != null);
        return keys;
    }

    /** The object as stored, or empty when the key does not exist. */
    public Optional<StoredObject> object(String bucket, String key) {
        String path = "/" + bucket + "/" + Stream.of(key.split("/", -1)).map(S3MockServer::encode)
                .collect(Collectors.joining("/"));
        HttpResponse<byte[]> answer = get(path);
        if (answer.statusCode() == 404) {
            return Optional.empty();
        }
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("GetObject " + bucket + "/" + key + " answered " + answer.statusCode());
        }
        return Optional.of(new StoredObject(answer.body(), answer.headers().map()));
    }

    /**
     * An object read back.
     *
     * @param body    its bytes as stored (S3Mock serves them without content decoding)
     * @param headers the GetObject response headers, names in lower case
     */
    public record StoredObject(byte[] body, Map<String, List<String>> headers) {

        public String contentType() {
            return header("content-type");
        }

        /** The first value of a response header, or {@code null}. */
        public String header(String name) {
            List<String> values = headers.get(name.toLowerCase(java.util.Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }
    }

    private synchronized void launch() {
        Path jar = settings.jar != null ? settings.jar : resolveJar(settings.version);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-jar", jar.toString(),
                "--server.address=127.0.0.1",
                "--server.port=0",                          // the HTTPS connector: unused, on any free port
                "--http.port=" + port,
                "--spring.main.banner-mode=off",
                "--com.adobe.testing.s3mock.store.root=" + storeDir,
                "--com.adobe.testing.s3mock.store.retainFilesOnExit=true",  // an outage keeps the objects
                "--com.adobe.testing.s3mock.store.region=" + settings.region));
        if (!settings.buckets.isEmpty()) {
            command.add("--com.adobe.testing.s3mock.store.initialBuckets=" + String.join(",", settings.buckets));
        }
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command, e);
        }
        awaitReady(process);
    }

    private void awaitReady(Process started) {
        long deadline = System.nanoTime() + settings.startTimeout.toNanos();
        while (true) {
            try {
                if (get("/").statusCode() == 200) {
                    return;
                }
            } catch (UncheckedIOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                stopForOutage();
                throw new IllegalStateException("S3Mock did not answer on " + endpoint() + " within "
                        + settings.startTimeout + "; log: " + tail(logFile));
            }
            try {
                // waits for the JVM's exit, which ends the start at once, or for the next poll
                started.onExit().get(POLL.toMillis(), TimeUnit.MILLISECONDS);
                process = null;
                throw new IllegalStateException("S3Mock exited with " + started.exitValue() + " while starting; log: "
                        + tail(logFile));
            } catch (TimeoutException stillRunning) {
                // poll again
            } catch (ExecutionException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                stopForOutage();
                throw new IllegalStateException("interrupted while S3Mock was starting");
            }
        }
    }

    private HttpResponse<byte[]> get(String pathAndQuery) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint() + pathAndQuery))
                .timeout(Duration.ofSeconds(10)).GET().build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The exec jar in the local repository, fetched with {@code mvn dependency:get} when it is missing. */
    static Path resolveJar(String version) {
        String repoProperty = System.getProperty("maven.repo.local");
        Path repo = repoProperty != null && !repoProperty.isBlank() ? Paths.get(repoProperty)
                : Paths.get(System.getProperty("user.home"), ".m2", "repository");
        Path jar = repo.resolve(Paths.get("com", "adobe", "testing", "s3mock", version,
                "s3mock-" + version + "-exec.jar"));
        if (Files.isRegularFile(jar)) {
            return jar;
        }
        List<String> command = new ArrayList<>(List.of("mvn", "-q", "-B", "dependency:get", "-Dtransitive=false",
                "-Dartifact=com.adobe.testing:s3mock:" + version + ":jar:exec"));
        if (repoProperty != null && !repoProperty.isBlank()) {
            command.add("-Dmaven.repo.local=" + repoProperty);
        }
        try {
            Path output = Files.createTempFile("s3mock-fetch-", ".log");
            Process fetch = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            if (!fetch.waitFor(5, TimeUnit.MINUTES)) {
                fetch.destroyForcibly();
                throw new IllegalStateException("fetching the S3Mock jar took more than 5 minutes: " + command);
            }
            if (fetch.exitValue() != 0 || !Files.isRegularFile(jar)) {
                throw new IllegalStateException("fetching the S3Mock jar failed (" + command + "): " + tail(output));
            }
            Files.deleteIfExists(output);
            return jar;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while fetching the S3Mock jar", e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static Document xml(byte[] body) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            return factory.newDocumentBuilder().parse(new ByteArrayInputStream(body));
        } catch (Exception e) {
            throw new IllegalStateException("S3Mock answered XML that does not parse", e);
        }
    }

    private static String text(Element parent, String tag) {
        NodeList nodes = parent.getElementsByTagName(tag);
        return nodes.getLength() == 0 ? null : nodes.item(0).getTextContent();
    }

    private static String encode(String part) {
        return URLEncoder.encode(part, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + root, e);
        }
    }

    /** How to start S3Mock; {@link #start()} launches it and waits until it answers. */
    public static final class Builder {

        private String version = DEFAULT_VERSION;
        private Path jar;
        private final List<String> buckets = new ArrayList<>();
        private String region = "us-east-1";
        private Duration startTimeout = Duration.ofSeconds(90);

        private Builder() {
        }

        /** S3Mock's version, default {@value #DEFAULT_VERSION}. */
        public Builder version(String version) {
            this.version = version;
            return this;
        }

        /** A given exec jar instead of the local repository's. */
        public Builder jar(Path jar) {
            this.jar = jar;
            return this;
        }

        /** Buckets that exist from the start. */
        public Builder bucket(String... names) {
            buckets.addAll(List.of(names));
            return this;
        }

        /** The region S3Mock reports for its buckets, default us-east-1. */
        public Builder region(String region) {
            this.region = region;
            return this;
        }

        /** How long a start may take, default 90 s (a busy 2-core machine takes 15). */
        public Builder startTimeout(Duration startTimeout) {
            this.startTimeout = startTimeout;
            return this;
        }

        /** Starts S3Mock and waits until it answers; the caller closes it. */
        public S3MockServer start() {
            S3MockServer server;
            try {
                server = new S3MockServer(this);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create S3Mock's work directory", e);
            }
            try {
                server.launch();
            } catch (RuntimeException e) {
                server.stop();
                throw e;
            }
            return server;
        }
    }
}
