package dev.agenttasks;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import dev.agenttasks.spi.StoreOp;
import dev.agenttasks.spi.TaskRecord;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;

/** Package boundaries of task-core. */
class ArchitectureTest {
    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.agenttasks");

    @Test
    void coreKnowsNoHttpNoSqlAndNoWireJson() {
        noClasses().should().dependOnClassesThat().resideInAnyPackage("java.sql..", "com.sun.net.httpserver..",
                "java.net.http..", "com.fasterxml.jackson..").check(classes);
    }

    @Test
    void theApiReachesTheEngineOnlyThroughItsFactories() {
        noClasses().that().resideInAnyPackage("dev.agenttasks", "dev.agenttasks.spi")
                .and().doNotHaveFullyQualifiedName("dev.agenttasks.TaskManager$Builder")
                .should().dependOnClassesThat().resideInAPackage("dev.agenttasks.internal..")
                .check(classes);
    }

    @Test
    void everyStatusChangeGoesThroughTheLifecycle() {
        // the one transition path: only Lifecycle builds a task row update (and with it a status change)
        noClasses().that().resideInAPackage("dev.agenttasks.internal..")
                .and().doNotHaveFullyQualifiedName("dev.agenttasks.internal.Lifecycle")
                .should().callConstructor(StoreOp.UpdateTask.class, TaskRecord.class, TaskStatus.class)
                .orShould().callConstructor(StoreOp.InsertTask.class, TaskRecord.class)
                .orShould().callMethod(TaskStatus.class, "canMoveTo", TaskStatus.class)
                .because("Lifecycle.move checks TaskStatus.canMoveTo and writes the status event with the change")
                .check(classes);
    }

    @Test
    void theEngineUsesNoJdkInternals() {
        noClasses().that().resideInAPackage("dev.agenttasks.internal..")
                .should().dependOnClassesThat().resideInAPackage("com.sun..").check(classes);
    }

    @Test
    void publicApiTypesExposeNoMutableFields() {
        fields().that().areDeclaredInClassesThat().resideInAnyPackage("dev.agenttasks", "dev.agenttasks.spi")
                .and().arePublic().should().beFinal().andShould().beStatic().check(classes);
    }
}
