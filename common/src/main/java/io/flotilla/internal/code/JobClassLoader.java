package io.flotilla.internal.code;

import java.net.URL;
import java.net.URLClassLoader;
import java.util.List;

/**
 * The class loader of a job whose code was shipped: its own jars first, then the worker's class
 * path.
 *
 * <p>Child first, because a worker's class path may hold another build of the same classes (an
 * older copy of the application installed with the worker, or the one the worker itself started
 * from): the client's code is what the job's lambdas were compiled against, and a lambda resolved
 * against another build fails ("Invalid lambda deserialization") or, worse, runs other code.
 * Flotilla's runtime and the libraries it talks through always come from the worker, so that the
 * types crossing between the worker and the job ({@code SerializableFunction}, Kryo's, protobuf's)
 * are one type, not two.
 */
final class JobClassLoader extends URLClassLoader {
  /** Packages shared with the worker: the JDK, Flotilla's runtime and its libraries. */
  private static final List<String> WORKER_FIRST =
      List.of(
          "java.",
          "javax.",
          "jdk.",
          "sun.",
          "com.sun.",
          "io.flotilla.SerializableFunction",
          "io.flotilla.SerializableCallable",
          "io.flotilla.SerializableRunnable",
          "io.flotilla.RemoteException",
          "io.flotilla.internal.",
          "io.flotilla.proto.",
          "io.flotilla.functions.",
          "com.fasterxml.jackson.",
          "com.esotericsoftware.",
          "org.objenesis.",
          "com.google.protobuf.",
          "io.grpc.",
          "org.apache.pekko.",
          "scala.",
          "org.slf4j.");

  static {
    registerAsParallelCapable();
  }

  JobClassLoader(String name, URL[] jars, ClassLoader worker) {
    super(name, jars, worker);
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    for (String prefix : WORKER_FIRST) {
      if (name.startsWith(prefix)) {
        return super.loadClass(name, resolve);
      }
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          c = findClass(name);
        } catch (ClassNotFoundException notShipped) {
          return super.loadClass(name, resolve);
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  public URL getResource(String name) {
    URL own = findResource(name);
    return own != null ? own : super.getResource(name);
  }
}
