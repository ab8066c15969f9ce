package dev.fanout.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PitDiscoveryWithoutRunningTest {

    private boolean beforeEachRan;

    @BeforeEach
    void markBeforeEach() {
        beforeEachRan = true;
    }

    @Test
    void onlyTheTestFinderOfAMutationMinionSkipsTheTests() {
        assertThat(PitDiscoveryWithoutRunning.discovering(Set.of(PitDiscoveryWithoutRunning.FINDER,
                PitDiscoveryWithoutRunning.MUTATION_MINION))).isTrue();
        // the coverage minion's discovery run is its coverage measurement
        assertThat(PitDiscoveryWithoutRunning.discovering(Set.of(PitDiscoveryWithoutRunning.FINDER,
                "org.pitest.coverage.execute.CoverageMinion"))).isFalse();
        // a mutant's own test run is not a discovery
        assertThat(PitDiscoveryWithoutRunning.discovering(Set.of(PitDiscoveryWithoutRunning.MUTATION_MINION,
                "org.pitest.junit5.JUnit5TestUnit"))).isFalse();
        assertThat(PitDiscoveryWithoutRunning.discovering(Set.of())).isFalse();
    }

    @Test
    void outsidePitTheInterceptorIsOffAndEveryTestAndLifecycleMethodRuns() {
        // the interceptor is registered for every test of the suite (Quarkus's JUnit configuration turns
        // extension auto-detection on): it must stay off unless the mutation profile asks for it
        assertThat(System.getProperty(PitDiscoveryWithoutRunning.PROPERTY)).isNull();
        assertThat(beforeEachRan).isTrue();
    }
}
