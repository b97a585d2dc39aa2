/**
 * `spdm daemon` (spdmkitd), and `spdm status` and `spdm devices …` (its clients over the socket).
 * Their code (cli/daemon-run.ts, cli/daemon-client.ts) is imported only when one runs.
 */
import { Option, type Command } from 'commander';
import { nonNegativeIntArg, slotArg } from './options.js';
import type { ClientTarget } from '../daemon/client.js';
import type { DeviceAction, DeviceActionOptions } from './daemon-client.js';
import type { DaemonCommandOptions } from './daemon-run.js';
import type { EventsOptions } from './daemon-events.js';

const client = () => import('./daemon-client.js');

export interface RegisterDaemonOptions {
  readonly setExitCode?: (code: number) => void;
  readonly env?: NodeJS.ProcessEnv;
}

interface TargetOptions {
  socket?: string;
}

const socketOption = () =>
  new Option(
    '--socket <path>',
    "spdmkitd's socket (default: $SPDMKIT_SOCKET, $XDG_RUNTIME_DIR/spdmkit/spdmkitd.sock, /run/spdmkit/spdmkitd.sock)",
  );

async function target(o: TargetOptions, env: NodeJS.ProcessEnv): Promise<ClientTarget> {
  const { defaultClientSocket } = await client();
  return { socketPath: o.socket ?? defaultClientSocket(env, process.getuid?.() ?? -1) };
}

/** Adds `daemon`, `status`, `events` and `devices accept|reject|reauth|reset|connect|disconnect` to `program`. */
export function registerDaemonCommands(program: Command, options: RegisterDaemonOptions = {}): void {
  const setExit = options.setExitCode ?? ((c: number) => void (process.exitCode = c));
  const env = options.env ?? process.env;

  program
    .command('daemon')
    .description('run spdmkitd: authenticate PCI functions with CMA-SPDM and serve the API on a Unix socket')
    .requiredOption('--config <file>', 'configuration file, YAML or JSON (docs/daemon.md)')
    .option(
      '--socket <path>',
      "Unix socket (default: the configuration's, else $XDG_RUNTIME_DIR/spdmkit/spdmkitd.sock)",
    )
    .addOption(
      new Option('--log-level <level>', 'JSON log level on standard error')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
        .default('info'),
    )
    .action(async (o: DaemonCommandOptions) =>
      setExit(await (await import('./daemon-run.js')).runDaemonCommand(o, env)),
    );

  program
    .command('status')
    .description("the daemon's devices, like the kernel's attributes: authenticated, verdict, accepted, owner")
    .addOption(socketOption())
    .option('--json', 'print the device objects as JSON')
    .action(async (o: TargetOptions & { json?: boolean }) =>
      setExit(await (await client()).runStatus(await target(o, env), o)),
    );

  program
    .command('events')
    .description("the daemon's event stream, one line per event (until the daemon stops, or --count)")
    .addOption(socketOption())
    .option('--after <id>', 'first replay the events after this id (0: all the daemon holds)', nonNegativeIntArg, 0)
    .option('--count <n>', 'exit after this many events', nonNegativeIntArg)
    .option('--json', 'print each event as a JSON line')
    .action(async (o: TargetOptions & EventsOptions) =>
      setExit(await (await import('./daemon-events.js')).runEvents(await target(o, env), o)),
    );

  const devices = program.command('devices').description('act on one device through spdmkitd');
  const add = (name: DeviceAction, description: string, extra: (c: Command) => Command = (c) => c) =>
    extra(
      devices
        .command(name)
        .description(description)
        .argument('<bdf>', 'PCI function, e.g. 0000:03:00.0')
        .addOption(socketOption())
        .option('--json', 'print the device as JSON'),
    ).action(async (bdf: string, o: TargetOptions & DeviceActionOptions) =>
      setExit(await (await client()).runDeviceAction(await target(o, env), name, bdf, o)),
    );

  add('accept', 'accept the device (with --operator and --reason: over an untrusted verdict, recorded)', (c) =>
    c.option('--operator <name>', 'who overrides an untrusted verdict').option('--reason <text>', 'why'),
  );
  add('reject', 'refuse the device until an operator accepts it again', (c) =>
    c.option('--operator <name>', 'who refuses it').option('--reason <text>', 'why'),
  );
  add('reauth', 'authenticate again now (echo re > authenticated)', (c) =>
    c.option('--slot <n>', 'certificate slot (0-7)', slotArg),
  );
  add('reset', 'report a reset or resume (udev): re-authenticate, re-accept only the same device', (c) =>
    c.addOption(
      new Option('--kind <kind>', 'how it lost its state')
        .choices(['flr', 'secondary-bus', 'resume', 'notified'])
        .default('notified'),
    ),
  );
  add('connect', 'hand SPDM on the device to a TSM (tsm/connect)', (c) =>
    c.requiredOption('--tsm <name>', 'the TSM, e.g. tsm0'),
  );
  add('disconnect', 'take SPDM back from the TSM and re-authenticate (tsm/disconnect)');
}
