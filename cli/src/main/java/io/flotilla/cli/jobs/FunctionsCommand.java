package io.flotilla.cli.jobs;

import io.flotilla.internal.functions.FunctionRegistry;
import io.flotilla.proto.FunctionInfo;
import io.flotilla.proto.ListFunctionsRequest;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code flotilla functions}: the functions a cluster runs by name, with their signatures. */
@Command(
    name = "functions",
    mixinStandardHelpOptions = true,
    description = {
      "Lists the functions the coordinator's workers run by name.",
      "One line each:",
      "  NAME(INPUT) -> OUTPUT  description",
      "With --local, those this installation registers, without a coordinator."
    })
public final class FunctionsCommand implements Callable<Integer> {
  @Mixin JobConnection connection;

  @Option(names = "--local", description = "This installation's functions; no coordinator needed.")
  boolean local;

  @Override
  @SuppressWarnings("try") // the resource is held only to be closed at the end
  public Integer call() {
    List<FunctionInfo> functions = new ArrayList<>();
    if (local) {
      FunctionRegistry.of(FunctionsCommand.class.getClassLoader())
          .all()
          .forEach(f -> functions.add(f.info()));
    } else {
      try (JobConnection open = connection) {
        functions.addAll(
            connection
                .call()
                .listFunctions(ListFunctionsRequest.getDefaultInstance())
                .getFunctionsList());
      } catch (StatusRuntimeException e) {
        return JobExit.report("functions", connection.address(), e);
      }
    }
    int width = functions.stream().mapToInt(f -> f.getSignature().length()).max().orElse(0);
    for (FunctionInfo f : functions) {
      System.out.printf(
          Locale.ROOT, "%-" + width + "s  %s%n", f.getSignature(), f.getDescription());
    }
    return JobExit.OK;
  }
}
