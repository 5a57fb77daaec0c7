package co.corouter.server.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SecretBoxTest {

    private static final byte[] SECRET = ("{\"access_key_id\":\"AKIAIOSFODNN7EXAMPLE\","
            + "\"secret_access_key\":\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}").getBytes(StandardCharsets.UTF_8);
    private static final byte[] ACCOUNT_7 = aad("audit-config:7");
    private static final byte[] ACCOUNT_8 = aad("audit-config:8");

    private final Kek k1 = Kek.generate();
    private final Kek k2 = Kek.generate();
    private final SecretBox box = new SecretBox(k1, List.of());

    @Test
    void whatIsSealedOpensWithTheSameAad() {
        byte[] sealed = box.seal(SECRET, ACCOUNT_7);

        assertThat(sealed).hasSize(SECRET.length + SecretBox.OVERHEAD);
        assertThat(box.open(sealed, ACCOUNT_7)).isEqualTo(SECRET);
        assertThat(box.open(box.seal(new byte[0], new byte[0]), new byte[0])).isEmpty();
    }

    @Test
    void changingAnyByteOfASealedValueMakesItFailToOpen() {
        byte[] sealed = box.seal(SECRET, ACCOUNT_7);

        for (int i = 0; i < sealed.length; i++) {
            byte[] tampered = sealed.clone();
            tampered[i] ^= 0x01;
            int position = i;
            assertThatThrownBy(() -> box.open(tampered, ACCOUNT_7)).as("byte %d changed", position)
                    .isInstanceOf(SealedValueException.class);
        }
        assertThatThrownBy(() -> box.open(Arrays.copyOf(sealed, sealed.length - 1), ACCOUNT_7))
                .isInstanceOf(SealedValueException.class);
        assertThatThrownBy(() -> box.open(Arrays.copyOf(sealed, SecretBox.OVERHEAD - 1), ACCOUNT_7))
                .isInstanceOf(SealedValueException.class).hasMessageContaining("too short");
    }

    @Test
    void aValueMovedToAnotherAccountDoesNotOpen() {
        byte[] sealed = box.seal(SECRET, ACCOUNT_7);

        assertThatThrownBy(() -> box.open(sealed, ACCOUNT_8)).isInstanceOf(SealedValueException.class)
                .hasMessage("the sealed value does not open: it was altered, or the additional authenticated data is"
                        + " not the one it was sealed with");
        assertThatThrownBy(() -> box.open(sealed, new byte[0])).isInstanceOf(SealedValueException.class);
    }

    @Test
    void aNewCurrentKeyOpensWhatThePreviousSealedAndRewrapMovesItToTheNewKeyAlone() {
        byte[] sealedWithK1 = box.seal(SECRET, ACCOUNT_7);
        SecretBox rotating = new SecretBox(k2, List.of(k1));

        assertThat(rotating.open(sealedWithK1, ACCOUNT_7)).isEqualTo(SECRET);
        assertThat(rotating.sealedWithCurrent(sealedWithK1)).isFalse();
        byte[] rewrapped = rotating.rewrap(sealedWithK1);

        assertThat(rotating.sealedWithCurrent(rewrapped)).isTrue();
        assertThat(new SecretBox(k2, List.of()).open(rewrapped, ACCOUNT_7)).isEqualTo(SECRET);
        assertThat(Arrays.copyOfRange(rewrapped, SecretBox.PAYLOAD, rewrapped.length))
                .as("only the data key is re-encrypted; the payload is untouched")
                .isEqualTo(Arrays.copyOfRange(sealedWithK1, SecretBox.PAYLOAD, sealedWithK1.length));
        assertThat(rotating.seal(SECRET, ACCOUNT_7)).satisfies(sealed ->
                assertThat(rotating.sealedWithCurrent(sealed)).isTrue());
        assertThatThrownBy(() -> box.open(rewrapped, ACCOUNT_7)).isInstanceOf(SealedValueException.class);
    }

    @Test
    void aValueSealedWithAnUnknownKeyFailsNamingThatKeysId() {
        byte[] sealedWithK1 = box.seal(SECRET, ACCOUNT_7);
        SecretBox other = new SecretBox(k2, List.of());

        assertThatThrownBy(() -> other.open(sealedWithK1, ACCOUNT_7)).isInstanceOf(SealedValueException.class)
                .hasMessage("the value was sealed with key-encryption key " + k1.id() + ", which is not configured"
                        + " (known: " + k2.id() + "); add it to the previous keys");
        assertThatThrownBy(() -> other.rewrap(sealedWithK1)).isInstanceOf(SealedValueException.class);
    }

    @Test
    void rewrapRefusesAValueWhoseDataKeyWasAltered() {
        byte[] sealed = box.seal(SECRET, ACCOUNT_7);
        sealed[30] ^= 0x01;

        assertThatThrownBy(() -> new SecretBox(k2, List.of(k1)).rewrap(sealed))
                .isInstanceOf(SealedValueException.class).hasMessageContaining("altered");
    }

    @Test
    void twoSealsOfTheSamePlaintextDiffer() {
        byte[] first = box.seal(SECRET, ACCOUNT_7);
        byte[] second = box.seal(SECRET, ACCOUNT_7);

        assertThat(first).isNotEqualTo(second);
        int ciphertext = SecretBox.PAYLOAD + SecretBox.IV_BYTES;
        assertThat(Arrays.copyOfRange(first, SecretBox.PAYLOAD, ciphertext)).as("payload IVs")
                .isNotEqualTo(Arrays.copyOfRange(second, SecretBox.PAYLOAD, ciphertext));
        assertThat(Arrays.copyOfRange(first, ciphertext, first.length))
                .isNotEqualTo(Arrays.copyOfRange(second, ciphertext, second.length));
    }

    @Test
    void noPieceOfThePlaintextAppearsInTheSealedBytes() {
        byte[] sealed = box.seal(SECRET, ACCOUNT_7);

        for (int i = 0; i + 8 <= SECRET.length; i++) {
            assertThat(indexOf(sealed, Arrays.copyOfRange(SECRET, i, i + 8))).as("plaintext bytes %d..%d", i, i + 8)
                    .isEqualTo(-1);
        }
        assertThat(indexOf(sealed, ACCOUNT_7)).as("the AAD is authenticated, not stored").isEqualTo(-1);
    }

    @Test
    void aKeyFileIsCreatedWithMode0600OnFirstStartAndReusedAfterARestart(@TempDir Path dataDir) throws Exception {
        Path kekFile = dataDir.resolve("audit").resolve("audit.kek");

        SecretBox first = SecretBox.load(Optional.empty(), kekFile);
        String written = Files.readString(kekFile);
        byte[] sealed = first.seal(SECRET, ACCOUNT_7);
        SecretBox afterRestart = SecretBox.load(Optional.empty(), kekFile);

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(kekFile))).isEqualTo("rw-------");
        assertThat(Base64.getDecoder().decode(written.strip())).hasSize(32);
        assertThat(afterRestart.currentKekId()).isEqualTo(first.currentKekId());
        assertThat(afterRestart.open(sealed, ACCOUNT_7)).isEqualTo(SECRET);
        assertThat(Files.readString(kekFile)).isEqualTo(written);
        try (var files = Files.list(kekFile.getParent())) {
            assertThat(files).as("no temporary file left behind").containsExactly(kekFile);
        }
    }

    @Test
    void aKeyFromTheEnvironmentWinsAndNoFileIsWritten(@TempDir Path dataDir) {
        Path kekFile = dataDir.resolve("audit.kek");
        String base64 = Base64.getEncoder().encodeToString(new byte[32]);

        SecretBox fromEnv = SecretBox.load(Optional.of(base64), kekFile);

        assertThat(kekFile).doesNotExist();
        assertThat(fromEnv.currentKekId()).isEqualTo(Kek.fromBase64(base64, "test").id());
    }

    @Test
    void previousKeysComeFromTheEnvironmentAndFiles(@TempDir Path dataDir) throws Exception {
        Kek fromEnv = Kek.generate();
        byte[] rawFromFile = new byte[32];
        rawFromFile[0] = 42;
        Path previousFile = dataDir.resolve("old.kek");
        Files.writeString(previousFile, Base64.getEncoder().encodeToString(rawFromFile) + "\n");
        Kek fromFile = Kek.fromFile(previousFile);
        byte[] sealedWithEnvKey = new SecretBox(fromEnv, List.of()).seal(SECRET, ACCOUNT_7);
        byte[] sealedWithFileKey = new SecretBox(fromFile, List.of()).seal(SECRET, ACCOUNT_7);
        String previousEnv = " , " + envValueOf(fromEnv);

        SecretBox rotated = SecretBox.load(Optional.empty(), dataDir.resolve("audit.kek"), Optional.of(previousEnv),
                List.of(previousFile));

        assertThat(rotated.open(sealedWithEnvKey, ACCOUNT_7)).isEqualTo(SECRET);
        assertThat(rotated.open(sealedWithFileKey, ACCOUNT_7)).isEqualTo(SECRET);
    }

    @Test
    void aMalformedKeyIsRefusedWithoutEchoingIt(@TempDir Path dataDir) {
        String shortKey = Base64.getEncoder().encodeToString("sixteen-byte-key".getBytes(StandardCharsets.US_ASCII));

        assertThatThrownBy(() -> SecretBox.load(Optional.of(shortKey), dataDir.resolve("audit.kek")))
                .hasMessage("COROUTER_AUDIT_KEK: must be 32 bytes in base64, got 16 bytes (make one with: head -c 32"
                        + " /dev/urandom | base64)")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(shortKey));
        assertThatThrownBy(() -> SecretBox.load(Optional.of("not base64!"), dataDir.resolve("audit.kek")))
                .hasMessage("COROUTER_AUDIT_KEK: is not base64");
        assertThatThrownBy(() -> SecretBox.load(Optional.empty(), dataDir.resolve("audit.kek"),
                Optional.of("also not base64!"), List.of()))
                .hasMessage("COROUTER_AUDIT_KEK_PREVIOUS[0]: is not base64");
    }

    @Test
    void neitherAKeyNorABoxPrintsKeyMaterial() {
        assertThat(k1.toString()).isEqualTo("Kek[id=" + k1.id() + "]");
        assertThat(k1.id()).hasSize(16);
        assertThat(box.toString()).doesNotContain(Base64.getEncoder().encodeToString(k1.key().getEncoded()));
    }

    private static String envValueOf(Kek kek) {
        return Base64.getEncoder().encodeToString(kek.key().getEncoded());
    }

    private static byte[] aad(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                return i;
            }
        }
        return -1;
    }
}
