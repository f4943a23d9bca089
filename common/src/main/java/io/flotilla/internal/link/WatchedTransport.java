package io.flotilla.internal.link;

import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.net.SocketAddress;
import java.util.function.BiConsumer;

/**
 * A coordinator server's transport, TLS or plain, that reports every connection it refuses before
 * any call: a TLS handshake that failed (a certificate one side does not trust, a client speaking
 * plain text to a TLS port), or a TLS client on a plain-text port. gRPC drops such connections
 * without a word to the application; the coordinator's log should say who was refused and why.
 *
 * <p>Built on gRPC's internal protocol negotiators, the one place where a server sees a connection
 * before its first call: the standard negotiator does the work, and a handler put in front of it
 * only watches. The gRPC version is pinned in the parent POM; a release that changes these
 * internals fails the tests of refusals (RefusalsTest).
 */
final class WatchedTransport implements InternalProtocolNegotiator.ProtocolNegotiator {
  /** The first byte of a TLS handshake record: a ClientHello on a port that expects HTTP/2. */
  private static final byte TLS_HANDSHAKE = 0x16;

  private final InternalProtocolNegotiator.ProtocolNegotiator negotiator;
  private final boolean tls;
  private final BiConsumer<SocketAddress, String> refused;

  private WatchedTransport(
      InternalProtocolNegotiator.ProtocolNegotiator negotiator,
      boolean tls,
      BiConsumer<SocketAddress, String> refused) {
    this.negotiator = negotiator;
    this.tls = tls;
    this.refused = refused;
  }

  /**
   * @param ssl the server's TLS, or {@code null} for plain text
   * @param refused told of each connection refused before its first call: the peer's address and
   *     why, on a network thread; must not block
   * @return credentials for a Netty server builder
   */
  static ServerCredentials credentials(SslContext ssl, BiConsumer<SocketAddress, String> refused) {
    InternalProtocolNegotiator.ProtocolNegotiator negotiator =
        ssl != null
            ? InternalProtocolNegotiators.serverTls(ssl)
            : InternalProtocolNegotiators.serverPlaintext();
    return InternalNettyServerCredentials.create(
        new WatchedTransport(negotiator, ssl != null, refused));
  }

  @Override
  public AsciiString scheme() {
    return negotiator.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    ChannelHandler negotiation = negotiator.newHandler(grpcHandler);
    return new ChannelInboundHandlerAdapter() {
      @Override
      public void handlerAdded(ChannelHandlerContext ctx) {
        // The standard negotiation goes where this handler is; once the connection is active, a TLS
        // one
        // puts its SslHandler before it, and passes a failed handshake on as an exception.
        ctx.pipeline().addBefore(ctx.name(), null, negotiation);
        if (tls) {
          ctx.pipeline().addAfter(ctx.name(), null, new FailedHandshake());
        } else {
          ctx.pipeline().addFirst(new FirstBytes());
        }
        ctx.pipeline().remove(this);
      }
    };
  }

  @Override
  public void close() {
    negotiator.close();
  }

  /**
   * Reports the exception a failed TLS handshake ends in. It stays for the connection's life, but
   * sees nothing once gRPC's handler consumes the traffic; exceptions after a successful handshake
   * (a reset connection) are not its business.
   */
  private final class FailedHandshake extends ChannelInboundHandlerAdapter {
    private boolean reported; // network thread only

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      if (!reported && (ssl == null || !ssl.handshakeFuture().isSuccess())) {
        reported = true;
        String why = TlsTrouble.serverSide(cause);
        if (why != null) {
          refused.accept(ctx.channel().remoteAddress(), why);
        }
      }
      ctx.fireExceptionCaught(cause);
    }
  }

  /** Looks at a plain-text connection's first bytes once, for a TLS client's handshake. */
  private final class FirstBytes extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf bytes
          && bytes.isReadable()
          && bytes.getByte(bytes.readerIndex()) == TLS_HANDSHAKE) {
        refused.accept(
            ctx.channel().remoteAddress(),
            "it speaks TLS, and this coordinator does not: give the client no TLS directory, or give the"
                + " coordinator --tls-dir");
      }
      ctx.pipeline().remove(this);
      ctx.fireChannelRead(msg);
    }
  }
}
