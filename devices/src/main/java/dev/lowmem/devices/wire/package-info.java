/**
 * virtio-net's layouts on the wire between driver and device (the header that leads every
 * frame, the configuration space), which both the device
 * ({@code dev.lowmem.devices.net}) and the ports that read or write frames with their header
 * ({@code dev.lowmem.devices.port}) speak: here, so that neither package imports the other's
 * internals and the ports do not depend on the device.
 */
package dev.lowmem.devices.wire;
