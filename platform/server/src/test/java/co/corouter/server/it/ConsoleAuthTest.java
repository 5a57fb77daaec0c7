package co.corouter.server.it;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.console.MailLinks;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import jakarta.mail.internet.MimeMessage;
import java.net.http.HttpResponse;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Sign-up, mailed links, sign-in and sessions of the console API against a real node, real PostgreSQL and a real
 * SMTP server (GreenMail) the node mails to.
 */
class ConsoleAuthTest {

    static final GreenMail MAIL = startMail();
    static final String PASSWORD = "correct horse battery";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder()
            .set("mail", "host", "127.0.0.1")
            .set("mail", "port", MAIL.getSmtp().getPort())
            .set("mail", "starttls", "DISABLED")
            .set("console", "public_url", "https://console.example")
            .build();

    private static GreenMail startMail() {
        GreenMail mail = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
        mail.start();
        return mail;
    }

    @AfterAll
    static void stopMail() {
        MAIL.stop();
    }

    private static String newEmail() {
        long n = System.nanoTime();
        return "user" + n + "@t" + n + ".test";
    }

    /** The mails the node sent to {@code email}, waiting (bounded) for at least {@code count}. */
    private static MimeMessage[] awaitMails(String email, int count) {
        String domain = email.substring(email.indexOf('@') + 1);
        NODE.awaitCondition(count + " mail(s) to " + email,
                () -> MAIL.getReceivedMessagesForDomain(domain).length >= count);
        return MAIL.getReceivedMessagesForDomain(domain);
    }

    private static String text(MimeMessage message) {
        try {
            return message.getContent().toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String linkToken(MimeMessage message, String route) {
        Matcher m = Pattern.compile(Pattern.quote("https://console.example/console/#/" + route + "?token=")
                + "([A-Za-z0-9_\\-.]+)").matcher(text(message));
        assertThat(m.find()).as("a %s link in the mail", route).isTrue();
        return m.group(1);
    }

    private static ConsoleClient signedUp(String email) {
        ConsoleClient client = new ConsoleClient(NODE);
        assertThat(client.signUp(email, PASSWORD).statusCode()).isEqualTo(201);
        return client;
    }

    private static ConsoleClient signedIn(String email) {
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> login = client.login(email, PASSWORD);
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        return client;
    }

    private static Row user(String email) {
        return NODE.sql("SELECT * FROM users WHERE email_normalized = $1", email.toLowerCase()).iterator().next();
    }

    @Test
    void signUpWithoutTheAdultConfirmationIsAFieldError() {
        ConsoleClient client = new ConsoleClient(NODE);
        String email = newEmail();
        HttpResponse<String> response = client.post("/api/auth/signup", new JsonObject().put("email", email)
                .put("password", PASSWORD).put("policy_version", "2026-06-30"));
        assertThat(response.statusCode()).isEqualTo(400);
        JsonObject error = new JsonObject(response.body()).getJsonObject("error");
        assertThat(error.getInteger("code")).isEqualTo(400);
        assertThat(error.getJsonObject("metadata").getJsonObject("fields").getString("adult")).isEqualTo("must be true");

        HttpResponse<String> shortPassword = client.post("/api/auth/signup", new JsonObject().put("email", email)
                .put("password", "too short").put("adult", true).put("policy_version", "2026-06-30"));
        assertThat(shortPassword.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(shortPassword.body()).getJsonObject("error").getJsonObject("metadata")
                .getJsonObject("fields").containsKey("password")).isTrue();
        assertThat(NODE.sql("SELECT count(*) FROM users WHERE email_normalized = $1", email).iterator().next()
                .getLong(0)).isZero();
    }

    @Test
    void signUpMailsAVerificationLinkThatWorksOnce() {
        String email = newEmail();
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> response = client.signUp(email, PASSWORD);
        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(new JsonObject(response.body()).getString("verification")).isEqualTo("sent");
        assertThat(response.headers().allValues("set-cookie")).as("sign-up does not sign in").isEmpty();
        Row user = user(email);
        assertThat(user.getOffsetDateTime("adult_confirmed_at")).isNotNull();
        assertThat(user.getString("policy_version")).isEqualTo("2026-06-30");
        assertThat(user.getOffsetDateTime("email_verified_at")).isNull();

        String token = linkToken(awaitMails(email, 1)[0], "verify");
        HttpResponse<String> verified = client.post("/api/auth/verify", new JsonObject().put("token", token));
        assertThat(verified.statusCode()).as(verified.body()).isEqualTo(200);
        assertThat(new JsonObject(verified.body()).getBoolean("verified")).isTrue();
        assertThat(user(email).getOffsetDateTime("email_verified_at")).isNotNull();

        HttpResponse<String> again = client.post("/api/auth/verify", new JsonObject().put("token", token));
        assertThat(again.statusCode()).isEqualTo(400);
        assertThat(NODE.sql("SELECT purpose FROM used_links").size()).isPositive();
    }

    @Test
    void anExpiredOrForgedVerificationLinkIsRefused() {
        String email = newEmail();
        signedUp(email);
        long userId = user(email).getLong("id");
        byte[] secret = NODE.sql("SELECT secret FROM link_signing_secret").iterator().next().getBuffer(0).getBytes();
        ConsoleClient client = new ConsoleClient(NODE);

        String expired = new MailLinks(NODE.vertx(), secret).mint(MailLinks.Purpose.VERIFY, userId, email, -1,
                Duration.ofMinutes(-1));
        assertThat(client.post("/api/auth/verify", new JsonObject().put("token", expired)).statusCode())
                .isEqualTo(400);

        byte[] otherSecret = new byte[32];
        String forged = new MailLinks(NODE.vertx(), otherSecret).mint(MailLinks.Purpose.VERIFY, userId, email, -1);
        assertThat(client.post("/api/auth/verify", new JsonObject().put("token", forged)).statusCode())
                .isEqualTo(400);

        String reset = new MailLinks(NODE.vertx(), secret).mint(MailLinks.Purpose.RESET, userId, null, 0);
        assertThat(client.post("/api/auth/verify", new JsonObject().put("token", reset)).statusCode())
                .as("a reset link does not verify").isEqualTo(400);
        assertThat(user(email).getOffsetDateTime("email_verified_at")).isNull();
    }

    @Test
    void aTakenEmailGetsTheSameAnswerAndItsOwnerAMail() {
        String email = newEmail();
        HttpResponse<String> first = new ConsoleClient(NODE).signUp(email, PASSWORD);
        HttpResponse<String> second = new ConsoleClient(NODE).signUp(email.toUpperCase(), PASSWORD);
        assertThat(second.statusCode()).isEqualTo(first.statusCode()).isEqualTo(201);
        assertThat(new JsonObject(second.body()).getString("verification"))
                .isEqualTo(new JsonObject(first.body()).getString("verification"));
        assertThat(NODE.sql("SELECT count(*) FROM users WHERE email_normalized = $1", email).iterator().next()
                .getLong(0)).isEqualTo(1);
        MimeMessage[] mails = awaitMails(email, 2);
        assertThat(Arrays.stream(mails).map(ConsoleAuthTest::subject))
                .containsExactlyInAnyOrder("Confirm your corouter email address",
                        "Someone tried to sign up with your email address");
    }

    private static String subject(MimeMessage message) {
        try {
            return message.getSubject();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theStoredPasswordIsAnArgon2idHashWithOwaspParameters() {
        String email = newEmail();
        signedUp(email);
        assertThat(user(email).getString("password_hash")).startsWith("$argon2id$v=19$m=19456,t=2,p=1$")
                .doesNotContain(PASSWORD);
    }

    @Test
    void signInSetsASessionCookieAndACsrfCookieAndStoresOnlyTheHash() throws Exception {
        String email = newEmail();
        signedUp(email);
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> login = client.login(email, PASSWORD);
        assertThat(login.statusCode()).isEqualTo(200);
        JsonObject me = new JsonObject(login.body()).getJsonObject("user");
        assertThat(me.getString("email")).isEqualTo(email);
        assertThat(me.getBoolean("email_verified")).isFalse();
        assertThat(me.getString("balance_usd")).isEqualTo("0.000000000");
        assertThat(login.headers().firstValue("cache-control")).hasValue("no-store");

        assertThat(ConsoleClient.attributes(login, ConsoleClient.SESSION))
                .contains("httponly", "samesite=lax", "path=/").doesNotContain("secure");
        assertThat(ConsoleClient.attributes(login, ConsoleClient.CSRF))
                .contains("samesite=lax", "path=/").doesNotContain("httponly", "secure");

        String id = client.cookies.get(ConsoleClient.SESSION);
        assertThat(Base64.getUrlDecoder().decode(id)).hasSizeGreaterThanOrEqualTo(16);
        byte[] hash = MessageDigest.getInstance("SHA-256").digest(id.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Row session = NODE.sql("SELECT * FROM sessions WHERE token_hash = $1",
                io.vertx.core.buffer.Buffer.buffer(hash)).iterator().next();
        assertThat(session.getString("csrf_token")).isEqualTo(client.cookies.get(ConsoleClient.CSRF)).isNotEqualTo(id);
        assertThat(NODE.sql("SELECT count(*) FROM sessions WHERE token_hash IN ($1, $2) OR csrf_token = $3",
                io.vertx.core.buffer.Buffer.buffer(id), io.vertx.core.buffer.Buffer.buffer(Base64.getUrlDecoder()
                        .decode(id)), id).iterator().next().getLong(0)).as("the id itself is stored nowhere").isZero();

        HttpResponse<String> getMe = client.get("/api/me");
        assertThat(getMe.statusCode()).isEqualTo(200);
        JsonObject body = new JsonObject(getMe.body());
        assertThat(body.fieldNames()).contains("id", "email", "email_verified", "display_name", "locale",
                "account_id", "balance_usd", "restricted", "created_at");
        assertThat(body.getBoolean("restricted")).isFalse();
        assertThat(NODE.sql("SELECT outcome FROM login_events WHERE user_id = $1", user(email).getLong("id"))
                .iterator().next().getString(0)).isEqualTo("success");
    }

    @Test
    void aWrongPasswordAndAnUnknownEmailGetTheSameAnswer() {
        String email = newEmail();
        signedUp(email);
        HttpResponse<String> wrong = new ConsoleClient(NODE).login(email, "wrong password, long enough");
        HttpResponse<String> unknown = new ConsoleClient(NODE).login(newEmail(), PASSWORD);
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(unknown.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).isEqualTo(unknown.body())
                .isEqualTo("{\"error\":{\"code\":401,\"message\":\"invalid email or password\"}}");
        assertThat(wrong.headers().allValues("set-cookie")).isEmpty();
        assertThat(NODE.sql("SELECT outcome FROM login_events WHERE user_id = $1", user(email).getLong("id"))
                .iterator().next().getString(0)).isEqualTo("bad_credentials");
    }

    @Test
    void withoutASessionTheApiAnswers401() {
        ConsoleClient client = new ConsoleClient(NODE);
        assertThat(client.get("/api/me").statusCode()).isEqualTo(401);
        client.cookies.put(ConsoleClient.SESSION, "A".repeat(43));
        assertThat(client.get("/api/me").statusCode()).isEqualTo(401);
        assertThat(client.get("/api/sessions").statusCode()).isEqualTo(401);
    }

    @Test
    void aStateChangeWithoutTheRightCsrfTokenIs403() {
        String email = newEmail();
        signedUp(email);
        ConsoleClient client = signedIn(email);
        JsonObject patch = new JsonObject().put("display_name", "Ada");
        HttpResponse<String> missing = client.copy().withoutCsrf().patch("/api/me", patch);
        assertThat(missing.statusCode()).isEqualTo(403);
        assertThat(missing.body()).isEqualTo("{\"error\":{\"code\":403,\"message\":\"CSRF token missing or wrong\"}}");
        ConsoleClient wrong = client.copy();
        wrong.cookies.put(ConsoleClient.CSRF, "not-the-token");
        assertThat(wrong.patch("/api/me", patch).statusCode()).isEqualTo(403);
        assertThat(user(email).getString("display_name")).isEmpty();

        HttpResponse<String> right = client.patch("/api/me", patch);
        assertThat(right.statusCode()).as(right.body()).isEqualTo(200);
        assertThat(new JsonObject(right.body()).getString("display_name")).isEqualTo("Ada");
    }

    @Test
    void signOutRevokesTheSession() {
        String email = newEmail();
        signedUp(email);
        ConsoleClient client = signedIn(email);
        ConsoleClient stolen = client.copy();
        HttpResponse<String> logout = client.post("/api/auth/logout", null);
        assertThat(logout.statusCode()).isEqualTo(204);
        assertThat(ConsoleClient.attributes(logout, ConsoleClient.SESSION)).contains("max-age=0");
        assertThat(stolen.get("/api/me").statusCode()).isEqualTo(401);
    }

    @Test
    void aNewSignInReplacesTheSessionItCameWith() {
        String email = newEmail();
        signedUp(email);
        ConsoleClient client = signedIn(email);
        ConsoleClient before = client.copy();
        assertThat(client.login(email, PASSWORD).statusCode()).isEqualTo(200);
        assertThat(client.cookies.get(ConsoleClient.SESSION)).isNotEqualTo(before.cookies.get(ConsoleClient.SESSION));
        assertThat(before.get("/api/me").statusCode()).isEqualTo(401);
        assertThat(client.get("/api/me").statusCode()).isEqualTo(200);
    }

    @Test
    void aPasswordChangeEndsEveryOtherSessionAndRotatesThisOne() {
        String email = newEmail();
        signedUp(email);
        ConsoleClient here = signedIn(email);
        ConsoleClient elsewhere = signedIn(email);
        ConsoleClient old = here.copy();
        String next = "a brand new passphrase";

        HttpResponse<String> wrong = here.post("/api/me/password", new JsonObject()
                .put("current_password", "not my password at all").put("new_password", next));
        assertThat(wrong.statusCode()).isEqualTo(400);
        HttpResponse<String> changed = here.post("/api/me/password", new JsonObject()
                .put("current_password", PASSWORD).put("new_password", next));
        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(204);

        assertThat(elsewhere.get("/api/me").statusCode()).isEqualTo(401);
        assertThat(old.get("/api/me").statusCode()).as("the old id of this session").isEqualTo(401);
        assertThat(here.get("/api/me").statusCode()).as("the rotated session").isEqualTo(200);
        assertThat(new ConsoleClient(NODE).login(email, PASSWORD).statusCode()).isEqualTo(401);
        assertThat(new ConsoleClient(NODE).login(email, next).statusCode()).isEqualTo(200);
    }

    @Test
    void sessionsListsTheUsersOwnAndAnotherUsersSessionIsNotFound() {
        String email = newEmail();
        String otherEmail = newEmail();
        signedUp(email);
        signedUp(otherEmail);
        ConsoleClient mine = signedIn(email);
        ConsoleClient mySecond = signedIn(email);
        ConsoleClient theirs = signedIn(otherEmail);

        JsonObject list = new JsonObject(mine.get("/api/sessions").body());
        assertThat(list.getJsonArray("data")).hasSize(2);
        long current = list.getJsonArray("data").stream().map(JsonObject.class::cast)
                .filter(s -> s.getBoolean("current")).findFirst().orElseThrow().getLong("id");
        long second = list.getJsonArray("data").stream().map(JsonObject.class::cast)
                .filter(s -> !s.getBoolean("current")).findFirst().orElseThrow().getLong("id");
        assertThat(current).isNotEqualTo(second);

        JsonObject theirList = new JsonObject(theirs.get("/api/sessions").body());
        long theirId = theirList.getJsonArray("data").getJsonObject(0).getLong("id");
        assertThat(mine.delete("/api/sessions/" + theirId).statusCode()).isEqualTo(404);
        assertThat(theirs.get("/api/me").statusCode()).isEqualTo(200);

        assertThat(mine.delete("/api/sessions/" + second).statusCode()).isEqualTo(204);
        assertThat(mySecond.get("/api/me").statusCode()).isEqualTo(401);
        assertThat(mine.get("/api/me").statusCode()).isEqualTo(200);
    }

    @Test
    void aPasswordResetLinkWorksOnceAndEndsEverySession() {
        String email = newEmail();
        signedUp(email);
        ConsoleClient before = signedIn(email);
        ConsoleClient anyone = new ConsoleClient(NODE);
        assertThat(anyone.post("/api/auth/password-reset", new JsonObject().put("email", email)).statusCode())
                .isEqualTo(202);
        assertThat(anyone.post("/api/auth/password-reset", new JsonObject().put("email", newEmail())).statusCode())
                .as("the same answer for an unknown address").isEqualTo(202);
        MimeMessage reset = Arrays.stream(awaitMails(email, 2))
                .filter(m -> subject(m).equals("Reset your corouter password")).findFirst().orElseThrow();
        String token = linkToken(reset, "password-reset");
        String next = "reset passphrase 2026";

        HttpResponse<String> confirmed = anyone.post("/api/auth/password-reset/confirm",
                new JsonObject().put("token", token).put("password", next));
        assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(200);
        assertThat(anyone.post("/api/auth/password-reset/confirm",
                new JsonObject().put("token", token).put("password", "yet another passphrase")).statusCode())
                .isEqualTo(400);
        assertThat(before.get("/api/me").statusCode()).isEqualTo(401);
        assertThat(new ConsoleClient(NODE).login(email, PASSWORD).statusCode()).isEqualTo(401);
        assertThat(new ConsoleClient(NODE).login(email, next).statusCode()).isEqualTo(200);
    }

    @Test
    void anEmailChangeAppliesWhenItsLinkIsUsed() {
        String email = newEmail();
        String newEmail = newEmail();
        signedUp(email);
        ConsoleClient client = signedIn(email);
        HttpResponse<String> asked = client.post("/api/me/email",
                new JsonObject().put("email", newEmail).put("password", PASSWORD));
        assertThat(asked.statusCode()).as(asked.body()).isEqualTo(202);
        assertThat(new JsonObject(client.get("/api/me").body()).getString("email")).isEqualTo(email);

        String token = linkToken(awaitMails(newEmail, 1)[0], "verify");
        assertThat(client.post("/api/auth/verify", new JsonObject().put("token", token)).statusCode()).isEqualTo(200);
        JsonObject me = new JsonObject(client.get("/api/me").body());
        assertThat(me.getString("email")).isEqualTo(newEmail);
        assertThat(me.getBoolean("email_verified")).isTrue();
        assertThat(new ConsoleClient(NODE).login(newEmail, PASSWORD).statusCode()).isEqualTo(200);
    }

    @Test
    void bodiesMustBeJsonObjects() {
        ConsoleClient client = new ConsoleClient(NODE);
        HttpResponse<String> array = NODE.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + NODE.port() + "/api/auth/login"))
                .header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("[1,2]")));
        assertThat(array.statusCode()).isEqualTo(400);
        HttpResponse<String> form = NODE.send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + NODE.port() + "/api/auth/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("email=a&password=b")));
        assertThat(form.statusCode()).isEqualTo(415);
        HttpResponse<String> large = client.post("/api/auth/login",
                new JsonObject().put("email", "x".repeat(70 * 1024)).put("password", "y"));
        assertThat(large.statusCode()).isEqualTo(413);
        assertThat(new JsonObject(large.body()).getJsonObject("error").getInteger("code")).isEqualTo(413);
    }
}
