package dev.lowmem.guest;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A QEMU's QMP monitor on a UNIX socket (run-guest {@code --qmp PATH}): one command at a time,
 * each answer a JSON line; events QEMU sends meanwhile are skipped. The answers are read with
 * patterns for the few fields the tests need, not parsed whole.
 */
public final class Qmp implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;

    private Qmp(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
    }

    /** Connects once QEMU has made the socket, and leaves the capabilities negotiation mode. */
    public static Qmp connect(Path socket, Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (Files.exists(socket)) {
                SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
                try {
                    channel.connect(UnixDomainSocketAddress.of(socket));
                    Qmp qmp = new Qmp(channel);
                    qmp.in.readLine(); // the greeting
                    qmp.execute("{\"execute\":\"qmp_capabilities\"}");
                    return qmp;
                } catch (IOException e) {
                    channel.close();
                    if (System.nanoTime() > deadline) {
                        throw e;
                    }
                }
            } else if (System.nanoTime() > deadline) {
                throw new IOException("no QMP socket at " + socket + " after " + timeout.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    /**
     * Sends one command (a JSON object) and returns QEMU's answer line.
     *
     * @throws QmpError when QEMU answers with an error: its description
     */
    public String execute(String command) throws IOException {
        out.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        while (true) {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("QEMU closed its QMP monitor before answering " + command);
            }
            // An answer begins with its "return" or "error"; anything else is an event, which QEMU
            // writes as {"timestamp": ..., "event": ...} (a guest's ACPI_DEVICE_OST after device_add,
            // say) and which, taken for an answer, put every later answer one command behind.
            if (line.startsWith("{\"error\"")) {
                throw new QmpError(command, field(line, "desc"));
            }
            if (line.startsWith("{\"return\"")) {
                return line;
            }
        }
    }

    /** A string or number field of an answer, by name; null when it has none. */
    public static String field(String answer, String name) {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(name) + "\":\\s*(\"([^\"]*)\"|[-0-9.]+)").matcher(answer);
        if (!matcher.find()) {
            return null;
        }
        return matcher.group(2) != null ? matcher.group(2) : matcher.group(1);
    }

    /** QEMU refused a command. */
    public static final class QmpError extends IOException {
        public QmpError(String command, String description) {
            super(command + ": " + description);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
