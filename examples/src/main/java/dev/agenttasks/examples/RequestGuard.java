package dev.agenttasks.examples;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The host's request checks against DNS rebinding and cross-site requests: the {@code Host} header must
 * name this host (loopback names, the bind address, or a configured allowed host, with the port), an
 * {@code Origin} header, when present, must be this host's own origin, and, when a token is configured,
 * every API request must carry {@code Authorization: Bearer <token>}.
 *
 * <p>An {@code EventSource} can not send that header, so an event stream also accepts a stream cookie:
 * {@code POST /api/stream-session} with the bearer token sets an {@code HttpOnly}, {@code SameSite=Strict}
 * cookie holding a random value (never the token) that opens event streams, and nothing else, for
 * {@link #STREAM_SESSION_TTL}.
 */
final class RequestGuard {

    /** How long a stream cookie opens event streams. */
    static final Duration STREAM_SESSION_TTL = Duration.ofHours(12);
    /** Most stream cookies alive at once; the oldest expire first when more are issued. */
    static final int MAX_STREAM_SESSIONS = 10_000;

    private final Set<String> authorities;
    private final Set<String> origins;
    private final byte[] token;
    private final String cookieName;
    private final Map<String, Long> streamSessions = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final SecureRandom random = new SecureRandom();

    RequestGuard(String bindAddress, int port, Set<String> allowedHosts, String token) {
        this(bindAddress, port, allowedHosts, token, System::nanoTime);
    }

    RequestGuard(String bindAddress, int port, Set<String> allowedHosts, String token, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.cookieName = "agent_tasks_stream_" + port;
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
     * Checks the bearer token of an API request, when a token is configured.
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

    /**
     * Checks an event stream request: the bearer token, or a live stream cookie.
     *
     * @throws ApiException 401 when neither is given
     */
    void checkStream(Exchange ex) {
        if (token == null) {
            return;
        }
        if (!liveStreamCookie(ex.header("Cookie"))) {
            checkToken(ex);
        }
    }

    /** @return true if the {@code Cookie} header holds a stream cookie this guard issued and that has not expired */
    boolean liveStreamCookie(String cookieHeader) {
        String value = cookie(cookieHeader, cookieName);
        if (value == null) {
            return false;
        }
        Long expires = streamSessions.get(value);
        return expires != null && expires - nanoClock.getAsLong() > 0;
    }

    /**
     * Issues a stream cookie to a request that carries the token ({@link #checkToken(Exchange)} first).
     *
     * @return the {@code Set-Cookie} value, or {@code null} when no token is configured
     */
    String issueStreamCookie() {
        if (token == null) {
            return null;
        }
        long now = nanoClock.getAsLong();
        streamSessions.values().removeIf(expires -> expires - now <= 0);
        while (streamSessions.size() >= MAX_STREAM_SESSIONS) {
            streamSessions.entrySet().stream().min(Map.Entry.comparingByValue())
                    .ifPresent(e -> streamSessions.remove(e.getKey(), e.getValue()));
        }
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        String value = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
        streamSessions.put(value, now + STREAM_SESSION_TTL.toNanos());
        return cookieName + "=" + value + "; Path=/api/; Max-Age=" + STREAM_SESSION_TTL.toSeconds()
                + "; HttpOnly; SameSite=Strict";
    }

    boolean tokenRequired() {
        return token != null;
    }

    private static String cookie(String header, String name) {
        if (header == null) {
            return null;
        }
        for (String part : header.split(";")) {
            String p = part.trim();
            if (p.startsWith(name + "=")) {
                return p.substring(name.length() + 1);
            }
        }
        return null;
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
