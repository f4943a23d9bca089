package io.flotilla.jobs;

import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
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
 * limit is RESOURCE_EXHAUSTED naming both sizes, and bytes that are not the request's Protobuf type are
 * INVALID_ARGUMENT (gRPC's own answer to both would be less telling: INTERNAL for the second).
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
        ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
    methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
    ServerServiceDefinition.Builder checked = ServerServiceDefinition.builder(descriptor.build());
    methods.forEach(checked::addMethod);
    return checked.build();
  }

  private static <Q, A> ServerMethodDefinition<Q, A> checked(ServerMethodDefinition<Q, A> method, int maxBytes) {
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
              throw Status.RESOURCE_EXHAUSTED
                  .withDescription(
                      "a message of " + size + " bytes is over the job service's limit of " + maxBytes
                          + " bytes (--max-message-bytes); send inputs in smaller batches")
                  .asRuntimeException();
            }
            try {
              return inner.parse(in);
            } catch (StatusRuntimeException e) {
              throw Status.INVALID_ARGUMENT
                  .withDescription("malformed message: not a valid " + type + " (" + e.getStatus().getDescription() + ")")
                  .asRuntimeException();
            }
          }
        };
    return ServerMethodDefinition.create(d.toBuilder().setRequestMarshaller(strict).build(), method.getServerCallHandler());
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
