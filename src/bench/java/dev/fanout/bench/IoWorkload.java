package dev.fanout.bench;

import java.awt.Color;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import dev.fanout.bench.Strategies.Spec;
import dev.fanout.bench.Strategy.Tally;
import dev.fanout.bench.Strategy.Task;

/**
 * Workload 1, I/O-bound fan-out: N items of L ms each, (a) a blocking sleep and (b) an HTTP call to a
 * local server that answers after L ms, at concurrency C. Each strategy runs in its own child JVM per
 * repetition, so that its peak RSS is its own.
 * <p>
 * Strategies held to the cores would take minutes at the full N. Each child first runs a pilot at the
 * reduced N; when the wall time projected linearly to the full N exceeds the budget, the reduced run is
 * the measurement and its wall time is reported as extrapolated. The first repetition decides, the
 * later ones follow, so a strategy's repetitions are all measured the same way.
 */
public final class IoWorkload implements Workload {

    /**
     * @param items        N
     * @param reducedItems N of the pilot, and of the measurement of strategies over the budget
     * @param concurrency  C, for the strategies that take a bound
     * @param latency      L
     * @param budget       longest projected wall time measured at the full N
     * @param warmupItems  items of 1 ms run through the strategy before anything is measured
     * @param isolateVariants one child JVM per variant (the full run), or both variants in one child (the
     *                     smoke run, which only needs the code paths and saves half the JVM starts)
     */
    public record Settings(int items, int reducedItems, int concurrency, Duration latency, Duration budget,
            int warmupItems, boolean isolateVariants) {
        public static final Settings FULL = new Settings(10_000, 100, 1_000, Duration.ofMillis(50),
                Duration.ofSeconds(30), 1_000, true);
        public static final Settings SMOKE = new Settings(20, 10, 10, Duration.ofMillis(5), Duration.ofMillis(60), 10,
                false);
    }

    /** What one item does. */
    enum Variant {
        SLEEP("blocking sleep"), HTTP("HTTP call to the local server");

        final String label;

        Variant(String label) {
            this.label = label;
        }

        Task<Integer> task(HttpClient client, URI endpoint, Duration latency) {
            return switch (this) {
                case SLEEP -> item -> {
                    Thread.sleep(latency);
                    return item;
                };
                case HTTP -> {
                    HttpRequest request = DelayServer.request(endpoint, (int) latency.toMillis());
                    yield item -> {
                        HttpResponse<Void> response = client.send(request, HttpResponse.BodyHandlers.discarding());
                        if (response.statusCode() != 200) {
                            throw new IOException("HTTP " + response.statusCode());
                        }
                        return item;
                    };
                }
            };
        }
    }

    /**
     * One row of the tables: a strategy at a concurrency setting. Besides every strategy at C, Fanout also
     * runs at C = N, the bound that unbounded strategies effectively use, to tell the cost of the bound from
     * the cost of the engine.
     */
    record Entry(String key, Spec spec, int concurrency, String label) {
    }

    List<Entry> entries() {
        List<Entry> entries = new ArrayList<>();
        for (Spec spec : Strategies.ALL) {
            entries.add(new Entry(spec.id(), spec, settings.concurrency(), spec.label()));
        }
        entries.add(new Entry("fanout-c-n", Strategies.FANOUT, settings.items(),
                Strategies.FANOUT.label() + ", C = N (reference)"));
        return entries;
    }

    /** How a child measures: decide from a pilot, or as decided already. */
    enum Mode {
        AUTO, FULL, REDUCED
    }

    /** The figures of one child run; {@code strategy} is the key of its {@link Entry}. */
    public record Run(String variant, String strategy, int items, int measuredItems, long wallNanos,
            long projectedNanos, int succeeded, int failed, int peakConcurrency, long peakRssKib, boolean rssReset,
            long baselineThreads, long peakThreads, long baselineOpenFiles, long peakOpenFiles) {

        boolean extrapolated() {
            return measuredItems != items;
        }
    }

    private final Settings settings;

    public IoWorkload(Settings settings) {
        this.settings = settings;
    }

    @Override
    public String id() {
        return "io";
    }

    // ---------------------------------------------------------------- suite side

    @Override
    public ReportSection run(SuiteContext context) throws Exception {
        Map<Variant, Map<String, List<Run>>> runs = new LinkedHashMap<>();
        for (Variant variant : Variant.values()) {
            runs.put(variant, new LinkedHashMap<>());
        }
        List<List<Variant>> groups = settings.isolateVariants()
                ? List.of(List.of(Variant.SLEEP), List.of(Variant.HTTP))
                : List.of(List.of(Variant.values()));
        Map<String, Mode> decided = new HashMap<>();
        try (DelayServer server = DelayServer.start()) {
            server.warmUp(context.smoke() ? 50 : 5_000);
            for (int rep = 1; rep <= context.repetitions(); rep++) {
                for (Entry entry : entries()) {
                    for (List<Variant> group : groups) {
                        for (Run run : runChild(context, server.uri(), group, entry, decided)) {
                            Variant variant = Variant.valueOf(run.variant());
                            decided.putIfAbsent(variant + "/" + entry.key(), run.extrapolated() ? Mode.REDUCED : Mode.FULL);
                            runs.get(variant).computeIfAbsent(entry.key(), k -> new ArrayList<>()).add(run);
                            context.log().accept(String.format(java.util.Locale.ROOT,
                                    "io %s rep %d %-16s %8.3f s%s, peak %d, RSS %d MiB", variant, rep, entry.key(),
                                    run.projectedNanos() / 1e9,
                                    run.extrapolated() ? " (extrapolated from " + run.measuredItems() + ")" : "",
                                    run.peakConcurrency(), run.peakRssKib() / 1024));
                        }
                    }
                }
            }
        }
        return new IoReport(settings, entries(), runs).render();
    }

    /** One child JVM running {@code entry} for each variant of {@code group}, in the mode decided so far. */
    private List<Run> runChild(SuiteContext context, URI endpoint, List<Variant> group, Entry entry,
            Map<String, Mode> decided) throws Exception {
        Options.Builder options = Options.builder()
                .put("variants", String.join(",", group.stream().map(Variant::name).toList()))
                .put("key", entry.key())
                .put("strategy", entry.spec().id())
                .put("items", settings.items())
                .put("reducedItems", settings.reducedItems())
                .put("concurrency", entry.concurrency())
                .put("latencyMillis", settings.latency().toMillis())
                .put("budgetMillis", settings.budget().toMillis())
                .put("warmupItems", settings.warmupItems())
                .put("endpoint", endpoint);
        for (Variant variant : group) {
            options.put("mode." + variant, decided.getOrDefault(variant + "/" + entry.key(), Mode.AUTO));
        }
        Duration timeout = settings.budget().multipliedBy(3)
                .plus(settings.latency().multipliedBy(settings.reducedItems())).plusMinutes(2)
                .multipliedBy(group.size());
        List<Run> runs = context.jvm().run(id(), options.build(), timeout).all("io", Run.class);
        if (runs.size() != group.size()) {
            throw new IllegalStateException("expected " + group.size() + " results from " + entry.key() + ", got " + runs.size());
        }
        return runs;
    }

    // ---------------------------------------------------------------- child side

    @Override
    public void child(Options options) throws Exception {
        Spec spec = Strategies.byId(options.get("strategy"));
        String key = options.get("key");
        int items = options.intValue("items");
        int reduced = options.intValue("reducedItems");
        Duration latency = Duration.ofMillis(options.longValue("latencyMillis"));
        long budgetNanos = Duration.ofMillis(options.longValue("budgetMillis")).toNanos();
        URI endpoint = URI.create(options.get("endpoint"));

        ActiveCounter counter = new ActiveCounter();
        try (ResourceSampler sampler = new ResourceSampler(20);
             Strategy strategy = spec.create(options.intValue("concurrency"))) {
            for (String name : options.get("variants").split(",")) {
                Variant variant = Variant.valueOf(name);
                try (HttpClient client = variant == Variant.HTTP ? plainHttpClient() : null) {
                    strategy.run(range(options.intValue("warmupItems")), variant.task(client, endpoint, Duration.ofMillis(1)));
                    Task<Integer> work = counter.around(variant.task(client, endpoint, latency));
                    Measurement measure = n -> {
                        System.gc();
                        counter.reset();
                        sampler.reset();
                        boolean rssReset = ProcStatus.resetPeakRss();
                        List<Integer> batch = range(n);
                        long start = System.nanoTime();
                        Tally tally = strategy.run(batch, work);
                        long wall = System.nanoTime() - start;
                        return new Run(variant.name(), key, items, n, wall, Math.round((double) wall * items / n),
                                tally.succeeded(), tally.failed(), counter.peak(), ProcStatus.peakRssKib(), rssReset,
                                sampler.baselineThreads(), sampler.peakThreads(), sampler.baselineOpenFiles(),
                                sampler.peakOpenFiles());
                    };
                    Run run = switch (Mode.valueOf(options.get("mode." + variant))) {
                        case FULL -> measure.items(items);
                        case REDUCED -> measure.items(reduced);
                        case AUTO -> {
                            Run pilot = measure.items(reduced);
                            yield pilot.projectedNanos() > budgetNanos ? pilot : measure.items(items);
                        }
                    };
                    ResultLine.emit("io", run);
                }
            }
        }
    }

    /**
     * The items' HTTP client: HTTP/1.1, default executor and connection pool. It only calls http://, so it
     * gets a TLS context without key or trust material instead of the default one, whose loading of the
     * JDK's CA certificates would add half a second to every child JVM's start.
     */
    static HttpClient plainHttpClient() throws java.security.GeneralSecurityException {
        javax.net.ssl.SSLContext noTls = javax.net.ssl.SSLContext.getInstance("TLS");
        noTls.init(new javax.net.ssl.KeyManager[0], new javax.net.ssl.TrustManager[0], null);
        return HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).sslContext(noTls).build();
    }

    @FunctionalInterface
    private interface Measurement {
        Run items(int n) throws Exception;
    }

    static List<Integer> range(int n) {
        return IntStream.range(0, n).boxed().toList();
    }

    // ---------------------------------------------------------------- report

    /** Renders the figures of both variants. */
    private record IoReport(Settings settings, List<Entry> entries, Map<Variant, Map<String, List<Run>>> runs) {

        double idealSeconds() {
            int waves = (settings.items() + settings.concurrency() - 1) / settings.concurrency();
            return waves * settings.latency().toNanos() / 1e9;
        }

        Stats wall(Variant v, String strategy) {
            return Stats.of(runs.get(v).get(strategy).stream().map(r -> r.projectedNanos() / 1e9).toList());
        }

        Stats rssMib(Variant v, String strategy) {
            return Stats.of(runs.get(v).get(strategy).stream().map(r -> r.peakRssKib() / 1024.0).toList());
        }

        Run first(Variant v, String strategy) {
            return runs.get(v).get(strategy).getFirst();
        }

        int maxOf(Variant v, String strategy, java.util.function.ToLongFunction<Run> f) {
            return (int) runs.get(v).get(strategy).stream().mapToLong(f).max().orElse(-1);
        }

        ReportSection render() {
            int n = settings.items();
            int c = settings.concurrency();
            long l = settings.latency().toMillis();
            StringBuilder md = new StringBuilder();
            md.append("""
                    %s items of %d ms each at concurrency C = %s, two ways: **(a)** the item sleeps (`Thread.sleep`), \
                    **(b)** the item makes a real HTTP call (`java.net.http.HttpClient`, HTTP/1.1, one client per JVM) \
                    to a local server (JDK `HttpServer` on 127.0.0.1, one virtual thread per exchange, in the suite's \
                    JVM) that answers after %d ms. Every strategy runs in its own child JVM per repetition. \
                    The last row runs Fanout at C = N, the bound an unbounded strategy effectively uses, so that \
                    the cost of the bound can be told from the cost of the engine.

                    * **Efficiency** = ideal / wall time, ideal = ceil(N / C) × L = %s s: the time a perfect pool bounded \
                    at C would take. Strategies that cannot reach C (fixed pools, the common pool, sequential) are \
                    measured against the same ideal, which is the point: it is what the user asked for.
                    * **Peak concurrency** is counted inside the items; unbounded strategies do not stop at C.
                    * In (b) the HTTP client and the server share this machine's %d cores, so the CPU cost of %s \
                    requests adds to the %d ms delay for every strategy: compare strategies with each other there \
                    more than with the ideal.
                    * **Extrapolated** (ᵉ): a strategy whose wall time projected from a %s-item pilot exceeded %s s \
                    was measured at %s items and its wall time scaled by N / %s. Its RSS, threads and files are \
                    those of the smaller run.
                    * **Peak RSS** is VmHWM of the child, reset after a warm-up batch of %s items of 1 ms (which \
                    also opens the HTTP connections it needs), so it is the JVM plus the measured batch. OS threads \
                    and open files are sampled every 20 ms; in brackets, their number when the batch started: for \
                    files, the jars of the test class path (about 250 once the HTTP client has scanned them for \
                    services) plus the connections the warm-up left in the client's pool.

                    """.formatted(Markdown.integer(n), l, Markdown.integer(c), l, Markdown.num(idealSeconds()),
                    Strategies.CORES, Markdown.integer(n), l,
                    Markdown.integer(settings.reducedItems()), Markdown.num(settings.budget().toMillis() / 1000.0),
                    Markdown.integer(settings.reducedItems()), Markdown.integer(settings.reducedItems()),
                    Markdown.integer(settings.warmupItems())));
            boolean allReset = runs.values().stream().flatMap(m -> m.values().stream()).flatMap(List::stream)
                    .allMatch(Run::rssReset);
            if (!allReset) {
                md.append("**VmHWM could not be reset in some child JVMs** (no writable /proc/self/clear_refs): "
                        + "their peak RSS includes the warm-up batch.\n\n");
            }
            md.append("![Efficiency per strategy, workload 1](benchmarks.png)\n\n");
            List<String> keys = new ArrayList<>();
            for (Variant v : runs.keySet()) {
                md.append("### 1").append(v == Variant.SLEEP ? "a" : "b").append(". ").append(capitalise(v.label))
                        .append("\n\n");
                md.append(timeTable(v)).append('\n');
                md.append(resourceTable(v)).append('\n');
                keys.add(keyFigure(v));
            }
            md.append(costTable());
            md.append(lambdaNotes());
            return new ReportSection("io", "1. I/O-bound fan-out", keys, md.toString(),
                    List.of(new ReportSection.Chart("benchmarks.png", chart())));
        }

        String timeTable(Variant v) {
            Stats fanout = wall(v, Strategies.FANOUT.id());
            List<List<String>> rows = new ArrayList<>();
            for (Entry entry : entries) {
                Stats wall = wall(v, entry.key());
                Run run = first(v, entry.key());
                rows.add(List.of(entry.label(),
                        Markdown.integer(run.measuredItems()) + (run.extrapolated() ? " ᵉ" : ""),
                        Markdown.range(wall) + (run.extrapolated() ? " ᵉ" : ""),
                        Markdown.times(wall.median() / fanout.median()),
                        Markdown.percent(idealSeconds() / wall.median()),
                        Markdown.integer(maxOf(v, entry.key(), Run::peakConcurrency)),
                        Markdown.integer(maxOf(v, entry.key(), Run::failed))));
            }
            return Markdown.table(List.of("Strategy", "Items run", "Wall time, s", "vs Fanout", "Efficiency",
                    "Peak concurrency", "Failed items (max)"), rows);
        }

        String resourceTable(Variant v) {
            Stats fanout = rssMib(v, Strategies.FANOUT.id());
            List<List<String>> rows = new ArrayList<>();
            for (Entry entry : entries) {
                String key = entry.key();
                Stats rss = rssMib(v, key);
                rows.add(List.of(entry.label(), Markdown.range(rss), Markdown.times(rss.median() / fanout.median()),
                        Markdown.integer(maxOf(v, key, Run::peakThreads)) + " ("
                                + Markdown.integer(maxOf(v, key, Run::baselineThreads)) + ")",
                        Markdown.integer(maxOf(v, key, Run::peakOpenFiles)) + " ("
                                + Markdown.integer(maxOf(v, key, Run::baselineOpenFiles)) + ")"));
            }
            return Markdown.table(List.of("Strategy", "Peak RSS, MiB", "vs Fanout", "Peak OS threads (before)",
                    "Peak open files (before)"), rows);
        }

        String keyFigure(Variant v) {
            Stats fanout = wall(v, Strategies.FANOUT.id());
            Entry fastestOther = entries.stream().filter(e -> e.spec() != Strategies.FANOUT)
                    .min(java.util.Comparator.comparingDouble(e -> wall(v, e.key()).median())).orElseThrow();
            double fastest = wall(v, fastestOther.key()).median();
            String bound = fastestOther.spec().bounded() ? ""
                    : String.format(java.util.Locale.ROOT, "; it does not honour C: up to %s items at once",
                            Markdown.integer(maxOf(v, fastestOther.key(), Run::peakConcurrency)));
            return String.format(java.util.Locale.ROOT,
                    "I/O-bound, %s: Fanout ran %s items of %d ms at C = %s in %s s (%s of the ideal %s s), %s s at "
                            + "C = N; fastest other strategy: %s, %s s (%s Fanout's time%s); Mutiny merge(C): %s "
                            + "Fanout's time; Powertools' default parallel stream: %s s%s.",
                    v.label, Markdown.integer(settings.items()), settings.latency().toMillis(),
                    Markdown.integer(settings.concurrency()), Markdown.num(fanout.median()),
                    Markdown.percent(idealSeconds() / fanout.median()), Markdown.num(idealSeconds()),
                    Markdown.num(wall(v, "fanout-c-n").median()), fastestOther.label(), Markdown.num(fastest),
                    Markdown.times(fastest / fanout.median()), bound,
                    Markdown.times(wall(v, "mutiny").median() / fanout.median()),
                    Markdown.num(wall(v, "parallel-stream").median()),
                    first(v, "parallel-stream").extrapolated() ? " (extrapolated)" : "");
        }

        String costTable() {
            int memory = LambdaPricing.memoryMbForCores(Strategies.CORES);
            List<List<String>> rows = new ArrayList<>();
            for (Entry entry : entries) {
                List<String> row = new ArrayList<>();
                row.add(entry.label());
                for (Variant v : runs.keySet()) {
                    double wall = wall(v, entry.key()).median();
                    row.add("$" + Markdown.num(LambdaPricing.perMillionItems(wall, settings.items(), memory,
                            LambdaPricing.X86_PER_GB_SECOND)));
                    row.add("$" + Markdown.num(LambdaPricing.perMillionItems(wall, settings.items(), memory,
                            LambdaPricing.ARM64_PER_GB_SECOND)));
                }
                rows.add(row);
            }
            List<String> header = new ArrayList<>(List.of("Strategy"));
            for (Variant v : runs.keySet()) {
                header.add(capitalise(v.name().toLowerCase()) + ", x86");
                header.add(capitalise(v.name().toLowerCase()) + ", arm64");
            }
            return "### Cost per million items\n\nAt " + Markdown.integer(memory) + " MB (the memory that buys "
                    + Strategies.CORES + " vCPU, the CPU of this machine), one invocation per batch of "
                    + Markdown.integer(settings.items()) + " items, median wall time, prices under *Assumptions*. "
                    + "arm64 assumes the same wall time as measured here on x86, which was not measured.\n\n"
                    + Markdown.table(header, rows) + '\n';
        }

        String lambdaNotes() {
            int fanoutMemory = (int) Math.ceil(rssMib(Variant.HTTP, Strategies.FANOUT.id()).max());
            Entry mostThreads = entries.stream()
                    .max(java.util.Comparator.comparingInt(e -> maxOf(Variant.HTTP, e.key(), Run::peakThreads)))
                    .orElseThrow();
            return """
                    **For a Lambda user.** The concurrency setting is the lever for I/O-bound items: the wall time of \
                    a bounded pool is about ceil(N / C) × L, so C = %s turns %s items of %d ms into about %s s of \
                    billed duration. It is also what the downstream service sees: Fanout and Mutiny hold it to C, \
                    `runAsync` on virtual threads opens one request per item at once (see its peak concurrency \
                    and open files). Lambda caps file descriptors and OS threads at 1,024 each per execution \
                    environment, and every in-flight HTTP/1.1 call holds a socket: Fanout's HTTP run peaked at %s \
                    open files (class-path jars included), so on Lambda pick C below about 1,024 minus what the \
                    runtime and the SDK keep open (C = %s is the benchmark's setting, not a recommendation). The \
                    sleep variant needs no sockets. Threads count against the other 1,024: the highest OS-thread peak \
                    of the HTTP runs was %s (%s), as the JDK client's default executor adds platform threads under \
                    load, and a pool of platform threads holds one per slot. Memory: the peak RSS is the floor of the memory setting (%s MiB for Fanout's HTTP \
                    run, JVM included); for I/O-bound work you may pick less memory than the CPU-matched size the \
                    cost table assumes, as long as the HTTP stack keeps up with a smaller CPU share.

                    """.formatted(Markdown.integer(settings.concurrency()), Markdown.integer(settings.items()),
                    settings.latency().toMillis(), Markdown.num(idealSeconds()),
                    Markdown.integer(maxOf(Variant.HTTP, Strategies.FANOUT.id(), Run::peakOpenFiles)),
                    Markdown.integer(settings.concurrency()),
                    Markdown.integer(maxOf(Variant.HTTP, mostThreads.key(), Run::peakThreads)), mostThreads.label(),
                    Markdown.integer(fanoutMemory));
        }

        java.awt.image.BufferedImage chart() {
            List<String> labels = entries.stream().map(e -> e.label().replace("`", "")).toList();
            List<BarChart.Series> series = new ArrayList<>();
            Color[] colors = {new Color(0x2E6FD8), new Color(0xF28E2B)};
            int i = 0;
            for (Variant v : runs.keySet()) {
                double[] values = entries.stream()
                        .mapToDouble(e -> 100 * idealSeconds() / wall(v, e.key()).median()).toArray();
                boolean[] marked = new boolean[values.length];
                for (int k = 0; k < marked.length; k++) {
                    marked[k] = first(v, entries.get(k).key()).extrapolated();
                }
                series.add(new BarChart.Series(capitalise(v.label), colors[i++ % colors.length], values, marked));
            }
            String title = String.format(java.util.Locale.ROOT,
                    "I/O-bound fan-out: %s items of %d ms at C = %s (efficiency = ideal / wall time; higher is better)",
                    Markdown.integer(settings.items()), settings.latency().toMillis(),
                    Markdown.integer(settings.concurrency()));
            double top = series.stream().flatMapToDouble(s -> java.util.Arrays.stream(s.values())).max().orElse(100);
            return BarChart.render(title, "Efficiency, % of ceil(N/C) x L", labels, series,
                    Math.max(100, Math.ceil(top / 20) * 20),
                    "Above 100 %: more than C items ran at once. * extrapolated from "
                            + Markdown.integer(settings.reducedItems()) + " items. Median of "
                            + runs.values().iterator().next().values().iterator().next().size() + " runs.");
        }

        static String capitalise(String s) {
            return Character.toUpperCase(s.charAt(0)) + s.substring(1);
        }
    }
}
