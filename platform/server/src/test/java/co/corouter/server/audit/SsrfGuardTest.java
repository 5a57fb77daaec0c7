package co.corouter.server.audit;

import co.corouter.plugin.api.audit.AuditException;
import co.corouter.plugin.api.audit.AuditException.Kind;
import co.corouter.plugin.api.audit.EndpointGuard.Endpoint;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.dns.DnsClientOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

@ExtendWith(VertxExtension.class)
class SsrfGuardTest {

    private static final String PUBLIC_V4 = "93.184.215.14";
    private static final String PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c";

    /** What the names below resolve to: a resolver the tests control, the decision still the guard's own. */
    private static final Map<String, List<String>> NAMES = Map.of(
            "evil.example", List.of("127.0.0.1"),
            "mixed.example", List.of("8.8.8.8", "10.0.0.1"),
            "v6-loopback.example", List.of("::1"),
            "mapped-metadata.example", List.of("::ffff:169.254.169.254"),
            "metadata-alias.example", List.of("169.254.169.254"),
            "aws-v6-metadata.example", List.of(PUBLIC_V6, "fd00:ec2::254"),
            "cgnat.example", List.of("100.64.1.2"),
            "public.example", List.of(PUBLIC_V4, PUBLIC_V6));

    private static final HostResolver TABLE = name -> {
        List<String> literals = NAMES.get(name);
        if (literals == null) {
            return Future.failedFuture(new AuditException(Kind.REFUSED, name + " does not exist (NXDOMAIN)"));
        }
        List<InetAddress> addresses = new ArrayList<>();
        for (String literal : literals) {
            addresses.add(literal(literal));
        }
        return Future.succeededFuture(addresses);
    };

    private final SsrfGuard guard = new SsrfGuard(GuardOptions.DEFAULTS, TABLE);
    private FakeDnsServer dns;

    @BeforeEach
    void startDns(Vertx vertx, VertxTestContext testContext) {
        FakeDnsServer.start(vertx).onComplete(testContext.succeeding(server -> {
            dns = server;
            testContext.completeNow();
        }));
    }

    @AfterEach
    void stopDns(VertxTestContext testContext) {
        dns.close().onComplete(testContext.succeedingThenComplete());
    }

    // ---- the hostile corpus ----

    static Stream<String> hostileHosts() {
        return Stream.of(
                // IPv4, dotted
                "127.0.0.1", "127.0.0.2", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1",
                "172.31.255.254", "192.168.0.1", "192.168.1.254", "100.64.0.1", "100.127.255.254",
                "100.100.100.200", "169.254.169.254", "169.254.0.1", "0.0.0.0", "0", "0.1.2.3", "255.255.255.255",
                "224.0.0.1", "239.255.255.250", "240.0.0.1", "198.18.0.1", "198.19.255.255", "192.0.2.1",
                "198.51.100.1", "203.0.113.1", "192.0.0.170", "192.88.99.1",
                // IPv4, every other spelling inet_aton and browsers accept
                "2130706433", "0177.0.0.1", "0x7f.1", "0x7f000001", "127.1", "127.0.1", "0x7F.0x0.0x0.0x1",
                "017700000001", "3232235777", "0xa9fea9fe", "2852039166", "0251.0376.0251.0376", "10.1",
                "127.0.0.1.", "127\u30020\u30020\u30021", "\uff11\uff12\uff17.0.0.1", "0x0a.0.0.1",
                // IPv6
                "::1", "[::1]", "0:0:0:0:0:0:0:1", "::", "[::]", "::ffff:127.0.0.1", "[::ffff:127.0.0.1]",
                "::ffff:7f00:1", "::ffff:169.254.169.254", "::ffff:a9fe:a9fe", "::ffff:10.0.0.1",
                "64:ff9b::127.0.0.1", "64:ff9b::a9fe:a9fe", "64:ff9b::10.0.0.1", "64:ff9b:1::1", "2002:7f00:1::1",
                "2002:a9fe:a9fe::1", "2002:c0a8:101::1", "fe80::1", "fe80::1%eth0", "[fe80::1%25eth0]",
                "febf:ffff::1", "fc00::1", "fd00::1", "fd00:ec2::254", "fd20:ce::254", "ff02::1", "::127.0.0.1",
                "::ffff:0:7f00:1", "2001:db8::1", "100::1", "2001::1", "fec0::1", "3fff::1", "2606:4700::1%eth0",
                "::ffff:8.8.8.8%eth0",
                // names that are local by definition, or resolve somewhere forbidden
                "localhost", "LOCALHOST.", "foo.localhost", "ip6-localhost", "metadata", "metadata.google.internal",
                "metadata.google.internal.", "instance-data", "evil.example", "mixed.example",
                "v6-loopback.example", "mapped-metadata.example", "metadata-alias.example",
                "aws-v6-metadata.example", "cgnat.example",
                // syntax tricks
                "user@127.0.0.1", "public.example@127.0.0.1", "127.0.0.1#.public.example", "127.0.0.1/",
                "127.0.0.1:80", "127.0.0.1 ", " 127.0.0.1", "", "%31%32%37.0.0.1", "127.0.0.256", "1.2.3.4.5",
                "exa mple.com", "under_score.example", "-leading.example", "[127.0.0.1]", "public.example\r\nX: y",
                "public..example", "[::1", "::1]", "public.example\\@127.0.0.1", "127.0.0.1\u0000.public.example");
    }

    @Test
    void theHostileCorpusHasAtLeastSixtyCases() {
        assertThat(hostileHosts().count()).isGreaterThanOrEqualTo(60);
    }

    @ParameterizedTest(name = "{0} is refused")
    @MethodSource("hostileHosts")
    void everyHostileHostIsRefused(String host, VertxTestContext testContext) {
        guard.check("https", host, 443).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertThat(failure).isInstanceOf(AuditException.class);
            assertThat(((AuditException) failure).kind()).isEqualTo(Kind.REFUSED);
            assertThat(((AuditException) failure).retryable()).isFalse();
            assertThat(failure.getMessage()).isNotBlank();
            testContext.completeNow();
        })));
    }

    static Stream<Arguments> refusalsAndTheirMessages() {
        return Stream.of(
                arguments("169.254.169.254", "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("2852039166", "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("2130706433", "127.0.0.1 is a loopback address"),
                arguments("0177.0.0.1", "127.0.0.1 is a loopback address"),
                arguments("0x7f.1", "127.0.0.1 is a loopback address"),
                arguments("127.1", "127.0.0.1 is a loopback address"),
                arguments("0", "0.0.0.0 is a \"this network\" (unspecified) address"),
                arguments("[::]", ":: is the unspecified address"),
                arguments("[::1]", "::1 is a loopback address"),
                arguments("::ffff:127.0.0.1", "::ffff:7f00:1 is an IPv4-mapped address of 127.0.0.1,"
                        + " a loopback address"),
                arguments("::ffff:7f00:1", "::ffff:7f00:1 is an IPv4-mapped address of 127.0.0.1, a loopback address"),
                arguments("64:ff9b::169.254.169.254", "64:ff9b::a9fe:a9fe is a NAT64 address of 169.254.169.254,"
                        + " a link-local (cloud metadata) address"),
                arguments("2002:a9fe:a9fe::1", "2002:a9fe:a9fe::1 is a 6to4 address of 169.254.169.254,"
                        + " a link-local (cloud metadata) address"),
                arguments("fe80::1%eth0", "fe80::1%eth0 is a link-local address"),
                arguments("fd00:ec2::254", "fd00:ec2::254 is a unique local (AWS metadata) address"),
                arguments("fc00::1", "fc00::1 is a unique local (private) address"),
                arguments("100.100.100.200", "100.100.100.200 is a carrier-grade NAT (Alibaba Cloud metadata) address"),
                arguments("198.18.0.1", "198.18.0.1 is a benchmarking address"),
                arguments("255.255.255.255", "255.255.255.255 is the broadcast address"),
                arguments("localhost", "localhost is a local name"),
                arguments("metadata.google.internal.", "metadata.google.internal is a local name"),
                arguments("evil.example", "evil.example resolves to 127.0.0.1, a loopback address"),
                arguments("mixed.example", "mixed.example resolves to 10.0.0.1, a private address"),
                arguments("aws-v6-metadata.example", "aws-v6-metadata.example resolves to fd00:ec2::254,"
                        + " a unique local (AWS metadata) address"),
                arguments("user@127.0.0.1", "the host contains '@': user info is not allowed in an endpoint"),
                arguments("1.2.3.4.5", "'1.2.3.4.5' looks like an IPv4 address but is not a valid one"));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("refusalsAndTheirMessages")
    void aRefusalNamesTheNormalisedAddressAndItsClass(String host, String message, VertxTestContext testContext) {
        guard.check("https", host, 443).onComplete(testContext.failing(failure -> testContext.verify(() -> {
            assertThat(failure).hasMessage(message);
            testContext.completeNow();
        })));
    }

    // ---- what passes ----

    @Test
    void aPublicLiteralPassesAndIsPinned(VertxTestContext testContext) {
        guard.check("https", PUBLIC_V4, 443).onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
            assertThat(endpoint).isEqualTo(new Endpoint("https", PUBLIC_V4, 443, literal(PUBLIC_V4)));
            assertThat(endpoint.address().getHostAddress()).isEqualTo(PUBLIC_V4);
            testContext.completeNow();
        })));
    }

    @Test
    void aPublicIpv6LiteralInBracketsPassesAndIsPinnedWithoutThem(VertxTestContext testContext) {
        guard.check("https", "[" + PUBLIC_V6.toUpperCase() + "]", 8443)
                .onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
                    assertThat(endpoint.host()).isEqualTo(PUBLIC_V6);
                    assertThat(endpoint.port()).isEqualTo(8443);
                    assertThat(endpoint.address()).isInstanceOf(Inet6Address.class).isEqualTo(literal(PUBLIC_V6));
                    testContext.completeNow();
                })));
    }

    @Test
    void aPublicNameIsNormalisedAndPinnedToItsFirstAddress(VertxTestContext testContext) {
        guard.check("HTTPS", "Public.Example.", 443)
                .onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
            assertThat(endpoint.scheme()).isEqualTo("https");
            assertThat(endpoint.host()).isEqualTo("public.example");
            assertThat(endpoint.address()).isEqualTo(literal(PUBLIC_V4));
            assertThat(endpoint.address().getHostName()).as("named, so nothing reverse-resolves it")
                    .isEqualTo("public.example");
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "{0} carries a public IPv4 address and passes")
    @ValueSource(strings = {"64:ff9b::8.8.8.8", "2002:808:808::1", "::ffff:8.8.8.8"})
    void ipv6FormsCarryingAPublicIpv4AddressPass(String host, VertxTestContext testContext) {
        guard.check("https", host, 443).onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
            assertThat(endpoint.address()).isNotNull();
            testContext.completeNow();
        })));
    }

    @Test
    void aMappedAddressIsPinnedAsTheIpv4AddressJavaWouldConnectTo(VertxTestContext testContext) {
        guard.check("https", "::ffff:8.8.8.8", 443)
                .onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
            assertThat(endpoint.host()).isEqualTo("8.8.8.8");
            assertThat(endpoint.address()).isEqualTo(literal("8.8.8.8"));
            testContext.completeNow();
        })));
    }

    // ---- schemes and ports ----

    @Test
    void httpIsRefusedUnlessTheOperatorAllowsIt(VertxTestContext testContext) {
        SsrfGuard lenient = new SsrfGuard(GuardOptions.parse(new JsonObject().put("allow_http", true)), TABLE);
        guard.check("http", PUBLIC_V4, 80).onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(refused).hasMessage("http endpoints are not allowed; use https");
            lenient.check("http", PUBLIC_V4, 80)
                    .onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
                assertThat(endpoint.scheme()).isEqualTo("http");
                testContext.completeNow();
            })));
        })));
    }

    @Test
    void plaintextTcpIsRefusedUnlessTheOperatorAllowsItWhileTlsPasses(VertxTestContext testContext) {
        SsrfGuard lenient = new SsrfGuard(GuardOptions.parse(new JsonObject().put("allow_plaintext_tcp", true)),
                TABLE);
        Future.all(guard.check("tls", PUBLIC_V4, 9093), lenient.check("tcp", PUBLIC_V4, 9092))
                .onComplete(testContext.succeeding(passed -> guard.check("tcp", PUBLIC_V4, 9092)
                        .onComplete(testContext.failing(refused -> testContext.verify(() -> {
                            assertThat(refused).hasMessage("plaintext TCP endpoints are not allowed; use TLS");
                            testContext.completeNow();
                        })))));
    }

    @ParameterizedTest(name = "scheme {0} is refused")
    @ValueSource(strings = {"ftp", "file", "gopher", "dict", "ldap", "", "ht\ntp"})
    void otherSchemesAreRefused(String scheme, VertxTestContext testContext) {
        guard.check(scheme, PUBLIC_V4, 443).onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(refused.getMessage()).endsWith("is not supported; use https or tls").doesNotContain("\n");
            testContext.completeNow();
        })));
    }

    @ParameterizedTest(name = "port {0} is refused")
    @ValueSource(ints = {0, -1, 65_536, Integer.MAX_VALUE})
    void portsOutsideTheValidRangeAreRefused(int port, VertxTestContext testContext) {
        guard.check("https", PUBLIC_V4, port).onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(refused).hasMessage("port " + port + " is outside 1..65535");
            testContext.completeNow();
        })));
    }

    // ---- the operator's lists ----

    @Test
    void anAllowListOfOneAddressLetsExactlyThatAddressThrough(VertxTestContext testContext) {
        GuardOptions options = GuardOptions.parse(new JsonObject()
                .put("allow_list", new JsonArray().add("127.0.0.1/32")));
        SsrfGuard forTests = new SsrfGuard(options, TABLE);
        Future.all(forTests.check("https", "127.0.0.1", 9000), forTests.check("https", "2130706433", 9000))
                .onComplete(testContext.succeeding(passed -> testContext.verify(() -> {
                    assertThat(passed.<Endpoint>resultAt(0).address()).isEqualTo(literal("127.0.0.1"));
                    assertThat(passed.<Endpoint>resultAt(1).address()).isEqualTo(literal("127.0.0.1"));
                    forTests.check("https", "127.0.0.2", 9000).onComplete(testContext.failing(refused ->
                            testContext.verify(() -> {
                                assertThat(refused).hasMessage("127.0.0.2 is a loopback address");
                                testContext.completeNow();
                            })));
                })));
    }

    @Test
    void theAllowListDoesNotExemptNamesOrOtherLoopbackForms(VertxTestContext testContext) {
        GuardOptions options = GuardOptions.parse(new JsonObject().put("allow_list", new JsonArray().add("127.0.0.1")));
        SsrfGuard forTests = new SsrfGuard(options, TABLE);
        List<Future<Endpoint>> checks = List.of(forTests.check("https", "127.0.0.2", 1),
                forTests.check("https", "[::1]", 1), forTests.check("https", "localhost", 1),
                forTests.check("https", "64:ff9b::127.0.0.1", 1));
        Future.join(checks).onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(checks).allSatisfy(check -> assertThat(check.failed()).isTrue());
            testContext.completeNow();
        })));
    }

    @Test
    void theDenyListRefusesPublicAddressesInEverySpellingAndBeatsTheAllowList(VertxTestContext testContext) {
        GuardOptions options = GuardOptions.parse(new JsonObject()
                .put("deny_list", new JsonArray().add("93.184.215.0/24"))
                .put("allow_list", new JsonArray().add("93.184.215.14/32")));
        SsrfGuard strict = new SsrfGuard(options, TABLE);
        List<Future<Endpoint>> checks = List.of(strict.check("https", PUBLIC_V4, 443),
                strict.check("https", "64:ff9b::" + PUBLIC_V4, 443), strict.check("https", "public.example", 443));
        Future.join(checks).onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(checks.get(0).cause()).hasMessage(PUBLIC_V4 + " is in the operator's deny list");
            assertThat(checks.get(1).cause()).hasMessage("64:ff9b::5db8:d70e is a NAT64 address of 93.184.215.14,"
                    + " which is in the operator's deny list");
            assertThat(checks.get(2).cause()).hasMessage("public.example resolves to 93.184.215.14, in the"
                    + " operator's deny list");
            testContext.completeNow();
        })));
    }

    @Test
    void theOptionsNameTheFieldAtFault() {
        assertThatThrownBy(() -> GuardOptions.parse(new JsonObject().put("allow_lists", new JsonArray())))
                .hasMessageContaining("allow_lists");
        assertThatThrownBy(() -> GuardOptions.parse(new JsonObject()
                .put("allow_list", new JsonArray().add("10.1.0.0/8"))))
                .hasMessage("allow_list[0]: '10.1.0.0/8' has bits set beyond its prefix; did you mean 10.0.0.0/8?");
        assertThatThrownBy(() -> GuardOptions.parse(new JsonObject().put("deny_list", new JsonArray().add("evil"))))
                .hasMessage("deny_list[0]: 'evil' is not a CIDR range or IP address");
        assertThatThrownBy(() -> GuardOptions.parse(new JsonObject().put("allow_http", "yes")))
                .hasMessage("allow_http: must be true or false, got yes");
        assertThatThrownBy(() -> GuardOptions.parse(new JsonObject().put("resolver", "nscd")))
                .hasMessage("resolver: must be dns or system, got nscd");
        assertThat(GuardOptions.parse(new JsonObject().put("resolver", "system")).resolver())
                .isEqualTo(GuardOptions.Resolver.SYSTEM);
        assertThat(GuardOptions.parse(null)).isEqualTo(GuardOptions.DEFAULTS);
    }

    // ---- redirects ----

    static Stream<Arguments> forbiddenRedirects() {
        return Stream.of(
                arguments("https://169.254.169.254/latest/meta-data/iam/security-credentials/",
                        "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("//169.254.169.254/latest/meta-data/",
                        "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("https://2852039166/latest/meta-data/",
                        "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("https://0xa9.0xfe.0xa9.0xfe/", "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("https://[fd00:ec2::254]/latest/meta-data/",
                        "fd00:ec2::254 is a unique local (AWS metadata) address"),
                arguments("https://metadata.google.internal/computeMetadata/v1/",
                        "metadata.google.internal is a local name"),
                arguments("https://100.100.100.200/latest/meta-data/",
                        "100.100.100.200 is a carrier-grade NAT (Alibaba Cloud metadata) address"),
                arguments("http://169.254.169.254/latest/meta-data/", "http endpoints are not allowed; use https"),
                arguments("https://public.example@169.254.169.254/", "the redirect location has user info"),
                arguments("tls://169.254.169.254:443", "a redirect may only lead to http or https"),
                arguments("file:///etc/passwd", "a redirect may only lead to http or https"),
                arguments("https://169.254.169.254/?X-Amz-Signature=s3cr3t",
                        "169.254.169.254 is a link-local (cloud metadata) address"),
                arguments("https://exa mple.com/", "the redirect location is not a valid URL"));
    }

    @ParameterizedTest(name = "a redirect to {0} is refused")
    @MethodSource("forbiddenRedirects")
    void redirectsToMetadataAndOtherForbiddenPlacesAreRefused(String location, String message,
                                                              VertxTestContext testContext) {
        guard.check("https", PUBLIC_V4, 443)
                .compose(from -> guard.checkRedirect(from, location))
                .onComplete(testContext.failing(refused -> testContext.verify(() -> {
                    assertThat(refused).hasMessage(message);
                    assertThat(((AuditException) refused).kind()).isEqualTo(Kind.REFUSED);
                    testContext.completeNow();
                })));
    }

    @Test
    void aRelativeRedirectStaysOnTheSameHostAndPort(VertxTestContext testContext) {
        guard.check("https", "public.example", 8443)
                .compose(from -> guard.checkRedirect(from, "/bucket/key?partNumber=2"))
                .onComplete(testContext.succeeding(to -> testContext.verify(() -> {
                    assertThat(to).isEqualTo(new Endpoint("https", "public.example", 8443, literal(PUBLIC_V4)));
                    testContext.completeNow();
                })));
    }

    @Test
    void anAbsoluteRedirectToAPublicNameIsCheckedAndPinned(VertxTestContext testContext) {
        guard.check("https", PUBLIC_V4, 443)
                .compose(from -> guard.checkRedirect(from, "https://public.example/next"))
                .onComplete(testContext.succeeding(to -> testContext.verify(() -> {
                    assertThat(to.host()).isEqualTo("public.example");
                    assertThat(to.port()).isEqualTo(443);
                    assertThat(to.address()).isEqualTo(literal(PUBLIC_V4));
                    testContext.completeNow();
                })));
    }

    // ---- the default resolvers ----

    private SsrfGuard dnsGuard(Vertx vertx) {
        return new SsrfGuard(GuardOptions.DEFAULTS, HostResolver.dns(vertx, vertx.createDnsClient(
                new DnsClientOptions().setHost("127.0.0.1").setPort(dns.port()))));
    }

    @Test
    void theFactoryBuildsAGuardWithTheConfiguredResolverAndClosesIt(Vertx vertx, VertxTestContext testContext) {
        SsrfGuard dnsDefault = SsrfGuard.create(vertx, GuardOptions.DEFAULTS);
        SsrfGuard system = SsrfGuard.create(vertx, GuardOptions.parse(new JsonObject().put("resolver", "system")));
        Future<Endpoint> passed = dnsDefault.check("https", PUBLIC_V4, 443);
        Future<Endpoint> refused = system.check("https", "[::1]", 443);
        Future.join(passed, refused).transform(checked -> Future.all(dnsDefault.close(), system.close()))
                .onComplete(testContext.succeeding(closed -> testContext.verify(() -> {
                    assertThat(passed.result().address()).isEqualTo(literal(PUBLIC_V4));
                    assertThat(refused.cause()).hasMessage("::1 is a loopback address");
                    testContext.completeNow();
                })));
    }

    @Test
    void theDnsResolverPinsAPublicNameAndJudgesEveryAddress(Vertx vertx, VertxTestContext testContext) {
        dns.address("s3.example", PUBLIC_V4, PUBLIC_V6).address("dual.example", PUBLIC_V4, "fd00::1");
        SsrfGuard dnsGuard = dnsGuard(vertx);
        dnsGuard.check("https", "s3.example", 443)
                .onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
            assertThat(endpoint.address()).isEqualTo(literal(PUBLIC_V4));
            dnsGuard.check("https", "dual.example", 443)
                    .onComplete(testContext.failing(refused -> testContext.verify(() -> {
                assertThat(refused).hasMessage("dual.example resolves to fd00::1, a unique local (private) address");
                testContext.completeNow();
            })));
        })));
    }

    @Test
    void theDnsResolverFollowsCnamesToTheAddressesAtTheEnd(Vertx vertx, VertxTestContext testContext) {
        dns.cname("bucket.example", "edge.example").cname("edge.example", "internal.example")
                .address("internal.example", "10.0.0.7");
        dnsGuard(vertx).check("https", "bucket.example", 443)
                .onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(refused).hasMessage("bucket.example resolves to 10.0.0.7, a private address");
            testContext.completeNow();
        })));
    }

    @Test
    void theDnsResolverRefusesANameThatDoesNotExist(Vertx vertx, VertxTestContext testContext) {
        dnsGuard(vertx).check("https", "nowhere.example", 443)
                .onComplete(testContext.failing(refused -> testContext.verify(() -> {
            assertThat(refused).hasMessage("nowhere.example does not exist (NXDOMAIN)");
            assertThat(((AuditException) refused).kind()).isEqualTo(Kind.REFUSED);
            testContext.completeNow();
        })));
    }

    @Test
    void theDnsResolverWaitsForItsAnswerWithoutHoldingTheEventLoop(Vertx vertx, VertxTestContext testContext) {
        dns.address("slow.example", PUBLIC_V4).hold();
        SsrfGuard dnsGuard = dnsGuard(vertx);
        Context eventLoop = vertx.getOrCreateContext();
        assertThat(eventLoop.isEventLoopContext()).isTrue();
        eventLoop.runOnContext(start -> {
            Future<Endpoint> checked = dnsGuard.check("https", "slow.example", 443);
            // queued behind check() on the same thread: it runs only if check() returned without waiting for DNS
            eventLoop.runOnContext(meanwhile -> testContext.verify(() -> {
                assertThat(checked.isComplete()).as("still waiting for the held answer").isFalse();
                dns.release();
            }));
            checked.onComplete(testContext.succeeding(endpoint -> testContext.verify(() -> {
                assertThat(Context.isOnEventLoopThread()).isTrue();
                assertThat(endpoint.address()).isEqualTo(literal(PUBLIC_V4));
                assertThat(dns.queries()).isGreaterThanOrEqualTo(2);
                testContext.completeNow();
            })));
        });
    }

    @Test
    void theSystemResolverLooksUpOnAWorkerThreadAndAnswersOnTheCallersEventLoop(Vertx vertx,
                                                                               VertxTestContext testContext) {
        AtomicReference<Thread> lookupThread = new AtomicReference<>();
        AtomicReference<Boolean> onWorker = new AtomicReference<>();
        HostResolver system = HostResolver.blocking(vertx, name -> {
            lookupThread.set(Thread.currentThread());
            onWorker.set(Context.isOnWorkerThread());
            return new InetAddress[] {InetAddress.getByAddress(name, literal(PUBLIC_V4).getAddress())};
        });
        SsrfGuard systemGuard = new SsrfGuard(GuardOptions.DEFAULTS, system);
        Context eventLoop = vertx.getOrCreateContext();
        eventLoop.runOnContext(start -> {
            Thread caller = Thread.currentThread();
            systemGuard.check("https", "blocking.example", 443).onComplete(testContext.succeeding(endpoint ->
                    testContext.verify(() -> {
                        assertThat(onWorker.get()).as("the lookup ran on a worker").isTrue();
                        assertThat(lookupThread.get()).isNotSameAs(caller);
                        assertThat(Thread.currentThread()).as("answered on the caller's event loop").isSameAs(caller);
                        assertThat(endpoint.address()).isEqualTo(literal(PUBLIC_V4));
                        testContext.completeNow();
                    })));
        });
    }

    @Test
    void theSystemResolverReadsTheHostsFile(Vertx vertx, VertxTestContext testContext) {
        HostResolver.system(vertx).resolve("localhost")
                .onComplete(testContext.succeeding(addresses -> testContext.verify(() -> {
            assertThat(addresses).isNotEmpty().allSatisfy(address -> assertThat(address.isLoopbackAddress()).isTrue());
            testContext.completeNow();
        })));
    }

    private static InetAddress literal(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(text, e);
        }
    }
}
