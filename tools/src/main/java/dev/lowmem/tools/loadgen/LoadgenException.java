package dev.lowmem.tools.loadgen;

/**
 * Why a run could not start or finish, in one line the user can act on, and the exit status:
 * 1 when the backend or the host refuses, 2 for a bad option.
 */
final class LoadgenException extends Exception {
    static final int EXIT_FAILED = 1;
    static final int EXIT_BAD_OPTION = 2;

    LoadgenException(String message) {
        super(message);
    }

    LoadgenException(String message, Throwable cause) {
        super(message, cause);
    }
}
