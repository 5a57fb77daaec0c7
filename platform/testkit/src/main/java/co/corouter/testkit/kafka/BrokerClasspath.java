package co.corouter.testkit.kafka;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The runtime classpath of a Kafka broker, resolved from Maven Central by running Maven on a small generated pom
 * (CI starts with an empty local repository) and cached per version under {@code cacheRoot}, so only the first start
 * on a machine pays for the download. The test JVM never loads a Kafka class: the broker runs in its own JVM.
 */
final class BrokerClasspath {

    /** The broker logs through SLF4J 1.7; this binding sends it to log4j2 (which Kafka already depends on). */
    private static final String LOG4J_SLF4J_VERSION = "2.25.4";
    private static final String DEPENDENCY_PLUGIN_VERSION = "3.8.1";

    private BrokerClasspath() {
    }

    /**
     * The broker's jars. Blocks: the first call per version may download for a minute; later calls read a file.
     *
     * @throws IllegalStateException when Maven fails (the message carries the end of its output)
     */
    static synchronized List<Path> resolve(String kafkaVersion, Path cacheRoot, String mavenCommand, Duration timeout) {
        String pom = pom(kafkaVersion);
        Path dir = cacheRoot.resolve("kafka-broker-" + kafkaVersion + "-" + shortHash(pom));
        Path classpathFile = dir.resolve("classpath.txt");
        try {
            Files.createDirectories(dir);
            // several test JVMs may start brokers at once: one resolves, the others wait and read its answer
            try (FileChannel lockChannel = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE); FileLock ignored = lockChannel.lock()) {
                List<Path> cached = read(classpathFile);
                if (!cached.isEmpty()) {
                    return cached;
                }
                Files.writeString(dir.resolve("pom.xml"), pom);
                Path partial = dir.resolve("classpath.partial");
                runMaven(mavenCommand, dir, partial, timeout);
                Files.move(partial, classpathFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                List<Path> resolved = read(classpathFile);
                if (resolved.isEmpty()) {
                    throw new IllegalStateException("Maven resolved an empty broker classpath in " + dir);
                }
                return resolved;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve the Kafka " + kafkaVersion + " broker classpath in " + dir,
                    e);
        }
    }

    /** The cached classpath, or empty when there is none or a jar has gone from the local repository. */
    private static List<Path> read(Path classpathFile) throws IOException {
        if (!Files.isRegularFile(classpathFile)) {
            return List.of();
        }
        String text = Files.readString(classpathFile).strip();
        if (text.isEmpty()) {
            return List.of();
        }
        List<Path> jars = Arrays.stream(text.split(File.pathSeparator)).map(Path::of).toList();
        return jars.stream().allMatch(Files::isRegularFile) ? jars : List.of();
    }

    private static void runMaven(String mavenCommand, Path dir, Path output, Duration timeout) throws IOException {
        Path log = dir.resolve("resolve.log");
        Process maven = new ProcessBuilder(mavenCommand, "-q", "-B", "-f", dir.resolve("pom.xml").toString(),
                "dependency:build-classpath", "-DincludeScope=runtime", "-Dmdep.outputFile=" + output,
                "-Dmdep.pathSeparator=" + File.pathSeparator)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            if (!maven.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                maven.destroyForcibly();
                throw new IllegalStateException("Maven did not resolve the broker classpath within " + timeout
                        + "; its output is in " + log);
            }
        } catch (InterruptedException e) {
            maven.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Maven resolved the broker classpath", e);
        }
        if (maven.exitValue() != 0) {
            throw new IllegalStateException("Maven failed (exit " + maven.exitValue() + ") to resolve the broker "
                    + "classpath:\n" + Logs.tail(log, 30));
        }
    }

    private static String pom(String kafkaVersion) {
        return """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <!-- written by co.corouter.testkit.kafka.BrokerClasspath: the jars of a Kafka broker JVM -->
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>co.corouter.testkit</groupId>
                  <artifactId>kafka-broker-classpath</artifactId>
                  <version>1</version>
                  <dependencies>
                    <dependency>
                      <groupId>org.apache.kafka</groupId>
                      <artifactId>kafka_2.13</artifactId>
                      <version>%s</version>
                    </dependency>
                    <dependency>
                      <groupId>org.apache.logging.log4j</groupId>
                      <artifactId>log4j-slf4j-impl</artifactId>
                      <version>%s</version>
                    </dependency>
                  </dependencies>
                  <build>
                    <plugins>
                      <plugin>
                        <groupId>org.apache.maven.plugins</groupId>
                        <artifactId>maven-dependency-plugin</artifactId>
                        <version>%s</version>
                      </plugin>
                    </plugins>
                  </build>
                </project>
                """.formatted(kafkaVersion, LOG4J_SLF4J_VERSION, DEPENDENCY_PLUGIN_VERSION);
    }

    private static String shortHash(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
