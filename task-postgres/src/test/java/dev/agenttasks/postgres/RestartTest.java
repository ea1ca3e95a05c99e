package dev.agenttasks.postgres;

import com.zaxxer.hikari.HikariDataSource;
import dev.agenttasks.TaskEvent;
import dev.agenttasks.TaskStatus;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TransientStoreException;
import dev.agenttasks.testkit.postgres.PostgresExtension;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A PostgreSQL restart in the middle of a stream of writes: every acknowledged batch is there exactly once, and the
 * store works after it. The writer retries a batch that failed with {@link TransientStoreException}, as the engine
 * does; a batch applied twice would fail with a seq conflict, a lost one would leave a gap.
 */
class RestartTest {

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aRestartLosesNothingAcknowledgedAndTheStoreGoesOn() throws Exception {
        String schema = PG.server().uniqueSchemaName("restart");
        try (HikariDataSource pool = PgFixture.pool(PG.server(), 3);
             PostgresTaskStore store = PostgresTaskStore.builder(pool).schema(schema).build()) {
            store.write(List.of(new StoreOp.InsertTask(Data.task("t1", TaskStatus.RUNNING, null))));
            AtomicLong acknowledged = new AtomicLong();
            AtomicInteger transientFailures = new AtomicInteger();
            AtomicBoolean stop = new AtomicBoolean();
            List<Throwable> unexpected = new ArrayList<>();
            ExecutorService writer = Executors.newSingleThreadExecutor();
            Future<?> done = writer.submit(() -> {
                long seq = 1;
                while (!stop.get()) {
                    List<StoreOp> batch = Data.events("t1", seq, 2);
                    try {
                        store.write(batch);
                        seq += 2;
                        acknowledged.set(seq - 1);
                    } catch (TransientStoreException e) {
                        transientFailures.incrementAndGet();
                    } catch (RuntimeException e) {
                        synchronized (unexpected) {
                            unexpected.add(e);
                        }
                        return;
                    }
                }
            });
            try {
                for (int restart = 0; restart < 2; restart++) {
                    long before = acknowledged.get();
                    Awaitility.await().atMost(Duration.ofSeconds(30))
                            .until(() -> acknowledged.get() >= before + 100 || done.isDone());
                    PG.server().restart();
                }
                long after = acknowledged.get();
                Awaitility.await().atMost(Duration.ofSeconds(60))
                        .until(() -> acknowledged.get() >= after + 100 || done.isDone());
            } finally {
                stop.set(true);
                done.get(60, TimeUnit.SECONDS);
                writer.shutdownNow();
            }
            assertThat(unexpected).isEmpty();
            long acked = acknowledged.get();
            List<Long> seqs = new ArrayList<>();
            for (TaskEvent e : store.events("t1", 0, Integer.MAX_VALUE)) {
                seqs.add(e.seq());
            }
            assertThat(seqs).containsExactlyElementsOf(LongStream.rangeClosed(1, acked).boxed().toList());
            assertThat(store.task("t1").orElseThrow().lastSeq()).isEqualTo(acked);
            // and the store works after it
            store.write(Data.events("t1", acked + 1, 1));
            assertThat(store.task("t1").orElseThrow().lastSeq()).isEqualTo(acked + 1);
        } finally {
            PG.server().dropSchema(schema);
        }
    }
}
