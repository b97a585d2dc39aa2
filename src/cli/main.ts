/**
 * The `spdm` command line. Only the options live here: each command's code (crypto, X.509, the
 * verifier, the log) is imported when that command runs, so `spdm --help` and every command pay
 * only for what they use. A run that names its command (`spdm authenticate ...`) also registers
 * only that command's options: the others' registration modules are not loaded (issue 12, cold
 * start); with no command, an option first, or a name we do not know, all are registered, so
 * help, commander's errors and its suggestions are unchanged.
 */
import { Command, Option } from 'commander';
import { SpdmError } from '../wire/errors.js';
import { EXIT, exitCodeForError } from './exit-codes.js';
import { hostPortArg, msArg, nonNegativeIntArg, nonceArg, portArg, slotArg } from './options.js';
import { defaultEmuPort, type EmuTransportName } from '../transport/emu-frame.js';
import { LIMITS } from '../wire/limits.js';

const TRANSPORTS: readonly EmuTransportName[] = ['doe', 'mctp', 'none', 'tcp'];

function transportOption(): Option {
  return new Option('--transport <name>', 'doe | mctp | none | tcp').choices([...TRANSPORTS]).default('mctp');
}

function collectArg(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * The commands registered by modules of their own, in `spdm --help` order after main's own
 * (INLINE_COMMANDS): the top-level names each adds, and how to load and run its registration.
 */
export const COMMAND_GROUPS: readonly {
  readonly names: readonly string[];
  readonly register: (program: Command, setExitCode: (c: number) => void) => Promise<unknown>;
}[] = [
  {
    names: ['verify'],
    register: async (p, setExitCode) => (await import('./verify-command.js')).registerVerifyCommand(p, { setExitCode }),
  },
  {
    names: ['log'],
    register: async (p, setExitCode) => (await import('./log-command.js')).registerLogCommands(p, { setExitCode }),
  },
  {
    names: ['daemon', 'status', 'events', 'devices'],
    register: async (p, setExitCode) =>
      (await import('./daemon-command.js')).registerDaemonCommands(p, { setExitCode }),
  },
  {
    names: ['provision'],
    register: async (p, setExitCode) =>
      (await import('./provision-command.js')).registerProvisionCommands(p, { setExitCode }),
  },
  {
    names: ['ear'],
    register: async (p, setExitCode) => (await import('./ear-command.js')).registerEarCommands(p, { setExitCode }),
  },
];

/** The commands main() defines itself, in `spdm --help` order. */
export const INLINE_COMMANDS: readonly string[] = ['demo', 'emulate', 'authenticate', 'dump'];

/**
 * The top-level command a run names, when it is one of ours: argv[0], where commander looks for
 * it (the program has no options of its own but help). Undefined: every command is registered.
 */
function namedCommand(argv: readonly string[]): string | undefined {
  const first = argv[0];
  if (first === undefined) return undefined;
  return INLINE_COMMANDS.includes(first) || COMMAND_GROUPS.some((g) => g.names.includes(first)) ? first : undefined;
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode: number = EXIT.OK;
  const named = namedCommand(argv);
  const wanted = (...names: readonly string[]) => named === undefined || names.includes(named);
  const program = new Command();
  program
    .name('spdm')
    .description('DMTF SPDM device authentication for PCIe CMA: requester, device emulator, evidence')
    .exitOverride();

  if (wanted('demo'))
    program
      .command('demo')
      .description(
        'the main job: spdmkitd on the default simulated platform (16 PCI functions of every kind), each authenticated, then resets, a swap, a firmware update and a TSM hand-off, and the signature log re-verified',
      )
      .option('--json', 'print the report as JSON on stdout (progress goes to stderr)')
      .option('--keep', "keep the daemon's data directory (its path is printed)")
      .action(async (opts: { json?: boolean; keep?: boolean }) => {
        const { runDemo } = await import('./demo.js');
        const write = (t: string) => (opts.json ? process.stderr : process.stdout).write(t);
        const report = await runDemo({ write, ...(opts.keep ? { keep: true } : {}) });
        if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        exitCode = report.ok ? EXIT.OK : EXIT.FAILED;
      });

  if (wanted('emulate'))
    program
      .command('emulate')
      .description('run the device emulator as an spdm-emu compatible server (drop-in for spdm_responder_emu)')
      .addOption(transportOption())
      .option('--port <n>', 'TCP port (default 2323, 4194 for tcp)', portArg)
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--profile <file>', 'device profile JSON (versions, algorithms, chain and key, measurements)')
      .option(
        '--sample-keys <dir>',
        "take the identity from a directory in libspdm's sample-key layout (<alg>/bundle_responder.certchain.der, end_responder.key, ca.cert.der), as spdm_responder_emu does",
      )
      .option('--hostile <case>', 'serve a device that misbehaves as the named case does; "list" prints the cases')
      .option(
        '--variant <n>',
        'with --hostile: which run of a case that sweeps (e.g. the byte offset of a cut)',
        nonNegativeIntArg,
      )
      .action(
        async (opts: {
          transport: EmuTransportName;
          port?: number;
          host: string;
          profile?: string;
          sampleKeys?: string;
          hostile?: string;
          variant?: number;
        }) => {
          if (opts.hostile !== undefined) {
            const { formatHostileList, serveHostile } = await import('./hostile.js');
            if (opts.hostile === 'list') {
              process.stdout.write(`${formatHostileList()}\n`);
              return;
            }
            if (opts.profile || opts.sampleKeys)
              throw new SpdmError('DECODE_ERROR', '--hostile brings its own device: drop --profile and --sample-keys');
            const { server, hostileCase: c } = await serveHostile(opts.hostile, {
              host: opts.host,
              port: opts.port ?? defaultEmuPort(opts.transport),
              transport: opts.transport,
              ...(opts.variant !== undefined ? { variant: opts.variant } : {}),
              onError: (e) => process.stderr.write(`spdm emulate: ${e.message}\n`),
            });
            process.stderr.write(
              `spdm emulate: hostile case ${c.name} (${c.description}) listening on ${opts.host}:${server.port} (${opts.transport})\n`,
            );
            const stopHostile = () => void server.close();
            process.once('SIGTERM', stopHostile);
            process.once('SIGINT', stopHostile);
            await server.closed;
            process.off('SIGTERM', stopHostile);
            process.off('SIGINT', stopHostile);
            return;
          }
          const [{ loadProfileFile, profileFromJson }, { EmuSocketServer }, { Responder }] = await Promise.all([
            import('../responder/profile-file.js'),
            import('../transport/emu-socket.js'),
            import('../responder/responder.js'),
          ]);
          // As spdm_responder_emu, --sample-keys alone offers every version it knows (1.0–1.4).
          const base = opts.profile
            ? loadProfileFile(opts.profile)
            : profileFromJson(opts.sampleKeys ? { versions: ['1.0', '1.1', '1.2', '1.3', '1.4'] } : {}, process.cwd());
          const profile = opts.sampleKeys
            ? (await import('../responder/sample-keys.js')).profileFromSampleKeys(opts.sampleKeys, base)
            : base;
          const responder = new Responder(profile, opts.transport === 'none' ? {} : { securedBinding: opts.transport });
          const server = await EmuSocketServer.listen({
            host: opts.host,
            port: opts.port ?? defaultEmuPort(opts.transport),
            transport: opts.transport,
            handler: responder,
            onError: (e) => process.stderr.write(`spdm emulate: ${e.message}\n`),
          });
          // The heartbeat watchdog also fires while nobody talks to the emulator (it checks on every request too).
          const watchdog = setInterval(() => responder.expireIdleSessions(), 1000);
          watchdog.unref();
          process.stderr.write(
            `spdm emulate: ${profile.name} listening on ${opts.host}:${server.port} (${opts.transport})\n`,
          );
          const stop = () => void server.close();
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
          await server.closed;
          clearInterval(watchdog);
          process.off('SIGTERM', stop);
          process.off('SIGINT', stop);
        },
      );

  if (wanted('authenticate'))
    program
      .command('authenticate')
      .description('authenticate a device: VCA, digests, certificate chain, challenge, signed measurements')
      .option('--connect <host:port>', 'reach the device through the spdm-emu socket protocol', hostPortArg)
      .option('--pci <bdf>', 'reach the device through its DOE mailbox (Linux sysfs, needs root)')
      .addOption(transportOption())
      .option('--slot <n>', 'certificate slot (0-7)', slotArg, 0)
      .option(
        '--trust <file|dir>',
        "trusted root certificates, PEM or DER (repeatable): the evidence then gets the verifier's verdict, as with spdm verify",
        collectArg,
        [],
      )
      .option(
        '--policy <file>',
        'policy file for the verdict, JSON or YAML (docs/policy.md); default: every rule required',
      )
      .option('--deny <file|dir>', 'deny-list for the verdict (repeatable)', collectArg, [])
      .option(
        '--nonce <hex>',
        'the requester nonce for every signed request (64 hex digits), e.g. chosen by a remote verifier; random otherwise',
        nonceArg,
      )
      .option('--json', 'print the outcome and the evidence as JSON')
      .option('--version <list>', 'SPDM versions allowed, e.g. 1.2,1.3')
      .addOption(new Option('--measurements <mode>', 'all | one-by-one').choices(['all', 'one-by-one']).default('all'))
      .option('--shutdown', 'stop the emulator afterwards (SHUTDOWN) instead of leaving it running (CONTINUE)')
      .option(
        '--log <file|url>',
        'append every signature of this run to the signature log (SQLite file or postgres:// URL)',
      )
      .option(
        '--require-challenge',
        'refuse a device without CHALLENGE (default with --pci and --transport doe: PCIe CMA requires it)',
      )
      .option(
        '--no-require-challenge',
        'accept a signed MEASUREMENTS as the proof of key possession when the device has no CHALLENGE',
      )
      .option(
        '--max-wait <ms>',
        `longest wait for one response, whatever the device's CTExponent claims (default ${LIMITS.maxResponseWaitMs})`,
        msArg,
      )
      .option('--deadline <ms>', `longest the whole authentication may take (default ${LIMITS.flowDeadlineMs})`, msArg)
      .addOption(
        new Option('--session <kind>', 'take the signed measurements inside a secure session, then end it').choices([
          'key-exchange',
          'psk',
        ]),
      )
      .option('--heartbeat', 'with --session: send HEARTBEAT inside the session')
      .option(
        '--psk <hex|ascii:text>',
        'with --session psk: the pre-shared key, hex or ascii:TEXT (\\0 \\\\ \\xNN escapes; libspdm sample: ascii:TestPskData\\0)',
      )
      .option(
        '--psk-hint <hex|ascii:text>',
        'with --session psk: the PSKHint naming the key, 0-16 bytes (libspdm sample: ascii:TestPskHint\\0); none when omitted',
      )
      .option(
        '--requester-chain <file>',
        'offer mutual authentication with this certificate chain (concatenated DER, root first; with --requester-key)',
      )
      .option('--requester-key <file>', "the requester chain's leaf private key (PEM or PKCS#8 DER)")
      .option('--mutual', 'offer mutual authentication (needs --requester-chain and --requester-key, which imply it)')
      .option(
        '--device-public-key <file>',
        "the device's provisioned public key (PUB_KEY_ID_CAP; PEM or DER SubjectPublicKeyInfo): slot 0xFF, no certificate read; with --policy (trustedPublicKeys) a verdict without --trust",
      )
      .addOption(
        new Option(
          '--key-update <which>',
          'with --session: KEY_UPDATE after the measurements, then VerifyNewKey: one (our direction) or all (both)',
        ).choices(['one', 'all']),
      )
      .option(
        '--events',
        'with --session (SPDM 1.3+): subscribe to every event type the device offers, collect the events it sends (answering its KEY_UPDATE if it asks), unsubscribe',
      )
      .option(
        '--chunk',
        "announce CHUNK_CAP: messages over either side's DataTransferSize travel in CHUNK_SEND / CHUNK_GET pieces",
      )
      .option('--large-resp', 'announce LARGE_RESP_CAP (SPDM 1.4 LargeCertChain: certificate chains over 64 KiB)')
      .option(
        '--data-transfer-size <bytes>',
        "our DataTransferSize (42 and up); default the transport's limit up to 4608",
      )
      .option(
        '--max-spdm-msg-size <bytes>',
        'with --chunk: the largest message we reassemble from chunks (default 65536)',
      )
      .option('--secured-version <list>', 'with --session: the DSP0277 secured-message versions offered, e.g. 1.1,1.2')
      .addOption(
        new Option(
          '--sequence-order <order>',
          'with --session: sequence-number byte order in the AEAD nonce of a 1.0/1.1 session (1.2 is always le)',
        ).choices(['le', 'be']),
      )
      .option(
        '--sequence-limit <n>',
        'with --session: the last sequence number a key may use; before it, KEY_UPDATE (with KEY_UPD_CAP) or END_SESSION',
      )
      .option(
        '--endpoint-info',
        "also ask for a signed ENDPOINT_INFO of the slot (SPDM 1.3+, the device's EP_INFO_CAP with signature): its DeviceClassIdentifier, one more signature in the evidence; inside the session with --session",
      )
      .action(
        async (opts: {
          events?: boolean;
          endpointInfo?: boolean;
          chunk?: boolean;
          largeResp?: boolean;
          dataTransferSize?: string;
          maxSpdmMsgSize?: string;
          securedVersion?: string;
          sequenceOrder?: 'le' | 'be';
          sequenceLimit?: string;
          requesterChain?: string;
          requesterKey?: string;
          mutual?: boolean;
          devicePublicKey?: string;
          session?: 'key-exchange' | 'psk';
          heartbeat?: boolean;
          psk?: string;
          pskHint?: string;
          keyUpdate?: 'one' | 'all';
          connect?: string;
          pci?: string;
          transport: EmuTransportName;
          slot: number;
          trust: string[];
          policy?: string;
          deny: string[];
          nonce?: string;
          json?: boolean;
          version?: string;
          measurements: 'all' | 'one-by-one';
          shutdown?: boolean;
          log?: string;
          requireChallenge?: boolean;
          maxWait?: number;
          deadline?: number;
        }) => {
          const [{ parseVersion }, { formatOutcome, outcomeJsonReplacer, runAuthenticate }] = await Promise.all([
            import('../spdm/version-text.js'),
            import('./authenticate.js'),
          ]);
          const versions = opts.version?.split(',').map((v) => parseVersion(v));
          const { exitCode: code, outcome } = await runAuthenticate({
            ...opts,
            ...(versions ? { versions } : {}),
          });
          exitCode = code;
          if (opts.json) process.stdout.write(`${JSON.stringify(outcome, outcomeJsonReplacer, 2)}\n`);
          else process.stdout.write(`${formatOutcome(outcome)}\n`);
        },
      );

  if (wanted('dump'))
    program
      .command('dump')
      .description('decode a capture written by spdm-emu (pcap link types 292 PCI DOE, 291 MCTP)')
      .argument('<file>', 'pcap file')
      .option('--json', 'JSON output for scripts')
      .option(
        '--psk <hex|ascii:text>',
        'decrypt PSK sessions with this PSK: hex, or ascii:TEXT (\\0 \\\\ \\xNN escapes; libspdm sample: ascii:TestPskData\\0)',
      )
      .action(async (file: string, opts: { json?: boolean; psk?: string }) => {
        // Streamed record by record: bounded memory and linear time whatever the capture's size.
        const [{ parsePskArgument }, { dumpFile }] = await Promise.all([
          import('../capture/dump.js'),
          import('../capture/dump-file.js'),
        ]);
        const summary = await dumpFile(file, process.stdout, {
          ...(opts.json ? { json: true } : {}),
          ...(opts.psk !== undefined ? { psk: parsePskArgument(opts.psk) } : {}),
        });
        if (summary.errors > 0 || summary.signatures.failed > 0) exitCode = EXIT.FAILED;
      });

  const setExitCode = (c: number) => {
    exitCode = c;
  };
  // One after another: the registration order is the order `spdm --help` lists them in.
  for (const group of COMMAND_GROUPS) if (wanted(...group.names)) await group.register(program, setExitCode);

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    const code = exitCodeForError(e);
    if (code === undefined) throw e;
    // Commander has printed its own message; an SpdmError's is ours to print.
    if (e instanceof SpdmError) process.stderr.write(`spdm: ${e.code}: ${e.message}\n`);
    return code;
  }
  return exitCode;
}
