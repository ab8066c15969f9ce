package dev.fanout.function;

import dev.fanout.batch.ResultRecord;
import io.quarkus.runtime.annotations.RegisterForReflection;

/**
 * Reflection data a native image needs for classes Jackson binds that carry no Quarkus annotation: the
 * result format ({@link ResultRecord}, kept free of Quarkus in the batch layer), and classes that are not ours
 * to annotate. Quarkus's Lambda runtime binds an invocation's client context and Cognito identity (sent by the
 * mobile SDKs) with Jackson, and its extension registers neither; NativeBuildStepsIT found them.
 */
@RegisterForReflection(targets = { ResultRecord.class, ResultRecord.Error.class }, classNames = {
        "io.quarkus.amazon.lambda.runtime.ClientContextImpl",
        "io.quarkus.amazon.lambda.runtime.ClientImpl",
        "com.amazonaws.services.lambda.runtime.CognitoIdentity" })
final class NativeReflection {

    private NativeReflection() {
    }
}
