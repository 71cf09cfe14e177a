package dev.lowmem.vmm.core.socket;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;

import java.util.List;

/**
 * What one {@code recvmsg} brought: a byte count, the file descriptors that came with the bytes
 * (now owned by the receiver), and whether the sender passed more descriptors than the receiver
 * would take. Those extra descriptors were never installed in this process, so nothing leaked,
 * but the message is not what the peer meant and is usually refused.
 */
public record Received(long bytes, List<FileDescriptor> fds, boolean fdsDiscarded) {
    public Received {
        fds = List.copyOf(fds);
    }

    /** The peer closed its end: a stream read of 0 bytes. */
    public boolean endOfStream() {
        return bytes == 0;
    }

    /** Closes every descriptor received, for a message that is refused or carries fds where none belong. */
    public void closeFds() {
        fds.forEach(FileDescriptor::close);
    }
}
