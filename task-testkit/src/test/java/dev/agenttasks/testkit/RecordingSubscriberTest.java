package dev.agenttasks.testkit;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The recording subscriber records, awaits and flags rule breaches it can see. */
class RecordingSubscriberTest {

    private static final Duration SHORT = Duration.ofMillis(50);

    /** A subscription that records requests and cancels. */
    private static final class Probe implements Flow.Subscription {
        final AtomicLong requested = new AtomicLong();
        volatile boolean cancelled;

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    @Test
    void recordsItemsAndCompletionAndPassesDemandOn() {
        RecordingSubscriber<String> sub = RecordingSubscriber.requesting(2);
        Probe p = new Probe();
        sub.onSubscribe(p);
        assertThat(p.requested).hasValue(2);
        sub.onNext("a");
        sub.onNext("b");
        sub.request(5);
        assertThat(p.requested).hasValue(7);
        sub.onComplete();
        assertThat(sub.awaitCompletion(SHORT)).containsExactly("a", "b");
        assertThat(sub.outstandingDemand()).isEqualTo(5);
        sub.assertNoViolations();
    }

    @Test
    void flagsOnNextBeyondDemandAfterTerminalAndNulls() {
        RecordingSubscriber<String> sub = RecordingSubscriber.requesting(1);
        sub.onSubscribe(new Probe());
        sub.onNext("a");
        sub.onNext("b");
        sub.onNext(null);
        sub.onComplete();
        sub.onNext("c");
        sub.onError(new RuntimeException("late"));
        assertThat(sub.violations()).hasSizeGreaterThanOrEqualTo(5);
        assertThat(String.join("\n", sub.violations())).contains("rule 1.1", "rule 2.13", "rule 1.7");
        assertThatThrownBy(sub::assertNoViolations).isInstanceOf(AssertionError.class);
    }

    @Test
    void flagsASecondOnSubscribeAndCancelsIt() {
        RecordingSubscriber<String> sub = RecordingSubscriber.create();
        sub.onSubscribe(new Probe());
        Probe second = new Probe();
        sub.onSubscribe(second);
        assertThat(second.cancelled).isTrue();
        assertThat(sub.violations()).singleElement().asString().contains("rule 2.5");
    }

    @Test
    void flagsConcurrentSignals() throws Exception {
        RecordingSubscriber<String> sub = RecordingSubscriber.unbounded();
        sub.onSubscribe(new Probe());
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch leave = new CountDownLatch(1);
        sub.onItem(item -> {
            if (item.equals("slow")) {
                inside.countDown();
                try {
                    leave.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Thread t = new Thread(() -> sub.onNext("slow"));
        t.start();
        inside.await();
        sub.onNext("concurrent");
        leave.countDown();
        t.join();
        assertThat(sub.violations()).singleElement().asString().contains("rule 1.3");
    }

    @Test
    void awaitsTimeOutWithAnAssertionError() {
        RecordingSubscriber<String> sub = RecordingSubscriber.create();
        assertThatThrownBy(() -> sub.awaitCompletion(SHORT)).isInstanceOf(AssertionError.class);
        sub.onSubscribe(new Probe());
        assertThatThrownBy(() -> sub.awaitItems(1, SHORT)).isInstanceOf(AssertionError.class);
        sub.onError(new IllegalStateException("x"));
        assertThat(sub.awaitError(SHORT)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> sub.awaitCompletion(SHORT)).hasMessageContaining("onError");
        assertThatThrownBy(() -> sub.awaitItems(1, SHORT)).hasMessageContaining("ended");
    }

    @Test
    void requestOnEachItemKeepsDemandFlowing() {
        RecordingSubscriber<Integer> sub = RecordingSubscriber.<Integer>requesting(1).requestOnEachItem(1);
        Probe p = new Probe();
        sub.onSubscribe(p);
        for (int i = 0; i < 10; i++) {
            sub.onNext(i);
        }
        assertThat(p.requested).hasValue(11);
        assertThat(sub.items()).isEqualTo(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        sub.assertNoViolations();
    }
}
