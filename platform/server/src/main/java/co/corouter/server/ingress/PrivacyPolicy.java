package co.corouter.server.ingress;

import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The privacy policy as published: the plain text of {@code co/corouter/pages/privacy-policy.txt}, its version (the
 * date of its "Last updated" line) and the text rendered as HTML. Numbered lines ({@code 3. Cookies}) become headings,
 * lines starting with a bullet become list items, other lines paragraphs; everything is escaped, e-mail addresses
 * become {@code mailto:} links.
 */
record PrivacyPolicy(String title, LocalDate version, String html) {

    private static final Pattern UPDATED = Pattern.compile("Last updated (.+)");
    private static final Pattern SECTION = Pattern.compile("\\d+\\.\\s.*");
    private static final Pattern MAIL = Pattern.compile("[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)+");
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("MMMM d, uuuu", Locale.ENGLISH);
    private static final String BULLET = "\u2022";

    /** Parses the policy text; fails with the reason when it has no title or no readable "Last updated" date. */
    static PrivacyPolicy parse(String text, String source) {
        List<String> lines = text.lines().map(String::strip).toList();
        String title = null;
        LocalDate version = null;
        StringBuilder html = new StringBuilder();
        boolean inList = false;
        for (String line : lines) {
            if (line.isEmpty()) {
                continue;
            }
            boolean bullet = line.startsWith(BULLET);
            if (inList && !bullet) {
                html.append("</ul>\n");
                inList = false;
            }
            Matcher updated = UPDATED.matcher(line);
            if (title == null) {
                title = line;
                html.append("<h1>").append(Html.escape(line)).append("</h1>\n");
            } else if (version == null && updated.matches()) {
                try {
                    version = LocalDate.parse(updated.group(1).strip(), DATE);
                } catch (DateTimeParseException e) {
                    throw new IllegalStateException(source + ": cannot read the date of '" + line + "'", e);
                }
                html.append("<p class=\"note\">").append(Html.escape(line)).append("</p>\n");
            } else if (bullet) {
                if (!inList) {
                    html.append("<ul>\n");
                    inList = true;
                }
                html.append("<li>").append(item(line.substring(BULLET.length()).strip())).append("</li>\n");
            } else if (SECTION.matcher(line).matches()) {
                html.append("<h2>").append(Html.escape(line)).append("</h2>\n");
            } else {
                html.append("<p>").append(linked(line)).append("</p>\n");
            }
        }
        if (inList) {
            html.append("</ul>\n");
        }
        if (title == null || version == null) {
            throw new IllegalStateException(source + " needs a title line and a 'Last updated <Month d, yyyy>' line");
        }
        return new PrivacyPolicy(title, version, html.toString());
    }

    /** A list item; a short label before its first colon ("Billing data: ...") is set in bold. */
    private static String item(String text) {
        int colon = text.indexOf(':');
        if (colon > 0 && colon <= 40) {
            return "<strong>" + Html.escape(text.substring(0, colon + 1)) + "</strong>" + linked(text.substring(colon + 1));
        }
        return linked(text);
    }

    private static String linked(String text) {
        StringBuilder out = new StringBuilder();
        Matcher mail = MAIL.matcher(text);
        int at = 0;
        while (mail.find()) {
            out.append(Html.escape(text.substring(at, mail.start())));
            String address = Html.escape(mail.group());
            out.append("<a href=\"mailto:").append(address).append("\">").append(address).append("</a>");
            at = mail.end();
        }
        return out.append(Html.escape(text.substring(at))).toString();
    }
}
