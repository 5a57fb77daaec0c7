package co.corouter.server.audit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/**
 * A key-encryption key of a {@link SecretBox}: 32 random bytes, written as base64 (in an environment variable or a
 * file of one line). Known by its id, the first 8 bytes of its SHA-256, which tells keys apart and reveals nothing of
 * them. {@link #toString()} shows the id only.
 */
public final class Kek {

    static final int BYTES = 32;
    static final int ID_BYTES = 8;
    private static final Logger LOG = LoggerFactory.getLogger(Kek.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final SecretKey key;
    private final byte[] id;

    private Kek(byte[] raw) {
        this.key = new SecretKeySpec(raw, "AES");
        this.id = Arrays.copyOf(sha256(raw), ID_BYTES);
        Arrays.fill(raw, (byte) 0);
    }

    /** A new random key (for tests and first starts). */
    public static Kek generate() {
        byte[] raw = new byte[BYTES];
        RANDOM.nextBytes(raw);
        return new Kek(raw);
    }

    /**
     * The key in {@code base64}; {@code source} names where it came from in a failure's message (which never
     * contains the value).
     */
    public static Kek fromBase64(String base64, String source) {
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": is not base64");
        }
        if (raw.length != BYTES) {
            int length = raw.length;
            Arrays.fill(raw, (byte) 0);
            throw new IllegalArgumentException(source + ": must be " + BYTES + " bytes in base64, got " + length
                    + " bytes (make one with: head -c 32 /dev/urandom | base64)");
        }
        return new Kek(raw);
    }

    /** The key in {@code file} (one line of base64). Blocks: call at boot. */
    public static Kek fromFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key-encryption key file " + file, e);
        }
        warnIfOthersCanRead(file);
        return fromBase64(text, file.toString());
    }

    /**
     * The current key: {@code envValue} when present, else the key in {@code file}, else a new key written to
     * {@code file} (mode 0600, created atomically: two nodes starting at once on one data directory end up with the
     * same key). Blocks: call at boot.
     */
    public static Kek loadOrCreate(Optional<String> envValue, Path file) {
        if (envValue.isPresent()) {
            return fromBase64(envValue.get(), SecretBox.KEK_ENV);
        }
        if (!Files.exists(file)) {
            create(file);
        }
        return fromFile(file);
    }

    /** The id in hex, for messages and logs. */
    public String id() {
        return HexFormat.of().formatHex(id);
    }

    byte[] idBytes() {
        return id.clone();
    }

    boolean hasId(byte[] candidate, int offset) {
        return Arrays.equals(id, 0, ID_BYTES, candidate, offset, offset + ID_BYTES);
    }

    SecretKey key() {
        return key;
    }

    @Override
    public String toString() {
        return "Kek[id=" + id() + "]";
    }

    private static void create(Path file) {
        Path dir = file.toAbsolutePath().getParent();
        boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
        byte[] raw = new byte[BYTES];
        RANDOM.nextBytes(raw);
        byte[] line = (Base64.getEncoder().encodeToString(raw) + "\n").getBytes(StandardCharsets.US_ASCII);
        Arrays.fill(raw, (byte) 0);
        Path temporary = null;
        try {
            Files.createDirectories(dir);
            FileAttribute<?>[] attributes = posix
                    ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                    : new FileAttribute<?>[0];
            temporary = Files.createTempFile(dir, ".kek-", ".tmp", attributes);
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                channel.write(ByteBuffer.wrap(line));
                channel.force(true);
            }
            publish(temporary, file);
            LOG.info("generated a new audit key-encryption key in {}; back it up: without it sealed audit"
                    + " credentials and spooled records cannot be read", file);
        } catch (FileAlreadyExistsException e) {
            LOG.info("another process created {} first; using its key", file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the key-encryption key file " + file, e);
        } finally {
            Arrays.fill(line, (byte) 0);
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // a stray temporary file holds a key nobody uses
                }
            }
        }
    }

    /** A hard link appears whole or not at all, and never replaces a key another node wrote first. */
    private static void publish(Path temporary, Path file) throws IOException {
        try {
            Files.createLink(file, temporary);
        } catch (UnsupportedOperationException e) {
            Files.move(temporary, file);
        }
    }

    private static void warnIfOthersCanRead(Path file) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                LOG.warn("the key-encryption key file {} is readable by others (mode {}); chmod 600 it", file,
                        PosixFilePermissions.toString(permissions));
            }
        } catch (UnsupportedOperationException | IOException e) {
            // not a POSIX file system: nothing to check
        }
    }

    private static byte[] sha256(byte[] raw) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(raw);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
