package io.flotilla.internal.map;

import java.io.Serializable;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;

/**
 * What a job is, as people watching the pool see it: the function's name, the kind of job, and how
 * many items it has when that is known. Never the items themselves.
 *
 * @param function a readable name for the function, e.g. {@code Demo::isPrime}
 * @param kind {@code map}, {@code tasks} or {@code service}
 * @param expectedItems how many items the job has, or -1 when that is not known in advance
 * @param id the id its users know it by (a job-service job's), or {@code null} for the scheduler's
 */
public record JobLabel(String function, String kind, long expectedItems, String id) {
  /**
   * A job known by the scheduler's id.
   *
   * @param function a readable name for the function
   * @param kind {@code map} or {@code tasks}
   * @param expectedItems how many items, or -1
   */
  public JobLabel(String function, String kind, long expectedItems) {
    this(function, kind, expectedItems, null);
  }

  /** A pool's submitted tasks, all one job. */
  public static final JobLabel TASKS = new JobLabel("tasks", "tasks", -1);

  /**
   * @param fn a map's function
   * @param items its input, whose size is known if it is a collection
   * @return its label
   */
  public static JobLabel map(Object fn, Iterable<?> items) {
    return new JobLabel(
        nameOf(fn), "map", items instanceof java.util.Collection<?> c ? c.size() : -1);
  }

  /**
   * A name for a function object: {@code Class::method} for a lambda or method reference (from its
   * serialized form, which every {@code SerializableFunction} has), the class's simple name
   * otherwise.
   *
   * @param fn the function
   * @return its name
   */
  public static String nameOf(Object fn) {
    Class<?> type = fn.getClass();
    if (type.isSynthetic() && fn instanceof Serializable) {
      try {
        Method replace = type.getDeclaredMethod("writeReplace");
        replace.setAccessible(true);
        if (replace.invoke(fn) instanceof SerializedLambda lambda) {
          String owner = lambda.getImplClass();
          String simple = owner.substring(owner.lastIndexOf('/') + 1);
          String method = lambda.getImplMethodName();
          if (method.startsWith("lambda$")) {
            // lambda$main$0: a lambda written in main()
            String[] parts = method.split("\\$");
            method = parts.length > 1 ? "lambda in " + parts[1] : "lambda";
            return simple + " (" + method + ")";
          }
          return simple + "::" + method;
        }
      } catch (ReflectiveOperationException | RuntimeException e) {
        // Not a lambda after all, or one we may not look into: its class name will do.
      }
    }
    String name = type.getName();
    int lambda = name.indexOf("$$Lambda");
    if (lambda > 0) {
      name = name.substring(0, lambda) + " (lambda)";
    }
    return name.substring(name.lastIndexOf('.') + 1);
  }
}
