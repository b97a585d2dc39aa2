/** A DOE transport on a real device: the sysfs config-space backend plus the DOE mailbox driver. */
import { openDoeTransport, type DoeTransport, type OpenDoeTransportOptions } from './doe-transport.js';
import { SysfsConfigSpace, type SysfsOpenOptions } from './sysfs.js';

export type SysfsDoeTransportOptions = Omit<OpenDoeTransportOptions, 'ownsConfigSpace'> &
  Pick<SysfsOpenOptions, 'root'>;

/**
 * Opens /sys/bus/pci/devices/<bdf>/config read-write (needs root) and a DOE transport on the first
 * mailbox that lists CMA-SPDM. Closing the transport closes the file.
 */
export async function openSysfsDoeTransport(bdf: string, opts: SysfsDoeTransportOptions = {}): Promise<DoeTransport> {
  const cs = await SysfsConfigSpace.open(bdf, {
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    readOnly: false,
  });
  try {
    return await openDoeTransport(cs, { ...opts, ownsConfigSpace: true });
  } catch (e) {
    await cs.close();
    throw e;
  }
}
