/**
 * Functions a coordinator's job service runs by name, for clients in any language: a public static
 * method of one parameter, annotated {@link io.flotilla.functions.Registered}, in a class that
 * implements {@link io.flotilla.functions.FunctionLibrary} and is listed in {@code
 * META-INF/services/io.flotilla.functions.FunctionLibrary} on the workers' and the coordinator's
 * class path. The method's parameter and return types choose how inputs and results travel: {@code
 * byte[]} as bytes, a generated Protobuf message as that message, anything else as strict UTF-8
 * JSON.
 */
package io.flotilla.functions;
