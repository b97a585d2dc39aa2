/** The `spdm` command line. */
import { Command, CommanderError } from 'commander';
import { formatTable, runDemo } from './demo.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command();
  program.name('spdm').description('DMTF SPDM device authentication for PCIe CMA: requester, device emulator, evidence').exitOverride();
  program
    .command('demo')
    .description('authenticate a fleet of emulated devices in-process and print a table')
    .option('--json', 'print the evidence and outcome of every device as JSON')
    .action(async (opts: { json?: boolean }) => {
      const t0 = performance.now();
      const rows = await runDemo();
      const ms = performance.now() - t0;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      } else {
        process.stdout.write(`${formatTable(rows)}\n\n${rows.filter((r) => r.ok).length} of ${rows.length} devices authenticated and trusted (${ms.toFixed(0)} ms, including key generation)\n`);
      }
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    throw e;
  }
  return 0;
}
