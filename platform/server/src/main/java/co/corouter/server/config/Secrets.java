package co.corouter.server.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Resolves secrets by name: the environment variable {@code NAME}, or the file named by {@code NAME_FILE}
 * (Docker/Kubernetes secret style). Values are never logged; only their presence is.
 */
public final class Secrets {

    private final Map<String, String> env;

    public Secrets(Map<String, String> env) {
        this.env = Map.copyOf(env);
    }

    /** The secret, or {@code null} when neither {@code name} nor {@code name_FILE} is set. */
    public String resolve(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        String direct = env.get(name);
        if (direct != null && !direct.isBlank()) {
            return direct.trim();
        }
        String file = env.get(name + "_FILE");
        return file == null || file.isBlank() ? null : readFile(Path.of(file), name + "_FILE");
    }

    public static String readFile(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the secret file given by " + what + ": " + e.getMessage());
        }
    }
}
