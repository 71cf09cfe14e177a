package dev.lowmem.tools;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * The checks our commands make of their options after picocli has parsed them, refusing in
 * picocli's own words so that every refusal reads alike: "Invalid value for option '--x': why".
 */
public final class OptionChecks {
    /** sun_path holds 108 bytes with the terminating NUL (unix(7)). */
    public static final int MAX_SOCKET_PATH_BYTES = 107;

    private final CommandSpec spec;

    public OptionChecks(CommandSpec spec) {
        this.spec = spec;
    }

    /** A UNIX socket path that fits in sun_path. */
    public void socketPath(String option, Path socket) {
        int bytes = socket.toString().getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SOCKET_PATH_BYTES) {
            throw invalid(option, socket + " is " + bytes + " bytes long; a UNIX socket path holds at most "
                    + MAX_SOCKET_PATH_BYTES);
        }
    }

    public void range(String option, long value, long min, long max) {
        if (value < min || value > max) {
            throw invalid(option, value + " is outside " + min + ".." + max);
        }
    }

    public ParameterException invalid(String option, String why) {
        return new ParameterException(spec.commandLine(), invalidValue(option, why));
    }

    /** In picocli's own words for a value it cannot convert. */
    public static String invalidValue(String option, String why) {
        return "Invalid value for option '" + option + "': " + why;
    }
}
