package io.flotilla.functions;

/**
 * A class whose {@link Registered} static methods are functions of the cluster. Implementations are
 * listed, as {@link java.util.ServiceLoader} expects, in {@code
 * META-INF/services/io.flotilla.functions.FunctionLibrary} of a jar on the workers' class path (or
 * of a jar a job ships), and need a public no-argument constructor.
 */
public interface FunctionLibrary {}
