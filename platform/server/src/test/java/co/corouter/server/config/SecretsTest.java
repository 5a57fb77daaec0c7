package co.corouter.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretsTest {

    @TempDir
    Path dir;

    @Test
    void aSecretIsTakenFromItsVariableTrimmed() {
        assertThat(new Secrets(Map.of("API_KEY", "  sk-123 \n")).resolve("API_KEY")).isEqualTo("sk-123");
    }

    @Test
    void aSecretIsReadFromTheFileNamedByTheFileVariableTrimmed() throws IOException {
        Path file = dir.resolve("api-key");
        Files.writeString(file, "sk-from-file\n");

        assertThat(new Secrets(Map.of("API_KEY_FILE", file.toString())).resolve("API_KEY")).isEqualTo("sk-from-file");
    }

    @Test
    void theVariableWinsOverTheFileAndABlankVariableFallsBackToTheFile() throws IOException {
        Path file = dir.resolve("api-key");
        Files.writeString(file, "sk-from-file");

        assertThat(new Secrets(Map.of("API_KEY", "sk-direct", "API_KEY_FILE", file.toString())).resolve("API_KEY"))
                .isEqualTo("sk-direct");
        assertThat(new Secrets(Map.of("API_KEY", "  ", "API_KEY_FILE", file.toString())).resolve("API_KEY"))
                .isEqualTo("sk-from-file");
    }

    @Test
    void anUnsetSecretIsNull() {
        Secrets secrets = new Secrets(Map.of("OTHER", "x", "API_KEY_FILE", " "));
        assertThat(secrets.resolve("API_KEY")).isNull();
        assertThat(secrets.resolve("")).isNull();
        assertThat(secrets.resolve(null)).isNull();
    }

    @Test
    void anUnreadableSecretFileFailsNamingTheVariable() {
        Path missing = dir.resolve("missing");
        assertThatThrownBy(() -> new Secrets(Map.of("API_KEY_FILE", missing.toString())).resolve("API_KEY"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("API_KEY_FILE");
    }

    @Test
    void laterChangesToTheGivenMapDoNotLeakIntoTheSecrets() {
        Map<String, String> env = new HashMap<>(Map.of("API_KEY", "first"));
        Secrets secrets = new Secrets(env);
        env.put("API_KEY", "second");
        assertThat(secrets.resolve("API_KEY")).isEqualTo("first");
    }
}
