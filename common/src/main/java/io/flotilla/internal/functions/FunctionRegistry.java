package io.flotilla.internal.functions;

import io.flotilla.functions.FunctionLibrary;
import io.flotilla.functions.Registered;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The functions registered on a class path: every {@link Registered} method of every {@link
 * FunctionLibrary} its service files list. The registry of Flotilla's own class loader is read once
 * and kept; a job's loader over shipped jars gets a registry of its own, kept by the job's function
 * ({@link NamedCall}) and no longer, so that the loader can be collected when the job's code is
 * released. Where a job's jars register a name the worker's class path also has, the job's function
 * wins.
 */
public final class FunctionRegistry {
  private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");
  private static final ClassLoader OWN = FunctionRegistry.class.getClassLoader();
  private static volatile FunctionRegistry own;

  private final Map<String, NamedFunction> functions;

  private FunctionRegistry(Map<String, NamedFunction> functions) {
    this.functions = Collections.unmodifiableMap(functions);
  }

  /**
   * @param loader where to look
   * @return the functions it registers
   * @throws IllegalStateException if two methods claim one name, or a registration is malformed
   */
  public static FunctionRegistry of(ClassLoader loader) {
    if (loader != OWN) {
      return load(loader);
    }
    FunctionRegistry r = own;
    if (r == null) {
      r = load(loader);
      own = r;
    }
    return r;
  }

  private static FunctionRegistry load(ClassLoader loader) {
    Map<String, NamedFunction> found = new TreeMap<>();
    for (FunctionLibrary library : ServiceLoader.load(FunctionLibrary.class, loader)) {
      for (Method m : library.getClass().getMethods()) {
        Registered r = m.getAnnotation(Registered.class);
        if (r == null) {
          continue;
        }
        String where = m.getDeclaringClass().getName() + "." + m.getName();
        if (!NAME.matcher(r.value()).matches()) {
          throw new IllegalStateException(
              where
                  + " registers '"
                  + r.value()
                  + "': names are lower case letters, digits, '-' and '_'");
        }
        if (!Modifier.isStatic(m.getModifiers())
            || m.getParameterCount() != 1
            || m.getReturnType() == void.class) {
          throw new IllegalStateException(
              where
                  + " registers '"
                  + r.value()
                  + "' but is not a static method of one parameter returning a value");
        }
        NamedFunction previous = found.get(r.value());
        NamedFunction next = new NamedFunction(r.value(), r.description(), m);
        if (previous == null || (definedBy(next, loader) && !definedBy(previous, loader))) {
          found.put(r.value(), next);
        } else if (definedBy(previous, loader) == definedBy(next, loader)) {
          throw new IllegalStateException(
              "two functions are registered as '" + r.value() + "': " + previous + " and " + where);
        }
      }
    }
    return new FunctionRegistry(found);
  }

  /**
   * Whether the loader itself defines the function's class: a job's jars, rather than its parent's.
   */
  private static boolean definedBy(NamedFunction f, ClassLoader loader) {
    return f.declaringClass().getClassLoader() == loader;
  }

  /**
   * @return the function of that name, if registered
   */
  public Optional<NamedFunction> find(String name) {
    return Optional.ofNullable(functions.get(name));
  }

  /**
   * @return every function, by name
   */
  public Collection<NamedFunction> all() {
    return functions.values();
  }
}
