package co.corouter.audit.file;

import io.vertx.core.json.JsonObject;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated configuration of one {@code file} audit destination.
 *
 * <pre>
 * path:         team-a/audit   # optional: a subdirectory of the account's audit directory, default "."
 * rotate_bytes: 67108864       # optional: start a new file before one would exceed this size, default 64 MiB
 * rotate_daily: true           # optional: a new file for each UTC day of the records' window, default true
 * gzip_rotated: false          # optional: compress files once rotated away from, default false
 * </pre>
 *
 * @param path        relative, normalised, without {@code ..}; empty for the audit directory itself
 * @param rotateBytes size limit of one file (a single batch larger than this gets a file of its own)
 * @param rotateDaily whether the UTC day of a batch's window starts a new file
 * @param gzipRotated whether a file is compressed to {@code .jsonl.gz} after rotation
 */
public record FileOptions(Path path, long rotateBytes, boolean rotateDaily, boolean gzipRotated) {

    static final String PATH = "path";
    static final String ROTATE_BYTES = "rotate_bytes";
    static final String ROTATE_DAILY = "rotate_daily";
    static final String GZIP_ROTATED = "gzip_rotated";
    static final Set<String> FIELDS = Set.of(PATH, ROTATE_BYTES, ROTATE_DAILY, GZIP_ROTATED);

    static final long DEFAULT_ROTATE_BYTES = 64L * 1024 * 1024;
    static final long MIN_ROTATE_BYTES = 1024;
    static final long MAX_ROTATE_BYTES = 1L << 40;

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    public static FileOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        return new FileOptions(path(c.getValue(PATH)), rotateBytes(c.getValue(ROTATE_BYTES)),
                flag(c, ROTATE_DAILY, true), flag(c, GZIP_ROTATED, false));
    }

    private static Path path(Object value) {
        if (value == null) {
            return Path.of("");
        }
        if (!(value instanceof String text) || text.isBlank()) {
            throw new IllegalArgumentException(PATH + ": must be a non-empty string, e.g. \"audit\" or \".\"");
        }
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(PATH + ": must not contain a NUL character");
        }
        Path path;
        try {
            path = Path.of(text);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(PATH + ": is not a valid path: " + e.getReason());
        }
        if (path.isAbsolute() || text.startsWith("/") || text.startsWith("\\")) {
            throw new IllegalArgumentException(PATH + ": must be relative to the audit directory, not absolute");
        }
        Path normalized = path.normalize();
        if (normalized.startsWith("..")) {
            throw new IllegalArgumentException(PATH + ": leaves the audit directory");
        }
        return normalized;
    }

    private static long rotateBytes(Object value) {
        if (value == null) {
            return DEFAULT_ROTATE_BYTES;
        }
        if (!(value instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                || n.doubleValue() < MIN_ROTATE_BYTES || n.doubleValue() > MAX_ROTATE_BYTES) {
            throw new IllegalArgumentException(ROTATE_BYTES + ": must be a whole number of bytes between "
                    + MIN_ROTATE_BYTES + " and " + MAX_ROTATE_BYTES + ", got " + value);
        }
        return n.longValue();
    }

    private static boolean flag(JsonObject c, String field, boolean defaultValue) {
        Object value = c.getValue(field);
        if (value == null) {
            return defaultValue;
        }
        if (!(value instanceof Boolean b)) {
            throw new IllegalArgumentException(field + ": must be true or false, got " + value);
        }
        return b;
    }
}
