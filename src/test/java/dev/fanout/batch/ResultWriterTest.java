package dev.fanout.batch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

class ResultWriterTest {

    @Test
    void nonCharactersSqsRefusesAreEscapedInResultBodies() throws Exception {
        var mapper = new ObjectMapper();
        var record = new ResultRecord("m-1", "i", "echo", "succeeded",
                mapper.createObjectNode().put("text", "a\uFFFFb\uFFFEc 🚀"), null, 1, null, null);

        String body = new ResultWriter(mapper).write(record);

        assertThat(body).contains("a\\uffffb\\ufffec 🚀").doesNotContain("\uFFFF", "\uFFFE");
        assertThat(mapper.readTree(body).at("/output/text").asText()).isEqualTo("a\uFFFFb\uFFFEc 🚀");
    }
}
