// A node:test reporter for `npm run coverage`: node 20's built-in coverage (--experimental-test-
// coverage) reports every file it loaded, tests included, and has no include filter; this keeps
// the library (dist-cov/src) and prints one line per layer folder and the total the README quotes.
// `npm run coverage` compiles into dist-cov without source maps: with them, node 20.20's coverage
// fails ("Could not report code coverage. TypeError: Cannot read properties of undefined
// (reading 'line')") and reports nothing.
import path from 'node:path';

const pct = (covered, total) => (total === 0 ? '100.00' : ((100 * covered) / total).toFixed(2));

export default async function* coverageSummary(source) {
  for await (const event of source) {
    // Node reports a coverage failure only as a diagnostic, which the dot reporter does not show.
    if (event.type === 'test:diagnostic' && /coverage/i.test(String(event.data.message))) {
      yield `${event.data.message}\n`;
      continue;
    }
    if (event.type !== 'test:coverage') continue;
    const src = path.resolve('dist-cov/src') + path.sep;
    const rows = new Map();
    const total = { files: 0, lines: [0, 0], branches: [0, 0], functions: [0, 0] };
    for (const f of event.data.summary.files) {
      if (!f.path.startsWith(src)) continue;
      const folder = path.relative(src, f.path).split(path.sep).slice(0, -1).join('/') || '.';
      const layer = folder.split('/')[0];
      const row = rows.get(layer) ?? {
        files: 0,
        lines: [0, 0],
        branches: [0, 0],
        functions: [0, 0],
      };
      for (const r of [row, total]) {
        r.files++;
        r.lines[0] += f.coveredLineCount;
        r.lines[1] += f.totalLineCount;
        r.branches[0] += f.coveredBranchCount;
        r.branches[1] += f.totalBranchCount;
        r.functions[0] += f.coveredFunctionCount;
        r.functions[1] += f.totalFunctionCount;
      }
      rows.set(layer, row);
    }
    const line = (name, r) =>
      `${name.padEnd(12)} ${String(r.files).padStart(5)} ${pct(...r.lines).padStart(8)} ${pct(...r.branches).padStart(9)} ${pct(...r.functions).padStart(10)}\n`;
    yield '\ncoverage of dist-cov/src (compiled JavaScript lines, node --experimental-test-coverage)\n';
    yield `${'layer'.padEnd(12)} ${'files'.padStart(5)} ${'lines %'.padStart(8)} ${'branch %'.padStart(9)} ${'funcs %'.padStart(10)}\n`;
    for (const [name, r] of [...rows].sort(([a], [b]) => a.localeCompare(b))) yield line(name, r);
    yield line('all', total);
  }
}
