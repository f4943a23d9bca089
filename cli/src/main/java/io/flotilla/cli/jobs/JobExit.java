package io.flotilla.cli.jobs;

import io.flotilla.internal.link.CoordinatorChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * The job commands' exit codes, which scripts may rely on, and the one line of error each prints.
 *
 * <table>
 *   <caption>Exit codes</caption>
 *   <tr><td>0</td><td>done: every input has its value (submit, attach), or the command did what it was asked</td></tr>
 *   <tr><td>1</td><td>the job finished, and some inputs failed: their lines carry "error"</td></tr>
 *   <tr><td>2</td><td>the command line is wrong, or an input line cannot be read (nothing was sent for it)</td></tr>
 *   <tr><td>3</td><td>the job was cancelled</td></tr>
 *   <tr><td>4</td><td>the coordinator refused the request: unknown function or job, an input the function
 *       cannot take, a job that takes no more inputs (NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION)</td></tr>
 *   <tr><td>5</td><td>no token, or a wrong one (UNAUTHENTICATED, PERMISSION_DENIED)</td></tr>
 *   <tr><td>6</td><td>a limit: too many jobs, too large a message (RESOURCE_EXHAUSTED)</td></tr>
 *   <tr><td>7</td><td>the coordinator cannot be reached, or did not answer in time (UNAVAILABLE, DEADLINE_EXCEEDED)</td></tr>
 *   <tr><td>8</td><td>anything else the coordinator answered (INTERNAL, UNKNOWN, ...)</td></tr>
 * </table>
 */
final class JobExit {
  static final int OK = 0;
  static final int ITEMS_FAILED = 1;
  static final int USAGE = 2;
  static final int CANCELLED = 3;
  static final int REFUSED = 4;
  static final int UNAUTHENTICATED = 5;
  static final int LIMIT = 6;
  static final int UNREACHABLE = 7;
  static final int OTHER = 8;

  private JobExit() {}

  /**
   * Prints the coordinator's refusal as one line on standard error.
   *
   * @param command the command's name
   * @param address the coordinator
   * @param e what the call failed with
   * @return the exit code for it
   */
  static int report(String command, String address, StatusRuntimeException e) {
    Status s = e.getStatus();
    String why = s.getDescription() == null ? "" : ": " + s.getDescription();
    if (CoordinatorChannel.isTlsRefusal(s)) {
      // Reached, and refused: the description says which side's TLS and why.
      why = ": " + s.getDescription();
    } else if (s.getCode() == Status.Code.UNAVAILABLE) {
      why =
          ": cannot reach the coordinator at "
              + address
              + (s.getDescription() == null ? "" : " (" + s.getDescription() + ")");
    } else if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      why = ": the coordinator at " + address + " did not answer in time" + why;
    }
    System.err.println("flotilla " + command + ": " + s.getCode() + why);
    return switch (s.getCode()) {
      case NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, ALREADY_EXISTS ->
          REFUSED;
      case UNAUTHENTICATED, PERMISSION_DENIED -> UNAUTHENTICATED;
      case RESOURCE_EXHAUSTED -> LIMIT;
      case UNAVAILABLE, DEADLINE_EXCEEDED -> UNREACHABLE;
      default -> OTHER;
    };
  }
}
