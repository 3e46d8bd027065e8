// `npm run lab -- …`: parse, call, exit code. The work is in lab.ts, faults.ts and status.ts.
import { spawnSync } from 'node:child_process';
import { HELP, parseArgs, type LabCommand } from './args.ts';
import { down, up } from './lab.ts';
import { status } from './status.ts';
import * as faults from './faults.ts';
import { sshOptions } from './keys.ts';
import { findHost } from './topology.ts';
import { checkMachine } from './preflight.ts';

async function main(cmd: LabCommand): Promise<number> {
  if (cmd.command !== 'help') checkMachine(); // not root, not Debian: say so before anything else
  switch (cmd.command) {
    case 'help':
      console.log(HELP);
      return 0;
    case 'up':
      await up({ init: cmd.init });
      console.log(await status());
      return 0;
    case 'down':
      await down({ purge: cmd.purge });
      return 0;
    case 'status':
      console.log(await status());
      return 0;
    case 'ssh': {
      const tty = cmd.cmd.length === 0 && process.stdin.isTTY ? ['-t'] : [];
      const r = spawnSync('ssh', [...sshOptions(), ...tty, `ops@${findHost(cmd.host).ip}`, ...cmd.cmd], { stdio: 'inherit' });
      return r.status ?? 255;
    }
    case 'stop': await faults.stopHost(cmd.host); break;
    case 'kill': await faults.killHost(cmd.host); break;
    case 'pause': await faults.pauseHost(cmd.host); break;
    case 'unpause': await faults.unpauseHost(cmd.host); break;
    case 'start': await faults.startHost(cmd.host); break;
    case 'cut': await faults.cutHost(cmd.host); break;
    case 'restore': await faults.restoreHost(cmd.host); break;
    case 'freeze-docker': await faults.freezeDocker(cmd.host); break;
    case 'thaw-docker': await faults.thawDocker(cmd.host); break;
  }
  console.log(`${cmd.command} ${'host' in cmd ? cmd.host : ''}: done`);
  return 0;
}

try {
  process.exitCode = await main(parseArgs(process.argv.slice(2)));
} catch (err) {
  console.error(`lab: ${(err as Error).message}`);
  process.exitCode = 1;
}
