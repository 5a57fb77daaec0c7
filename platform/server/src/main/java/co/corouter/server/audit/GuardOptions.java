package co.corouter.server.audit;

import inet.ipaddr.AddressStringException;
import inet.ipaddr.AddressStringParameters.RangeParameters;
import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The operator's settings for the {@link SsrfGuard}, validated once at boot.
 *
 * <pre>
 * allow_http:          false            # optional: plain http:// endpoints (never for production)
 * allow_plaintext_tcp: false            # optional: raw TCP without TLS (a Kafka broker's PLAINTEXT listener)
 * allow_list: [127.0.0.1/32]            # optional: CIDRs or addresses allowed although private (tests, an
 *                                       #   operator's own S3 server); never overrides deny_list
 * deny_list:  [203.0.113.0/24]          # optional: more CIDRs or addresses to refuse
 * resolver:   dns                       # optional: dns (default: Vert.x's non-blocking client asks the first
 *                                       #   resolv.conf server) or system (the OS resolver, /etc/hosts included,
 *                                       #   on worker threads)
 * </pre>
 *
 * @param allowHttp         whether {@code http} endpoints pass
 * @param allowPlaintextTcp whether {@code tcp} (plaintext) endpoints pass
 * @param allowList         prefix blocks exempt from the built-in rules
 * @param denyList          prefix blocks always refused
 * @param resolver          how names are resolved
 */
public record GuardOptions(boolean allowHttp, boolean allowPlaintextTcp, List<IPAddress> allowList,
                           List<IPAddress> denyList, Resolver resolver) {

    /** See {@link HostResolver#dns} and {@link HostResolver#system}. */
    public enum Resolver {
        DNS, SYSTEM
    }

    static final String ALLOW_HTTP = "allow_http";
    static final String ALLOW_PLAINTEXT_TCP = "allow_plaintext_tcp";
    static final String ALLOW_LIST = "allow_list";
    static final String DENY_LIST = "deny_list";
    static final String RESOLVER = "resolver";
    private static final Set<String> FIELDS = Set.of(ALLOW_HTTP, ALLOW_PLAINTEXT_TCP, ALLOW_LIST, DENY_LIST,
            RESOLVER);

    /** Plain CIDR notation only: no wildcards, ranges, masks or inet_aton forms in an operator's list. */
    private static final IPAddressStringParameters CIDR = cidrSyntax();

    /** Refuses every private, loopback and link-local address; https and TLS only. */
    public static final GuardOptions DEFAULTS = new GuardOptions(false, false, List.of(), List.of(), Resolver.DNS);

    public GuardOptions {
        Objects.requireNonNull(resolver, "resolver");
        allowList = List.copyOf(allowList);
        denyList = List.copyOf(denyList);
    }

    /** Parses and validates; every failure is an {@link IllegalArgumentException} naming the field. */
    public static GuardOptions parse(JsonObject config) {
        JsonObject c = config == null ? new JsonObject() : config;
        Set<String> unknown = new TreeSet<>(c.fieldNames());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown field(s) " + unknown + "; known: " + new TreeSet<>(FIELDS));
        }
        return new GuardOptions(bool(c, ALLOW_HTTP), bool(c, ALLOW_PLAINTEXT_TCP), blocks(c, ALLOW_LIST),
                blocks(c, DENY_LIST), resolver(c.getValue(RESOLVER)));
    }

    /**
     * One CIDR ({@code 10.0.0.0/8}, {@code fd00::/8}) or address ({@code 127.0.0.1}) as a prefix block.
     *
     * @throws IllegalArgumentException when it is not one, or has bits set beyond its prefix ({@code 10.1.0.0/8})
     */
    public static IPAddress block(String cidr) {
        IPAddress address;
        try {
            address = new IPAddressString(cidr.strip(), CIDR).toAddress();
        } catch (AddressStringException e) {
            throw new IllegalArgumentException("'" + cidr + "' is not a CIDR range or IP address");
        }
        if (address.isPrefixed() && !address.isPrefixBlock()) {
            throw new IllegalArgumentException("'" + cidr + "' has bits set beyond its prefix; did you mean "
                    + address.toPrefixBlock().toCanonicalString() + "?");
        }
        return address.isPrefixed() ? address : address.toPrefixBlock(address.getBitCount());
    }

    private static IPAddressStringParameters cidrSyntax() {
        IPAddressStringParameters.Builder builder = new IPAddressStringParameters.Builder()
                .allowEmpty(false).allowAll(false).allowMask(false).allowPrefixOnly(false).allowSingleSegment(false)
                .allow_inet_aton(false).setRangeOptions(RangeParameters.NO_RANGE).allowWildcardedSeparator(false);
        builder.getIPv6AddressParametersBuilder().allowZone(false);
        return builder.toParams();
    }

    private static Resolver resolver(Object value) {
        if (value == null) {
            return Resolver.DNS;
        }
        if ("dns".equals(value)) {
            return Resolver.DNS;
        }
        if ("system".equals(value)) {
            return Resolver.SYSTEM;
        }
        throw new IllegalArgumentException(RESOLVER + ": must be dns or system, got " + value);
    }

    private static boolean bool(JsonObject c, String field) {
        Object value = c.getValue(field);
        if (value == null) {
            return false;
        }
        if (!(value instanceof Boolean b)) {
            throw new IllegalArgumentException(field + ": must be true or false, got " + value);
        }
        return b;
    }

    private static List<IPAddress> blocks(JsonObject c, String field) {
        Object value = c.getValue(field);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof JsonArray array)) {
            throw new IllegalArgumentException(field + ": must be a list of CIDR ranges, e.g. [10.0.0.0/8]");
        }
        List<IPAddress> blocks = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            if (!(array.getValue(i) instanceof String text)) {
                throw new IllegalArgumentException(field + "[" + i + "]: must be a string such as 10.0.0.0/8");
            }
            try {
                blocks.add(block(text));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(field + "[" + i + "]: " + e.getMessage());
            }
        }
        return blocks;
    }
}
