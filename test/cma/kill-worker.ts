/**
 * Child process for the SIGKILL test: runs a CMA service on the data directory given as argv[2],
 * accepts its device, then re-authenticates it in a loop, printing `event <id>` for every event
 * it is told about — which happens only after the event was committed — until it is killed.
 * Run directly (as node --test does with every file under test/) it does nothing.
 */
import { rig } from './helpers.js';

const BDF = '0000:01:00.0';
if (process.argv[3] !== 'kill-worker') process.exit(0);
const r = rig(process.argv[2]);
await r.platform.add(BDF, 'genuine');
const cma = await r.start();
cma.subscribe((e) => process.stdout.write(`event ${e.id}\n`));
await cma.idle();
await cma.accept(BDF);
process.stdout.write('accepted\n');
for (;;) await cma.reauthenticate(BDF);
