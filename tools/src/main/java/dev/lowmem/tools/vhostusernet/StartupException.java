package dev.lowmem.tools.vhostusernet;

import dev.lowmem.tools.OptionChecks;

/**
 * Why the command could not start, in one line the user can act on, and the exit status that
 * says whose the fault is: 1 for the host (a socket in use, a TAP busy), 2 for the command line.
 */
final class StartupException extends Exception {
    static final int EXIT_FAILED = 1;
    static final int EXIT_BAD_OPTION = 2;

    private final int exitStatus;

    private StartupException(String message, Throwable cause, int exitStatus) {
        super(message, cause);
        this.exitStatus = exitStatus;
    }

    static StartupException failed(String message, Throwable cause) {
        return new StartupException(message, cause, EXIT_FAILED);
    }

    /** An option's value that the port or the device refused once it saw the others. */
    static StartupException badOption(String option, String why, Throwable cause) {
        return new StartupException(OptionChecks.invalidValue(option, why), cause, EXIT_BAD_OPTION);
    }

    int exitStatus() {
        return exitStatus;
    }
}
