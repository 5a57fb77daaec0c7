package co.corouter.payment.creem;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Creem's two signatures (spec §2.2 and §3): the webhook's {@code creem-signature}, lower-case hex HMAC-SHA256 of the
 * raw body keyed with the webhook secret as given; and the return URL's {@code signature}, plain SHA-256 hex of
 * {@code key=value|...|salt=<api key>} over the query parameters in received order, {@code signature} excluded.
 * Comparisons are constant-time. Instances hold secrets: never log them.
 */
final class CreemSignatures {

    private static final String HMAC_SHA256 = "HmacSHA256";
    private static final HexFormat HEX = HexFormat.of();

    private final SecretKeySpec webhookKey;
    private final String apiKey;

    CreemSignatures(String webhookSecret, String apiKey) {
        this.webhookKey = new SecretKeySpec(webhookSecret.getBytes(StandardCharsets.UTF_8), HMAC_SHA256);
        this.apiKey = apiKey;
    }

    /** Lower-case hex HMAC-SHA256 of {@code body}: the {@code creem-signature} Creem would send. */
    String webhookSignature(byte[] body) {
        return HEX.formatHex(hmac(body));
    }

    /** Whether {@code header} (a {@code creem-signature} value, maybe {@code null}) signs {@code body}. */
    boolean webhookSignatureMatches(byte[] body, String header) {
        if (header == null) {
            return false;
        }
        String hex = header.strip();
        if (hex.length() != 64) {
            return false;
        }
        byte[] given;
        try {
            given = HEX.parseHex(hex);
        } catch (IllegalArgumentException notHex) {
            return false;
        }
        return MessageDigest.isEqual(hmac(body), given);
    }

    /**
     * Parses a return URL's query and checks its signature. Parameters are URL-decoded; empty values are skipped in
     * the signed data as integrators do (spec §3, unconfirmed which keys Creem omits).
     */
    ReturnQuery verifyReturn(String rawQuery) {
        Map<String, String> params = new LinkedHashMap<>();
        String signature = null;
        if (rawQuery != null && !rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String key = decode(eq < 0 ? pair : pair.substring(0, eq));
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                if (key == null || value == null) {
                    return new ReturnQuery(Map.of(), false);
                }
                if (key.equals("signature")) {
                    signature = value;
                } else {
                    params.putIfAbsent(key, value);
                }
            }
        }
        boolean valid = signature != null && sha256HexMatches(returnData(params), signature);
        return new ReturnQuery(Map.copyOf(params), valid);
    }

    /** The {@code signature} Creem appends to a return URL carrying {@code params}, in their order. */
    String returnSignature(Map<String, String> params) {
        return HEX.formatHex(sha256(returnData(params)));
    }

    private String returnData(Map<String, String> params) {
        List<String> parts = new ArrayList<>();
        params.forEach((key, value) -> {
            if (value != null && !value.isEmpty() && !"null".equals(value)) {
                parts.add(key + "=" + value);
            }
        });
        parts.add("salt=" + apiKey);
        return String.join("|", parts);
    }

    private static boolean sha256HexMatches(String data, String signatureHex) {
        String hex = signatureHex.strip();
        if (hex.length() != 64) {
            return false;
        }
        try {
            return MessageDigest.isEqual(sha256(data), HEX.parseHex(hex));
        } catch (IllegalArgumentException notHex) {
            return false;
        }
    }

    private byte[] hmac(byte[] body) {
        try {
            Mac mac = Mac.getInstance(HMAC_SHA256); // not thread-safe: one per call, cheap next to the I/O
            mac.init(webhookKey);
            return mac.doFinal(body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }

    private static byte[] sha256(String data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is unavailable", e);
        }
    }

    private static String decode(String text) {
        try {
            return URLDecoder.decode(text, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }

    /** A return URL's parameters (without {@code signature}) and whether they were signed with our API key. */
    record ReturnQuery(Map<String, String> params, boolean signatureValid) {
    }
}
