package dev.lowmem.virtio.vhostuser;

import dev.lowmem.vmm.core.nativeio.FileDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * One message as it came off the socket: the header's request code and flags, the payload, and
 * the file descriptors that rode with it (owned by whoever handles the message, who closes those
 * it does not keep).
 *
 * @param fdsDiscarded the sender passed more descriptors than any request carries; the extra ones
 *                     were closed on arrival, and the message is refused
 */
public record VhostUserMessage(int code, int flags, MemorySegment body, List<FileDescriptor> fds, boolean fdsDiscarded) {

    /** The request, or null when the code is one we do not know. */
    public VhostUserRequest request() {
        return VhostUserRequest.of(code);
    }

    public boolean needsReply() {
        return (flags & VhostUserHeader.NEED_REPLY) != 0;
    }

    /** "SET_VRING_ADDR", or "request 99" for a code we do not know. */
    public String name() {
        return VhostUserRequest.nameOf(code);
    }

    public void closeFds() {
        fds.forEach(FileDescriptor::close);
    }
}
