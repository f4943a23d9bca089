package io.flotilla.functions;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Registers a public static method of a {@link FunctionLibrary} as a function that clients of the
 * job service call by name, from any language.
 *
 * <p>The method takes one parameter and returns a value. Their Java types say how inputs and
 * results travel: {@code byte[]} as raw bytes, a Protobuf {@link com.google.protobuf.Message} as
 * that message serialized, anything else as JSON, bound by Jackson (no coercion: a string is not an
 * integer).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Registered {
  /**
   * @return the name clients call it by: lower case letters, digits, '-' and '_'
   */
  String value();

  /**
   * @return one line saying what it does
   */
  String description() default "";
}
