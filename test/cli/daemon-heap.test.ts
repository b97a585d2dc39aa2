import { test } from 'node:test';
import assert from 'node:assert/strict';
import { limitDaemonHeapGrowth } from '../../src/cli/daemon-heap.js';

test("the daemon's heap growth gives way to an operator's heap flags", () => {
  assert.equal(limitDaemonHeapGrowth(['--heap-growing-percent=20'], undefined), false);
  assert.equal(limitDaemonHeapGrowth([], '--max-old-space-size=2048'), false);
  assert.equal(limitDaemonHeapGrowth(['--max_old_space_size=900'], ''), false);
  assert.equal(limitDaemonHeapGrowth(['--enable-source-maps'], '--no-warnings'), true);
});
