package co.corouter.server.it.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import co.corouter.server.ingress.PublicPages;
import co.corouter.server.it.CorouterNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The public pages in a real Chromium: what a visitor sees (the catalog and its prices, the policy), that nothing is
 * loaded from another origin and no cookie is set until the visitor picks a language, and that picking one sets exactly
 * the locale cookie. Screenshots of every page, in English and German, land in {@code target/screenshots/}.
 */
class PublicPagesBrowserTest {

    private static final List<String> PAGES = List.of("/", "/privacy", "/cookies");

    @RegisterExtension
    static final CorouterNode NODE = CorouterNode.builder().build();

    /** One desktop browser for the tests that need no other settings (Chromium takes seconds to start), reset before each. */
    private static Browser desktop;

    @BeforeAll
    static void startBrowser() {
        desktop = Browser.builder().start();
    }

    @AfterAll
    static void quitBrowser() {
        if (desktop != null) {
            desktop.close();
        }
    }

    private static Browser desktop() {
        return desktop.reset();
    }

    private static String origin() {
        return "http://127.0.0.1:" + NODE.port();
    }

    @Test
    void everyPublicPageLoadsOnlyFromItsOwnOriginAndSetsNoCookie() {
        Browser browser = desktop();
        for (String page : PAGES) {
            browser.open(origin() + page);
            assertThat(browser.find(By.id("footer-privacy")).getAttribute("href")).isEqualTo(origin() + "/privacy");
            assertThat(browser.find(By.id("footer-cookies")).getAttribute("href")).isEqualTo(origin() + "/cookies");
            assertThat(browser.cookies()).as("cookies after loading %s", page).isEmpty();
            // the stylesheet applied (its header is a flex row), with nothing refused by the CSP or missing
            assertThat(browser.find(By.cssSelector(".top .wrap")).getCssValue("display")).isEqualTo("flex");
            assertThat(browser.consoleErrors()).as("console errors on %s", page).isEmpty();
        }
        List<String> requested = browser.requestedUrls();
        assertThat(requested).as("requests made by the pages").isNotEmpty()
                .filteredOn(url -> !url.startsWith("data:"))
                .allSatisfy(url -> assertThat(url).startsWith(origin() + "/"));
        assertThat(requested).anySatisfy(url -> assertThat(url).startsWith(origin() + "/assets/site.css?v="));
    }

    @Test
    void theLandingPageShowsTheCatalogWithPricesPerMillionTokens() {
        Browser browser = desktop();
        browser.open(origin() + "/");

        assertThat(browser.text(By.tagName("h1"))).isEqualTo("One API in front of many LLM providers");
        assertPrices(browser, "corouter/mock-small", "$0.50", "$1.50");
        assertPrices(browser, "corouter/mock-large", "$3.00", "$15.00");
        // two endpoints: the cheaper one's price, said to be a lower bound
        assertPrices(browser, "corouter/mock-duo", "from $0.50", "from $1.50");
        assertThat(browser.text(By.cssSelector("tr[data-model='corouter/mock-small'] td")))
                .contains("Mock Small (deterministic, no network)").contains("corouter/mock-small");
        assertThat(browser.text(By.id("start"))).isEqualTo("Get started");
        assertThat(browser.find(By.tagName("main")).getText()).contains("OPENAI_BASE_URL=\"" + origin() + "/v1\"")
                .contains("ANTHROPIC_BASE_URL=\"" + origin() + "\"");
        assertThat(browser.find(By.id("sign-up")).getAttribute("href")).isEqualTo(origin() + "/console/#/sign-up");
        assertThat(browser.find(By.id("sign-in")).getAttribute("href")).isEqualTo(origin() + "/console/#/sign-in");
        browser.screenshot("landing");

        // the buttons lead to the console's own forms, not to whatever page a wrong route falls back to
        browser.click(By.id("sign-up"));
        browser.until(d -> !d.findElements(By.cssSelector("[data-testid=sign-up-form]")).isEmpty());
        browser.open(origin() + "/");
        browser.click(By.id("sign-in"));
        browser.until(d -> !d.findElements(By.cssSelector("[data-testid=sign-in-form]")).isEmpty());
    }

    @Test
    void thePrivacyPageShowsThePolicyText() {
        Browser browser = desktop();
        browser.open(origin() + "/privacy");

        assertThat(browser.text(By.tagName("h1"))).isEqualTo("Privacy Policy");
        String policy = browser.text(By.id("policy"));
        assertThat(policy).contains("Last updated June 30, 2026")
                .contains("We do not sell your personal data.")
                .contains("Our marketing site uses a single locale-preference cookie.")
                .contains("Questions or requests: hi@corouter.co.");
        assertThat(browser.driver().findElements(By.cssSelector("#policy h2"))).hasSize(10);
        assertThat(browser.find(By.id("policy")).getAttribute("data-version")).isEqualTo(PublicPages.POLICY_VERSION);
        browser.screenshot("privacy");
    }

    @Test
    void pickingGermanSetsExactlyTheLocaleCookieAndClearingItRemovesIt() {
        Browser browser = desktop();
        browser.open(origin() + "/cookies");
        assertThat(browser.text(By.id("choice"))).startsWith("No language cookie is stored");
        assertThat(browser.driver().findElements(By.id("clear-language"))).isEmpty();
        browser.screenshot("cookies");

        Instant picked = Instant.now();
        browser.click(By.id("lang-de"));

        assertThat(browser.driver().getCurrentUrl()).isEqualTo(origin() + "/cookies");
        assertThat(browser.find(By.tagName("html")).getAttribute("lang")).isEqualTo("de");
        assertThat(browser.text(By.id("language"))).isEqualTo("Ihre Sprachwahl");
        assertThat(browser.text(By.id("choice"))).contains("corouter_locale").contains("Deutsch");
        assertThat(browser.cookies()).singleElement().satisfies(cookie -> {
            assertThat(cookie.getName()).isEqualTo(PublicPages.LOCALE_COOKIE);
            assertThat(cookie.getValue()).isEqualTo("de");
            assertThat(cookie.getPath()).isEqualTo("/");
            assertThat(cookie.getSameSite()).isEqualTo("Lax");
            assertThat(cookie.isHttpOnly()).isTrue();
            assertThat(cookie.isSecure()).as("Secure over plain HTTP").isFalse();
            assertThat(cookie.getDomain()).isEqualTo("127.0.0.1");
            assertThat(cookie.getExpiry().toInstant()).isBetween(picked.plus(Duration.ofDays(365)).minusSeconds(60),
                    picked.plus(Duration.ofDays(365)).plusSeconds(60));
        });
        browser.screenshot("cookies-de");

        browser.click(By.cssSelector("a.brand"));
        assertThat(browser.text(By.id("models"))).isEqualTo("Modelle und Preise");
        assertThat(browser.text(By.cssSelector("tr[data-model='corouter/mock-small'] td.price-prompt")))
                .matches("0,50[\u00a0 ]\\$");
        assertThat(browser.text(By.id("footer-privacy"))).isEqualTo("Datenschutzerklärung");
        browser.screenshot("landing-de");

        browser.click(By.id("footer-privacy"));
        assertThat(browser.text(By.cssSelector(".notice"))).contains("nur auf Englisch");
        assertThat(browser.text(By.id("policy"))).contains("We do not sell your personal data.");
        browser.screenshot("privacy-de");

        browser.click(By.id("footer-cookies"));
        browser.click(By.id("clear-language"));

        assertThat(browser.cookies()).isEmpty();
        assertThat(browser.driver().getCurrentUrl()).isEqualTo(origin() + "/cookies");
        assertThat(browser.find(By.tagName("html")).getAttribute("lang")).isEqualTo("en");
        assertThat(browser.text(By.id("choice"))).startsWith("No language cookie is stored");

        // the form picks a language too
        new Select(browser.find(By.id("lang"))).selectByValue("de");
        browser.click(By.id("save-language"));
        assertThat(browser.cookies()).extracting(Cookie::getName, Cookie::getValue)
                .containsExactly(tuple(PublicPages.LOCALE_COOKIE, "de"));
        assertThat(browser.text(By.id("language"))).isEqualTo("Ihre Sprachwahl");

        assertThat(browser.requestedUrls()).filteredOn(url -> !url.startsWith("data:"))
                .allSatisfy(url -> assertThat(url).startsWith(origin() + "/"));
        assertThat(browser.consoleErrors()).isEmpty();
    }

    @Test
    void aGermanBrowserGetsGermanPagesWithoutAnyCookie() {
        try (Browser browser = Browser.builder().acceptLanguage("de-DE,de").start()) {
            browser.open(origin() + "/cookies");

            assertThat(browser.find(By.tagName("html")).getAttribute("lang")).isEqualTo("de");
            assertThat(browser.text(By.id("choice"))).startsWith("Es ist kein Sprach-Cookie gespeichert");
            assertThat(browser.cookies()).isEmpty();
        }
    }

    @Test
    void everyPageFitsAPhoneScreenWithoutSidewaysScrolling() {
        try (Browser browser = Browser.builder().phone().start()) {
            for (String page : PAGES) {
                browser.open(origin() + page);
                Object overflow = browser.script("return document.documentElement.scrollWidth - window.innerWidth");
                assertThat(((Number) overflow).longValue()).as("sideways overflow of %s in CSS pixels", page)
                        .isLessThanOrEqualTo(0);
                browser.until(ExpectedConditions.visibilityOfElementLocated(By.id("footer-cookies")));
            }
            browser.open(origin() + "/");
            browser.screenshot("landing-phone");
        }
    }

    private static void assertPrices(Browser browser, String model, String prompt, String completion) {
        String row = "tr[data-model='" + model + "'] ";
        assertThat(browser.text(By.cssSelector(row + "td.price-prompt"))).as("input price of %s", model)
                .isEqualTo(prompt);
        assertThat(browser.text(By.cssSelector(row + "td.price-completion"))).as("output price of %s", model)
                .isEqualTo(completion);
    }
}
