package dev.lowmem.tools.vhostusernet;

import dev.lowmem.devices.net.MacAddress;
import dev.lowmem.vmm.core.nativeio.NativeIoException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code vhost-user-net}: serves a virtio-net device over a vhost-user socket until SIGINT or
 * SIGTERM (see {@link CommandOptions} for the options). Failures to start are one line on
 * standard error and an exit status, never a stack trace: 1 when the host refuses (a socket in
 * use, a TAP busy), 2 for a bad option.
 */
public final class VhostUserNet {
    private static final System.Logger LOG = System.getLogger(VhostUserNet.class.getName());
    private static final String NAME = "vhost-user-net";

    private VhostUserNet() {
    }

    public static void main(String[] args) throws InterruptedException {
        LogFormat.install();
        System.exit(execute(args, System.out, System.err));
    }

    /**
     * Parses {@code args} and runs the backend; returns only when it cannot start or has nothing
     * to run (--help, --version).
     *
     * @return the exit status
     */
    static int execute(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
        if (List.of(args).contains("--print-capabilities")) {
            // The vhost-user spec's conventions: print them and exit, whatever else is given.
            out.println(CommandOptions.CAPABILITIES);
            return 0;
        }
        Settings settings;
        try {
            CommandOptions options = new CommandOptions();
            CommandLine commandLine = commandLine(options, out);
            ParseResult parsed = commandLine.parseArgs(args);
            if (CommandLine.printHelpIfRequested(parsed)) {
                return 0;
            }
            if (parsed.subcommand() != null) {
                return ((CtlCommand) parsed.subcommand().commandSpec().userObject()).run(out, err);
            }
            settings = options.settings();
        } catch (ParameterException e) {
            err.println(NAME + ": " + withoutErrorPrefix(e.getMessage()));
            return StartupException.EXIT_BAD_OPTION;
        }
        try {
            run(settings, out);
        } catch (StartupException e) {
            err.println(NAME + ": " + e.getMessage());
            return e.exitStatus();
        }
        throw new AssertionError("serving ends only with the process");
    }

    /** Some picocli messages start "Error: "; after our name that says nothing. */
    private static String withoutErrorPrefix(String message) {
        return message.startsWith("Error: ") ? message.substring("Error: ".length()) : message;
    }

    /** The parser, with the converters for the option types of our own and the ctl command. */
    static CommandLine commandLine(CommandOptions options, PrintStream out) {
        CommandLine commandLine = new CommandLine(options);
        commandLine.addSubcommand(new CtlCommand());
        commandLine.registerConverter(MacAddress.class, refusingWithReason(MacAddress::parse));
        commandLine.registerConverter(SocketMode.class, refusingWithReason(SocketMode::parse));
        commandLine.registerConverter(StatsFormat.class, refusingWithReason(StatsFormat::parse));
        commandLine.setOut(new PrintWriter(out, true));
        return commandLine;
    }

    /**
     * A converter whose IllegalArgumentException reaches the user as its message alone: picocli
     * shows other exceptions with their class name.
     */
    private static <T> CommandLine.ITypeConverter<T> refusingWithReason(Function<String, T> parse) {
        return text -> {
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        };
    }

    /** Serves the metrics until the process ends; the JDK's server stops with it. */
    private static MetricsServer startMetrics(InetSocketAddress address, NetBackend backend) throws StartupException {
        try {
            return MetricsServer.start(address, () -> backend.snapshot(Instant.now()));
        } catch (IOException e) {
            backend.close();
            throw StartupException.failed("cannot serve the metrics on " + address + ": " + e.getMessage(), e);
        }
    }

    /** Serves requests on {@code path} until the process ends; the shutdown hook removes the socket. */
    private static ControlSocket startControlSocket(Path path, NetBackend backend) throws StartupException {
        ControlSocket ctl;
        try {
            ctl = ControlSocket.start(path, ControlCommands.of(backend));
        } catch (NativeIoException e) {
            backend.close();
            throw StartupException.failed(NetBackend.whyNotListening(path, false, e), e);
        } catch (IOException e) {
            backend.close();
            throw StartupException.failed("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        LOG.log(System.Logger.Level.INFO, "ctl: " + path + ", mode 0600: vhost-user-net ctl " + path
                + " stats|pool-budget SIZE|pcap start FILE [SIZE]|pcap stop|help");
        return ctl;
    }

    private static void closeControlSocket(ControlSocket ctl) {
        if (ctl == null) {
            return;
        }
        try {
            ctl.close();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + ctl.path() + ": " + e.getMessage());
        }
    }

    /** Starts the backend and serves until a signal ends the process, whose shutdown hook stops it. */
    private static void run(Settings settings, PrintStream out) throws StartupException, InterruptedException {
        NetBackend backend = NetBackend.start(settings, (socket, features) -> LOG.log(System.Logger.Level.INFO,
                (settings.switching() ? socket.getFileName() + " " : "") + Banner.negotiated(features)));
        List<String> ports = backend.devices().stream().map(device -> device.port().describe()).toList();
        for (String line : Banner.lines(settings, ports, backend.devices().getFirst().deviceFeatures(),
                ProcessHandle.current().pid())) {
            LOG.log(System.Logger.Level.INFO, line);
        }
        if (settings.metrics() != null) {
            MetricsServer metrics = startMetrics(settings.metrics(), backend);
            LOG.log(System.Logger.Level.INFO, "metrics: " + metrics.url());
        }
        ControlSocket ctl = settings.ctl() == null ? null : startControlSocket(settings.ctl(), backend);
        StatsReporter stats = new StatsReporter(() -> backend.snapshot(Instant.now()),
                settings.statsFormat().formatter(), out);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("shutdown").unstarted(() -> {
            stats.close();
            closeControlSocket(ctl);
            // The queues stop with the session, so the report after it has the final counts.
            backend.stopServing();
            stats.report();
            backend.close();
        }));
        stats.onSignal("USR1");
        ConsoleCommands commands = new ConsoleCommands(ControlCommands.of(backend), stats::report);
        if (settings.commands() == null) {
            commands.readFrom(System.in);
        } else {
            commands.readFrom(settings.commands());
        }
        if (!settings.statsInterval().isZero()) {
            stats.every(settings.statsInterval());
        }
        // Nothing left for this thread: the workers and the event loop serve, the shutdown hook ends them.
        new CountDownLatch(1).await();
    }
}
