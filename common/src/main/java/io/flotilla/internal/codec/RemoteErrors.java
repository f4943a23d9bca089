package io.flotilla.internal.codec;

import io.flotilla.RemoteException;
import io.flotilla.proto.Frame;
import io.flotilla.proto.RemoteError;
import java.lang.reflect.Constructor;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Converts exceptions to and from {@link RemoteError}, the envelope errors travel in.
 *
 * <p>Errors never travel as Kryo or Java serialization: a peer that lacks the exception's class, or
 * whose version of it differs, must still learn what happened. The envelope keeps class name,
 * message, stack frames, cause chain and suppressed exceptions; rebuilding the original type is a
 * best effort that falls back to {@link RemoteException}.
 */
public final class RemoteErrors {
  /** Deeper cause chains are cut: they are almost always cycles or recursion gone wrong. */
  private static final int MAX_DEPTH = 32;

  private RemoteErrors() {}

  /**
   * @param error any throwable
   * @return its envelope
   */
  public static RemoteError capture(Throwable error) {
    return capture(error, Collections.newSetFromMap(new IdentityHashMap<>()), 0);
  }

  private static RemoteError capture(Throwable error, Set<Throwable> seen, int depth) {
    seen.add(error);
    RemoteError.Builder envelope =
        RemoteError.newBuilder().setClassName(error.getClass().getName());
    String message = safeMessage(error);
    if (message != null) {
      envelope.setMessage(message).setHasMessage(true);
    }
    for (StackTraceElement frame : error.getStackTrace()) {
      Frame.Builder f = Frame.newBuilder().setDeclaringClass(frame.getClassName());
      f.setMethod(frame.getMethodName()).setLine(frame.getLineNumber());
      if (frame.getFileName() != null) {
        f.setFile(frame.getFileName());
      }
      envelope.addFrames(f);
    }
    Throwable cause = error.getCause();
    if (cause != null && depth < MAX_DEPTH && !seen.contains(cause)) {
      envelope.setCause(capture(cause, seen, depth + 1));
    }
    for (Throwable suppressed : error.getSuppressed()) {
      if (depth < MAX_DEPTH && !seen.contains(suppressed)) {
        envelope.addSuppressed(capture(suppressed, seen, depth + 1));
      }
    }
    return envelope.build();
  }

  private static String safeMessage(Throwable error) {
    try {
      return error.getMessage();
    } catch (RuntimeException e) {
      return "<getMessage() threw " + e.getClass().getName() + ">";
    }
  }

  /**
   * Rebuilds an exception of the original class where it has a constructor taking a message (or a
   * message and a cause, which may be null, or nothing), otherwise a {@link RemoteException}. Stack
   * frames, cause chain and suppressed exceptions are restored either way.
   *
   * @param envelope the envelope
   * @param loader where to look for the exception's class
   * @return the rebuilt exception
   */
  public static Throwable rebuild(RemoteError envelope, ClassLoader loader) {
    return rebuild(envelope, loader, 0);
  }

  private static Throwable rebuild(RemoteError envelope, ClassLoader loader, int depth) {
    String message = envelope.getHasMessage() ? envelope.getMessage() : null;
    Throwable cause =
        envelope.hasCause() && depth < MAX_DEPTH
            ? rebuild(envelope.getCause(), loader, depth + 1)
            : null;
    Throwable rebuilt = instantiate(envelope.getClassName(), message, cause, loader);
    if (rebuilt == null) {
      rebuilt = new RemoteException(envelope.getClassName(), message);
    }
    if (cause != null && rebuilt.getCause() == null) {
      try {
        rebuilt.initCause(cause);
      } catch (IllegalStateException | IllegalArgumentException e) {
        rebuilt.addSuppressed(cause);
      }
    }
    StackTraceElement[] frames = new StackTraceElement[envelope.getFramesCount()];
    for (int i = 0; i < frames.length; i++) {
      Frame f = envelope.getFrames(i);
      frames[i] =
          new StackTraceElement(
              f.getDeclaringClass(),
              f.getMethod(),
              f.getFile().isEmpty() ? null : f.getFile(),
              f.getLine());
    }
    rebuilt.setStackTrace(frames);
    for (RemoteError suppressed : envelope.getSuppressedList()) {
      if (depth < MAX_DEPTH) {
        rebuilt.addSuppressed(rebuild(suppressed, loader, depth + 1));
      }
    }
    return rebuilt;
  }

  private static Throwable instantiate(
      String className, String message, Throwable cause, ClassLoader loader) {
    Class<? extends Throwable> type;
    try {
      // initialize=false: a peer's class name must not run static initialisers of arbitrary
      // classes.
      Class<?> found = Class.forName(className, false, loader);
      if (!Throwable.class.isAssignableFrom(found)) {
        return null;
      }
      type = found.asSubclass(Throwable.class);
    } catch (ClassNotFoundException | LinkageError e) {
      return null;
    }
    try {
      if (cause != null) {
        Constructor<? extends Throwable> withCause =
            type.getConstructor(String.class, Throwable.class);
        return withCause.newInstance(message, cause);
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
      // fall through to the message-only constructor
    }
    try {
      return type.getConstructor(String.class).newInstance(message);
    } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
      // fall through to the message-and-cause constructor, given no cause
    }
    try {
      if (cause == null) {
        // Many exceptions (BrokenPoolException among them) take a message only with a cause.
        return type.getConstructor(String.class, Throwable.class).newInstance(message, null);
      }
    } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
      // fall through to the no-argument constructor, usable only when there is no message to keep
    }
    if (message == null) {
      try {
        return type.getConstructor().newInstance();
      } catch (ReflectiveOperationException | RuntimeException | LinkageError ignored) {
        return null;
      }
    }
    return null;
  }

  /**
   * Renders an envelope the way {@link Throwable#printStackTrace()} would, for logs and for the
   * remote traceback attached to a rebuilt exception.
   *
   * @param envelope the envelope
   * @return the text
   */
  public static String render(RemoteError envelope) {
    StringBuilder text = new StringBuilder();
    render(envelope, text, "", 0);
    return text.toString();
  }

  private static void render(RemoteError e, StringBuilder text, String caption, int depth) {
    text.append(caption).append(e.getClassName());
    if (e.getHasMessage()) {
      text.append(": ").append(e.getMessage());
    }
    text.append('\n');
    for (Frame f : e.getFramesList()) {
      text.append("\tat ")
          .append(f.getDeclaringClass())
          .append('.')
          .append(f.getMethod())
          .append('(');
      text.append(f.getFile().isEmpty() ? "Unknown Source" : f.getFile());
      if (f.getLine() >= 0 && !f.getFile().isEmpty()) {
        text.append(':').append(f.getLine());
      }
      text.append(")\n");
    }
    if (depth >= MAX_DEPTH) {
      return;
    }
    for (RemoteError s : e.getSuppressedList()) {
      render(s, text, "Suppressed: ", depth + 1);
    }
    if (e.hasCause()) {
      render(e.getCause(), text, "Caused by: ", depth + 1);
    }
  }
}
