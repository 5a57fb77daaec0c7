package co.corouter.server.ingress;

import co.corouter.server.accounts.ApiKeys;
import co.corouter.server.common.Money;
import co.corouter.server.routing.ModelCatalog;
import java.math.BigDecimal;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.text.NumberFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ResourceBundle;

/**
 * The HTML of the public pages in each language, from the {@code co/corouter/pages/messages} bundle. Every value that
 * is not a literal of this class (words from the bundle, model names from the catalog, the request's origin) is
 * escaped. The catalog is immutable, so its table is rendered once per language.
 */
final class PageViews {

    /** A public page: its path, and the bundle key of its title. */
    enum Page {
        LANDING("/", "landing.title"), PRIVACY("/privacy", "privacy.title"), COOKIES("/cookies", "cookies.title");

        final String path;
        final String titleKey;

        Page(String path, String titleKey) {
            this.path = path;
            this.titleKey = titleKey;
        }
    }

    private static final String BUNDLE = "co.corouter.pages.messages";
    private static final String SIGN_UP = "/console/#/sign-up";
    private static final String SIGN_IN = "/console/#/sign-in";

    private final List<Locale> languages;
    private final PrivacyPolicy policy;
    private final String cssHref;
    private final String exampleModel;
    private final Map<Locale, ResourceBundle> bundles = new HashMap<>();
    private final Map<Locale, String> catalogTables = new HashMap<>();

    PageViews(List<Locale> languages, ModelCatalog catalog, PrivacyPolicy policy, String cssHref) {
        this.languages = languages;
        this.policy = policy;
        this.cssHref = cssHref;
        String example = "corouter/mock-small";
        for (ModelCatalog.Model model : catalog.all()) {
            if (!model.embedding()) {
                example = model.id();
                break;
            }
        }
        this.exampleModel = example;
        for (Locale locale : languages) {
            // no fallback to the JVM's default locale: English is the base bundle, whatever the machine's locale
            ResourceBundle bundle = ResourceBundle.getBundle(BUNDLE, locale,
                    ResourceBundle.Control.getNoFallbackControl(ResourceBundle.Control.FORMAT_PROPERTIES));
            bundles.put(locale, bundle);
            catalogTables.put(locale, catalogTable(catalog, bundle, locale));
        }
    }

    /** The landing page; {@code origin} ({@code https://host}) is where clients are told to point. */
    String landing(Locale locale, String origin) {
        ResourceBundle t = bundles.get(locale);
        StringBuilder main = new StringBuilder();
        main.append("<h1>").append(text(t, "landing.heading")).append("</h1>\n")
                .append("<p class=\"lead\">").append(text(t, "landing.lead")).append("</p>\n")
                .append("<ul class=\"points\">\n");
        for (String point : List.of("compatible", "routing", "billing", "privacy")) {
            main.append("<li>").append(text(t, "landing.point." + point)).append("</li>\n");
        }
        main.append("</ul>\n<p class=\"actions\">")
                .append("<a class=\"button\" id=\"sign-up\" href=\"").append(SIGN_UP).append("\">")
                .append(text(t, "nav.signUp")).append("</a>")
                .append("<a class=\"button secondary\" id=\"sign-in\" href=\"").append(SIGN_IN).append("\">")
                .append(text(t, "nav.signIn")).append("</a></p>\n");

        String key = ApiKeys.PREFIX + "\u2026";
        main.append("<h2 id=\"start\">").append(text(t, "landing.start.heading")).append("</h2>\n")
                .append("<p>").append(text(t, "landing.start.text")).append("</p>\n<div class=\"clients\">\n")
                .append("<section><h3>").append(text(t, "landing.openai.heading")).append("</h3>\n<p>")
                .append(text(t, "landing.openai.text", code(origin + "/v1"))).append("</p>\n")
                .append(pre("export OPENAI_BASE_URL=\"" + origin + "/v1\"\nexport OPENAI_API_KEY=\"" + key + "\"\n\n"
                        + "from openai import OpenAI\n\n"
                        + "client = OpenAI()\n"
                        + "reply = client.chat.completions.create(\n"
                        + "    model=\"" + exampleModel + "\",\n"
                        + "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n"
                        + ")"))
                .append("</section>\n<section><h3>").append(text(t, "landing.anthropic.heading")).append("</h3>\n<p>")
                .append(text(t, "landing.anthropic.text", code(origin))).append("</p>\n")
                .append(pre("export ANTHROPIC_BASE_URL=\"" + origin + "\"\nexport ANTHROPIC_API_KEY=\"" + key
                        + "\"\n\n"
                        + "from anthropic import Anthropic\n\n"
                        + "client = Anthropic()\n"
                        + "reply = client.messages.create(\n"
                        + "    model=\"" + exampleModel + "\", max_tokens=256,\n"
                        + "    messages=[{\"role\": \"user\", \"content\": \"Hello\"}],\n"
                        + ")"))
                .append("</section>\n</div>\n");

        main.append("<h2 id=\"models\">").append(text(t, "landing.models.heading")).append("</h2>\n")
                .append("<p>").append(text(t, "landing.models.text")).append("</p>\n")
                .append(catalogTables.get(locale));
        return layout(locale, Page.LANDING, main.toString());
    }

    String privacy(Locale locale) {
        ResourceBundle t = bundles.get(locale);
        StringBuilder main = new StringBuilder();
        String onlyEnglish = t.getString("privacy.onlyEnglish");
        if (!onlyEnglish.isEmpty()) {
            main.append("<p class=\"notice\">").append(Html.escape(onlyEnglish)).append("</p>\n");
        }
        main.append("<article class=\"policy\" lang=\"en\" id=\"policy\" data-version=\"")
                .append(Html.escape(policy.version().toString())).append("\">\n")
                .append(policy.html())
                .append("</article>\n<p class=\"note\">").append(text(t, "privacy.version", code(policy.version()
                        .toString()))).append("</p>\n");
        return layout(locale, Page.PRIVACY, main.toString());
    }

    /** The cookie list and the language form; {@code chosen} is the language in the visitor's cookie, or null. */
    String cookies(Locale locale, Locale chosen) {
        ResourceBundle t = bundles.get(locale);
        StringBuilder main = new StringBuilder();
        main.append("<h1>").append(text(t, "cookies.heading")).append("</h1>\n")
                .append("<p class=\"lead\">").append(text(t, "cookies.lead")).append("</p>\n")
                .append("<div class=\"cookies\">\n")
                .append(cookie(t, PublicPages.LOCALE_COOKIE, "locale"))
                .append(cookie(t, "__Host-corouter_session", "session"))
                .append(cookie(t, "__Host-corouter_csrf", "csrf"))
                .append("</div>\n<p class=\"note\">").append(text(t, "cookies.plainHttp")).append("</p>\n");

        main.append("<h2 id=\"language\">").append(text(t, "cookies.choice.heading")).append("</h2>\n<p id=\"choice\">")
                .append(chosen == null ? text(t, "cookies.choice.none", Html.escape(languageName(locale)))
                        : text(t, "cookies.choice.stored", Html.escape(languageName(chosen))))
                .append("</p>\n<form class=\"choice\" method=\"post\" action=\"/locale\">\n")
                .append("<input type=\"hidden\" name=\"back\" value=\"").append(Page.COOKIES.path).append("\">\n")
                .append("<label for=\"lang\">").append(text(t, "cookies.choice.label")).append("</label>\n")
                .append("<select id=\"lang\" name=\"lang\">\n");
        Locale selected = chosen == null ? locale : chosen;
        for (Locale language : languages) {
            main.append("<option value=\"").append(language.getLanguage()).append('"')
                    .append(language.equals(selected) ? " selected" : "").append(" lang=\"")
                    .append(language.getLanguage()).append("\">").append(Html.escape(languageName(language)))
                    .append("</option>\n");
        }
        main.append("</select>\n<button type=\"submit\" id=\"save-language\">").append(text(t, "cookies.choice.save"))
                .append("</button>\n</form>\n");
        if (chosen != null) {
            main.append("<form class=\"choice\" method=\"post\" action=\"/locale\">\n")
                    .append("<input type=\"hidden\" name=\"back\" value=\"").append(Page.COOKIES.path).append("\">\n")
                    .append("<input type=\"hidden\" name=\"lang\" value=\"\">\n")
                    .append("<button type=\"submit\" class=\"secondary\" id=\"clear-language\">")
                    .append(text(t, "cookies.choice.clear")).append("</button>\n</form>\n");
        }
        return layout(locale, Page.COOKIES, main.toString());
    }

    private static String cookie(ResourceBundle t, String name, String key) {
        return "<section class=\"cookie\" id=\"cookie-" + key + "\"><h3><code>" + Html.escape(name) + "</code></h3><dl>"
                + "<dt>" + text(t, "cookies.purpose") + "</dt><dd>" + text(t, "cookies." + key + ".purpose") + "</dd>"
                + "<dt>" + text(t, "cookies.lifetime") + "</dt><dd>" + text(t, "cookies." + key + ".lifetime") + "</dd>"
                + "<dt>" + text(t, "cookies.when") + "</dt><dd>" + text(t, "cookies." + key + ".when") + "</dd>"
                + "</dl></section>\n";
    }

    private String layout(Locale locale, Page page, String main) {
        ResourceBundle t = bundles.get(locale);
        String title = text(t, page.titleKey);
        StringBuilder html = new StringBuilder(main.length() + 4096);
        html.append("<!doctype html>\n<html lang=\"").append(locale.getLanguage()).append("\">\n<head>\n")
                .append("<meta charset=\"utf-8\">\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .append("<title>").append(title).append("</title>\n")
                .append("<meta name=\"description\" content=\"").append(text(t, "site.description")).append("\">\n")
                // an empty icon: no favicon request at all
                .append("<link rel=\"icon\" href=\"data:,\">\n")
                .append("<link rel=\"stylesheet\" href=\"").append(Html.escape(cssHref)).append("\">\n")
                .append("</head>\n<body>\n")
                .append("<a class=\"skip\" href=\"#main\">").append(text(t, "nav.skip")).append("</a>\n")
                .append("<header class=\"top\"><div class=\"wrap\">")
                .append("<a class=\"brand\" href=\"/\">co<span>router</span></a>\n<nav class=\"nav\">")
                .append("<a href=\"/#models\">").append(text(t, "nav.models")).append("</a>")
                .append("<a href=\"").append(SIGN_IN).append("\">").append(text(t, "nav.signIn")).append("</a>")
                .append("<a href=\"").append(SIGN_UP).append("\">").append(text(t, "nav.signUp")).append("</a>")
                .append(languageLinks(t, locale, page))
                .append("</nav></div></header>\n")
                .append("<main id=\"main\" class=\"wrap\">\n").append(main).append("</main>\n")
                .append("<footer class=\"wrap\"><nav>")
                .append("<a href=\"/privacy\" id=\"footer-privacy\">").append(text(t, "footer.privacy")).append("</a>")
                .append("<a href=\"/cookies\" id=\"footer-cookies\">").append(text(t, "footer.cookies")).append("</a>")
                .append("<a href=\"/console/\">").append(text(t, "nav.console")).append("</a>")
                .append("</nav><p>").append(text(t, "footer.note")).append("</p></footer>\n")
                .append("</body>\n</html>\n");
        return html.toString();
    }

    /** Links that choose a language (and so set the locale cookie), each returning to this page. */
    private String languageLinks(ResourceBundle t, Locale current, Page page) {
        StringBuilder links = new StringBuilder("<span class=\"lang\" role=\"group\" aria-label=\"")
                .append(text(t, "nav.language")).append("\">");
        String back = URLEncoder.encode(page.path, StandardCharsets.UTF_8);
        for (Locale language : languages) {
            String code = language.getLanguage();
            links.append("<a id=\"lang-").append(code).append("\" href=\"/locale?lang=").append(code)
                    .append("&amp;back=").append(back).append("\" hreflang=\"").append(code).append("\" lang=\"")
                    .append(code).append('"').append(language.equals(current) ? " aria-current=\"true\"" : "")
                    .append('>').append(Html.escape(languageName(language))).append("</a>");
        }
        return links.append("</span>").toString();
    }

    private static String catalogTable(ModelCatalog catalog, ResourceBundle t, Locale locale) {
        StringBuilder rows = new StringBuilder();
        for (ModelCatalog.Model model : catalog.all()) {
            ModelCatalog.Endpoint cheapest = model.cheapest();
            boolean several = model.endpoints().size() > 1;
            rows.append("<tr data-model=\"").append(Html.escape(model.id())).append("\"><td>")
                    .append("<span class=\"model-name\">").append(Html.escape(model.name()));
            if (model.embedding()) {
                rows.append("<span class=\"tag\">").append(text(t, "landing.models.embedding")).append("</span>");
            }
            // data-label: a phone shows each row as a card, the column's name beside each value
            rows.append("</span><code class=\"model-id\">").append(Html.escape(model.id())).append("</code></td>")
                    .append("<td class=\"num\" data-label=\"").append(text(t, "landing.models.context")).append("\">")
                    .append(number(locale).format(model.contextLength())).append("</td>")
                    .append("<td class=\"num price-prompt\" data-label=\"").append(text(t, "landing.models.prompt"))
                    .append("\">").append(price(t, locale, cheapest.promptNanosPerMillion(), several)).append("</td>")
                    .append("<td class=\"num price-completion\" data-label=\"")
                    .append(text(t, "landing.models.completion")).append("\">")
                    .append(model.embedding() ? "\u2014" : price(t, locale, cheapest.completionNanosPerMillion(),
                            several))
                    .append("</td></tr>\n");
        }
        if (rows.length() == 0) {
            return "<p>" + text(t, "landing.models.empty") + "</p>\n";
        }
        return "<div class=\"table\"><table id=\"catalog\">\n<thead><tr><th scope=\"col\">"
                + text(t, "landing.models.model") + "</th><th scope=\"col\" class=\"num\">"
                + text(t, "landing.models.context") + "</th><th scope=\"col\" class=\"num\">"
                + text(t, "landing.models.prompt") + "</th><th scope=\"col\" class=\"num\">"
                + text(t, "landing.models.completion") + "</th></tr></thead>\n<tbody>\n" + rows
                + "</tbody></table></div>\n";
    }

    /** A price per million tokens in the page's language: {@code $0.50} or {@code 0,50 $}, never rounded. */
    static String usd(Locale locale, long nanosPerMillion) {
        BigDecimal usd = Money.toUsd(nanosPerMillion);
        NumberFormat format = number(locale);
        format.setMinimumFractionDigits(2);
        format.setMaximumFractionDigits(Money.SCALE);
        String amount = format.format(usd);
        return Locale.GERMAN.getLanguage().equals(locale.getLanguage()) ? amount + "\u00a0$" : "$" + amount;
    }

    private static String price(ResourceBundle t, Locale locale, long nanosPerMillion, boolean from) {
        String amount = Html.escape(usd(locale, nanosPerMillion));
        return from ? text(t, "landing.models.from", amount) : amount;
    }

    private static NumberFormat number(Locale locale) {
        return NumberFormat.getNumberInstance(locale);
    }

    static String languageName(Locale language) {
        return language.getDisplayLanguage(language);
    }

    private static String code(String text) {
        return "<code>" + Html.escape(text) + "</code>";
    }

    private static String pre(String text) {
        return "<pre><code>" + Html.escape(text) + "</code></pre>\n";
    }

    /** A bundle text, escaped, with {@code {0}}, {@code {1}}... replaced by the given (already safe) HTML. */
    private static String text(ResourceBundle t, String key, String... html) {
        String escaped = Html.escape(t.getString(key));
        for (int i = 0; i < html.length; i++) {
            escaped = escaped.replace("{" + i + "}", html[i]);
        }
        return escaped;
    }
}
