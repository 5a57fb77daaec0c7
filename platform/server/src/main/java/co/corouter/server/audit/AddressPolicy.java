package co.corouter.server.audit;

import inet.ipaddr.IPAddress;
import inet.ipaddr.ipv4.IPv4Address;
import inet.ipaddr.ipv6.IPv6Address;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which addresses a customer-given endpoint may resolve to: the operator's deny list, then the operator's allow list,
 * then the IANA special-purpose registries (RFC 6890 and successors). IPv6 is refused outside global unicast
 * (2000::/3) unless it carries a public IPv4 address the standard ways (mapped, NAT64, 6to4).
 */
final class AddressPolicy {

    private record Rule(IPAddress block, String what) {
    }

    /** First match wins, so a specific block (a metadata address) comes before the range that holds it. */
    private static final List<Rule> IPV4 = rules(
            "255.255.255.255/32", "the broadcast address",
            "0.0.0.0/8", "a \"this network\" (unspecified) address",
            "10.0.0.0/8", "a private address",
            "100.100.100.200/32", "a carrier-grade NAT (Alibaba Cloud metadata) address",
            "100.64.0.0/10", "a carrier-grade NAT address",
            "127.0.0.0/8", "a loopback address",
            "169.254.169.254/32", "a link-local (cloud metadata) address",
            "169.254.0.0/16", "a link-local address",
            "172.16.0.0/12", "a private address",
            "192.0.0.0/24", "an IETF protocol assignment (reserved) address",
            "192.0.2.0/24", "a documentation address",
            "192.88.99.0/24", "a 6to4 relay anycast address",
            "192.168.0.0/16", "a private address",
            "198.18.0.0/15", "a benchmarking address",
            "198.51.100.0/24", "a documentation address",
            "203.0.113.0/24", "a documentation address",
            "224.0.0.0/4", "a multicast address",
            "240.0.0.0/4", "a reserved address");

    private static final List<Rule> IPV6 = rules(
            "::/128", "the unspecified address",
            "::1/128", "a loopback address",
            "64:ff9b:1::/48", "a local-use NAT64 address",
            "100::/64", "a discard-only address",
            "2001::/32", "a Teredo tunnel address",
            "2001:2::/48", "a benchmarking address",
            "2001:db8::/32", "a documentation address",
            "2001::/23", "an IETF protocol assignment (reserved) address",
            "3fff::/20", "a documentation address",
            "fd00:ec2::254/128", "a unique local (AWS metadata) address",
            "fd20:ce::254/128", "a unique local (Google Cloud metadata) address",
            "fc00::/7", "a unique local (private) address",
            "fe80::/10", "a link-local address",
            "fec0::/10", "a site-local (deprecated private) address",
            "ff00::/8", "a multicast address");

    private static final IPAddress NAT64 = GuardOptions.block("64:ff9b::/96");
    private static final IPAddress SIX_TO_FOUR = GuardOptions.block("2002::/16");
    private static final IPAddress IPV4_COMPATIBLE = GuardOptions.block("::/96");
    private static final IPAddress GLOBAL_UNICAST = GuardOptions.block("2000::/3");

    private final List<IPAddress> allowList;
    private final List<IPAddress> denyList;

    AddressPolicy(GuardOptions options) {
        this.allowList = options.allowList();
        this.denyList = options.denyList();
    }

    /** Why an address is refused: {@code address} is {@code what} ("169.254.169.254", "a link-local address"). */
    record Refusal(String address, String what) {

        /** "169.254.169.254 is a link-local address". */
        String message() {
            return address + " is " + what;
        }

        /** "evil.example resolves to 10.0.0.1, a private address". */
        String message(String name) {
            return name + " resolves to " + address + ", " + what;
        }
    }

    /** Empty when the address may be reached, else why not. */
    Optional<Refusal> refusal(IPAddress address) {
        if (address instanceof IPv6Address v6 && v6.isIPv4Mapped() && v6.hasZone()) {
            return Optional.of(new Refusal(text(v6), "an IPv4-mapped address with a zone id"));
        }
        if (address instanceof IPv6Address v6 && v6.isIPv4Mapped()) {
            // Java connects to ::ffff:a.b.c.d as a.b.c.d, so it is that address, allow list included
            IPv4Address v4 = v6.getEmbeddedIPv4Address();
            return refusal(v4).map(r -> new Refusal(text(v6), "an IPv4-mapped address of " + text(v4) + ", "
                    + r.what()));
        }
        IPv4Address embedded = address instanceof IPv6Address v6 ? embeddedIPv4(v6) : null;
        if (in(denyList, address)) {
            return Optional.of(new Refusal(text(address), "in the operator's deny list"));
        }
        if (embedded != null && in(denyList, embedded)) {
            return Optional.of(new Refusal(text(address), embedding(address) + " " + text(embedded)
                    + ", which is in the operator's deny list"));
        }
        if (in(allowList, address)) {
            return Optional.empty();
        }
        if (address instanceof IPv4Address v4) {
            return builtIn(IPV4, v4).map(what -> new Refusal(text(v4), what));
        }
        IPv6Address v6 = (IPv6Address) address;
        Optional<String> what = builtIn(IPV6, v6);
        if (what.isEmpty() && embedded != null) {
            // the packet leaves towards the embedded IPv4 address (NAT64, a 6to4 relay); judge that one
            what = builtIn(IPV4, embedded).map(v4What -> embedding(v6) + " " + text(embedded) + ", " + v4What);
            if (what.isEmpty() && IPV4_COMPATIBLE.contains(v6.removeZone())) {
                what = Optional.of("a deprecated IPv4-compatible address");
            }
        } else if (what.isEmpty() && !GLOBAL_UNICAST.contains(v6.removeZone())) {
            what = Optional.of("a reserved address (outside global unicast 2000::/3)");
        }
        if (what.isEmpty() && v6.hasZone()) {
            what = Optional.of("a global address with a zone id (only link-local addresses take one)");
        }
        return what.map(w -> new Refusal(text(v6), w));
    }

    private static String embedding(IPAddress v6) {
        IPAddress bare = ((IPv6Address) v6).removeZone();
        return NAT64.contains(bare) ? "a NAT64 address of" : SIX_TO_FOUR.contains(bare) ? "a 6to4 address of"
                : "an IPv4-compatible address of";
    }

    /** The IPv4 address a NAT64, 6to4 or IPv4-compatible address carries, else null. */
    private static IPv4Address embeddedIPv4(IPv6Address v6) {
        IPv6Address bare = v6.removeZone();
        if (NAT64.contains(bare) || IPV4_COMPATIBLE.contains(bare)) {
            return bare.getEmbeddedIPv4Address();
        }
        if (SIX_TO_FOUR.contains(bare)) {
            return bare.get6To4IPv4Address();
        }
        return null;
    }

    private static Optional<String> builtIn(List<Rule> rules, IPAddress address) {
        IPAddress bare = address instanceof IPv6Address v6 ? v6.removeZone() : address;
        for (Rule rule : rules) {
            if (rule.block().contains(bare)) {
                return Optional.of(rule.what());
            }
        }
        return Optional.empty();
    }

    private static boolean in(List<IPAddress> blocks, IPAddress address) {
        IPAddress bare = address instanceof IPv6Address v6 ? v6.removeZone() : address;
        for (IPAddress block : blocks) {
            if (block.getIPVersion() == bare.getIPVersion() && block.contains(bare)) {
                return true;
            }
        }
        return false;
    }

    static String text(IPAddress address) {
        return address.toCanonicalString();
    }

    private static List<Rule> rules(String... blocksAndWhats) {
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < blocksAndWhats.length; i += 2) {
            rules.add(new Rule(GuardOptions.block(blocksAndWhats[i]), blocksAndWhats[i + 1]));
        }
        return List.copyOf(rules);
    }
}
