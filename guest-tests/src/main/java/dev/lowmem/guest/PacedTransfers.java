package dev.lowmem.guest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * 64 MiB each way between the host and a guest with nc, paced a MiB at a time with a pause after
 * each, so that both last well past something done to the guest meanwhile (a migration, a memory
 * plug). They start on one guest and are checked on the guest that runs on (after a migration,
 * another QEMU), by size and SHA-256.
 */
public final class PacedTransfers {
    public static final long BYTES = 64L << 20;
    private static final int CHUNKS = (int) (BYTES >> 20);
    private static final String CHUNK_PAUSE = "0.1";
    private static final int TO_HOST_PORT = 5001;
    private static final int TO_GUEST_PORT = 5002;
    private static final Duration SHORT = Duration.ofSeconds(30);
    private static final Duration TRANSFER = Duration.ofSeconds(300);
    private static final Pattern KERNEL_FAILURE =
            Pattern.compile("(?m)^.*(Oops|BUG:|Kernel panic|list_add corruption|general protection fault).*$");

    private final Path fromGuest;
    private final String fromGuestSha;
    private final String toGuestSha;
    private final Process hostListener;
    private final Process hostSender;

    private PacedTransfers(Path fromGuest, String fromGuestSha, String toGuestSha, Process hostListener,
            Process hostSender) {
        this.fromGuest = fromGuest;
        this.fromGuestSha = fromGuestSha;
        this.toGuestSha = toGuestSha;
        this.hostListener = hostListener;
        this.hostSender = hostSender;
    }

    /** Both transfers, the host's file made from {@code seed}, their files in {@code work} and nc's logs in {@code logs}. */
    public static PacedTransfers start(HostSide host, Guest guest, Path work, Path logs, long seed)
            throws IOException, InterruptedException {
        Path toGuest = work.resolve("to-guest");
        String toGuestSha = RandomFiles.write(toGuest, BYTES, seed);
        Path fromGuest = work.resolve("from-guest");
        Process hostListener = host.start(logs.resolve("nc-host.log"), "busybox", "nc", "-l", "-p",
                Integer.toString(TO_HOST_PORT), "-e", "sh", "-c", "cat > " + fromGuest);
        host.awaitListening(TO_HOST_PORT, SHORT);
        GuestTraffic.listenForFile(guest, TO_GUEST_PORT);
        String fromGuestSha = guest.check(TRANSFER, "head -c " + BYTES + " /dev/urandom > /tmp/out && sha256sum /tmp/out")
                .strip().split("\\s+")[0];
        guest.check(SHORT, "(" + paced("/tmp/out", "2>/dev/null") + " | nc " + HostSide.HOST_ADDRESS + " "
                + TO_HOST_PORT + "; echo $? > /tmp/out.rc) >/dev/null 2>&1 &");
        Process hostSender = host.start(logs.resolve("nc-to-guest.log"), "sh", "-c",
                paced(toGuest.toString(), "status=none") + " | busybox nc " + HostSide.GUEST_ADDRESS + " " + TO_GUEST_PORT);
        return new PacedTransfers(fromGuest, fromGuestSha, toGuestSha, hostListener, hostSender);
    }

    /** Whether the host is still sending to the guest. */
    public boolean hostSending() {
        return hostSender.isAlive();
    }

    /** The bytes the host has received from the guest so far. */
    public long receivedFromGuest() throws IOException {
        return Files.exists(fromGuest) ? Files.size(fromGuest) : 0;
    }

    /**
     * Both transfers as they ended, checked on {@code guest}, whose kernel console is {@code console}:
     * a kernel oops or panic there fails at once rather than after the transfers' full time.
     */
    public Result finish(Guest guest, Path console) throws IOException, InterruptedException {
        if (!awaitEnd(hostSender, console)) {
            throw new AssertionError("host -> guest transfer ended");
        }
        if (!awaitEnd(hostListener, console)) {
            throw new AssertionError("guest -> host transfer ended");
        }
        String[] guestSide = guest.check(TRANSFER, "wait; cat /tmp/out.rc; wc -c < /tmp/in; sha256sum /tmp/in")
                .strip().split("\\s+");
        return new Result(guestSide[0],
                new GuestTraffic.Transfer("guest -> host", BYTES, fromGuestSha, Files.size(fromGuest),
                        RandomFiles.sha256(fromGuest)),
                new GuestTraffic.Transfer("host -> guest", BYTES, toGuestSha, Long.parseLong(guestSide[1]), guestSide[2]));
    }

    /**
     * @param guestNcStatus the exit status of the guest's sending nc, "0" when it ended well
     */
    public record Result(String guestNcStatus, GuestTraffic.Transfer toHost, GuestTraffic.Transfer toGuest) {
    }

    private static boolean awaitEnd(Process process, Path console) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TRANSFER.toNanos();
        while (!process.waitFor(1, TimeUnit.SECONDS)) {
            if (Files.exists(console)) {
                Matcher failure = KERNEL_FAILURE.matcher(Files.readString(console, StandardCharsets.ISO_8859_1));
                if (failure.find()) {
                    throw new AssertionError("the guest's kernel failed: " + failure.group().strip());
                }
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
        }
        return true;
    }

    /** A shell pipeline's head writing {@code file} a MiB at a time with a pause after each. */
    private static String paced(String file, String ddQuiet) {
        return "i=0; while [ $i -lt " + CHUNKS + " ]; do dd if=" + file + " bs=1048576 skip=$i count=1 " + ddQuiet
                + "; i=$((i + 1)); sleep " + CHUNK_PAUSE + "; done";
    }
}
