/**
 * `spdm provision csr | set-certificate | key-pair-info`: the options. What runs them
 * (src/cli/provision.ts) is imported only when one of them runs.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { hostPortArg, integerIn, slotArg } from './options.js';
import type { EmuTransportName } from '../transport/emu-frame.js';

export interface ProvisionCommandIo {
  readonly setExitCode: (code: number) => void;
}

/** What every provisioning subcommand takes to reach the device. */
export interface DeviceArgs {
  readonly connect?: string;
  readonly transport: EmuTransportName;
  readonly version?: string;
  readonly json?: boolean;
  readonly shutdown?: boolean;
  /** Send the provisioning requests inside a KEY_EXCHANGE session (devices that provision slots other than 0 only there). */
  readonly session?: 'key-exchange';
}

function hexMask(bits: number): (v: string) => number {
  return (v: string) => {
    const n = /^(0x)?[0-9a-f]+$/i.test(v) ? Number.parseInt(v.replace(/^0x/i, ''), 16) : Number.NaN;
    if (!Number.isInteger(n) || n < 0 || n >= 2 ** bits)
      throw new InvalidArgumentError(`wants a ${bits}-bit hex mask.`);
    return n;
  };
}

function deviceOptions(c: Command): Command {
  return c
    .requiredOption('--connect <host:port>', 'reach the device through the spdm-emu socket protocol', hostPortArg)
    .addOption(
      new Option('--transport <name>', 'doe | mctp | none | tcp')
        .choices(['doe', 'mctp', 'none', 'tcp'])
        .default('mctp'),
    )
    .option('--version <list>', 'SPDM versions allowed, e.g. 1.2,1.3')
    .option('--shutdown', 'stop the emulator afterwards (SHUTDOWN) instead of leaving it running')
    .addOption(
      new Option('--session <kind>', 'send the provisioning requests inside a secure session, then end it').choices([
        'key-exchange',
      ]),
    )
    .option('--json', 'print the result as JSON');
}

const CERT_MODEL_HELP = 'multi-key connection: 1 DeviceCert, 2 AliasCert, 3 GenericCert (default 1)';
export function registerProvisionCommands(program: Command, io: ProvisionCommandIo): Command {
  const provision = program
    .command('provision')
    .description('provision a device: certificate signing requests, certificate chains, key pairs (SPDM 1.2/1.3)');

  deviceOptions(
    provision
      .command('csr')
      .description("GET_CSR: a PKCS#10 request over the device's key, checked and written to a file"),
  )
    .requiredOption('--out <file>', 'where to write the CSR')
    .option('--pem', 'write PEM instead of DER')
    .option('--subject <cn>', 'ask for this commonName as the subject (RequesterInfo); default: the device chooses')
    .option('--key-pair <id>', 'multi-key connection: the KeyPairID to certify (default 1)', integerIn(1, 255))
    .option('--cert-model <n>', CERT_MODEL_HELP, integerIn(1, 3))
    .action(
      async (
        opts: DeviceArgs & { out: string; pem?: boolean; subject?: string; keyPair?: number; certModel?: number },
      ) => {
        const { runProvisionCsr } = await import('./provision.js');
        io.setExitCode(await runProvisionCsr(opts));
      },
    );

  deviceOptions(
    provision
      .command('set-certificate')
      .description('SET_CERTIFICATE: install a certificate chain in a slot (or erase it), then read it back'),
  )
    .requiredOption('--slot <n>', 'certificate slot (0-7)', slotArg)
    .option('--chain <file>', 'the chain, PEM or concatenated DER, root (or first intermediate) first, leaf last')
    .option('--erase', 'erase the slot instead (SPDM 1.3)')
    .option('--key-pair <id>', 'multi-key connection: the KeyPairID the leaf certifies (default 1)', integerIn(1, 255))
    .option('--cert-model <n>', CERT_MODEL_HELP, integerIn(1, 3))
    .action(
      async (
        opts: DeviceArgs & { slot: number; chain?: string; erase?: boolean; keyPair?: number; certModel?: number },
      ) => {
        const { runProvisionSetCertificate } = await import('./provision.js');
        io.setExitCode(await runProvisionSetCertificate(opts));
      },
    );

  deviceOptions(
    provision
      .command('key-pair-info')
      .description('GET_KEY_PAIR_INFO for every key pair (or one); with a change option, SET_KEY_PAIR_INFO first'),
  )
    .option('--key-pair <id>', 'only this KeyPairID (required with a change option)', integerIn(1, 255))
    .option('--usage <mask>', 'set the key usage (hex KeyUsageMask, e.g. 0x6 challenge + measurements)', hexMask(16))
    .option('--slots <mask>', 'set the associated certificate slots (hex slot mask, 0 to disassociate)', hexMask(8))
    .option('--erase', 'erase the key pair (no slot may use it)')
    .option('--generate', 'generate a new key for the key pair (no slot may use it)')
    .action(
      async (
        opts: DeviceArgs & { keyPair?: number; usage?: number; slots?: number; erase?: boolean; generate?: boolean },
      ) => {
        const { runProvisionKeyPairInfo } = await import('./provision.js');
        io.setExitCode(await runProvisionKeyPairInfo(opts));
      },
    );
  return provision;
}
