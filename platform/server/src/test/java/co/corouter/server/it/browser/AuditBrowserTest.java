package co.corouter.server.it.browser;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.it.CorouterNode;
import co.corouter.testkit.s3.S3MockServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * Opting in to audit logging in a real Chromium: the audit page renders the S3 sink's form from its schema, Save stays
 * off until a test connection of exactly these values passed, the saved configuration shows without its secret, a
 * request of the account then shows as delivered and its record is in the bucket (a real S3 server), and turning
 * audit off asks first and shows the off state. Screenshots land in {@code target/screenshots/}.
 */
class AuditBrowserTest {

    static final String PASSWORD = "correct horse battery staple";
    static final String BUCKET = "browser-audit";
    static final String SECRET = "browser-s3-secret-value";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("audit", "flush_interval_ms", 50)
            .set("audit", "guard", new JsonObject().put("allow_http", true)
                    .put("allow_list", new JsonArray().add("127.0.0.1/32"))).build();

    private static Browser browser;
    private static S3MockServer s3;

    @BeforeAll
    static void start() {
        s3 = S3MockServer.builder().bucket(BUCKET).start();
        browser = Browser.builder().window(1280, 1000).start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (s3 != null) {
            s3.close();
        }
    }

    @Test
    void aCustomerTestsAndSavesAnS3DestinationAndSeesItsRequestsDelivered() {
        ((ChromeDriver) browser.reset().driver()).executeCdpCommand("Network.clearBrowserCookies", Map.of());
        long accountId = signUpAndSignIn();
        NODE.admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "1.00").put("reason", "test credit"), 201);
        String key = new JsonObject(NODE.admin("POST", "/admin/accounts/" + accountId + "/keys",
                new JsonObject().put("label", "audited"), 201)).getString("key");

        go("/audit");
        new Select(visible(By.id("audit-sink"))).selectByValue("s3");
        type("audit-field-bucket", BUCKET);
        type("audit-field-region", "us-east-1");
        type("audit-field-endpoint", s3.endpoint());
        WebElement pathStyle = visible(By.id("audit-field-path_style"));
        if (!pathStyle.isSelected()) {
            pathStyle.click();
        }
        type("audit-field-access_key_id", "browser-test");
        type("audit-field-secret_access_key", SECRET);
        assertThat(visible(By.id("audit-field-secret_access_key")).getAttribute("type")).isEqualTo("password");
        assertThat(visible(By.id("audit-save")).isEnabled()).as("Save before a test").isFalse();

        visible(By.id("audit-test")).click();
        browser.until(d -> "ok".equals(visible(By.id("audit-test-result")).getAttribute("data-result")));
        assertThat(visible(By.id("audit-save")).isEnabled()).isTrue();
        page("console-audit-tested");
        // an edit after the test turns Save off again until the next test
        type("audit-field-region", "us-east-2");
        browser.until(d -> !visible(By.id("audit-save")).isEnabled());
        type("audit-field-region", "us-east-1");
        visible(By.id("audit-test")).click();
        browser.until(d -> visible(By.id("audit-save")).isEnabled());
        visible(By.id("audit-save")).click();
        browser.until(d -> "on".equals(visible(By.id("audit-state")).getAttribute("data-state")));
        assertThat(browser.driver().getPageSource()).doesNotContain(SECRET);
        assertThat(visible(By.id("audit-field-secret_access_key")).getAttribute("value")).isEmpty();
        assertThat(visible(By.id("audit-field-secret_access_key")).getAttribute("placeholder")).isNotBlank();
        assertThat(visible(By.id("audit-field-session_token")).getAttribute("placeholder"))
                .as("a credential never given is not shown as stored").isBlank();

        // behind the page: the configuration is saved, its secret sealed
        String stored = NODE.sql("SELECT config::text || encode(secrets, 'escape') FROM audit_configs "
                + "WHERE account_id = $1", accountId).iterator().next().getString(0);
        assertThat(stored).contains(BUCKET).doesNotContain(SECRET);

        HttpResponse<String> answer = NODE.chat(key, new JsonObject().put("model", CorouterNode.FAKE_MODEL)
                .put("max_tokens", 8).put("messages", new JsonArray().add(new JsonObject().put("role", "user")
                        .put("content", "audit this"))));
        assertThat(answer.statusCode()).isEqualTo(200);
        String id = answer.headers().firstValue("X-Generation-Id").orElseThrow();
        browser.until(d -> {
            visible(By.id("audit-refresh")).click();
            return "1".equals(visible(By.id("audit-delivered")).getAttribute("data-count"));
        });
        assertThat(s3.keys(BUCKET)).anyMatch(k -> k.contains("account-" + accountId + "/"));
        page("console-audit");

        // the "audit logging is on" toast sits where the button is on this window: close it as a person would
        browser.driver().findElements(By.cssSelector(".toast button")).forEach(WebElement::click);
        browser.until(d -> d.findElements(By.cssSelector(".toast")).isEmpty());
        visible(By.id("audit-off")).click();
        visible(By.cssSelector("[data-testid='confirm']")).click();
        browser.until(d -> "off".equals(visible(By.id("audit-state")).getAttribute("data-state")));
        assertThat(NODE.sql("SELECT enabled FROM audit_configs WHERE account_id = $1", accountId).iterator().next()
                .getBoolean(0)).isFalse();
        assertThat(id).startsWith("gen-");
        page("console-audit-off");
    }

    private static String origin() {
        return "http://127.0.0.1:" + NODE.port();
    }

    private static long signUpAndSignIn() {
        long n = System.nanoTime();
        String email = "audit" + n + "@t" + n + ".test";
        HttpResponse<String> signedUp = NODE.send(HttpRequest.newBuilder(URI.create(origin() + "/api/auth/signup"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", email)
                        .put("password", PASSWORD).put("adult", true).put("policy_version", "2026-06-30").encode())));
        assertThat(signedUp.statusCode()).as(signedUp.body()).isEqualTo(201);
        browser.open(origin() + "/console/#/sign-in");
        type("email", email);
        type("password", PASSWORD);
        visible(By.cssSelector("[data-testid='sign-in-form'] button[type='submit']")).click();
        visible(By.cssSelector("[data-testid='balance']"));
        return NODE.sql("SELECT account_id FROM users WHERE email_normalized = $1", email).iterator().next()
                .getLong(0);
    }

    private static void go(String route) {
        browser.driver().get(origin() + "/console/#" + route);
        browser.awaitLoaded();
    }

    private static WebElement visible(By element) {
        return browser.until(ExpectedConditions.visibilityOfElementLocated(element));
    }

    private static void type(String id, String text) {
        WebElement input = visible(By.id(id));
        input.sendKeys(org.openqa.selenium.Keys.chord(org.openqa.selenium.Keys.CONTROL, "a"), text);
    }

    /** No error toast, no console error but the signed-out look at /api/me; then a screenshot. */
    private static void page(String name) {
        assertThat(browser.driver().findElements(By.cssSelector(".toast-error"))).as("error toasts on %s", name)
                .isEmpty();
        assertThat(browser.consoleErrors()).as("console errors on %s", name).allMatch(error ->
                error.contains("/api/me") && error.contains("401"));
        browser.script("window.scrollTo(0, 0)");
        browser.screenshot(name);
    }
}
