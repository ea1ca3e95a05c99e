package dev.agenttasks.examples;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * The host's request checks against DNS rebinding and cross-site requests: the {@code Host} header must
 * name this host (loopback names, the bind address, or a configured allowed host, with the port), an
 * {@code Origin} header, when present, must be this host's own origin, and, when a token is configured,
 * state-changing requests must carry {@code Authorization: Bearer <token>}.
 */
final class RequestGuard {

    private final Set<String> authorities;
    private final Set<String> origins;
    private final byte[] token;

    RequestGuard(String bindAddress, int port, Set<String> allowedHosts, String token) {
        Set<String> names = new HashSet<>();
        boolean loopback = isLoopback(bindAddress);
        if (loopback || isWildcard(bindAddress)) {
            names.add("127.0.0.1");
            names.add("localhost");
            names.add("[::1]");
        }
        if (!isWildcard(bindAddress)) {
            names.add(bindAddress.contains(":") && !bindAddress.startsWith("[") ? "[" + bindAddress + "]" : bindAddress);
        }
        for (String h : allowedHosts) {
            names.add(h.toLowerCase(Locale.ROOT));
        }
        Set<String> auth = new HashSet<>();
        Set<String> orig = new HashSet<>();
        for (String n : names) {
            String lower = n.toLowerCase(Locale.ROOT);
            String withPort = lower + ":" + port;
            auth.add(withPort);
            orig.add("http://" + withPort);
            if (port == 80) {
                auth.add(lower);
                orig.add("http://" + lower);
            }
        }
        this.authorities = Set.copyOf(auth);
        this.origins = Set.copyOf(orig);
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks where a request comes from.
     *
     * @throws ApiException 403 when the Host or Origin header is not this host's own
     */
    void checkOrigin(Exchange ex) {
        String host = ex.header("Host");
        if (host == null || !authorities.contains(host.trim().toLowerCase(Locale.ROOT))) {
            throw new ApiException(403, "Host", "request rejected: Host header is not this server's");
        }
        String origin = ex.header("Origin");
        if (origin != null && !origins.contains(origin.trim().toLowerCase(Locale.ROOT))) {
            throw new ApiException(403, "Origin", "request rejected: cross-origin requests are not allowed");
        }
    }

    /**
     * Checks the bearer token of a state-changing request, when a token is configured.
     *
     * @throws ApiException 401 when it is missing or wrong
     */
    void checkToken(Exchange ex) {
        if (token == null) {
            return;
        }
        String auth = ex.header("Authorization");
        byte[] given = new byte[0];
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = auth.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        }
        if (!MessageDigest.isEqual(given, token)) {
            ex.setHeader("WWW-Authenticate", "Bearer");
            throw new ApiException(401, "Authorization", "a valid bearer token is required");
        }
    }

    boolean tokenRequired() {
        return token != null;
    }

    static boolean isLoopback(String address) {
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    static boolean isWildcard(String address) {
        return address.equals("0.0.0.0") || address.equals("::") || address.equals("[::]");
    }
}
