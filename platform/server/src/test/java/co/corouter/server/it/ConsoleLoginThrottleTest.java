package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Failed sign-ins are limited per email and per client address. The node trusts X-Forwarded-For here (as behind a
 * TLS-terminating proxy), so each case signs in from its own address. No SMTP server: mails become files.
 */
class ConsoleLoginThrottleTest {

    static final String PASSWORD = "correct horse battery";

    static final java.nio.file.Path DATA = temporaryDirectory();

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .set("node", "data_dir", DATA.toString())
            .set("console", "trust_forwarded_proto", true)
            .set("console", "login_failures_per_account", 3)
            .set("console", "login_failures_per_ip", 5)
            .build();

    private static String newEmail() {
        return "throttle" + System.nanoTime() + "@example.test";
    }

    private static long outcomes(String email, String outcome) {
        return NODE.sql("""
                SELECT count(*) FROM login_events e JOIN users u ON u.id = e.user_id
                WHERE u.email_normalized = $1 AND e.outcome = $2""", email, outcome).iterator().next().getLong(0);
    }

    @Test
    void anAccountIsLockedForAWindowAfterItsLimitOfFailures() {
        String email = newEmail();
        ConsoleClient client = new ConsoleClient(NODE).from("198.51.100.1");
        assertThat(client.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        for (int i = 0; i < 3; i++) {
            assertThat(new ConsoleClient(NODE).from("198.51.100." + (10 + i)).login(email, "wrong password here")
                    .statusCode()).isEqualTo(401);
        }
        // even the right password, from yet another address, until the window ends
        HttpResponse<String> locked = new ConsoleClient(NODE).from("198.51.100.20").login(email, PASSWORD);
        assertThat(locked.statusCode()).isEqualTo(429);
        assertThat(Long.parseLong(locked.headers().firstValue("retry-after").orElseThrow())).isBetween(1L, 15 * 60L);
        assertThat(locked.headers().allValues("set-cookie")).isEmpty();
        assertThat(outcomes(email, "bad_credentials")).isEqualTo(3);
        assertThat(outcomes(email, "throttled")).isEqualTo(1);
    }

    @Test
    void anAddressIsLockedForAWindowAfterItsLimitOfFailures() {
        String email = newEmail();
        ConsoleClient attacker = new ConsoleClient(NODE).from("203.0.113.7");
        assertThat(attacker.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        for (int i = 0; i < 5; i++) {
            assertThat(attacker.login(newEmail(), PASSWORD).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> locked = attacker.login(email, PASSWORD);
        assertThat(locked.statusCode()).isEqualTo(429);
        assertThat(locked.headers().firstValue("retry-after")).isPresent();
        // another address still signs in
        assertThat(new ConsoleClient(NODE).from("203.0.113.8").login(email, PASSWORD).statusCode()).isEqualTo(200);
    }

    @Test
    void withoutSmtpEachMailIsWrittenAsAnEmlFileUnderTheDataDirectory() {
        String email = newEmail();
        assertThat(new ConsoleClient(NODE).from("192.0.2.1").signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        NODE.awaitCondition("an .eml file for " + email, () -> emlFor(email));
    }

    private static boolean emlFor(String email) {
        java.nio.file.Path dir = DATA.resolve("mail");
        if (!java.nio.file.Files.isDirectory(dir)) {
            return false;
        }
        try (var files = java.nio.file.Files.list(dir)) {
            return files.filter(f -> f.toString().endsWith(".eml")).anyMatch(f -> {
                try {
                    String mail = java.nio.file.Files.readString(f);
                    return mail.contains("To: " + email) && mail.contains("/console/#/verify?token=");
                } catch (java.io.IOException e) {
                    return false;
                }
            });
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static java.nio.file.Path temporaryDirectory() {
        try {
            return java.nio.file.Files.createTempDirectory("corouter-console-data");
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
