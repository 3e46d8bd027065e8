import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

// End-to-end files share one lab and build on each other's state (bare hosts -> docker -> stack -> LB):
// they run one at a time, in file-name order.
class ByFileName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
  override async shard(files: TestSpecification[]): Promise<TestSpecification[]> {
    return files;
  }
}

export default defineConfig({
  test: {
    // Only the root config's sequencer is used (a project's is ignored); it orders every project by name.
    sequence: { sequencer: ByFileName },
    projects: [
      // The controller's bundle cache (ops/controller-cache.ts) of the unit tests' throwaway bundles: not the user's.
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/load-shell.ts'], env: { XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'gw-unit-cache-')) } },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/standins/**/*.test.ts'],
          setupFiles: ['test/load-shell.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
