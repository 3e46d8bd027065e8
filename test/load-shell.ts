// The runner loads zx before a host's first step (lib/remote-shell.ts loadShell); tests that build a step's
// context themselves, without the runner, get it loaded here.
import { loadShell } from '../lib/remote-shell.ts';

await loadShell();
