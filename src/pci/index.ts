/** PCIe side of CMA-SPDM: config space access, the DOE mailbox driver, a simulated DOE device, the DOE transport. */
export * from './config-space.js';
export * from './doe-mailbox.js';
export * from './doe-device.js';
export * from './doe-transport.js';
export * from './sysfs.js';
export {
  answerDoeDiscovery,
  CMA_DOE_PROTOCOLS,
  decodeDoeDiscoveryRequest,
  decodeDoeDiscoveryResponse,
  decodeDoeHeader,
  decodeDoeObject,
  discoveryEntry,
  DOE_HEADER_DW,
  DOE_MAX_OBJECT_DW,
  DOE_MAX_PAYLOAD_BYTES,
  DoeObjectType,
  encodeDoeDiscoveryRequest,
  encodeDoeDiscoveryResponse,
  encodeDoeHeader,
  encodeDoeObject,
  PCI_SIG_VENDOR_ID,
  type DecodedDoeObject,
  type DoeDiscoveryRequest,
  type DoeDiscoveryResponse,
  type DoeHeader,
  type DoeObject,
  type DoeProtocol,
} from '../transport/doe.js';
export * from './sysfs-doe.js';
export * from './identity.js';
