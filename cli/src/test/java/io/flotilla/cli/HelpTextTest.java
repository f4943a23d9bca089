package io.flotilla.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command's {@code --help}, rendered as a user sees it on an 80-column terminal. Picocli
 * wraps each description string as a paragraph, so a sentence written over several strings comes
 * out broken wherever the source's lines ended ("... and workers" / "join it ..."); these checks
 * catch that, and lines too long for the terminal.
 */
class HelpTextTest {
  private static final int WIDTH = 80;

  /** Each command's help, by its full name ("flotilla demo"). */
  private static final Map<String, String> HELP = new TreeMap<>();

  @BeforeAll
  static void render() {
    CommandLine root = new CommandLine(new Main());
    root.setUsageHelpWidth(WIDTH);
    collect(root);
  }

  private static void collect(CommandLine command) {
    HELP.put(command.getCommandSpec().qualifiedName(), command.getUsageMessage());
    command.getSubcommands().values().forEach(HelpTextTest::collect);
  }

  @Test
  void everyCommandIsRendered() {
    assertThat(HELP)
        .containsKeys(
            "flotilla",
            "flotilla demo",
            "flotilla bench",
            "flotilla coordinator",
            "flotilla worker",
            "flotilla submit",
            "flotilla top");
  }

  @Test
  void noLineIsWiderThanTheTerminal() {
    List<String> tooLong = new ArrayList<>();
    HELP.forEach(
        (name, help) ->
            help.lines()
                .filter(l -> l.length() > WIDTH)
                .forEach(l -> tooLong.add(name + ": " + l)));
    assertThat(tooLong).isEmpty();
  }

  /**
   * A sentence that goes on in the next line although the next word would have fitted on this one:
   * the line ended where a source string did, not where the terminal does.
   */
  @Test
  void noSentenceIsBrokenBeforeTheEdge() {
    List<String> broken = new ArrayList<>();
    HELP.forEach(
        (name, help) -> {
          List<String> lines = help.lines().toList();
          boolean synopsis = false;
          for (int i = 0; i + 1 < lines.size(); i++) {
            String line = lines.get(i).stripTrailing();
            String next = lines.get(i + 1).strip();
            // The synopsis is followed by the description, which may start with a lower-case name.
            synopsis = line.startsWith("Usage:") || (synopsis && line.startsWith(" "));
            if (synopsis || line.isBlank() || next.isEmpty() || endsSentence(line)) {
              continue;
            }
            String word = next.split(" ", 2)[0];
            // Picocli fills a line to one column short of the width.
            if (Character.isLowerCase(next.charAt(0))
                && line.length() + 1 + word.length() < WIDTH) {
              broken.add(name + ": \"" + line.strip() + "\" / \"" + next + "\"");
            }
          }
        });
    assertThat(broken).isEmpty();
  }

  /**
   * The command list shows each command's first description string: it must be a whole sentence.
   */
  @Test
  void eachCommandInTheListIsSummedUpInASentence() {
    List<String> cut = new ArrayList<>();
    HELP.forEach(
        (name, help) -> {
          List<String> lines = help.lines().toList();
          int heading = lines.indexOf("Commands:");
          if (heading < 0) {
            return;
          }
          List<String> entries = new ArrayList<>();
          for (String line : lines.subList(heading + 1, lines.size())) {
            if (line.startsWith("  ") && !line.startsWith("   ")) {
              entries.add(line.strip());
            } else if (line.startsWith("   ") && !entries.isEmpty()) {
              int last = entries.size() - 1;
              entries.set(last, entries.get(last) + " " + line.strip());
            } else {
              break;
            }
          }
          assertThat(entries).as(name + "'s commands").isNotEmpty();
          entries.stream().filter(e -> !e.endsWith(".")).forEach(e -> cut.add(name + ": " + e));
        });
    assertThat(cut).isEmpty();
  }

  /**
   * Every command that reads the cluster secret, as a client (the demo's --connect, the job
   * commands, for which it is also a token) or as a server, says both ways of giving it.
   */
  @Test
  void commandsThatReadTheSecretNameBothVariables() {
    for (String name :
        List.of(
            "demo",
            "coordinator",
            "worker",
            "functions",
            "submit",
            "status",
            "attach",
            "cancel",
            "top")) {
      String help = HELP.get("flotilla " + name);
      assertThat(help)
          .as(name)
          .containsPattern("FLOTILLA_SECRET\\b")
          .contains("FLOTILLA_SECRET_FILE");
    }
  }

  /** Help speaks of the product, never of the project's tracker. */
  @Test
  void noHelpNamesAnIssue() {
    HELP.forEach(
        (name, help) -> assertThat(help).as(name).doesNotContainPattern("(?i)\\bissues?\\b|#\\d"));
  }

  private static boolean endsSentence(String line) {
    char last = line.charAt(line.length() - 1);
    return last == '.' || last == ':' || last == '!' || last == '?';
  }
}
