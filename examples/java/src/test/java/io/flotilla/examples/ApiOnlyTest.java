package io.flotilla.examples;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

/**
 * The examples are what a user's program looks like, so they use the API alone: nothing under
 * {@code io.flotilla.internal}, which may change in any release.
 */
@AnalyzeClasses(
    packages = "io.flotilla.examples",
    importOptions = ImportOption.DoNotIncludeTests.class)
class ApiOnlyTest {
  @ArchTest
  static final ArchRule examplesUseTheApiOnly =
      noClasses()
          .that()
          .resideInAPackage("io.flotilla.examples..")
          .should()
          .dependOnClassesThat()
          .resideInAPackage("io.flotilla.internal..")
          .because("io.flotilla.internal is not API");
}
