package io.flotilla.internal.local;

import java.util.List;
import java.util.Map;

/**
 * How to start a local worker JVM.
 *
 * @param javaExecutable the {@code java} binary
 * @param classPath the class path, normally the caller's own
 * @param jvmArgs user JVM flags, after the defaults so that they win
 * @param systemProperties {@code -Dkey=value} for the worker
 * @param environment extra environment variables
 * @param threads run threads per worker
 * @param maxMessageBytes the largest gRPC message
 * @param classDataSharing whether workers build and use an AppCDS archive
 */
public record LaunchOptions(
    String javaExecutable,
    String classPath,
    List<String> jvmArgs,
    Map<String, String> systemProperties,
    Map<String, String> environment,
    int threads,
    int maxMessageBytes,
    boolean classDataSharing) {}
