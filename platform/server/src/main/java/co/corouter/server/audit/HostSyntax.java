package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import inet.ipaddr.AddressStringException;
import inet.ipaddr.AddressStringParameters.RangeParameters;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;
import inet.ipaddr.ipv6.IPv6Address;

import java.net.IDN;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Reads a customer-given host the way the most permissive client would, so that every spelling of an address is
 * recognised before anything is decided: {@code 2130706433}, {@code 0177.0.0.1}, {@code 0x7f.1} and {@code 127.1}
 * are all 127.0.0.1 (as {@code inet_aton} and browsers read them), {@code [::ffff:7f00:1]} is IPv6, and fullwidth
 * digits and dots fold to ASCII (IDNA). What cannot be read unambiguously is refused.
 */
final class HostSyntax {

    /** A host as it will be used: an address, or a DNS name to resolve. */
    sealed interface Host permits Literal, Name {
        /** For the Host header and TLS server name: lower-case ASCII, IPv6 without brackets, no trailing dot. */
        String text();
    }

    record Literal(IPAddress address, String text) implements Host {
    }

    record Name(String text) implements Host {
    }

    private static final int MAX_INPUT = 300;
    private static final int MAX_NAME = 253;
    private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** WHATWG URL: a host whose last label is a number is an IPv4 address or invalid, never a DNS name. */
    private static final Pattern NUMBER = Pattern.compile("[0-9]+|0x[0-9a-f]*");
    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9._~-]{1,64}");
    private static final IPAddressStringParameters IPV4 = ipv4Syntax();
    private static final IPAddressStringParameters IPV6 = ipv6Syntax();

    private HostSyntax() {
    }

    /** @throws AuditException {@link Kind#REFUSED} naming what is wrong with the host */
    static Host parse(String given) {
        if (given == null || given.isEmpty()) {
            throw refused("the endpoint has no host");
        }
        if (given.length() > MAX_INPUT) {
            throw refused("the host is longer than " + MAX_INPUT + " characters");
        }
        for (int i = 0; i < given.length(); i++) {
            char c = given.charAt(i);
            if (c <= ' ' || c == 0x7f || Character.isWhitespace(c) || Character.isISOControl(c)) {
                throw refused("the host contains a space or control character");
            }
        }
        if (given.indexOf('@') >= 0) {
            throw refused("the host contains '@': user info is not allowed in an endpoint");
        }
        if (given.chars().anyMatch(c -> c == '/' || c == '\\' || c == '?' || c == '#')) {
            throw refused("the host contains '/', '\\', '?' or '#': give a host name or address, not a URL");
        }
        if (given.startsWith("[")) {
            if (!given.endsWith("]") || given.indexOf(':') < 0) {
                throw refused(shown(given) + " is not a valid bracketed IPv6 address");
            }
            return ipv6(given.substring(1, given.length() - 1), given);
        }
        if (given.indexOf(':') >= 0) {
            return ipv6(given, given);
        }
        if (given.indexOf('%') >= 0) {
            throw refused("the host contains '%': percent-encoded hosts are not allowed");
        }
        return nameOrIPv4(given);
    }

    private static Host ipv6(String text, String given) {
        int zone = text.indexOf('%');
        if (zone >= 0 && !ZONE.matcher(text.substring(zone + 1)).matches()) {
            throw refused(shown(given) + " has an invalid IPv6 zone id");
        }
        IPAddress address = address(text, IPV6, shown(given) + " is not a valid IPv6 address (a port goes in the"
                + " port field)");
        // Java connects to ::ffff:a.b.c.d over IPv4, so that is the host's name too
        IPAddress connected = address instanceof IPv6Address v6 && v6.isIPv4Mapped()
                ? v6.getEmbeddedIPv4Address() : address;
        return new Literal(address, AddressPolicy.text(connected));
    }

    private static Host nameOrIPv4(String given) {
        String ascii;
        try {
            ascii = IDN.toASCII(given, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw refused(shown(given) + " is not a valid host name");
        }
        String name = ascii.endsWith(".") ? ascii.substring(0, ascii.length() - 1) : ascii;
        String[] labels = name.split("\\.", -1);
        for (String label : labels) {
            if (label.isEmpty()) {
                throw refused(shown(given) + " has an empty label");
            }
        }
        if (NUMBER.matcher(labels[labels.length - 1]).matches()) {
            IPAddress address = address(name, IPV4,
                    shown(given) + " looks like an IPv4 address but is not a valid one");
            return new Literal(address, AddressPolicy.text(address));
        }
        if (name.length() > MAX_NAME) {
            throw refused("the host name is longer than " + MAX_NAME + " characters");
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw refused(shown(given) + " is not a valid host name (letters, digits and inner hyphens only)");
            }
        }
        return new Name(name);
    }

    private static IPAddress address(String text, IPAddressStringParameters syntax, String refusal) {
        try {
            return new IPAddressString(text, syntax).toAddress();
        } catch (AddressStringException e) {
            throw refused(refusal);
        }
    }

    /** The given host, quoted, for a message; it passed the control-character check, so it is safe to echo. */
    private static String shown(String given) {
        return "'" + given + "'";
    }

    private static AuditException refused(String message) {
        return new AuditException(Kind.REFUSED, message);
    }

    private static IPAddressStringParameters.Builder strict() {
        return new IPAddressStringParameters.Builder().allowEmpty(false).allowAll(false).allowPrefix(false)
                .allowMask(false).allowPrefixOnly(false).setRangeOptions(RangeParameters.NO_RANGE)
                .allowWildcardedSeparator(false);
    }

    private static IPAddressStringParameters ipv4Syntax() {
        IPAddressStringParameters.Builder builder = strict().allowIPv6(false).allowSingleSegment(true);
        builder.getIPv4AddressParametersBuilder().allow_inet_aton(true).allow_inet_aton_hex(true)
                .allow_inet_aton_octal(true).allow_inet_aton_joined_segments(true)
                .allow_inet_aton_leading_zeros(true).allowBinary(false);
        return builder.toParams();
    }

    private static IPAddressStringParameters ipv6Syntax() {
        IPAddressStringParameters.Builder builder = strict().allowIPv4(false).allowSingleSegment(false);
        builder.getIPv6AddressParametersBuilder().allowZone(true).allowMixed(true).allowBase85(false)
                .allowBinary(false);
        return builder.toParams();
    }
}
