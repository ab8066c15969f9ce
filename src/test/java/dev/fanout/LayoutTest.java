package dev.fanout;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The layout, checked on the compiled main classes (ArchUnit): each package depends only on the packages below it
 * ({@code function -> startup -> batch.http -> batch -> fanin, work -> engine}: the start-up
 * (SnapStart's hooks, priming, warm-up, credentials) sits under the entry points and knows none of them), no package is left out of the picture, there
 * are no cycles, the layers under the entry points depend on neither Quarkus nor the Lambda event types, and the
 * engine on nothing but the JDK.
 */
class LayoutTest {

    static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.fanout");

    static final String[] PACKAGES = { "dev.fanout.function..", "dev.fanout.startup..", "dev.fanout.batch.http..", "dev.fanout.batch",
            "dev.fanout.fanin..", "dev.fanout.work..", "dev.fanout.engine.." };

    @Test
    void everyPackageDependsOnlyOnThePackagesBelowIt() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("function").definedBy("dev.fanout.function..")
                .layer("startup").definedBy("dev.fanout.startup..")
                .layer("batch.http").definedBy("dev.fanout.batch.http..")
                .layer("batch").definedBy("dev.fanout.batch")
                .layer("fanin").definedBy("dev.fanout.fanin..")
                .layer("work").definedBy("dev.fanout.work..")
                .layer("engine").definedBy("dev.fanout.engine..")
                .whereLayer("function").mayNotBeAccessedByAnyLayer()
                .whereLayer("startup").mayOnlyBeAccessedByLayers("function")
                .whereLayer("batch.http").mayOnlyBeAccessedByLayers("startup", "function")
                .whereLayer("batch").mayOnlyBeAccessedByLayers("batch.http", "startup", "function")
                .whereLayer("fanin").mayOnlyBeAccessedByLayers("batch", "batch.http", "startup", "function")
                .whereLayer("work").mayOnlyBeAccessedByLayers("batch", "batch.http", "startup", "function")
                .whereLayer("engine").mayOnlyBeAccessedByLayers("work", "fanin", "batch", "batch.http", "startup",
                        "function")
                .check(MAIN);
    }

    @Test
    void everyClassIsInALayerOfThePicture() {
        classes().should().resideInAnyPackage(PACKAGES)
                .because("a new package needs its place in the layout (docs/architecture.md) and in this test")
                .check(MAIN);
    }

    @Test
    void thePackagesFormNoCycle() {
        slices().matching("dev.fanout.(**)").should().beFreeOfCycles().check(MAIN);
    }

    @Test
    void theLayersUnderTheEntryPointsDependOnNeitherQuarkusNorTheLambdaEvents() {
        noClasses().that().resideInAnyPackage("dev.fanout.engine..", "dev.fanout.fanin..", "dev.fanout.batch..")
                .should().dependOnClassesThat().resideInAnyPackage("io.quarkus..", "com.amazonaws.services.lambda..")
                .check(MAIN);
    }

    @Test
    void theStartUpReadsNoEventOfAnEntryPoint() {
        noClasses().that().resideInAPackage("dev.fanout.startup..")
                .should().dependOnClassesThat().resideInAnyPackage("com.amazonaws.services.lambda..")
                .because("each entry point primes and warms itself up (EntryPointStart); the start-up only calls it")
                .check(MAIN);
    }

    @Test
    void thePerServiceLimitsDependOnTheJdkTheEngineAndNetflixsLibraryAlone() {
        classes().that().resideInAPackage("dev.fanout.work.limits..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.fanout.engine..",
                        "dev.fanout.work.limits..", "com.netflix.concurrency.limits..")
                .check(MAIN);
    }

    @Test
    void theEngineDependsOnTheJdkAlone() {
        classes().that().resideInAPackage("dev.fanout.engine..")
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "dev.fanout.engine..")
                .check(MAIN);
    }
}
