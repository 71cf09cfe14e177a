package dev.lowmem.tools.loadgen;

import java.io.PrintStream;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code loadgen}: drives a vhost-user virtio-net backend's rings at full speed for a while and
 * reports what moved (see {@link LoadgenOptions} for the options). Results go to standard output,
 * the negotiation and the progress to standard error; failures are one line and an exit status:
 * 1 when the backend cannot be reached or cannot serve the run, 2 for a bad option.
 */
public final class Loadgen {
    private static final String NAME = "loadgen";

    private Loadgen() {
    }

    public static void main(String[] args) throws InterruptedException {
        System.exit(execute(args, System.out, System.err));
    }

    /** @return the exit status */
    static int execute(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        LoadSettings settings;
        try {
            LoadgenOptions options = new LoadgenOptions();
            CommandLine commandLine = commandLine(options, out);
            if (CommandLine.printHelpIfRequested(commandLine.parseArgs(args))) {
                return 0;
            }
            settings = options.settings();
        } catch (ParameterException e) {
            err.println(NAME + ": " + e.getMessage());
            return LoadgenException.EXIT_BAD_OPTION;
        }
        Result result;
        try {
            result = LoadRun.run(settings, line -> err.println(NAME + ": " + line));
        } catch (LoadgenException e) {
            err.println(NAME + ": " + e.getMessage());
            return LoadgenException.EXIT_FAILED;
        }
        Report.lines(result).forEach(out::println);
        out.println(Report.summary(result));
        if (result.problem() != null) {
            err.println(NAME + ": " + result.problem());
            return LoadgenException.EXIT_FAILED;
        }
        return 0;
    }

    static CommandLine commandLine(LoadgenOptions options, PrintStream out) {
        CommandLine commandLine = new CommandLine(options);
        commandLine.registerConverter(Mode.class, text -> {
            try {
                return Mode.parse(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        });
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine;
    }
}
