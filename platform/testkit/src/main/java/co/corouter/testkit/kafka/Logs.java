package co.corouter.testkit.kafka;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The end of a child process's log, for failure messages. */
final class Logs {

    private Logs() {
    }

    static String tail(Path log, int lines) {
        try {
            List<String> all = read(log).lines().toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + log + ": " + e + ")";
        }
    }

    /** Lenient: a log cut mid-character must still be readable. */
    private static String read(Path log) throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    }

    static boolean contains(Path log, String text) {
        try {
            return read(log).contains(text);
        } catch (IOException e) {
            return false;
        }
    }
}
