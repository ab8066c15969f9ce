package dev.fanout.function;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.fanout.engine.Deadline;
import dev.fanout.startup.EntryPointStart;
import dev.fanout.startup.Priming;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

/**
 * The HTTP entry point's start: its processor built at init, with the work queue's client if queued mode is
 * on; primed by answering one API Gateway request (payload format 2.0) of the priming items, read by the entry
 * point itself, without counting in the metrics.
 */
@Singleton
public class HttpStart implements EntryPointStart {

    private static final Logger LOG = Logger.getLogger(HttpStart.class);

    /** The priming items that are JSON: a request whose body is not JSON is answered 400 as a whole. */
    static final int ITEMS = 3;

    private final Supplier<HttpBatchProcessor> batches;
    private final ObjectMapper mapper;

    @Inject
    HttpStart(Instance<HttpBatchProcessor> batches, ObjectMapper mapper) {
        // looked up when the entry point is http: another entry point never builds it
        this(batches::get, mapper);
    }

    HttpStart(Supplier<HttpBatchProcessor> batches, ObjectMapper mapper) {
        this.batches = batches;
        this.mapper = mapper;
    }

    @Override
    public String name() {
        return "http";
    }

    @Override
    public void warmUp(boolean snapStart) {
        batches.get().warmUp().ifPresent(state -> LOG.infof("work queue: %s", state));
    }

    @Override
    public Priming prime() {
        ObjectNode event = mapper.createObjectNode().put("version", "2.0").put("routeKey", "POST /batches")
                .put("rawPath", "/batches").put("isBase64Encoded", false)
                .put("body", "{\"items\":[" + String.join(",", Priming.ITEMS.subList(0, ITEMS)) + "]}");
        event.putObject("headers").put("content-type", "application/json");
        ObjectNode requestContext = event.putObject("requestContext").put("requestId", "prime")
                .put("timeEpoch", System.currentTimeMillis());
        requestContext.putObject("http").put("method", "POST").put("path", "/batches");
        // not process(): a priming run is no invocation, and its answer must not count in the metrics
        var answer = batches.get().answer(event.toString().getBytes(StandardCharsets.UTF_8),
                Deadline.after(Priming.TIME), mapper.createObjectNode());
        return new Priming(1, ITEMS, answer.status() == 200 ? ITEMS : 0);
    }
}
