package co.corouter.server.it.browser;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.logging.Level;
import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's Chromium ({@code /usr/bin/chromium}) driven by its ChromeDriver ({@code /usr/bin/chromedriver}), headless,
 * with a fresh profile: nothing is downloaded, nothing is kept between browsers. It records the URL of every request
 * the pages make (from ChromeDriver's performance log), shows the cookies, and saves screenshots to
 * {@code target/screenshots/<name>.png}.
 *
 * <pre>
 * try (Browser browser = Browser.builder().start()) {
 *     browser.open(url);
 *     assertThat(browser.requestedUrls()).allMatch(u -> u.startsWith(origin));
 * }
 * </pre>
 *
 * When Chromium or ChromeDriver is not installed, {@link Builder#start} fails the test with the command that installs
 * them: browser tests never skip silently ({@code scripts/test} installs both).
 */
public final class Browser implements AutoCloseable {

    public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** Without the background-networking flags Chromium calls Google's hosts at start (refused on closed networks). */
    private static final List<String> FLAGS = List.of("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--hide-scrollbars");
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final ChromeDriverService service;
    private final ChromeDriver driver;
    private final Path profile;
    private final List<String> requested = new ArrayList<>();

    private Browser(ChromeDriverService service, ChromeDriver driver, Path profile) {
        this.service = service;
        this.driver = driver;
        this.profile = profile;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How the browser presents itself: window size, phone emulation, the languages it asks for. */
    public static final class Builder {
        private int width = 1280;
        private int height = 900;
        private boolean phone;
        private String acceptLanguage = "en-US,en";
        private Path downloads;

        /** The window's size in CSS pixels. */
        public Builder window(int width, int height) {
            this.width = width;
            this.height = height;
            return this;
        }

        /** A 390 x 844 phone screen at device pixel ratio 2, with a touch user agent. */
        public Builder phone() {
            this.phone = true;
            return this;
        }

        /** The browser's {@code Accept-Language}, e.g. {@code de-DE,de}. */
        public Builder acceptLanguage(String languages) {
            this.acceptLanguage = languages;
            return this;
        }

        /** Where downloads land, without asking (Chromium's {@code download.default_directory}). */
        public Builder downloadDirectory(Path dir) {
            this.downloads = dir;
            return this;
        }

        public Browser start() {
            requireInstalled();
            Path profile;
            try {
                profile = Files.createTempDirectory("corouter-chromium-profile");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile()).addArguments(FLAGS)
                    .addArguments("--user-data-dir=" + profile, "--window-size=" + width + "," + height);
            Map<String, Object> prefs = new HashMap<>();
            prefs.put("intl.accept_languages", acceptLanguage);
            if (downloads != null) {
                prefs.put("download.default_directory", downloads.toAbsolutePath().toString());
                prefs.put("download.prompt_for_download", false);
                prefs.put("download.directory_upgrade", true);
            }
            options.setExperimentalOption("prefs", prefs);
            if (phone) {
                options.setExperimentalOption("mobileEmulation", Map.of("deviceMetrics",
                        Map.of("width", 390, "height", 844, "pixelRatio", 2.0, "touch", true),
                        "userAgent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                                + "Chrome/156.0.0.0 Mobile Safari/537.36"));
            }
            LoggingPreferences logs = new LoggingPreferences();
            logs.enable(LogType.PERFORMANCE, Level.ALL);
            logs.enable(LogType.BROWSER, Level.ALL);
            options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
            // an explicit driver executable: Selenium Manager never tries to download a browser or a driver
            ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                    .usingAnyFreePort().build();
            try {
                return new Browser(service, new ChromeDriver(service, options), profile);
            } catch (RuntimeException e) {
                service.stop();
                deleteTree(profile);
                throw e;
            }
        }
    }

    /** Fails (never skips) when the browser is missing, saying how to install it. */
    public static void requireInstalled() {
        for (Path binary : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!Files.isExecutable(binary)) {
                throw new AssertionError(binary + " is missing: the browser tests need Debian's Chromium and its "
                        + "driver. Install them with `apt-get install -y chromium chromium-driver` (scripts/test does "
                        + "this when they are missing).");
            }
        }
    }

    public WebDriver driver() {
        return driver;
    }

    /**
     * Starts over as if new, without the cost of starting Chromium again: a blank page, no cookies, an empty cache, no
     * requests recorded, no console messages.
     */
    public Browser reset() {
        driver.get("about:blank");
        driver.manage().deleteAllCookies();
        // a cached stylesheet would not be requested again, and the test could not see where it came from
        driver.executeCdpCommand("Network.clearBrowserCache", Map.of());
        requestedUrls();
        consoleErrors();
        requested.clear();
        return this;
    }

    /** Runs JavaScript in the page through the driver (not subject to the page's CSP) and returns its value. */
    public Object script(String javascript) {
        return driver.executeScript(javascript);
    }

    /** Loads {@code url} and waits until its document has finished loading. */
    public Browser open(String url) {
        driver.get(url);
        return awaitLoaded();
    }

    /** Waits until the current document has finished loading (after a click that navigates, say). */
    public Browser awaitLoaded() {
        until(d -> "complete".equals(script("return document.readyState")));
        return this;
    }

    /** Clicks the element and waits for the page it leads to. */
    public Browser click(By element) {
        WebElement target = until(ExpectedConditions.elementToBeClickable(element));
        target.click();
        until(ExpectedConditions.stalenessOf(target));
        return awaitLoaded();
    }

    public <T> T until(Function<WebDriver, T> condition) {
        return new WebDriverWait(driver, WAIT).until(condition::apply);
    }

    public WebElement find(By element) {
        return until(ExpectedConditions.presenceOfElementLocated(element));
    }

    public String text(By element) {
        return find(element).getText();
    }

    /**
     * The URL of every request the browser's pages made since it started (documents, stylesheets, images, redirects
     * followed, {@code data:} URLs included), in order; requests of Chromium's own {@code chrome://} pages are left
     * out.
     */
    public List<String> requestedUrls() {
        for (LogEntry entry : driver.manage().logs().get(LogType.PERFORMANCE)) {
            JsonObject message = new JsonObject(entry.getMessage()).getJsonObject("message");
            if ("Network.requestWillBeSent".equals(message.getString("method"))) {
                JsonObject params = message.getJsonObject("params");
                if (!browserOwn(params.getString("documentURL", ""))) {
                    requested.add(params.getJsonObject("request").getString("url"));
                }
            }
        }
        return List.copyOf(requested);
    }

    /**
     * What the pages' console reported as errors since the last call: Content-Security-Policy violations, resources
     * that failed to load, script errors.
     */
    public List<String> consoleErrors() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage).toList();
    }

    /** Chromium's own pages (the new-tab page it opens at start, say) load chrome:// resources: not the site's. */
    private static boolean browserOwn(String documentUrl) {
        return documentUrl.startsWith("chrome:") || documentUrl.startsWith("chrome-untrusted:")
                || documentUrl.startsWith("devtools:");
    }

    /** The cookies the browser holds for the current page's site. */
    public Set<Cookie> cookies() {
        return driver.manage().getCookies();
    }

    /** Saves the whole page (not only the window) to {@code target/screenshots/<name>.png}; returns the file. */
    public Path screenshot(String name) {
        Map<String, Object> metrics = driver.executeCdpCommand("Page.getLayoutMetrics", Map.of());
        @SuppressWarnings("unchecked")
        Map<String, Object> size = (Map<String, Object>) metrics.get("cssContentSize");
        Map<String, Object> clip = new HashMap<>();
        clip.put("x", 0);
        clip.put("y", 0);
        clip.put("width", ((Number) size.get("width")).doubleValue());
        clip.put("height", ((Number) size.get("height")).doubleValue());
        clip.put("scale", 1);
        Map<String, Object> shot = driver.executeCdpCommand("Page.captureScreenshot",
                Map.of("format", "png", "captureBeyondViewport", true, "clip", clip));
        Path file = screenshots().resolve(name + ".png");
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, Base64.getDecoder().decode((String) shot.get("data")));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** Saves what the window shows (not the whole page) to {@code target/screenshots/<name>.png}; returns the file. */
    public Path windowScreenshot(String name) {
        Path file = screenshots().resolve(name + ".png");
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, driver.getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    /** {@code target/screenshots} of the module under test. */
    public static Path screenshots() {
        return Path.of(System.getProperty("basedir", ".")).resolve("target").resolve("screenshots");
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            service.stop();
            deleteTree(profile);
        }
    }

    private static void deleteTree(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // a leftover temporary profile is harmless
        }
    }
}
