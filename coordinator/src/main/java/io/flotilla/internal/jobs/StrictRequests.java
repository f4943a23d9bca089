package io.flotilla.internal.jobs;

import io.grpc.ForwardingServerCallListener;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Gives a service's requests precise statuses before any handler sees them: a message over the size
 * limit is RESOURCE_EXHAUSTED naming both sizes, and bytes that are not the request's Protobuf type
 * are INVALID_ARGUMENT.
 *
 * <p>Implementation notes: gRPC turns an exception thrown while parsing a request into UNKNOWN,
 * with nothing of its message. So the parser does not throw: it hands on a {@link Malformed} in
 * place of the request (erasure lets it pass as one), and the call's listener, wrapped here, closes
 * the call with its status before the handler could see it, and ignores the rest of the call.
 */
final class StrictRequests {
  private StrictRequests() {}

  /**
   * @param service the service
   * @param maxBytes the largest request accepted
   * @return the same service, with checked request parsing
   */
  static ServerServiceDefinition of(ServerServiceDefinition service, int maxBytes) {
    ServiceDescriptor original = service.getServiceDescriptor();
    List<ServerMethodDefinition<?, ?>> methods = new ArrayList<>();
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      methods.add(checked(m, maxBytes));
    }
    ServiceDescriptor.Builder descriptor =
        ServiceDescriptor.newBuilder(original.getName())
            .setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder checked = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(checked::addMethod);
    return checked.build();
  }

  private static <Q, A> ServerMethodDefinition<Q, A> checked(
      ServerMethodDefinition<Q, A> method, int maxBytes) {
    MethodDescriptor<Q, A> d = method.getMethodDescriptor();
    MethodDescriptor.Marshaller<Q> inner = d.getRequestMarshaller();
    String type = d.getBareMethodName() + "'s request";
    MethodDescriptor.Marshaller<Q> strict =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(Q value) {
            return inner.stream(value);
          }

          @Override
          public Q parse(InputStream in) {
            int size = size(in);
            if (size > maxBytes) {
              return tooLarge(Integer.toString(size), maxBytes);
            }
            // A compressed message's length is known only once read: count it as it is read.
            Capped capped = size < 0 ? new Capped(in, maxBytes) : null;
            try {
              return inner.parse(capped != null ? capped : in);
            } catch (RuntimeException e) {
              if (capped != null && capped.over) {
                return tooLarge("more than " + maxBytes, maxBytes);
              }
              String why =
                  e instanceof StatusRuntimeException s
                      ? s.getStatus().getDescription()
                      : e.toString();
              return malformed(
                  Status.INVALID_ARGUMENT.withDescription(
                      "malformed message: not a valid " + type + " (" + why + ")"));
            }
          }
        };
    ServerCallHandler<Q, A> handler = method.getServerCallHandler();
    return ServerMethodDefinition.create(
        d.toBuilder().setRequestMarshaller(strict).build(),
        (call, headers) -> new Guard<>(call, handler.startCall(call, headers)));
  }

  /** A request that could not be read, standing in for it until the listener closes the call. */
  private record Malformed(Status status) {}

  // The stand-in travels through gRPC's listener as the request type Q, which only Guard ever
  // unwraps.
  @SuppressWarnings({"unchecked", "TypeParameterUnusedInFormals"})
  private static <Q> Q malformed(Status status) {
    return (Q) new Malformed(status);
  }

  /**
   * Passes a call's events on to its handler, until a malformed request closes the call instead.
   */
  private static final class Guard<Q, A>
      extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
    private final ServerCall<Q, A> call;
    private boolean closed;

    Guard(ServerCall<Q, A> call, ServerCall.Listener<Q> delegate) {
      super(delegate);
      this.call = call;
    }

    @Override
    public void onMessage(Q message) {
      if (closed) {
        return;
      }
      if ((Object) message instanceof Malformed m) {
        closed = true;
        call.close(m.status(), new Metadata());
        // The handler learns that the call is over, as it would of a client's cancel.
        super.onCancel();
        return;
      }
      super.onMessage(message);
    }

    @Override
    public void onHalfClose() {
      if (!closed) {
        super.onHalfClose();
      }
    }

    @Override
    public void onCancel() {
      if (!closed) {
        super.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (!closed) {
        super.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (!closed) {
        super.onReady();
      }
    }
  }

  @SuppressWarnings("TypeParameterUnusedInFormals") // as malformed()
  private static <Q> Q tooLarge(String size, int maxBytes) {
    return malformed(
        Status.RESOURCE_EXHAUSTED.withDescription(
            "a message of "
                + size
                + " bytes is over the job service's limit of "
                + maxBytes
                + " bytes (--max-message-bytes); send inputs in smaller batches"));
  }

  /** A stream that fails once more than its cap has been read from it. */
  private static final class Capped extends java.io.FilterInputStream {
    private final long cap;
    private long read;
    boolean over;

    Capped(InputStream in, long cap) {
      super(in);
      this.cap = cap;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b >= 0) {
        count(1);
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = super.read(buffer, offset, length);
      if (n > 0) {
        count(n);
      }
      return n;
    }

    private void count(int n) throws IOException {
      read += n;
      if (read > cap) {
        over = true;
        throw new IOException("over " + cap + " bytes");
      }
    }
  }

  private static int size(InputStream in) {
    if (!(in instanceof KnownLength)) {
      return -1;
    }
    try {
      return in.available();
    } catch (IOException e) {
      return -1;
    }
  }
}
