package dev.lowmem.tools.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class LoadgenOptionsTest {
    private static final String SOCKET = "/tmp/loadgen-test.sock";

    private static LoadSettings parse(String... args) {
        LoadgenOptions options = new LoadgenOptions();
        Loadgen.commandLine(options, System.out).parseArgs(args);
        return options.settings();
    }

    @Test
    void defaultsAreTenSecondsOfSixtyFourByteFramesOnOneSplitPair() {
        LoadSettings settings = parse("--socket", SOCKET);

        assertEquals(new LoadSettings(Path.of(SOCKET), false, Mode.TX, 64, Duration.ofSeconds(10),
                Duration.ofSeconds(1), false, 1, 32, 256, true, true), settings);
    }

    @Test
    void everyOptionGiven() {
        LoadSettings settings = parse("--socket", SOCKET, "--server", "--mode", "both", "--size", "1500",
                "--seconds", "2.5", "--warmup", "0", "--packed", "--queues", "2", "--burst", "64", "--queue-size",
                "1024", "--no-event-idx", "--no-mrg-rxbuf");

        assertEquals(new LoadSettings(Path.of(SOCKET), true, Mode.BOTH, 1500, Duration.ofMillis(2500), Duration.ZERO,
                true, 2, 64, 1024, false, false), settings);
    }

    @Test
    void modesInAnyCase() {
        assertEquals(Mode.RX, parse("--socket", SOCKET, "--mode", "RX").mode());
        assertEquals(Mode.TX, parse("--socket", SOCKET, "--mode", "tx").mode());
    }

    @Test
    void sizesAtBothEnds() {
        assertEquals(64, parse("--socket", SOCKET, "--size", "64").frameSize());
        assertEquals(65536, parse("--socket", SOCKET, "--size", "65536").frameSize());
    }

    static Stream<Arguments> badCommandLines() {
        String longPath = "/tmp/" + "s".repeat(103);
        return Stream.of(
                Arguments.of(new String[] {"--size", "63"}, "Invalid value for option '--size': 63 is outside 64..65536"),
                Arguments.of(new String[] {"--size", "65537"}, "'--size': 65537 is outside 64..65536"),
                Arguments.of(new String[] {"--mode", "sideways"}, "'sideways' is not a mode; give tx, rx or both"),
                Arguments.of(new String[] {"--queues", "0"}, "'--queues': 0 is outside 1..256"),
                Arguments.of(new String[] {"--queue-size", "300"}, "'--queue-size': 300 is not a power of two from 2 to"
                        + " 32768"),
                Arguments.of(new String[] {"--queue-size", "65536"}, "'--queue-size': 65536 is not a power of two"),
                Arguments.of(new String[] {"--burst", "257"}, "'--burst': 257 is outside 1..256"),
                Arguments.of(new String[] {"--burst", "0"}, "'--burst': 0 is outside 1..256"),
                Arguments.of(new String[] {"--seconds", "0"}, "'--seconds': 0 measures nothing"),
                Arguments.of(new String[] {"--seconds", "-1"}, "'--seconds': -1 is outside 0..86400"),
                Arguments.of(new String[] {"--warmup", "-0.5"}, "'--warmup': -0.5 is outside 0..86400"),
                Arguments.of(new String[] {"--seconds", "ten"}, "'--seconds'"),
                Arguments.of(new String[] {"--socket", longPath}, "is 108 bytes long; a UNIX socket path holds at most"
                        + " 107"));
    }

    @ParameterizedTest
    @MethodSource("badCommandLines")
    void aBadOptionIsOneLineAndStatusTwo(String[] args, String expected) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = args[0].equals("--socket") ? args
                : Stream.concat(Stream.of("--socket", SOCKET), Stream.of(args)).toArray(String[]::new);

        int status = Loadgen.execute(all, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));

        String message = err.toString(StandardCharsets.UTF_8);
        assertEquals(2, status, message);
        assertTrue(message.startsWith("loadgen: "), message);
        assertTrue(message.contains(expected), message);
        assertEquals(1, message.lines().count(), message);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theSocketIsRequired() throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();

        int status = Loadgen.execute(new String[] {"--mode", "tx"}, System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));

        assertEquals(2, status);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("Missing required option: '--socket=PATH'"));
    }

    @Test
    void helpListsEveryOptionAndSaysWhatGbitCounts() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();

        int status = Loadgen.execute(new String[] {"--help"}, new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err);

        String help = out.toString(StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        assertEquals(0, status);
        for (String option : new String[] {"--socket", "--server", "--mode", "--size", "--seconds", "--warmup",
                "--packed", "--queues", "--burst", "--queue-size", "--no-event-idx", "--no-mrg-rxbuf"}) {
            assertTrue(help.contains(option), option);
        }
        assertTrue(help.contains("Ethernet frame bytes"), help);
        assertTrue(help.contains("(default: tx)"), help);
    }
}
