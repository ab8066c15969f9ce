package dev.fanout.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.fanout.testing.FaultProxy;

/** The chaos run at a small size inside ./mvnw verify: every fault at once, one kill, both queue kinds. */
class ChaosRunIT {

    static ChaosRun.Plan small(ChaosRun.Plan plan) {
        // harsher faults than the full run, one kill a few seconds in, and a short tail: a hanging item is
        // dead-lettered after 3 receives of 5 s each
        return new ChaosRun.Plan(plan.name(), plan.fifo(), plan.messages(), plan.groups(), plan.batchSize(),
                Duration.ofSeconds(4), Duration.ofSeconds(5), 3, Duration.ofSeconds(4), 1,
                new FaultProxy.Faults(10, 10, 10, 5, 20, 200), plan.sideEffects());
    }

    @Test
    void standardQueueLosesNothingUnderEveryFault() throws Exception {
        check(ChaosRun.run(small(ChaosRun.standardPlan(2000)), quiet()));
    }

    @Test
    void fifoQueueLosesNothingAndKeepsEachGroupsOrder() throws Exception {
        var plan = ChaosRun.fifoPlan(400);
        check(ChaosRun.run(small(new ChaosRun.Plan(plan.name(), true, plan.messages(), 20, plan.batchSize(),
                plan.functionTimeout(), plan.visibilityTimeout(), plan.maxReceives(), plan.killEvery(), plan.maxKills(),
                plan.faults(), plan.sideEffects())), quiet()));
    }

    @Test
    void anIdempotentSideEffectNeverRunsAfterItsCompletionWasStored() throws Exception {
        // the standard plan's pace (6 s items, 10 s visibility, 5 receives): on a loaded machine the single-threaded
        // dynalite needs it, or the small plan's 4 s items hand every claim back until the dead-letter queue
        ChaosRun.Plan standard = ChaosRun.standardPlan(1000);
        ChaosRun.Report report = ChaosRun.run(new ChaosRun.Plan("side effects, idempotent", false, 1000, 0,
                standard.batchSize(), standard.functionTimeout(), standard.visibilityTimeout(), standard.maxReceives(),
                Duration.ofSeconds(4), 1, standard.faults(), ChaosRun.SideEffects.IDEMPOTENT), quiet());

        check(report);
        ChaosRun.Effects effects = report.effects();
        assertThat(effects.items()).as(report.toString()).isGreaterThan(300);
        // items the slow store hands back five times are dead-lettered unrun: not all need run
        assertThat(effects.ran()).as(report.toString()).isPositive();
        // never a run after the completion; a repeat only after a run interrupted between its side effect and its
        // completion record (a kill, or the deadline while it waited for the side effect's answer)
        assertThat(effects.ranAfterCompletion()).as(report.toString()).isZero();
    }

    @Test
    void streamLosesNothingAndKeepsEachKeysOrder() throws Exception {
        var plan = ChaosStreamRun.plan(600);
        // one kill a few seconds in, harsher results-queue faults, 3 retries: the hanging record's batch reaches the
        // on-failure destination in about 20 s
        var report = ChaosStreamRun.run(new ChaosStreamRun.Plan(plan.records(), 30, 2, 50, 3, Duration.ofSeconds(4),
                Duration.ofSeconds(4), 1, new FaultProxy.Faults(10, 10, 10, 5, 20, 200)), quiet());
        assertThat(report.lost()).as(report.toString()).isZero();
        assertThat(report.outOfOrder()).as(report.toString()).isZero();
        assertThat(report.lateAnswers()).as(report.toString()).isZero();
        assertThat(report.duplicates()).as(report.toString()).isZero();
        assertThat(report.wrongDeduplicationId()).as(report.toString()).isZero();
        assertThat(report.kills()).as(report.toString()).isEqualTo(1);
        // the hanging record never finishes: its batch is described by the destination, so it is not lost
        assertThat(report.destinationByKind()).as(report.toString()).containsKey("hangs");
        assertThat(report.byStatus()).as(report.toString()).containsKeys("succeeded", "rejected", "failed");
        assertThat(report.promiseKept()).as(report.toString()).isTrue();
    }

    static void check(ChaosRun.Report report) {
        assertThat(report.lost()).as(report.toString()).isZero();
        assertThat(report.lateAnswers()).as(report.toString()).isZero();
        assertThat(report.orderViolations()).as(report.toString()).isZero();
        // every message accounted for, once: a result, or the dead-letter queue, or both (killed after its result)
        assertThat(report.distinctResults() + report.deadLettered() - report.bothResultAndDeadLettered())
                .as(report.toString()).isEqualTo(report.seeded());
        assertThat(report.promiseKept()).as(report.toString()).isTrue();
        assertThat(report.kills()).as(report.toString()).isPositive();
        assertThat(report.byStatus()).as(report.toString()).containsKeys("succeeded", "rejected", "failed");
    }

    static PrintStream quiet() {
        return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }
}
