package dev.lowmem.tools.vhostusernet;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code vhost-user-net ctl SOCKET REQUEST...}: sends one request to a running backend's control
 * socket ({@code --ctl}) and prints its JSON reply on standard output. Exit status 0 when the
 * backend carried the request out, 1 when it refused it (the reply says why) or could not be
 * reached, 2 for a bad command line.
 */
@Command(name = "ctl", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"Sends one request to the back-end listening on SOCKET (--ctl SOCKET) and prints its reply,"
                + " one line of JSON.",
            "",
            "Requests:",
            "  stats                   every counter, as a --stats-format json line",
            "  pool-budget SIZE        the packet pool's budget from now, e.g. 64M",
            "  pcap start FILE [SIZE]  capture the frames into FILE (pcap), up to SIZE ("
                    + ControlCommands.DEFAULT_PCAP_MAX + ")",
            "  pcap stop               stop the capture and close its file",
            "  help                    the requests, as the back-end knows them"},
        footer = {"", "Exit status: 0 when the back-end carried the request out, 1 when it refused it ({\"error\":"
                + " ...}) or is not there, 2 for a bad command line."})
final class CtlCommand {
    private static final String NAME = "vhost-user-net ctl";

    @Parameters(index = "0", paramLabel = "SOCKET", description = "The back-end's --ctl socket.")
    private Path socket;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "REQUEST", description = "The request and its arguments.")
    private List<String> request;

    /** @return the exit status */
    int run(PrintStream out, PrintStream err) {
        String reply;
        try {
            reply = send(socket, line());
        } catch (IOException e) {
            err.println(NAME + ": cannot reach the back-end at " + socket + ": " + e.getMessage());
            return StartupException.EXIT_FAILED;
        }
        out.print(reply);
        out.flush();
        return reply.startsWith("{\"error\":") || reply.isEmpty() ? StartupException.EXIT_FAILED : 0;
    }

    /**
     * The request as one line; a capture's file made absolute here, for the back-end's working
     * directory is not the caller's.
     */
    private String line() {
        List<String> words = new ArrayList<>(request);
        if (words.size() >= 3 && words.get(0).equals("pcap") && words.get(1).equals("start")) {
            words.set(2, Path.of(words.get(2)).toAbsolutePath().toString());
        }
        return String.join(" ", words) + "\n";
    }

    /** Sends {@code line} and reads the reply up to the end of the stream. */
    static String send(Path socket, String line) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer request = ByteBuffer.wrap(line.getBytes(StandardCharsets.UTF_8));
            while (request.hasRemaining()) {
                channel.write(request);
            }
            // The end of the request: the back-end needs no line end to answer.
            channel.shutdownOutput();
            ByteArrayOutputStream reply = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
            while (channel.read(buffer.clear()) >= 0) {
                reply.write(buffer.array(), 0, buffer.position());
            }
            return reply.toString(StandardCharsets.UTF_8);
        }
    }
}
