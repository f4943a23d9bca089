package io.flotilla;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.fields;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The API is {@code io.flotilla} and {@code io.flotilla.functions}; everything under {@code
 * io.flotilla.internal} may change in any release. These rules keep the line where it is drawn:
 * what a user can reach from the API (a public or protected signature of a public API type, and
 * what it extends) never names an internal type, and nothing internal is annotated or documented as
 * API.
 */
@AnalyzeClasses(packages = "io.flotilla", importOptions = ImportOption.DoNotIncludeTests.class)
class ApiBoundaryTest {
  private static final String[] API = {"io.flotilla", "io.flotilla.functions"};
  private static final String INTERNAL = "io.flotilla.internal";

  @ArchTest
  static final ArchRule apiSignaturesNameNoInternalType =
      codeUnits()
          .that()
          .areDeclaredInClassesThat()
          .resideInAnyPackage(API)
          .and()
          .areDeclaredInClassesThat()
          .arePublic()
          .and(visibleToUsers())
          .should(nameNoInternalType())
          .allowEmptyShould(false);

  @ArchTest
  static final ArchRule apiFieldsNameNoInternalType =
      fields()
          .that()
          .areDeclaredInClassesThat()
          .resideInAnyPackage(API)
          .and()
          .areDeclaredInClassesThat()
          .arePublic()
          .and()
          .arePublic()
          .should(haveNoInternalType())
          .allowEmptyShould(true);

  @ArchTest
  static final ArchRule apiTypesExtendNoInternalType =
      classes()
          .that()
          .resideInAnyPackage(API)
          .and()
          .arePublic()
          .should(extendNoInternalType())
          .allowEmptyShould(false);

  private static com.tngtech.archunit.base.DescribedPredicate<JavaCodeUnit> visibleToUsers() {
    return com.tngtech.archunit.base.DescribedPredicate.describe(
        "are public or protected",
        unit ->
            unit.getModifiers().contains(JavaModifier.PUBLIC)
                || unit.getModifiers().contains(JavaModifier.PROTECTED));
  }

  private static boolean internal(JavaClass type) {
    return type.getPackageName().equals(INTERNAL)
        || type.getPackageName().startsWith(INTERNAL + ".");
  }

  private static List<String> internalsIn(JavaType type) {
    List<String> found = new ArrayList<>();
    for (JavaClass raw : type.getAllInvolvedRawTypes()) {
      if (internal(raw)) {
        found.add(raw.getName());
      }
    }
    return found;
  }

  private static ArchCondition<JavaCodeUnit> nameNoInternalType() {
    return new ArchCondition<>("name no type of " + INTERNAL) {
      @Override
      public void check(JavaCodeUnit unit, ConditionEvents events) {
        List<String> found = new ArrayList<>(internalsIn(unit.getReturnType()));
        unit.getParameterTypes().forEach(t -> found.addAll(internalsIn(t)));
        unit.getThrowsClause().getTypes().forEach(t -> found.addAll(internalsIn(t)));
        if (!found.isEmpty()) {
          events.add(
              SimpleConditionEvent.violated(
                  unit, unit.getFullName() + " names internal " + Set.copyOf(found)));
        }
      }
    };
  }

  private static ArchCondition<JavaField> haveNoInternalType() {
    return new ArchCondition<>("have no type of " + INTERNAL) {
      @Override
      public void check(JavaField field, ConditionEvents events) {
        List<String> found = internalsIn(field.getType());
        if (!found.isEmpty()) {
          events.add(
              SimpleConditionEvent.violated(
                  field, field.getFullName() + " is of internal " + found));
        }
      }
    };
  }

  private static ArchCondition<JavaClass> extendNoInternalType() {
    return new ArchCondition<>("extend or implement no type of " + INTERNAL) {
      @Override
      public void check(JavaClass type, ConditionEvents events) {
        List<String> found = new ArrayList<>();
        type.getRawSuperclass()
            .filter(ApiBoundaryTest::internal)
            .ifPresent(s -> found.add(s.getName()));
        type.getRawInterfaces().stream()
            .filter(ApiBoundaryTest::internal)
            .forEach(i -> found.add(i.getName()));
        if (!found.isEmpty()) {
          events.add(
              SimpleConditionEvent.violated(type, type.getName() + " extends internal " + found));
        }
      }
    };
  }
}
