package co.corouter.server.it.browser;

import static org.assertj.core.api.Assertions.assertThat;

import co.corouter.server.it.CorouterNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;

/**
 * Buying credit end to end in a real Chromium against a real node whose payment processor is the fake Creem: choose
 * $10 on the billing page, pay on the processor's checkout page, come back through {@code /billing/return} to the
 * order's receipt, which shows it paid and the balance $10 higher; a receipt opened while its order is pending turns
 * paid without a reload when the processor confirms the payment; a charge-back of credit the node holds a lease on
 * shows on the open receipt and freezes top-ups, also without a reload. Behind the UI: one {@code topup} ledger
 * transaction of the order's credit per paid order (and one {@code refund} of what could be clawed back), the order
 * row's state, the wallet. On a phone the same pages fit the screen. Screenshots land in
 * {@code target/screenshots/}.
 */
class TopUpBrowserTest {

    static final String PASSWORD = "correct horse battery staple";
    static final long TEN_USD_NANOS = 10_000_000_000L;
    static final long ONE_USD_NANOS = 1_000_000_000L;

    /** Sells usd_10 ($10.00) and usd_any ($1.00 a unit) through a fake Creem whose webhooks reach the node. */
    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().withFakeCreem().build();

    private static Browser browser;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.builder().window(1280, 900).start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    @BeforeEach
    void freshBrowser() {
        browser.reset();
        // reset() clears the cookies of the page it is on (about:blank): the last test's session must go too
        ((ChromeDriver) browser.driver()).executeCdpCommand("Network.clearBrowserCookies", Map.of());
    }

    @Test
    void aCustomerChoosesTenDollarsPaysOnTheCheckoutAndComesBackToAPaidReceiptShowingTheNewBalance() {
        long accountId = signUpAndSignIn(browser);

        go(browser, "/billing");
        assertThat(visible(browser, testid("top-up-form")).getText()).contains("$10.00").contains("Other amount");
        BigDecimal before = usd(visible(browser, testid("billing-balance")));
        assertThat(before).isEqualByComparingTo("0");
        visible(browser, testid("offer-usd_10")).click();
        browser.until(d -> visible(browser, testid("top-up-total")).getText().contains("$10.00"));
        page(browser, "console-billing-top-up");

        // --- off to the processor's checkout page
        visible(browser, testid("top-up-submit")).click();
        String checkoutId = awaitCheckoutPage(browser);
        assertThat(browser.text(By.id("total"))).isEqualTo("1000 USD");
        assertThat(browser.text(By.id("status"))).isEqualTo("pending");
        Row pending = order(checkoutId);
        assertThat(pending.getLong("account_id")).isEqualTo(accountId);
        assertThat(pending.getString("state")).isEqualTo("pending");
        assertThat(topUps(accountId)).as("nothing is credited before the payment").isEmpty();
        browser.windowScreenshot("creem-checkout");

        // --- pay; the processor sends the browser back through /billing/return to the receipt
        visible(browser, By.id("pay")).click();
        String orderId = awaitReceipt(browser);
        assertThat(orderId).isEqualTo(pending.getString("id"));
        assertThat(browser.requestedUrls()).as("the way back").anyMatch(url ->
                url.startsWith(origin() + "/billing/return/creem?") && url.contains("checkout_id=" + checkoutId));
        awaitState(browser, "paid");
        browser.until(d -> usd(visible(browser, testid("order-balance"))).compareTo(before.add(BigDecimal.TEN)) == 0);
        assertThat(browser.text(testid("order-balance"))).isEqualTo("$10.00");
        assertThat(browser.text(testid("header-balance"))).isEqualTo("$10.00");
        assertThat(browser.text(testid("order-id"))).isEqualTo(orderId);
        assertThat(browser.text(testid("order-amount"))).startsWith("$10.00 USD");
        assertThat(browser.text(testid("order-credit"))).isEqualTo("$10.00");
        assertThat(browser.text(testid("order-checkout-id"))).isEqualTo(checkoutId);
        assertThat(visible(browser, testid("order-events")).getText()).contains("paid");
        visible(browser, testid("print-receipt"));
        page(browser, "console-order");

        // --- behind the receipt: the order paid once, one top-up of exactly its credit, the wallet holding it
        assertThat(order(checkoutId).getString("state")).isEqualTo("paid");
        assertThat(topUps(accountId)).singleElement().satisfies(t -> {
            assertThat(t.getLong("amount")).isEqualTo(TEN_USD_NANOS);
            assertThat(t.getString("order_id")).isEqualTo(orderId);
        });
        assertThat(NODE.balance(accountId)).isEqualTo(TEN_USD_NANOS);
        NODE.assertLedgerBalances();

        // --- the billing page lists the order and the top-up, each leading to the receipt
        go(browser, "/billing");
        WebElement row = visible(browser,
                By.cssSelector("[data-testid='orders-row'][data-order-id='" + orderId + "']"));
        assertThat(row.findElement(By.cssSelector("[data-state]")).getAttribute("data-state")).isEqualTo("paid");
        WebElement topUp = visible(browser, By.cssSelector("[data-testid='billing-row'][data-kind='topup']"));
        assertThat(topUp.getText()).contains("$10.00");
        page(browser, "console-billing-paid");
        topUp.findElement(testid("receipt-link")).click();
        browser.until(d -> d.getCurrentUrl().endsWith("#/billing/orders/" + orderId));
        awaitState(browser, "paid");
    }

    @Test
    void aReceiptOpenedWhileItsOrderIsPendingTurnsPaidWithoutAReloadWhenTheProcessorConfirmsThePayment() {
        long accountId = signUpAndSignIn(browser);

        // --- three units of the $1 offer; at the checkout the customer goes back to the console instead of paying
        go(browser, "/billing");
        visible(browser, testid("offer-usd_any")).click();
        WebElement units = visible(browser, testid("top-up-units"));
        retype(units, "2.5");
        browser.until(d -> !visible(browser, testid("top-up-submit")).isEnabled());
        assertThat(browser.text(By.cssSelector("#top-up .field-error"))).isEqualTo("Enter a whole number.");
        retype(units, "3");
        browser.until(d -> visible(browser, testid("top-up-total")).getText().contains("$3.00"));
        visible(browser, testid("top-up-submit")).click();
        String checkoutId = awaitCheckoutPage(browser);
        assertThat(browser.text(By.id("units"))).isEqualTo("3 x 100 USD");
        String orderId = order(checkoutId).getString("id");

        go(browser, "/billing");
        By row = By.cssSelector("[data-testid='orders-row'][data-order-id='" + orderId + "']");
        assertThat(visible(browser, row).findElement(By.cssSelector("[data-state]")).getAttribute("data-state"))
                .isEqualTo("pending");
        visible(browser, row).findElement(By.tagName("a")).click();
        awaitState(browser, "pending");
        assertThat(usd(visible(browser, testid("order-balance")))).isEqualByComparingTo("0");
        visible(browser, By.cssSelector(".live.on"));
        page(browser, "console-order-pending");
        browser.script("window.corouterTestMarker = 'still the same page'");

        // --- the processor confirms (its webhook); the receipt and the balance follow on their own
        CorouterNode.await(NODE.creem().pay(checkoutId));
        awaitState(browser, "paid");
        browser.until(d -> usd(visible(browser, testid("order-balance"))).compareTo(new BigDecimal(3)) == 0);
        assertThat(browser.text(testid("header-balance"))).isEqualTo("$3.00");
        assertThat(browser.script("return window.corouterTestMarker")).as("no reload").isEqualTo("still the same page");
        assertThat(browser.text(testid("order-credit"))).isEqualTo("$3.00");

        assertThat(order(checkoutId).getString("state")).isEqualTo("paid");
        assertThat(topUps(accountId)).singleElement().satisfies(t -> {
            assertThat(t.getLong("amount")).isEqualTo(3 * ONE_USD_NANOS);
            assertThat(t.getString("order_id")).isEqualTo(orderId);
        });
        assertThat(NODE.balance(accountId)).isEqualTo(3 * ONE_USD_NANOS);
    }

    @Test
    void aChargeBackOfCreditInUseShowsOnTheOpenReceiptAndFreezesTopUpsWithoutAReload() {
        long accountId = signUpAndSignIn(browser);
        go(browser, "/billing");
        visible(browser, testid("offer-usd_10")).click();
        visible(browser, testid("top-up-submit")).click();
        String checkoutId = awaitCheckoutPage(browser);
        visible(browser, By.id("pay")).click();
        String orderId = awaitReceipt(browser);
        awaitState(browser, "paid");
        browser.until(d -> usd(visible(browser, testid("order-balance"))).compareTo(BigDecimal.TEN) == 0);

        // --- a request through a key of the account: the node now holds a lease on part of the credit
        String key = new JsonObject(NODE.admin("POST", "/admin/accounts/" + accountId + "/keys",
                new JsonObject().put("label", "in use"), 201)).getString("key");
        HttpResponse<String> served = complete(key);
        assertThat(served.statusCode()).as(served.body()).isEqualTo(200);
        NODE.flushUsage();
        assertThat(NODE.sql("SELECT leased FROM wallets WHERE account_id = $1", accountId).iterator().next()
                .getLong(0)).as("credit leased to the node").isPositive();
        visible(browser, By.cssSelector(".live.on"));
        browser.script("window.corouterTestMarker = 'still the same page'");

        // --- the customer's bank takes the $10 back: what is not leased is clawed back, the rest owed, and frozen
        CorouterNode.await(NODE.creem().dispute(checkoutId));
        browser.until(d -> visible(browser, testid("order-events")).getText().contains("dispute"));
        browser.until(d -> usd(visible(browser, testid("order-clawed-back"))).signum() > 0);
        Row wallet = NODE.sql("SELECT balance, owed, frozen_at FROM wallets WHERE account_id = $1", accountId)
                .iterator().next();
        assertThat(wallet.getLong("owed")).as("owed").isPositive();
        assertThat(wallet.getOffsetDateTime("frozen_at")).as("frozen at").isNotNull();
        BigDecimal left = BigDecimal.valueOf(wallet.getLong("balance")).movePointLeft(9);
        browser.until(d -> usd(visible(browser, testid("order-balance"))).compareTo(left) == 0);
        assertThat(usd(browser.find(testid("header-balance")))).isEqualByComparingTo(left);
        assertThat(browser.script("return window.corouterTestMarker")).as("no reload").isEqualTo("still the same page");
        List<Row> refunds = new ArrayList<>();
        NODE.sql("SELECT amount, order_id FROM ledger_transactions WHERE account_id = $1 AND kind = 'refund'",
                accountId).forEach(refunds::add);
        assertThat(refunds).singleElement().satisfies(r -> {
            assertThat(r.getString("order_id")).isEqualTo(orderId);
            assertThat(r.getLong("amount")).isEqualTo(TEN_USD_NANOS - wallet.getLong("owed"));
        });
        HttpResponse<String> refused = complete(key);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(refused.body()).contains("account frozen");
        visible(browser, testid("frozen"));
        page(browser, "console-order-disputed");

        // --- the billing page says why top-ups are off, shows the claw-back as a negative row leading to the receipt
        visible(browser, By.linkText("← Back to billing")).click();
        visible(browser, testid("frozen"));
        assertThat(visible(browser, testid("top-up-submit")).isEnabled()).isFalse();
        WebElement refund = visible(browser, By.cssSelector("[data-testid='billing-row'][data-kind='refund']"));
        assertThat(refund.getText()).contains("-$");
        assertThat(refund.findElement(testid("receipt-link")).getAttribute("href"))
                .endsWith("#/billing/orders/" + orderId);
        assertThat(browser.script("return window.corouterTestMarker")).isEqualTo("still the same page");
        page(browser, "console-billing-frozen");
    }

    @Test
    void onAPhoneTheBillingPageTheCheckoutAndTheReceiptFitTheScreen() {
        try (Browser phone = Browser.builder().phone().start()) {
            long accountId = signUpAndSignIn(phone);
            go(phone, "/billing");
            visible(phone, testid("offer-usd_10")).click();
            fitsTheScreen(phone, "the billing page");
            page(phone, "console-billing-phone");
            visible(phone, testid("top-up-submit")).click();
            String checkoutId = awaitCheckoutPage(phone);
            phone.windowScreenshot("creem-checkout-phone");
            visible(phone, By.id("pay")).click();
            awaitReceipt(phone);
            awaitState(phone, "paid");
            phone.until(d -> usd(visible(phone, testid("order-balance"))).compareTo(BigDecimal.TEN) == 0);
            fitsTheScreen(phone, "the receipt");
            page(phone, "console-order-phone");
            assertThat(order(checkoutId).getString("state")).isEqualTo("paid");
            assertThat(topUps(accountId)).singleElement()
                    .satisfies(t -> assertThat(t.getLong("amount")).isEqualTo(TEN_USD_NANOS));
        }
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static String origin() {
        return "http://127.0.0.1:" + NODE.port();
    }

    /** A new user (through the API: sign-up is not what this test is about), signed in through the form. */
    private static long signUpAndSignIn(Browser b) {
        long n = System.nanoTime();
        String email = "topup" + n + "@t" + n + ".test";
        HttpResponse<String> signedUp = NODE.send(HttpRequest.newBuilder(URI.create(origin() + "/api/auth/signup"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("email", email)
                        .put("password", PASSWORD).put("adult", true).put("policy_version", "2026-06-30").encode())));
        assertThat(signedUp.statusCode()).as(signedUp.body()).isEqualTo(201);
        b.open(origin() + "/console/#/sign-in");
        type(b, "email", email);
        type(b, "password", PASSWORD);
        visible(b, By.cssSelector("[data-testid='sign-in-form'] button[type='submit']")).click();
        visible(b, testid("balance"));
        return NODE.sql("SELECT account_id FROM users WHERE email_normalized = $1", email).iterator().next()
                .getLong(0);
    }

    private static HttpResponse<String> complete(String key) {
        return NODE.chat(key, new JsonObject().put("model", CorouterNode.MOCK_MODEL).put("max_tokens", 8)
                .put("messages", new JsonArray()
                        .add(new JsonObject().put("role", "user").put("content", "hi"))));
    }

    /** Goes to a console route (from another page, the SPA loads; within it, only the hash changes). */
    private static void go(Browser b, String route) {
        b.driver().get(origin() + "/console/#" + route);
        b.awaitLoaded();
    }

    /** Waits for the processor's checkout page and returns the checkout's id from its address. */
    private static String awaitCheckoutPage(Browser b) {
        String prefix = NODE.creem().baseUrl() + "/checkout/";
        b.until(d -> d.getCurrentUrl().startsWith(prefix));
        b.awaitLoaded();
        visible(b, By.id("pay"));
        return b.driver().getCurrentUrl().substring(prefix.length());
    }

    /** Waits until the browser is back on the console at an order's receipt and returns the order's id. */
    private static String awaitReceipt(Browser b) {
        Pattern receipt = Pattern.compile(Pattern.quote(origin()) + "/console/#/billing/orders/(ord_[0-9A-Za-z]+)");
        String url = b.until(d -> receipt.matcher(d.getCurrentUrl()).matches() ? d.getCurrentUrl() : null);
        Matcher m = receipt.matcher(url);
        assertThat(m.matches()).isTrue();
        visible(b, testid("order-detail"));
        return m.group(1);
    }

    private static void awaitState(Browser b, String state) {
        b.until(d -> state.equals(visible(b, testid("order-state")).getAttribute("data-state")));
    }

    /** The exact USD amount an element carries in {@code data-usd} (what it shows is rounded to cents). */
    private static BigDecimal usd(WebElement element) {
        String value = element.getAttribute("data-usd");
        assertThat(value).as("data-usd of %s", element.getAttribute("data-testid")).isNotNull();
        return new BigDecimal(value);
    }

    private static Row order(String checkoutId) {
        return NODE.sql("SELECT * FROM payment_orders WHERE checkout_id = $1", checkoutId).iterator().next();
    }

    private static List<Row> topUps(long accountId) {
        List<Row> rows = new ArrayList<>();
        NODE.sql("SELECT amount, order_id FROM ledger_transactions WHERE account_id = $1 AND kind = 'topup' "
                + "ORDER BY id", accountId).forEach(rows::add);
        return rows;
    }

    /** No sideways scrolling: the page is no wider than the window. */
    private static void fitsTheScreen(Browser b, String what) {
        // the screen, not the window: a phone widens its layout viewport to whatever overflows
        Object overflow = b.script("return document.documentElement.scrollWidth - screen.width");
        assertThat(((Number) overflow).longValue()).as("horizontal overflow of %s in px", what).isLessThanOrEqualTo(0);
    }

    /**
     * Checks what the console did so far (no error toast, no console error but the signed-out look at /api/me and the
     * fake checkout's missing favicon) and saves what the window shows as {@code <name>.png}.
     */
    private static void page(Browser b, String name) {
        assertThat(b.driver().findElements(By.cssSelector(".toast-error"))).as("error toasts on %s", name).isEmpty();
        assertThat(b.consoleErrors()).as("console errors on %s", name).allMatch(error ->
                error.contains("/api/me") && error.contains("401") || error.contains("favicon.ico"));
        b.script("window.scrollTo(0, 0)");
        b.screenshot(name);
    }

    private static WebElement visible(Browser b, By element) {
        return b.until(ExpectedConditions.visibilityOfElementLocated(element));
    }

    private static void type(Browser b, String id, String text) {
        WebElement input = visible(b, By.id(id));
        input.clear();
        input.sendKeys(text);
    }

    /** Replaces an input's text the way a person does (WebElement.clear() fires no input event). */
    private static void retype(WebElement input, String text) {
        input.sendKeys(Keys.chord(Keys.CONTROL, "a"), text);
    }

    private static By testid(String id) {
        return By.cssSelector("[data-testid='" + id + "']");
    }
}
