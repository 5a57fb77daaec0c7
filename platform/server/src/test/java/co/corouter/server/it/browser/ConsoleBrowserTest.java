package co.corouter.server.it.browser;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.it.CorouterNode;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetupTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The console end to end in a real Chromium against a real node (real PostgreSQL, a fake OpenAI upstream, GreenMail
 * for the mails): sign up (refused without the adult confirmation), verify through the mailed link, sign in (exactly
 * the session and CSRF cookies), create a key, see a completion made outside the browser arrive live on the dashboard
 * and the logs page (the SockJS event-bus bridge), switch to German, download the export, restrict processing and
 * lift it, and delete the account. Every page loads only from the node's origin and logs no console error; a
 * screenshot of each lands in {@code target/screenshots/console-*.png}.
 */
class ConsoleBrowserTest {

    static final GreenMail MAIL = startMail();
    static final String PASSWORD = "correct horse battery staple";

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeUpstream()
            .set("mail", "host", "127.0.0.1")
            .set("mail", "port", MAIL.getSmtp().getPort())
            .set("mail", "starttls", "DISABLED")
            .build();

    private static Path downloads;
    private static Browser browser;

    private static GreenMail startMail() {
        GreenMail mail = new GreenMail(ServerSetupTest.SMTP.dynamicPort());
        mail.start();
        return mail;
    }

    @BeforeAll
    static void startBrowser() throws IOException {
        downloads = Files.createTempDirectory("corouter-downloads");
        browser = Browser.builder().window(1280, 900).downloadDirectory(downloads).start();
    }

    @AfterAll
    static void stop() throws IOException {
        try {
            if (browser != null) {
                browser.close();
            }
        } finally {
            MAIL.stop();
            try (Stream<Path> files = Files.walk(downloads)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String origin() {
        return "http://127.0.0.1:" + NODE.port();
    }

    private static String console(String route) {
        return origin() + "/console/#" + route;
    }

    /** Goes to a console route (a hash change: the SPA, and its bridge connection, stay loaded). */
    private static void go(String route) {
        browser.driver().get(console(route));
        browser.awaitLoaded();
    }

    /**
     * Checks what the page did so far (every request to the node's own origin, no console error) and saves what the
     * window shows as {@code console-<name>.png}.
     */
    private static void page(String name) {
        // no toast (an error the SPA reported) is showing
        assertThat(browser.driver().findElements(By.cssSelector(".toast-error"))).as("error toasts on %s", name)
                .isEmpty();
        assertThat(browser.requestedUrls()).as("requests up to %s", name)
                .filteredOn(url -> !url.startsWith("data:"))
                .allSatisfy(url -> assertThat(url).matches(Pattern.quote(origin()) + "/.*|blob:"
                        + Pattern.quote(origin()) + "/.*"));
        assertThat(browser.consoleErrors()).as("console errors on %s", name)
                .noneMatch(ConsoleBrowserTest::unexpected);
        browser.script("window.scrollTo(0, 0)");
        browser.windowScreenshot("console-" + name);
    }

    /**
     * Chromium logs every answer of 400 or more as a console error; the SPA's first look at {@code /api/me} before
     * signing in is expected to be a 401. Anything else (a CSP violation, a script error) is a failure.
     */
    private static boolean unexpected(String error) {
        return !(error.contains("/api/me") && error.contains("401"));
    }

    private static WebElement visible(By element) {
        return browser.until(ExpectedConditions.visibilityOfElementLocated(element));
    }

    private static void type(String id, String text) {
        WebElement input = visible(By.id(id));
        input.clear();
        input.sendKeys(text);
    }

    private static By testid(String id) {
        return By.cssSelector("[data-testid='" + id + "']");
    }

    private static String h1() {
        return visible(By.cssSelector("main h1")).getText();
    }

    private static Row user(String email) {
        return NODE.sql("SELECT * FROM users WHERE email_normalized = $1", email).iterator().next();
    }

    private static long users(String email) {
        return NODE.sql("SELECT count(*) FROM users WHERE email_normalized = $1", email).iterator().next().getLong(0);
    }

    private static HttpResponse<String> complete(String key) {
        return NODE.chat(key, new JsonObject().put("model", CorouterNode.FAKE_MODEL).put("max_tokens", 8)
                .put("messages", new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi"))));
    }

    private static String verificationLink(String email) {
        String domain = email.substring(email.indexOf('@') + 1);
        NODE.awaitCondition("a mail to " + email, () -> MAIL.getReceivedMessagesForDomain(domain).length >= 1);
        MimeMessage mail = MAIL.getReceivedMessagesForDomain(domain)[0];
        String text;
        try {
            text = mail.getContent().toString();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        // console.public_url is unset, so the link names the configured port (0 here); open it at the node's
        Matcher m = Pattern.compile("https?://[^/\\s]+(/console/#/verify\\?token=[A-Za-z0-9_\\-.]+)").matcher(text);
        assertThat(m.find()).as("a verification link in %s", text).isTrue();
        return origin() + m.group(1);
    }

    @Test
    void aVisitorSignsUpUsesAKeySeesItLiveExportsRestrictsAndDeletesTheAccount() throws Exception {
        browser.reset();
        long n = System.nanoTime();
        String email = "browser" + n + "@b" + n + ".test";

        // --- sign up: not without the adult confirmation
        browser.open(console("/sign-up"));
        type("email", email);
        type("password", PASSWORD);
        visible(By.id("policy")).click();
        WebElement submit = visible(By.cssSelector("[data-testid='sign-up-form'] button[type='submit']"));
        assertThat(submit.isEnabled()).as("sign up without the 18+ box").isFalse();
        // even a forced submission stops at the form's own validation: the box is required
        browser.script("document.querySelector(\"[data-testid='sign-up-form']\").requestSubmit()");
        assertThat(browser.script("return document.getElementById('adult').validity.valueMissing")).isEqualTo(true);
        assertThat(browser.requestedUrls()).noneMatch(url -> url.contains("/api/auth/signup"));
        assertThat(users(email)).as("a user row without the 18+ box").isZero();
        page("sign-up");

        visible(By.id("adult")).click();
        browser.until(ExpectedConditions.elementToBeClickable(submit)).click();
        assertThat(visible(By.cssSelector("main .notice")).getText()).contains(email);
        assertThat(user(email).getOffsetDateTime("adult_confirmed_at")).isNotNull();
        assertThat(user(email).getOffsetDateTime("email_verified_at")).isNull();

        // --- the mailed link verifies the address
        browser.open(verificationLink(email));
        browser.until(d -> "ok".equals(visible(testid("verify-result")).getAttribute("data-state")));
        assertThat(user(email).getOffsetDateTime("email_verified_at")).isNotNull();
        long accountId = user(email).getLong("account_id");
        long userId = user(email).getLong("id");

        // --- sign in: exactly the session cookie (HttpOnly) and the CSRF cookie (readable), both SameSite=Lax
        go("/sign-in");
        type("email", email);
        type("password", PASSWORD);
        page("sign-in");
        visible(By.cssSelector("[data-testid='sign-in-form'] button[type='submit']")).click();
        visible(testid("balance"));
        Set<Cookie> cookies = browser.cookies();
        assertThat(cookies).extracting(Cookie::getName)
                .containsExactlyInAnyOrder("corouter_session", "corouter_csrf");
        Map<String, Cookie> byName = cookies.stream().collect(Collectors.toMap(Cookie::getName, c -> c));
        assertThat(byName.get("corouter_session").isHttpOnly()).isTrue();
        assertThat(byName.get("corouter_csrf").isHttpOnly()).as("the SPA reads the CSRF cookie").isFalse();
        assertThat(cookies).allSatisfy(c -> {
            assertThat(c.getSameSite()).isEqualTo("Lax");
            assertThat(c.getPath()).isEqualTo("/");
        });

        // --- a key, shown once
        go("/keys");
        type("key-name", "laptop");
        visible(By.cssSelector("[data-testid='create-key-form'] button[type='submit']")).click();
        String key = visible(testid("new-key-value")).getText();
        assertThat(key).startsWith("sk-cr-");
        visible(testid("copy-key"));
        browser.until(d -> !d.findElements(By.cssSelector("[data-testid='keys-table'] tbody tr")).isEmpty());
        page("keys");

        // --- credit from the operator, then a completion outside the browser shows up live on the dashboard
        NODE.admin("POST", "/admin/accounts/" + accountId + "/credits",
                new JsonObject().put("amount_usd", "5.00").put("reason", "browser test credit"), 201);
        go("/");
        browser.until(d -> visible(testid("balance")).getText().equals("$5.00"));
        assertThat(browser.text(testid("header-balance"))).isEqualTo("$5.00");
        assertThat(browser.text(testid("requests-today"))).isEqualTo("0");
        // the exact balance (a completion costs a fraction of a cent, which the shown "$5.00" rounds away)
        String credited = visible(testid("balance")).getAttribute("data-usd");
        assertThat(new BigDecimal(credited)).isEqualByComparingTo("5");
        visible(By.cssSelector(".live.on"));
        HttpResponse<String> first = complete(key);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        String firstId = first.headers().firstValue("X-Generation-Id").orElseThrow();
        // no reload: the bridge's message sets the balance, then the dashboard refreshes its totals
        browser.until(d -> !visible(testid("balance")).getAttribute("data-usd").equals(credited));
        browser.until(d -> visible(testid("requests-today")).getText().equals("1"));
        visible(testid("chart-30d"));
        BigDecimal live = new BigDecimal(browser.find(testid("balance")).getAttribute("data-usd"));
        assertThat(live).isLessThan(new BigDecimal("5")).isGreaterThan(new BigDecimal("4.99"));
        assertThat(live).isEqualByComparingTo(new BigDecimal(NODE.balance(accountId)).movePointLeft(9));
        assertThat(new BigDecimal(browser.find(testid("header-balance")).getAttribute("data-usd")))
                .isEqualByComparingTo(live);
        assertThat(browser.text(testid("spend-today"))).startsWith("$");
        assertThat(browser.text(testid("spend-month"))).startsWith("$");
        page("dashboard");

        // --- the logs page gains a row for a completion made while it is open
        go("/logs");
        browser.until(d -> !d.findElements(By.cssSelector("[data-testid='logs-row'][data-generation-id='" + firstId
                + "']")).isEmpty());
        HttpResponse<String> second = complete(key);
        assertThat(second.statusCode()).isEqualTo(200);
        String secondId = second.headers().firstValue("X-Generation-Id").orElseThrow();
        By secondRow = By.cssSelector("[data-testid='logs-row'][data-generation-id='" + secondId + "']");
        visible(secondRow);
        assertThat(browser.driver().findElements(testid("logs-row")).get(0).getAttribute("data-generation-id"))
                .as("the newest generation first").isEqualTo(secondId);
        page("logs");
        browser.find(secondRow).findElement(By.tagName("a")).click();
        WebElement detail = visible(testid("generation-detail"));
        assertThat(detail.getAttribute("data-generation-id")).isEqualTo(secondId);
        assertThat(detail.getText()).contains(CorouterNode.FAKE_MODEL).contains(secondId);
        page("log-detail");

        go("/activity");
        browser.until(d -> visible(testid("activity-table")).getText().contains(CorouterNode.FAKE_MODEL));
        page("activity");

        go("/billing");
        browser.until(d -> visible(testid("billing-table")).getText().contains("browser test credit"));
        visible(testid("top-up"));
        page("billing");

        go("/quickstart");
        assertThat(visible(testid("base-url")).getText()).isEqualTo(origin() + "/v1");
        page("quickstart");

        go("/sessions");
        assertThat(visible(testid("sessions-table")).findElements(By.cssSelector("tbody tr"))).hasSize(1);
        page("sessions");

        go("/cookies");
        visible(testid("cookies-table"));
        page("cookies");

        // --- German: the page's text changes and the language cookie appears
        go("/settings");
        assertThat(h1()).isEqualTo("Settings");
        page("settings");
        new Select(visible(By.id("settings-language"))).selectByValue("de");
        browser.until(d -> !h1().equals("Settings"));
        assertThat(h1()).isEqualTo("Einstellungen");
        assertThat(browser.find(By.tagName("html")).getAttribute("lang")).isEqualTo("de");
        assertThat(browser.cookies()).filteredOn(c -> c.getName().equals("corouter_locale"))
                .singleElement().satisfies(c -> assertThat(c.getValue()).isEqualTo("de"));
        browser.until(d -> "de".equals(user(email).getString("locale")));
        page("settings-de");
        new Select(visible(By.id("settings-language"))).selectByValue("en");
        browser.until(d -> h1().equals("Settings"));

        // --- the export: a JSON file with every part, never the password hash or a key's secret
        go("/privacy");
        visible(testid("restricted"));
        page("privacy");
        visible(testid("export")).click();
        Path exported = browser.until(d -> {
            try (Stream<Path> files = Files.list(downloads)) {
                return files.filter(p -> p.getFileName().toString().matches("corouter-export-.*\\.json"))
                        .findFirst().orElse(null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        String text = Files.readString(exported);
        JsonObject export = new JsonObject(text);
        assertThat(export.fieldNames()).contains("exported_at", "account", "profile", "preferences", "keys",
                "sessions", "login_history", "billing_history", "usage_by_day", "usage");
        assertThat(export.getJsonObject("profile").getString("email")).isEqualTo(email);
        assertThat(export.getJsonObject("profile").fieldNames()).doesNotContain("password_hash", "password");
        assertThat(text).doesNotContain("$argon2").doesNotContain(key);
        assertThat(export.getJsonArray("keys")).hasSize(1);
        assertThat(export.getJsonArray("sessions")).isNotEmpty();
        assertThat(export.getJsonArray("login_history")).isNotEmpty();
        assertThat(export.getJsonArray("billing_history").encode()).contains("browser test credit");
        assertThat(export.getJsonArray("usage_by_day")).isNotEmpty();
        assertThat(export.getJsonArray("usage").stream().map(o -> ((JsonObject) o).getString("id")).toList())
                .contains(firstId, secondId);

        // --- restricting processing refuses the account's keys; lifting it lets them work again
        By restrictButton = By.xpath("//*[@data-testid='restricted']/following-sibling::button");
        String notRestricted = browser.text(testid("restricted"));
        visible(restrictButton).click();
        browser.until(d -> !visible(testid("restricted")).getText().equals(notRestricted));
        assertThat(browser.text(testid("restricted"))).isEqualTo("Processing is restricted now.");
        HttpResponse<String> refused = complete(key);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(refused.body()).contains("processing restricted by the account owner");
        page("privacy-restricted");
        visible(restrictButton).click();
        browser.until(d -> visible(testid("restricted")).getText().equals(notRestricted));
        HttpResponse<String> lifted = complete(key);
        assertThat(lifted.statusCode()).as(lifted.body()).isEqualTo(200);
        String liftedId = lifted.headers().firstValue("X-Generation-Id").orElseThrow();
        NODE.awaitGeneration(liftedId);

        // --- deleting the account: the password again, the confirmation, then the records that must stay
        long ledgerRows = NODE.sql("SELECT count(*) FROM ledger_entries WHERE account_id = $1", accountId)
                .iterator().next().getLong(0);
        type("delete-password", PASSWORD);
        visible(By.id("delete-understood")).click();
        visible(By.cssSelector("form.danger-zone button[type='submit']")).click();
        visible(testid("confirm")).click();
        browser.until(d -> d.getCurrentUrl().contains("#/sign-in"));
        visible(By.cssSelector("[data-testid='sign-in-form']"));

        Row erased = NODE.sql("SELECT * FROM users WHERE id = $1", userId).iterator().next();
        assertThat(erased.getString("email")).isEqualTo("erased-" + userId + "@invalid");
        assertThat(erased.getString("email_normalized")).isNull();
        assertThat(erased.getString("password_hash")).isNull();
        assertThat(erased.getOffsetDateTime("erased_at")).isNotNull();
        assertThat(NODE.sql("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL", userId)
                .iterator().next().getLong(0)).as("open sessions").isZero();
        assertThat(NODE.sql("SELECT count(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL", accountId)
                .iterator().next().getLong(0)).as("unrevoked keys").isZero();
        assertThat(NODE.sql("SELECT count(*) FROM login_events WHERE user_id = $1", userId).iterator().next()
                .getLong(0)).as("sign-in history").isZero();
        assertThat(NODE.sql("SELECT id FROM generations WHERE account_id = $1", accountId).size())
                .as("usage rows kept").isEqualTo(3);
        assertThat(NODE.sql("SELECT count(*) FROM ledger_entries WHERE account_id = $1", accountId).iterator()
                .next().getLong(0)).as("ledger rows kept").isEqualTo(ledgerRows).isPositive();
        assertThat(complete(key).statusCode()).as("the revoked key").isEqualTo(401);
        // the answer to the deletion does not clear the cookies, but the session they name is over
        Cookie stale = browser.driver().manage().getCookieNamed("corouter_session");
        if (stale != null) {
            HttpResponse<String> me = NODE.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(origin() + "/api/me")).header("Cookie", "corouter_session=" + stale.getValue()));
            assertThat(me.statusCode()).as("the deleted user's session cookie").isEqualTo(401);
        }
        page("deleted");
        assertThat(List.of(firstId, secondId, liftedId)).doesNotHaveDuplicates();
    }
}
