package co.corouter.server.accounts;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiKeysTest {

    static final ApiKeys KEYS = new ApiKeys("a test key-signing secret of 32+ bytes".getBytes());

    static boolean wellFormed(String key) {
        return ApiKeys.shaped(key) && KEYS.signed(key);
    }

    private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    @Test
    void aGeneratedKeyHasThePrefixTheLengthAndOnlyBase62AfterThePrefix() {
        for (int i = 0; i < 1_000; i++) {
            String key = KEYS.generate();
            assertThat(key).startsWith("sk-cr-v2-").hasSize(ApiKeys.LENGTH);
            assertThat(key.substring(ApiKeys.PREFIX.length())).matches("[0-9A-Za-z]{40}");
            assertThat(wellFormed(key)).as(key).isTrue();
        }
    }

    @Test
    void theRandomPartCarriesAtLeast128BitsOfEntropy() {
        double bits = ApiKeys.RANDOM_LENGTH * (Math.log(62) / Math.log(2));
        assertThat(bits).isGreaterThanOrEqualTo(128);
        assertThat(ApiKeys.LENGTH).isEqualTo(ApiKeys.PREFIX.length() + ApiKeys.RANDOM_LENGTH + ApiKeys.CHECKSUM_LENGTH);
    }

    @Test
    void theRandomPartUsesTheWholeAlphabetInEveryPosition() {
        // a generator that only drew from part of the alphabet (say hex) would have far fewer bits than claimed
        int positions = ApiKeys.RANDOM_LENGTH;
        boolean[][] seen = new boolean[positions][128];
        Set<Character> alphabet = new HashSet<>();
        for (int i = 0; i < 5_000; i++) {
            String random = KEYS.generate().substring(ApiKeys.PREFIX.length(), ApiKeys.PREFIX.length() + positions);
            for (int p = 0; p < positions; p++) {
                seen[p][random.charAt(p)] = true;
                alphabet.add(random.charAt(p));
            }
        }
        assertThat(alphabet).hasSize(62);
        for (int p = 0; p < positions; p++) {
            int distinct = 0;
            for (char c : BASE62.toCharArray()) {
                distinct += seen[p][c] ? 1 : 0;
            }
            // 5000 draws from 62 symbols miss one with probability ~62 * e^-80: all 62 appear
            assertThat(distinct).as("distinct characters at random position %d", p).isEqualTo(62);
        }
    }

    @Test
    void tenThousandGeneratedKeysAreAllDifferent() {
        Set<String> keys = new HashSet<>();
        Set<String> randomParts = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            String key = KEYS.generate();
            keys.add(key);
            randomParts.add(key.substring(ApiKeys.PREFIX.length(), ApiKeys.PREFIX.length() + ApiKeys.RANDOM_LENGTH));
        }
        assertThat(keys).hasSize(10_000);
        assertThat(randomParts).hasSize(10_000);
    }

    @Test
    void changingAnySingleCharacterOfAKeyMakesItMalformed() {
        for (int k = 0; k < 5; k++) {
            String key = KEYS.generate();
            for (int i = 0; i < key.length(); i++) {
                for (char replacement : (BASE62 + "-_+/=. ").toCharArray()) {
                    if (replacement == key.charAt(i)) {
                        continue;
                    }
                    String typo = key.substring(0, i) + replacement + key.substring(i + 1);
                    assertThat(wellFormed(typo)).as("%s with position %d changed", typo, i).isFalse();
                }
            }
        }
    }

    @Test
    void swappingTwoAdjacentDifferentCharactersOfTheRandomPartMakesItMalformed() {
        String key = KEYS.generate();
        int start = ApiKeys.PREFIX.length();
        for (int i = start; i < start + ApiKeys.RANDOM_LENGTH - 1; i++) {
            if (key.charAt(i) == key.charAt(i + 1)) {
                continue;
            }
            String swapped = key.substring(0, i) + key.charAt(i + 1) + key.charAt(i) + key.substring(i + 2);
            assertThat(wellFormed(swapped)).as(swapped).isFalse();
        }
    }

    @Test
    void aKeyWithTheWrongPrefixOrLengthIsRejected() {
        String key = KEYS.generate();
        String body = key.substring(ApiKeys.PREFIX.length());
        assertThat(wellFormed("sk-cr-v1-" + body)).isFalse();
        assertThat(wellFormed("sk-or-v1-" + body)).isFalse();
        assertThat(wellFormed("SK-CR-V2-" + body)).isFalse();
        assertThat(wellFormed(body + "sk-cr-v2-")).isFalse();
        assertThat(wellFormed(key + "A")).isFalse();
        assertThat(wellFormed(key.substring(0, key.length() - 1))).isFalse();
        assertThat(wellFormed(" " + key)).isFalse();
        assertThat(wellFormed(key + "\n")).isFalse();
        assertThat(wellFormed("sk-cr-v2-")).isFalse();
        assertThat(wellFormed("")).isFalse();
        assertThat(wellFormed(null)).isFalse();
    }

    @Test
    void aRandomPartWithAMatchingChecksumIsAcceptedWhateverItsContent() {
        String random = "A".repeat(ApiKeys.RANDOM_LENGTH);
        assertThat(wellFormed(ApiKeys.PREFIX + random + KEYS.checksum(random))).isTrue();
        assertThat(KEYS.checksum(random)).hasSize(ApiKeys.CHECKSUM_LENGTH).matches("[0-9A-Za-z]+");
    }

    @Test
    void aKeySignedUnderAnotherDeploymentsSecretIsRefusedWithoutALookup() {
        ApiKeys other = new ApiKeys("another deployment's signing secret!!".getBytes());
        for (int i = 0; i < 1_000; i++) {
            String foreign = other.generate();
            assertThat(ApiKeys.shaped(foreign)).isTrue();
            assertThat(KEYS.signed(foreign)).as(foreign).isFalse();
        }
    }

    @Test
    void aShortSigningSecretIsRefused() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new ApiKeys(new byte[31]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes");
    }

    @Test
    void displayShowsOnlyThePrefixThreeCharactersAndTheLastThree() {
        for (int i = 0; i < 1_000; i++) {
            String key = KEYS.generate();
            String shown = ApiKeys.display(key);
            int head = ApiKeys.PREFIX.length() + 3;
            assertThat(shown).isEqualTo(key.substring(0, head) + "..." + key.substring(key.length() - 3));
            String revealed = shown.replace("...", "").substring(ApiKeys.PREFIX.length());
            assertThat(revealed).hasSize(6);
            // what is shown is far from enough to use the key: 34 characters stay hidden
            assertThat(shown).doesNotContain(key.substring(head, key.length() - 3));
        }
    }

    @Test
    void theHashIsTheSha256OfTheKeyAndStable() {
        // FIPS 180-2 test vector
        assertThat(HexFormat.of().formatHex(ApiKeys.hash("abc")))
                .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        String key = KEYS.generate();
        byte[] first = ApiKeys.hash(key);
        assertThat(first).hasSize(32);
        assertThat(ApiKeys.hash(key)).isEqualTo(first);
        assertThat(ApiKeys.hash(new String(key.toCharArray()))).isEqualTo(first);
        assertThat(ApiKeys.hash(KEYS.generate())).isNotEqualTo(first);
    }

    @Test
    void hashingIsSafeFromManyThreadsAtOnce() throws Exception {
        String key = KEYS.generate();
        byte[] expected = ApiKeys.hash(key);
        Thread[] threads = new Thread[8];
        Throwable[] failures = new Throwable[threads.length];
        for (int t = 0; t < threads.length; t++) {
            int index = t;
            threads[t] = new Thread(() -> {
                try {
                    for (int i = 0; i < 5_000; i++) {
                        assertThat(ApiKeys.hash(key)).isEqualTo(expected);
                        ApiKeys.hash(KEYS.generate());
                    }
                } catch (Throwable e) {
                    failures[index] = e;
                }
            });
            threads[t].start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        assertThat(failures).containsOnlyNulls();
    }
}
