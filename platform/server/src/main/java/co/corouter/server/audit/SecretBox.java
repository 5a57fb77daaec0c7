package co.corouter.server.audit;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Envelope encryption for what audit keeps at rest: sink credentials and spooled batches. AES-256-GCM throughout
 * (the JDK's {@code javax.crypto}); each sealed value has its own random data key (DEK), encrypted by the
 * key-encryption key (KEK), and its payload encrypted by the DEK with the caller's additional authenticated data
 * (AAD), e.g. {@code "audit-config:" + accountId}, so a value copied to another account or purpose does not open.
 *
 * <p><b>Layout</b> (version 1, 97 bytes plus the plaintext):
 * <pre>
 * 1  version (1)
 * 8  KEK id: the first 8 bytes of SHA-256(KEK)
 * 12 IV of the DEK's encryption
 * 48 the DEK encrypted by the KEK (32 bytes + 16-byte tag; AAD: version and KEK id)
 * 12 IV of the payload's encryption
 * n+16 the payload encrypted by the DEK (AAD: version and the caller's AAD)
 * </pre>
 *
 * <p><b>Keys.</b> The current KEK comes from {@code COROUTER_AUDIT_KEK} (base64 of 32 bytes) or the file
 * {@code audit.kek_file} (created with mode 0600 under the data directory on first start when neither exists); earlier
 * KEKs from {@code COROUTER_AUDIT_KEK_PREVIOUS} (comma-separated) and {@code audit.kek_previous_files}. The box seals
 * with the current KEK and opens what any of them sealed.
 *
 * <p><b>Rotating the KEK.</b>
 * <ol>
 *   <li>Make a new key ({@code head -c 32 /dev/urandom | base64}); make it current and move the old one to the
 *       previous keys; restart. Everything still opens.</li>
 *   <li>Run {@link #rewrap} over every stored value for which {@link #sealedWithCurrent} is false and store the
 *       result: only the 48-byte DEK is re-encrypted, payloads are untouched (and need no AAD).</li>
 *   <li>When nothing sealed with the old key is left (spooled batches also age out), remove it and restart.
 *       A value still sealed with it then fails to open, naming the old key's id.</li>
 * </ol>
 *
 * <p>Immutable and thread-safe. Sealing and opening are CPU work of microseconds per kilobyte; loading keys reads
 * files and belongs at boot.
 */
public final class SecretBox {

    /** The environment variable holding the current KEK. */
    public static final String KEK_ENV = "COROUTER_AUDIT_KEK";
    /** The environment variable holding earlier KEKs, comma-separated. */
    public static final String KEK_PREVIOUS_ENV = "COROUTER_AUDIT_KEK_PREVIOUS";

    static final byte VERSION = 1;
    static final int IV_BYTES = 12;
    private static final int TAG_BYTES = 16;
    private static final int TAG_BITS = TAG_BYTES * 8;
    private static final int DEK_BYTES = 32;
    private static final int HEADER = 1 + Kek.ID_BYTES;
    private static final int WRAPPED_DEK = IV_BYTES + DEK_BYTES + TAG_BYTES;
    /** Where the payload (its IV, then its ciphertext) starts; {@link #rewrap} leaves everything from here alone. */
    static final int PAYLOAD = HEADER + WRAPPED_DEK;
    /** Bytes a sealed value has beyond its plaintext. */
    static final int OVERHEAD = PAYLOAD + IV_BYTES + TAG_BYTES;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Kek current;
    private final Map<String, Kek> byId = new LinkedHashMap<>();

    /** Seals with {@code current}; opens what {@code current} or any of {@code previous} sealed. */
    public SecretBox(Kek current, List<Kek> previous) {
        this.current = Objects.requireNonNull(current, "current");
        byId.put(current.id(), current);
        for (Kek kek : previous) {
            byId.putIfAbsent(kek.id(), kek);
        }
    }

    /** The current KEK from the environment or {@code kekFile} (created if absent), no previous ones. Blocks. */
    public static SecretBox load(Optional<String> kekEnv, Path kekFile) {
        return load(kekEnv, kekFile, Optional.empty(), List.of());
    }

    /**
     * The current KEK from {@code kekEnv} or {@code kekFile} (created if absent, see {@link Kek#loadOrCreate}) and
     * the previous ones from {@code previousEnv} (comma-separated base64) and {@code previousFiles}. Blocks: call at
     * boot. Fails with an {@link IllegalArgumentException} naming the variable or file at fault, never a key.
     */
    public static SecretBox load(Optional<String> kekEnv, Path kekFile, Optional<String> previousEnv,
                                 List<Path> previousFiles) {
        Kek current = Kek.loadOrCreate(kekEnv.filter(value -> !value.isBlank()), kekFile);
        List<Kek> previous = new ArrayList<>();
        String[] encoded = previousEnv.orElse("").split(",");
        for (int i = 0; i < encoded.length; i++) {
            if (!encoded[i].isBlank()) {
                previous.add(Kek.fromBase64(encoded[i], KEK_PREVIOUS_ENV + "[" + i + "]"));
            }
        }
        for (Path file : previousFiles) {
            previous.add(Kek.fromFile(file));
        }
        return new SecretBox(current, previous);
    }

    /** The id of the KEK new values are sealed with. */
    public String currentKekId() {
        return current.id();
    }

    private static final int SEAL_PIECE = 1024;

    /** Encrypts {@code plaintext} under a new data key; {@code aad} must be given again to open it. */
    public byte[] seal(byte[] plaintext, byte[] aad) {
        Objects.requireNonNull(plaintext, "plaintext");
        Objects.requireNonNull(aad, "aad");
        byte[] dek = new byte[DEK_BYTES];
        RANDOM.nextBytes(dek);
        try {
            byte[] sealed = new byte[OVERHEAD + plaintext.length];
            writeHeader(sealed, current);
            wrap(sealed, dek, current);
            byte[] iv = randomIv();
            System.arraycopy(iv, 0, sealed, PAYLOAD, IV_BYTES);
            Cipher cipher = gcm(Cipher.ENCRYPT_MODE, new SecretKeySpec(dek, "AES"), iv);
            cipher.updateAAD(payloadAad(aad));
            // in pieces: a spooled batch is sealed a few times a second, and in one call of hundreds of kilobytes the
            // JIT never compiles the caller of the AES-GCM intrinsics (30x slower: 12 ms for 500 KB, not 0.4 ms); a
            // thousand calls per batch get it compiled within seconds
            int out = PAYLOAD + IV_BYTES;
            for (int offset = 0; offset < plaintext.length; offset += SEAL_PIECE) {
                out += cipher.update(plaintext, offset, Math.min(SEAL_PIECE, plaintext.length - offset), sealed, out);
            }
            cipher.doFinal(sealed, out);
            return sealed;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        } finally {
            Arrays.fill(dek, (byte) 0);
        }
    }

    /**
     * Decrypts what {@link #seal} returned, given the same {@code aad}.
     *
     * @throws SealedValueException when the value was altered, the AAD differs, or its KEK is not known here
     */
    public byte[] open(byte[] sealed, byte[] aad) {
        Objects.requireNonNull(aad, "aad");
        Kek kek = kekOf(sealed);
        byte[] dek = unwrap(sealed, kek);
        try {
            Cipher cipher = gcm(Cipher.DECRYPT_MODE, new SecretKeySpec(dek, "AES"),
                    Arrays.copyOfRange(sealed, PAYLOAD, PAYLOAD + IV_BYTES));
            cipher.updateAAD(payloadAad(aad));
            return cipher.doFinal(sealed, PAYLOAD + IV_BYTES, sealed.length - PAYLOAD - IV_BYTES);
        } catch (AEADBadTagException e) {
            throw new SealedValueException("the sealed value does not open: it was altered, or the additional"
                    + " authenticated data is not the one it was sealed with");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        } finally {
            Arrays.fill(dek, (byte) 0);
        }
    }

    /**
     * The same value with its data key re-encrypted by the current KEK; the payload bytes are kept as they are, so no
     * AAD is needed. The payload is not checked here; {@link #open} still checks it.
     *
     * @throws SealedValueException as {@link #open} does for the header and data key
     */
    public byte[] rewrap(byte[] sealed) {
        Kek kek = kekOf(sealed);
        byte[] dek = unwrap(sealed, kek);
        try {
            byte[] rewrapped = sealed.clone();
            writeHeader(rewrapped, current);
            wrap(rewrapped, dek, current);
            return rewrapped;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        } finally {
            Arrays.fill(dek, (byte) 0);
        }
    }

    /**
     * Whether {@code sealed} names the current KEK, i.e. needs no {@link #rewrap}. Reads the header only: it says
     * nothing about whether the value opens.
     */
    public boolean sealedWithCurrent(byte[] sealed) {
        return sealed != null && sealed.length >= OVERHEAD && sealed[0] == VERSION && current.hasId(sealed, 1);
    }

    @Override
    public String toString() {
        return "SecretBox[current=" + current.id() + ", keys=" + byId.keySet() + "]";
    }

    private Kek kekOf(byte[] sealed) {
        if (sealed == null || sealed.length < OVERHEAD) {
            throw new SealedValueException("the value is too short to be sealed (" + OVERHEAD + " bytes at least)");
        }
        if (sealed[0] != VERSION) {
            throw new SealedValueException("the sealed value has unknown format version " + (sealed[0] & 0xff));
        }
        String id = HexFormat.of().formatHex(sealed, 1, HEADER);
        Kek kek = byId.get(id);
        if (kek == null) {
            throw new SealedValueException("the value was sealed with key-encryption key " + id + ", which is"
                    + " not configured (known: " + String.join(", ", byId.keySet()) + "); add it to the previous"
                    + " keys");
        }
        return kek;
    }

    private static void writeHeader(byte[] sealed, Kek kek) {
        sealed[0] = VERSION;
        System.arraycopy(kek.idBytes(), 0, sealed, 1, Kek.ID_BYTES);
    }

    /** Writes IV and encrypted {@code dek} after the header (which must be written: it is the AAD). */
    private static void wrap(byte[] sealed, byte[] dek, Kek kek) throws GeneralSecurityException {
        byte[] iv = randomIv();
        System.arraycopy(iv, 0, sealed, HEADER, IV_BYTES);
        Cipher cipher = gcm(Cipher.ENCRYPT_MODE, kek.key(), iv);
        cipher.updateAAD(sealed, 0, HEADER);
        cipher.doFinal(dek, 0, DEK_BYTES, sealed, HEADER + IV_BYTES);
    }

    private static byte[] unwrap(byte[] sealed, Kek kek) {
        try {
            Cipher cipher = gcm(Cipher.DECRYPT_MODE, kek.key(), Arrays.copyOfRange(sealed, HEADER, HEADER + IV_BYTES));
            cipher.updateAAD(sealed, 0, HEADER);
            return cipher.doFinal(sealed, HEADER + IV_BYTES, DEK_BYTES + TAG_BYTES);
        } catch (AEADBadTagException e) {
            throw new SealedValueException("the sealed value's data key does not open: the value was altered");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable", e);
        }
    }

    private static byte[] payloadAad(byte[] aad) {
        byte[] bound = new byte[1 + aad.length];
        bound[0] = VERSION;
        System.arraycopy(aad, 0, bound, 1, aad.length);
        return bound;
    }

    private static Cipher gcm(int mode, SecretKey key, byte[] iv) throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, key, new GCMParameterSpec(TAG_BITS, iv));
        return cipher;
    }

    private static byte[] randomIv() {
        byte[] iv = new byte[IV_BYTES];
        RANDOM.nextBytes(iv);
        return iv;
    }
}
