package dev.agenttasks.internal;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class IdsTest {

    @Test
    void idsAreUniqueUrlSafeAndSortInCreationOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ids.add(Ids.task());
        }
        Set<String> unique = new HashSet<>(ids);
        assertThat(unique).hasSize(ids.size());
        for (String id : ids) {
            assertThat(id).matches("task_[0-9a-z]{26}");
        }
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort(null);
        assertThat(sorted).isEqualTo(ids);
    }
}
