package co.corouter.testkit.s3;

import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class S3MockServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private int put(S3MockServer s3, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(s3.endpoint() + path))
                .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.discarding()).statusCode();
    }

    @Test
    void anOutageRefusesConnectionsAndARestartOnTheSamePortKeepsTheObjects() throws Exception {
        Path store;
        try (S3MockServer s3 = S3MockServer.builder().bucket("one", "two").start()) {
            store = s3.logFile().getParent();
            assertThat(put(s3, "/one/dir/a%20b.txt", "hello")).isEqualTo(200);
            assertThat(put(s3, "/one/z.txt", "last")).isEqualTo(200);
            assertThat(s3.keys("one")).containsExactly("dir/a b.txt", "z.txt");
            assertThat(s3.keys("two")).isEmpty();
            assertThat(s3.object("one", "dir/a b.txt").orElseThrow().body()).isEqualTo("hello".getBytes());
            assertThat(s3.object("one", "dir/a b.txt").orElseThrow().contentType()).startsWith("text/plain");
            assertThat(s3.object("one", "missing")).isEmpty();

            int port = s3.port();
            s3.stopForOutage();
            assertThat(s3.running()).isFalse();
            assertThatThrownBy(() -> put(s3, "/one/x", "x")).isInstanceOf(ConnectException.class);

            s3.restart();
            assertThat(s3.port()).isEqualTo(port);
            assertThat(s3.keys("one")).containsExactly("dir/a b.txt", "z.txt");
            assertThat(s3.object("one", "z.txt").orElseThrow().body()).isEqualTo("last".getBytes());
        }
        assertThat(Files.exists(store)).as("the store is deleted on close").isFalse();
    }

    @Test
    void aMissingJarFailsTheStartWithItsPath() {
        assertThatThrownBy(() -> S3MockServer.builder().jar(Path.of("/nonexistent/s3mock.jar")).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exited")
                .hasMessageContaining("/nonexistent/s3mock.jar");
    }

    @Test
    void theJarIsFoundInTheLocalRepository() {
        assertThat(S3MockServer.resolveJar(S3MockServer.DEFAULT_VERSION)).isRegularFile()
                .hasFileName("s3mock-" + S3MockServer.DEFAULT_VERSION + "-exec.jar");
    }
}
