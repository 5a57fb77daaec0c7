package co.corouter.audit.file;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class FileOptionsTest {

    @Test
    void anEmptyConfigurationWritesToTheAuditDirectoryItselfWithTheDocumentedDefaults() {
        FileOptions options = FileOptions.parse(new JsonObject());

        assertThat(options.path()).isEqualTo(Path.of(""));
        assertThat(options.rotateBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(options.rotateDaily()).isTrue();
        assertThat(options.gzipRotated()).isFalse();
    }

    @Test
    void aRelativePathIsNormalised() {
        FileOptions options = FileOptions.parse(new JsonObject().put("path", "./team-a/./raw/../audit/"));

        assertThat(options.path()).isEqualTo(Path.of("team-a/audit"));
    }

    @Test
    void pathsThatLeaveTheAuditDirectoryAreRefusedNamingTheField() {
        for (String escaping : new String[] {"..", "../other", "a/../../other", "./../x"}) {
            assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("path", escaping)))
                    .as(escaping)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("path: leaves the audit directory");
        }
    }

    @Test
    void absolutePathsAreRefused() {
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("path", "/var/log")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("path: must be relative to the audit directory, not absolute");
    }

    @Test
    void unknownFieldsAreRefusedByName() {
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("pth", "x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("[pth]");
    }

    @Test
    void wrongTypesAndRangesNameTheField() {
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("rotate_bytes", 10)))
                .hasMessageStartingWith("rotate_bytes: ");
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("rotate_bytes", 4096.5)))
                .hasMessageStartingWith("rotate_bytes: ");
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("rotate_daily", "yes")))
                .hasMessageStartingWith("rotate_daily: ");
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("gzip_rotated", 1)))
                .hasMessageStartingWith("gzip_rotated: ");
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("path", "")))
                .hasMessageStartingWith("path: ");
        assertThatThrownBy(() -> FileOptions.parse(new JsonObject().put("path", 7)))
                .hasMessageStartingWith("path: ");
    }

    @Test
    void theShippedSchemaDescribesExactlyTheseFieldsWithTheSameDefaults() throws IOException {
        JsonObject schema;
        try (InputStream in = FileAuditSink.class.getResourceAsStream("/META-INF/corouter/audit/file.schema.json")) {
            assertThat(in).isNotNull();
            schema = new JsonObject(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        JsonObject properties = schema.getJsonObject("properties");
        FileOptions defaults = FileOptions.parse(new JsonObject());

        assertThat(schema.getBoolean("additionalProperties")).isFalse();
        assertThat(properties.fieldNames()).containsExactlyInAnyOrderElementsOf(FileOptions.FIELDS);
        assertThat(properties.getJsonObject("rotate_bytes").getLong("default")).isEqualTo(defaults.rotateBytes());
        assertThat(properties.getJsonObject("rotate_bytes").getLong("minimum")).isEqualTo(FileOptions.MIN_ROTATE_BYTES);
        assertThat(properties.getJsonObject("rotate_daily").getBoolean("default")).isEqualTo(defaults.rotateDaily());
        assertThat(properties.getJsonObject("gzip_rotated").getBoolean("default")).isEqualTo(defaults.gzipRotated());
        String defaultPath = properties.getJsonObject("path").getString("default");
        assertThat(FileOptions.parse(new JsonObject().put("path", defaultPath)).path()).isEqualTo(defaults.path());
    }
}
