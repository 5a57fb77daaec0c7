package co.corouter.server.it;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntSupplier;

/**
 * A browser's view of the console API for tests: keeps the cookies the node sets (the loopback names, so plain
 * HTTP) and sends the CSRF cookie's value as {@code X-CSRF-Token} on state-changing requests, as the SPA does.
 */
final class ConsoleClient {

    static final String SESSION = "corouter_session";
    static final String CSRF = "corouter_csrf";

    private final IntSupplier port;
    private final Function<HttpRequest.Builder, HttpResponse<String>> transport;
    final Map<String, String> cookies = new LinkedHashMap<>();
    private String forwardedFor;
    private boolean sendCsrf = true;

    ConsoleClient(CorouterNode node) {
        this(node::port, node::send);
    }

    /** A client of a node on {@code port}, its requests sent by {@code transport} (a node in a JVM of its own). */
    ConsoleClient(IntSupplier port, Function<HttpRequest.Builder, HttpResponse<String>> transport) {
        this.port = port;
        this.transport = transport;
    }

    /** Sends {@code X-Forwarded-For} (honoured only by a node that trusts its proxy). */
    ConsoleClient from(String address) {
        this.forwardedFor = address;
        return this;
    }

    ConsoleClient withoutCsrf() {
        this.sendCsrf = false;
        return this;
    }

    /** A second client holding the same cookies (another tab, or an attacker who stole them). */
    ConsoleClient copy() {
        ConsoleClient copy = new ConsoleClient(port, transport);
        copy.cookies.putAll(cookies);
        copy.forwardedFor = forwardedFor;
        return copy;
    }

    HttpResponse<String> get(String path) {
        return send("GET", path, null);
    }

    HttpResponse<String> post(String path, JsonObject body) {
        return send("POST", path, body);
    }

    HttpResponse<String> patch(String path, JsonObject body) {
        return send("PATCH", path, body);
    }

    HttpResponse<String> delete(String path) {
        return send("DELETE", path, null);
    }

    HttpResponse<String> send(String method, String path, JsonObject body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.getAsInt() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body.encode()));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (!cookies.isEmpty()) {
            StringBuilder header = new StringBuilder();
            cookies.forEach((name, value) -> header.append(header.length() == 0 ? "" : "; ").append(name).append('=')
                    .append(value));
            request.header("Cookie", header.toString());
        }
        if (sendCsrf && !method.equals("GET") && cookies.containsKey(CSRF)) {
            request.header("X-CSRF-Token", cookies.get(CSRF));
        }
        if (forwardedFor != null) {
            request.header("X-Forwarded-For", forwardedFor);
        }
        HttpResponse<String> response = transport.apply(request);
        for (String setCookie : response.headers().allValues("set-cookie")) {
            String pair = setCookie.split(";", 2)[0];
            int eq = pair.indexOf('=');
            String name = pair.substring(0, eq).trim();
            String value = pair.substring(eq + 1).trim();
            if (value.isEmpty() || setCookie.toLowerCase().contains("max-age=0")) {
                cookies.remove(name);
            } else {
                cookies.put(name, value);
            }
        }
        return response;
    }

    /** The attributes of the Set-Cookie header for {@code name}, lower-cased, or null. */
    static List<String> attributes(HttpResponse<String> response, String name) {
        for (String setCookie : response.headers().allValues("set-cookie")) {
            if (setCookie.startsWith(name + "=")) {
                return java.util.Arrays.stream(setCookie.split(";")).skip(1).map(a -> a.trim().toLowerCase(java.util.Locale.ROOT))
                        .toList();
            }
        }
        return null;
    }

    HttpResponse<String> signUp(String email, String password) {
        return post("/api/auth/signup", new JsonObject().put("email", email).put("password", password)
                .put("adult", true).put("policy_version", "2026-06-30"));
    }

    HttpResponse<String> login(String email, String password) {
        return post("/api/auth/login", new JsonObject().put("email", email).put("password", password));
    }
}
