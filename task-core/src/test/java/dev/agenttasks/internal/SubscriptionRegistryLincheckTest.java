package dev.agenttasks.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

/** Defect 4 of issue 7: a subscriber added while the last one leaves must not land in an orphaned set. */
class SubscriptionRegistryLincheckTest {

    @Test
    void aSubscriberAddedWhileTheLastLeavesIsStillSignalled() {
        LincheckSupport.explore(500, () -> {
            SubscriptionRegistry<String> registry = new SubscriptionRegistry<>();
            registry.add("t", "old");
            Thread adder = new Thread(() -> registry.add("t", "new"));
            Thread remover = new Thread(() -> registry.remove("t", "old"));
            adder.start();
            remover.start();
            LincheckSupport.join(adder, remover);
            List<String> seen = new ArrayList<>();
            registry.forEach("t", seen::add);
            if (!seen.equals(List.of("new"))) {
                throw new AssertionError("subscribers reachable for the task: " + seen);
            }
            if (!registry.remove("t", "new") || registry.has("t")) {
                throw new AssertionError("the registry lost track of the new subscriber");
            }
        });
    }
}
