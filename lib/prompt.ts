// --ask-become-pass, --ask-vault-pass: read a password from the terminal without echoing it.
import { InputError } from './errors.ts';

export function askPassword(question: string, noTerminal = '--ask-become-pass needs a terminal; set GW_BECOME_PASSWORD instead'): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new InputError(noTerminal);
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done();
        if (ch === '\u0003') return done(new InputError('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    const done = (error?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    stdin.on('data', onData);
  });
}
