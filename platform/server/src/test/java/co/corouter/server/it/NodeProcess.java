package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A corouter node in a JVM of its own: {@code java -cp <the test classpath> co.corouter.server.Main --conf DIR}, so
 * it runs in the {@code test} phase, before the shaded jar exists. Its output (stdout and stderr) is copied line by
 * line to its log file; it is ready once it logs that it listens, which also tells its id and port. For what a node
 * in the test's JVM cannot show: a SIGKILL, or the node's own heap apart from the test's.
 *
 * <pre>
 * NodeProcess.Launcher nodes = new NodeProcess.Launcher(confDir, logDir, workDir).env("COROUTER_ADMIN_TOKEN", token);
 * NodeProcess node = nodes.launch("survivor");
 * node.awaitReady();
 * node.baseUrl();   node.pid();   node.kill();   node.stopGracefully();
 * nodes.close();    // SIGKILL to every node still running
 * </pre>
 */
final class NodeProcess {

    /** The JVM options of every node: a small heap and a quick start on a busy machine. */
    static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
            "-Xss512k");
    static final Pattern LISTENING = Pattern.compile("corouter node (\\S+) listening on http://[^:]+:(\\d+)");

    final String name;
    final Process process;
    final Path log;
    /** The whole command line the node was started with. */
    final List<String> command;
    final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Thread pump;
    volatile String nodeId;
    volatile int port;

    private NodeProcess(String name, Process process, Path log, List<String> command) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.command = List.copyOf(command);
        this.pump = new Thread(this::copyOutput, "node-log-" + name);
        pump.setDaemon(true);
    }

    /**
     * Where nodes start from: one configuration directory ({@code corouter.yaml}, {@code models.yaml}), the directory
     * of their logs ({@code <name>.log}), their working directory, and an environment of their own (none of the test
     * JVM's {@code COROUTER*} variables is inherited).
     */
    static final class Launcher implements AutoCloseable {
        private final Path conf;
        private final Path logs;
        private final Path workDir;
        private final Map<String, String> env = new LinkedHashMap<>();
        private final List<String> jvmOptions = new ArrayList<>(JVM_OPTIONS);
        private final List<NodeProcess> launched = new ArrayList<>();

        Launcher(Path conf, Path logs, Path workDir) {
            this.conf = conf;
            this.logs = logs;
            this.workDir = workDir;
        }

        Launcher env(String variable, String value) {
            env.put(variable, value);
            return this;
        }

        /** A JVM option of every node this launches, after {@link #JVM_OPTIONS}. */
        Launcher jvmOption(String option) {
            jvmOptions.add(option);
            return this;
        }

        /** Starts a node; {@code jvmOptions} are this node's own, after the launcher's. */
        NodeProcess launch(String name, String... jvmOptions) throws IOException {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(this.jvmOptions);
            command.addAll(List.of(jvmOptions));
            command.addAll(List.of("-cp", classpath(), "co.corouter.server.Main", "--conf", conf.toString()));
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                    .directory(Files.createDirectories(workDir).toFile());
            builder.environment().keySet().removeIf(variable -> variable.startsWith("COROUTER"));
            builder.environment().putAll(env);
            Files.createDirectories(logs);
            NodeProcess node = new NodeProcess(name, builder.start(), logs.resolve(name + ".log"), command);
            synchronized (launched) {
                launched.add(node);
            }
            node.pump.start();
            return node;
        }

        /** Every node launched so far, in order. */
        List<NodeProcess> launched() {
            synchronized (launched) {
                return List.copyOf(launched);
            }
        }

        /** SIGKILL to every node still running. */
        @Override
        public void close() throws InterruptedException {
            for (NodeProcess node : launched()) {
                node.process.toHandle().destroyForcibly();
                node.process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    private static String classpath;

    /**
     * The test's classpath for the nodes, its directories (target/classes of this and, in a reactor build, other
     * modules) packed into jars, once per test JVM: a CDS archive accepts only jars. Surefire may start the test JVM
     * from a manifest-only jar; {@code surefire.test.class.path} is then the real classpath.
     */
    static synchronized String classpath() throws IOException {
        if (classpath == null) {
            String tested = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
            List<String> entries = new ArrayList<>();
            Path jars = Files.createTempDirectory("corouter-node-classpath");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteRecursively(jars), "node-classpath-delete"));
            for (String entry : tested.split(File.pathSeparator)) {
                Path path = Path.of(entry);
                if (Files.isDirectory(path)) {
                    Path jar = jars.resolve(entries.size() + ".jar");
                    if (packed(path, jar)) {
                        entries.add(jar.toString());
                    }
                } else if (Files.isRegularFile(path)) {
                    entries.add(entry);
                }
            }
            classpath = String.join(File.pathSeparator, entries);
        }
        return classpath;
    }

    /** Packs a classes directory into a jar, directory entries included (Flyway finds its migrations by them). */
    private static boolean packed(Path dir, Path jar) throws IOException {
        List<Path> paths;
        try (var walk = Files.walk(dir)) {
            paths = walk.filter(path -> !path.equals(dir)).sorted().toList();
        }
        if (paths.stream().noneMatch(Files::isRegularFile)) {
            return false;
        }
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            for (Path path : paths) {
                String name = dir.relativize(path).toString().replace(File.separatorChar, '/');
                boolean directory = Files.isDirectory(path);
                out.putNextEntry(new JarEntry(directory ? name + "/" : name));
                if (!directory) {
                    Files.copy(path, out);
                }
                out.closeEntry();
            }
        }
        return true;
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary directory is harmless
        }
    }

    /** Copies the node's output to its log and notes its id and port once it listens. */
    private void copyOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8)); BufferedWriter out = Files.newBufferedWriter(log)) {
            String line;
            while ((line = in.readLine()) != null) {
                out.write(line);
                out.newLine();
                out.flush(); // the log is read while the node runs
                Matcher listening = LISTENING.matcher(line);
                if (!ready.isDone() && listening.find()) {
                    nodeId = listening.group(1);
                    port = Integer.parseInt(listening.group(2));
                    ready.complete(null);
                }
            }
        } catch (IOException e) {
            // the process is gone; the future below says so
        }
        ready.completeExceptionally(new IllegalStateException(name + " ended before it listened: " + tail()));
    }

    void awaitReady() throws Exception {
        try {
            ready.get(90, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError(name + " did not listen within 90 s: " + tail());
        }
    }

    /** Every line of the node's log so far; once the node has exited, all of them. */
    List<String> lines() {
        try {
            if (!process.isAlive()) {
                pump.join(10_000);
            }
            return Files.readAllLines(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The ERROR lines of the node's log, each prefixed by the node's name. */
    List<String> errors() {
        try {
            return lines().stream().filter(line -> line.contains(" ERROR ")).map(line -> name + ": " + line).toList();
        } catch (RuntimeException e) {
            return List.of(name + ": cannot read " + log + ": " + e);
        }
    }

    /** The last lines of the node's log, for a failure message. */
    String tail() {
        try {
            List<String> lines = Files.readAllLines(log);
            return log + ":\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return log.toString();
        }
    }

    /**
     * Polls {@code condition} every 50 ms until it holds; fails after {@code timeout}. For state of another process
     * (a node, a database, a bucket) that no event of this JVM announces.
     */
    static void awaitCondition(String what, Duration timeout, BooleanSupplier condition) {
        if (!within(timeout, condition)) {
            throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting until " + what);
        }
    }

    /** Polls {@code condition} every 50 ms; false when it did not hold within {@code timeout}. */
    static boolean within(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            LockSupport.parkNanos(50_000_000L);
        }
        return true;
    }

    long pid() {
        return process.pid();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** SIGKILL: no shutdown hook, no flush, no lease returned. */
    void kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as(name + " died of SIGKILL").isTrue();
    }

    /** SIGTERM: the shutdown hook finishes requests, writes usage and returns the leases. */
    void stopGracefully() throws Exception {
        assertThat(terminate().get(90, TimeUnit.SECONDS).isAlive()).as(name + " stopped on SIGTERM").isFalse();
    }

    /** Sends SIGTERM through the process handle: {@code Process.destroy()} would also close the output pipe. */
    CompletableFuture<Process> terminate() {
        process.toHandle().destroy();
        return process.onExit();
    }
}
