package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditBatch;
import co.corouter.plugin.api.audit.AuditRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystem;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's write-ahead spool of audit batches: every batch is sealed ({@link SecretBox}, its own data key, bound to
 * its account and batch id) and made durable here before it is handed to the sink, and deleted once the sink has
 * taken it. So delivery survives a sink outage and a restart, in order, and no record content touches the disk in
 * plaintext. Layout: {@code <spool>/<account>/<sequence>-<batch id>-<records>.spool}, the sequence sorting in write
 * order (the name tells how many records a batch holds, so a restarted node can count them without opening it).
 * Every operation is asynchronous (Vert.x file system).
 */
final class Spool {

    /** One spooled batch. */
    record File(long accountId, String batchId, int records, String path, long bytes) {
    }

    private static final String SUFFIX = ".spool";

    private final Vertx vertx;
    private final FileSystem fs;
    private final Path root;
    private final SecretBox box;
    private final AtomicLong sequence = new AtomicLong(System.currentTimeMillis() * 1_000_000L);

    Spool(Vertx vertx, Path root, SecretBox box) {
        this.vertx = vertx;
        this.fs = vertx.fileSystem();
        this.root = root;
        this.box = box;
    }

    /** Seals and writes a batch (to a temporary name, synced, then renamed: a crash never leaves half a batch). */
    Future<File> write(AuditBatch batch) {
        Path dir = root.resolve(Long.toString(batch.accountId()));
        String name = String.format("%020d-%s-%d", sequence.incrementAndGet(), batch.batchId(),
                batch.records().size()) + SUFFIX;
        String target = dir.resolve(name).toString();
        String temporary = target + ".tmp";
        return vertx.<Buffer>executeBlocking(() -> Buffer.buffer(box.seal(encode(batch), aad(batch.accountId(),
                        batch.batchId()))), false)
                .compose(sealed -> fs.mkdirs(dir.toString())
                        .compose(v -> fs.open(temporary, new OpenOptions().setWrite(true).setCreateNew(true)))
                        .compose(file -> file.write(sealed).compose(v -> file.flush()).eventually(file::close))
                        .compose(v -> fs.move(temporary, target))
                        .map(v -> new File(batch.accountId(), batch.batchId(), batch.records().size(), target,
                                sealed.length())));
    }

    /** Reads and opens a spooled batch; fails when it was tampered with or sealed by an unknown key. */
    Future<AuditBatch> read(File file) {
        return fs.readFile(file.path()).compose(sealed -> vertx.executeBlocking(() -> decode(file.accountId(),
                box.open(sealed.getBytes(), aad(file.accountId(), file.batchId()))), false));
    }

    Future<Void> delete(File file) {
        return fs.delete(file.path());
    }

    /** Removes an account's spool, delivered or not (the account was erased). */
    Future<Void> purge(long accountId) {
        String dir = root.resolve(Long.toString(accountId)).toString();
        return fs.exists(dir).compose(exists -> exists ? fs.deleteRecursive(dir) : Future.succeededFuture());
    }

    /** Every spooled batch per account, in write order; half-written temporary files are removed. */
    Future<Map<Long, List<File>>> scan() {
        String base = root.toString();
        return fs.mkdirs(base).compose(v -> fs.readDir(base)).compose(dirs -> {
            Map<Long, List<File>> found = new HashMap<>();
            List<Future<?>> reads = new ArrayList<>();
            for (String dir : dirs) {
                String name = Path.of(dir).getFileName().toString();
                if (!name.matches("[0-9]{1,19}")) {
                    continue;
                }
                long accountId = Long.parseLong(name);
                reads.add(fs.readDir(dir).compose(files -> {
                    List<String> sorted = new ArrayList<>(files);
                    sorted.sort(null);
                    List<Future<?>> sizes = new ArrayList<>();
                    List<File> batches = new ArrayList<>();
                    for (String path : sorted) {
                        String file = Path.of(path).getFileName().toString();
                        if (file.endsWith(".tmp")) {
                            sizes.add(fs.delete(path));
                        } else if (file.matches("[0-9]{20}-[0-9a-z]{26}-[0-9]{1,9}\\.spool")) {
                            String[] parts = file.substring(0, file.length() - SUFFIX.length()).split("-");
                            int at = batches.size();
                            batches.add(null);
                            sizes.add(fs.props(path).onSuccess(props -> batches.set(at, new File(accountId, parts[1],
                                    Integer.parseInt(parts[2]), path, props.size()))));
                        }
                    }
                    return Future.all(sizes).onSuccess(all -> {
                        if (!batches.isEmpty()) {
                            found.put(accountId, batches);
                        }
                    });
                }));
            }
            return Future.all(reads).map(all -> found);
        });
    }

    private static byte[] aad(long accountId, String batchId) {
        return ("corouter-audit-spool:" + accountId + ":" + batchId).getBytes(StandardCharsets.UTF_8);
    }

    /** A header line (batch id, window, each record's generation id and time), then one line per record. */
    private static byte[] encode(AuditBatch batch) {
        JsonArray ids = new JsonArray();
        JsonArray ats = new JsonArray();
        int size = 256;
        for (AuditRecord record : batch.records()) {
            ids.add(record.generationId());
            ats.add(record.at().toEpochMilli());
            size += record.json().length() + 1;
        }
        Buffer out = Buffer.buffer(size).appendBuffer(new JsonObject().put("v", 1).put("batch_id", batch.batchId())
                .put("window_start", batch.windowStart().toEpochMilli()).put("ids", ids).put("ats", ats).toBuffer());
        for (AuditRecord record : batch.records()) {
            out.appendByte((byte) '\n').appendBuffer(record.json());
        }
        return out.getBytes();
    }

    private static AuditBatch decode(long accountId, byte[] payload) {
        Buffer all = Buffer.buffer(payload);
        int end = indexOf(all, 0);
        JsonObject header = new JsonObject(all.getBuffer(0, end == -1 ? all.length() : end));
        JsonArray ids = header.getJsonArray("ids");
        JsonArray ats = header.getJsonArray("ats");
        List<AuditRecord> records = new ArrayList<>(ids.size());
        int start = end + 1;
        for (int i = 0; i < ids.size(); i++) {
            int next = indexOf(all, start);
            int stop = next == -1 ? all.length() : next;
            records.add(new AuditRecord(ids.getString(i), Instant.ofEpochMilli(ats.getLong(i)),
                    all.getBuffer(start, stop)));
            start = stop + 1;
        }
        return new AuditBatch(accountId, header.getString("batch_id"),
                Instant.ofEpochMilli(header.getLong("window_start")), records);
    }

    /** Record lines are single-line JSON (strings escape their line breaks), so '\n' separates them. */
    private static int indexOf(Buffer buffer, int from) {
        for (int i = from; i < buffer.length(); i++) {
            if (buffer.getByte(i) == '\n') {
                return i;
            }
        }
        return -1;
    }
}
