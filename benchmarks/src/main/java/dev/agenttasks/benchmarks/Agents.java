package dev.agenttasks.benchmarks;

import dev.agenttasks.spi.AgentDescriptor;
import dev.agenttasks.spi.AgentRunner;
import dev.agenttasks.spi.Turn;
import dev.agenttasks.spi.TurnContext;
import dev.agenttasks.spi.TurnResult;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/** The agents the benchmarks run, and the 200-byte event payload they emit. */
final class Agents {
    /** Event type of the payload events. */
    static final String TYPE = "delta";
    /** Target size of one payload's JSON text. */
    static final int PAYLOAD_BYTES = 200;
    /** Padding that brings {"i":&lt;7 digits&gt;,"t":&lt;16 digits&gt;,"text":"..."} to about 200 bytes. */
    static final String PAD = "x".repeat(PAYLOAD_BYTES - "{\"i\":1234567,\"t\":1234567890123456,\"text\":\"\"}".length());

    private Agents() {
    }

    /** The body of one turn. */
    interface Body {
        TurnResult run(Turn turn, TurnContext ctx) throws Exception;
    }

    /** @return a runner that knows one agent id, "bench", and runs every turn with the body */
    static AgentRunner runner(Body body) {
        AgentDescriptor agent = new AgentDescriptor("bench", "Bench agent", null);
        return new AgentRunner() {
            @Override
            public Optional<AgentDescriptor> describe(String agentId) {
                return "bench".equals(agentId) ? Optional.of(agent) : Optional.empty();
            }

            @Override
            public TurnResult runTurn(Turn turn, TurnContext context) throws Exception {
                return body.run(turn, context);
            }
        };
    }

    /** The data of payload event {@code i}: about 200 bytes of JSON, with the emit time in "t". */
    static Map<String, Object> payload(long i) {
        Map<String, Object> m = new LinkedHashMap<>(4);
        m.put("i", i);
        m.put("t", System.nanoTime());
        m.put("text", PAD);
        return m;
    }

    /** The JSON text of a payload, as the raw baselines write it. */
    static String payloadJson(long i, long t) {
        return "{\"i\":" + i + ",\"t\":" + t + ",\"text\":\"" + PAD + "\"}";
    }

    /** Waits for the gate, then emits {@code count} payload events as fast as it can, then completes. */
    static Body stream(CountDownLatch gate, int count) {
        return (turn, ctx) -> {
            gate.await();
            for (int i = 0; i < count; i++) {
                ctx.emit(TYPE, payload(i));
            }
            return TurnResult.completed();
        };
    }

    /** Waits for the gate, then emits {@code count} payload events at {@code perSecond}, then completes. */
    static Body paced(CountDownLatch gate, int count, int perSecond) {
        return (turn, ctx) -> {
            gate.await();
            long period = 1_000_000_000L / perSecond;
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                long due = start + i * period;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) {
                    LockSupport.parkNanos(wait);
                }
                ctx.emit(TYPE, payload(i));
            }
            return TurnResult.completed();
        };
    }
}
