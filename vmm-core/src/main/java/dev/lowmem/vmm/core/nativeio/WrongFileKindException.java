package dev.lowmem.vmm.core.nativeio;

import java.io.IOException;

/**
 * A descriptor a peer sent is not the kind of file its use needs (a socket where an eventfd
 * belongs, say). Refused when it arrives, because the first read or write of the wrong kind
 * would fail later, on a thread that cannot tell the peer why.
 */
public final class WrongFileKindException extends IOException {
    public WrongFileKindException(String message) {
        super(message);
    }
}
