package co.corouter.server.it;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * Looks for canaries in the bytes of one source (a dump, a log, a directory, a heap dump), and counts what it covered.
 * Each canary is searched for in every form its bytes can take: UTF-8 (for an ASCII canary also how a compact
 * {@code String} holds it, one byte a character), UTF-16LE (the bytes of a {@code String} that also holds a character
 * beyond Latin-1, in memory and so in a heap dump) and UTF-16BE (a {@code char[]}, which a heap dump writes in Java's
 * byte order). Gzip data is searched decompressed as well.
 */
final class CanaryScanner {

    /** One canary in one encoding. */
    record Needle(String label, String encoding, byte[] bytes) {
    }

    static final List<Charset> ENCODINGS = List.of(StandardCharsets.UTF_8, StandardCharsets.UTF_16LE,
            StandardCharsets.UTF_16BE);
    /** How much of a file is searched at once. */
    static final int CHUNK = 8 << 20;

    private final String source;
    /** Needles by their first two bytes. */
    private final List<List<Needle>> byPrefix = new ArrayList<>(65536);
    private final int longest;
    private long bytes;
    private long items;
    private final Map<String, Set<String>> found = new LinkedHashMap<>();

    /** A scanner of {@code source} for the canaries, each given with its label (what a report calls it). */
    CanaryScanner(String source, Map<String, String> labelsByCanary) {
        this.source = source;
        for (int i = 0; i < 65536; i++) {
            byPrefix.add(null);
        }
        int max = 0;
        for (Map.Entry<String, String> canary : labelsByCanary.entrySet()) {
            for (Charset encoding : ENCODINGS) {
                byte[] pattern = canary.getKey().getBytes(encoding);
                int prefix = (pattern[0] & 0xff) << 8 | pattern[1] & 0xff;
                if (byPrefix.get(prefix) == null) {
                    byPrefix.set(prefix, new ArrayList<>());
                }
                byPrefix.get(prefix).add(new Needle(canary.getValue(), encoding.name(), pattern));
                max = Math.max(max, pattern.length);
            }
        }
        this.longest = max;
    }

    /** Searches {@code data}, found copies noted as in {@code where}. */
    CanaryScanner scan(String where, byte[] data) {
        items++;
        bytes += data.length;
        search(where, data, data.length);
        if (gzip(data)) {
            scanGzip(where, new ByteArrayInputStream(data));
        }
        return this;
    }

    /** Searches the UTF-8 bytes of {@code text}. */
    CanaryScanner scan(String where, String text) {
        return scan(where, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Searches a file of any size, a chunk at a time (chunks overlap by a needle's length). */
    CanaryScanner scanFile(Path file) {
        items++;
        String where = file.toString();
        boolean gzipped;
        try (InputStream in = Files.newInputStream(file)) {
            gzipped = searchStream(where, in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        if (gzipped) {
            try (InputStream in = Files.newInputStream(file)) {
                scanGzip(where, in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return this;
    }

    /** Searches every regular file under {@code dir}. */
    CanaryScanner scanTree(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                if (Files.exists(file)) { // a database keeps writing while it is read
                    scanFile(file);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
        return this;
    }

    private void scanGzip(String where, InputStream compressed) {
        try (InputStream in = new GZIPInputStream(compressed)) {
            searchStream(where + " (gunzipped)", in);
        } catch (IOException e) {
            found.computeIfAbsent("(not gzip after all: " + e.getMessage() + ")", k -> new LinkedHashSet<>())
                    .add(where);
        }
    }

    /** Searches a stream; true when it starts like gzip. */
    private boolean searchStream(String where, InputStream in) throws IOException {
        byte[] buffer = new byte[CHUNK + longest];
        int kept = 0;
        boolean first = true;
        boolean gzipped = false;
        while (true) {
            int read = in.readNBytes(buffer, kept, CHUNK);
            int filled = kept + read;
            if (first) {
                gzipped = gzip(buffer);
                first = false;
            }
            bytes += read;
            search(where, buffer, filled);
            if (read < CHUNK) {
                return gzipped;
            }
            kept = Math.min(longest - 1, filled);
            System.arraycopy(buffer, filled - kept, buffer, 0, kept);
        }
    }

    private void search(String where, byte[] data, int length) {
        for (int i = 0; i + 1 < length; i++) {
            List<Needle> candidates = byPrefix.get((data[i] & 0xff) << 8 | data[i + 1] & 0xff);
            if (candidates == null) {
                continue;
            }
            for (Needle needle : candidates) {
                if (matches(data, length, i, needle.bytes())) {
                    found.computeIfAbsent(needle.label(), k -> new LinkedHashSet<>())
                            .add(where + " (" + needle.encoding() + ")");
                }
            }
        }
    }

    private static boolean matches(byte[] data, int length, int at, byte[] pattern) {
        if (at + pattern.length > length) {
            return false;
        }
        for (int j = 2; j < pattern.length; j++) {
            if (data[at + j] != pattern[j]) {
                return false;
            }
        }
        return true;
    }

    private static boolean gzip(byte[] data) {
        return data.length >= 2 && (data[0] & 0xff) == 0x1f && (data[1] & 0xff) == 0x8b;
    }

    String source() {
        return source;
    }

    /** Bytes searched (decompressed bytes counted as well). */
    long bytes() {
        return bytes;
    }

    /** Files, rows, frames or responses searched. */
    long items() {
        return items;
    }

    /** Where each canary was found, by label; empty when none was. */
    Map<String, Set<String>> found() {
        return found;
    }

    @Override
    public String toString() {
        return String.format("%-40s %8d items %12d bytes  found: %s", source, items, bytes,
                found.isEmpty() ? "nothing" : found.keySet());
    }
}
