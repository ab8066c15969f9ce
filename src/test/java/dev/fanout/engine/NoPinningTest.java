package dev.fanout.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;

import dev.fanout.work.UniAwait;
import io.smallrye.mutiny.Uni;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Virtual threads must not pin their carrier during a run: a pinned thread blocks one of the few
 * carriers (2 on a 2-core Lambda). JFR records every pinned park with threshold 0.
 */
class NoPinningTest {

    private static final Object MONITOR = new Object();
    private static final ReentrantLock LOCK = new ReentrantLock();

    @Test
    void aRunOfBlockingAndAsyncItemsPinsNoCarrier() throws Exception {
        // first use loads and initialises classes, which can pin once per class (a JDK limit, not the run's)
        runBlockingAndAsync();
        List<RecordedEvent> pinned = recordPinning(NoPinningTest::runBlockingAndAsync);
        assertThat(pinned).isEmpty();
    }

    static void runBlockingAndAsync() {
            var pool = new WorkerPool(Limits.of(200));
            List<Integer> items = IntStream.range(0, 500).boxed().toList();
            pool.run(Batch.of(items), ctx -> {
                synchronized (MONITOR) { // blocking inside a monitor pinned before JDK 24 (JEP 491)
                    Thread.sleep(0, 1000);
                }
                LOCK.lock();
                try {
                    Thread.sleep(1);
                } finally {
                    LOCK.unlock();
                }
                return ctx.item();
            }, Deadline.after(Duration.ofMinutes(1)));
            // an async handler as the work layer runs it: the item's thread waits for the Uni
            pool.run(Batch.of(items), ctx -> UniAwait.await(
                    Uni.createFrom().item(ctx.item()).onItem().delayIt().by(Duration.ofMillis(1)), ctx.cancellation()),
                    Deadline.after(Duration.ofMinutes(1)));
    }

    /** Proves the probe sees pinning: parking inside a class initializer still pins on JDK 25. */
    @Test
    void theProbeSeesAPinnedPark() throws Exception {
        List<RecordedEvent> pinned = recordPinning(() -> Thread.ofVirtual().start(() -> PinsInClinit.touch()).join());
        assertThat(pinned).isNotEmpty();
    }

    static final class PinsInClinit {
        static {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        static void touch() {
        }
    }

    interface Body {
        void run() throws Exception;
    }

    static List<RecordedEvent> recordPinning(Body body) throws Exception {
        Path file = Files.createTempFile("pinning", ".jfr");
        try (var recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            recording.start();
            body.run();
            recording.stop();
            recording.dump(file);
            return RecordingFile.readAllEvents(file).stream()
                    .filter(e -> e.getEventType().getName().equals("jdk.VirtualThreadPinned")).toList();
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
